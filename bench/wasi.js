'use strict';
// The cost of a WASI call from wasm: wasm-memory-rs/wasi on our namespace
// (linked natively, src/wasi/link.rs) against node:wasi on the built-in.
// A wasm loop makes n calls of one function; medians (and bests) of rounds
// that alternate the sides, in ns per call; ratio = ours / node:wasi.
//   node bench/wasi.js [--quick]
// bench/index.js runs it at its end. A report, not a test: the exit code is 0.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const QUICK = process.argv.includes('--quick');
const ROOT = path.join(__dirname, '..');
const ours = require(ROOT);
const { WASI } = require(path.join(ROOT, 'lib', 'wasi.js'));
const { wat } = require(path.join(__dirname, '..', '__test__', 'wat.js'));
process.removeAllListeners('warning'); // node:wasi's ExperimentalWarning
const { WASI: NodeWASI } = require('node:wasi');

const rounds = QUICK ? 5 : 9;
const n = QUICK ? 50_000 : 200_000;
// Each case: the import, its type, and the arguments the loop passes.
const cases = [
  ['clock_time_get', '(param i32 i64 i32)', '(i32.const 1) (i64.const 1) (i32.const 64)'],
  ['fd_write, 0 iovecs', '(param i32 i32 i32 i32)', '(i32.const 1) (i32.const 0) (i32.const 0) (i32.const 64)', 'fd_write'],
  ['fd_fdstat_get', '(param i32 i32)', '(i32.const 1) (i32.const 128)'],
];

function module([, type, args, name]) {
  return wat(`(module
    (import "wasi_snapshot_preview1" "${name}" (func $f ${type} (result i32)))
    (memory (export "memory") 1)
    (func (export "_start"))
    (func (export "run") (param $n i32) (local $i i32)
      (loop $l (drop (call $f ${args}))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))`);
}

const devNull = fs.openSync(os.devNull, 'w');
function setup(WA, W, bytes) {
  const wasi = new W({ version: 'preview1', returnOnExit: true, stdout: devNull });
  const instance = new WA.Instance(new WA.Module(bytes), wasi.getImportObject());
  wasi.start(instance);
  return instance.exports.run;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`\nWASI calls from wasm (ns per call; medians of ${rounds} rounds of ${n} calls, best in parentheses)\n`);
console.log('| call | node:wasi, built-in | ours | ratio |');
console.log('| --- | --- | --- | --- |');
for (const c of cases) {
  c[3] ??= c[0];
  const bytes = module(c);
  const sides = [setup(globalThis.WebAssembly, NodeWASI, bytes), setup(ours, WASI, bytes)];
  const times = [[], []];
  for (let r = 0; r < rounds; r++) {
    sides.forEach((run, k) => {
      const t = process.hrtime.bigint();
      run(n);
      times[k].push(Number(process.hrtime.bigint() - t) / n);
    });
  }
  const [b, o] = times.map(median);
  const cell = (xs, m) => `${m.toFixed(0)} (${Math.min(...xs).toFixed(0)})`;
  console.log(`| ${c[0]} | ${cell(times[0], b)} | ${cell(times[1], o)} | ${(o / b).toFixed(2)} |`);
}
