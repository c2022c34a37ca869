'use strict';
// The cost of a sandbox (lib/sandbox.js) on the `accumulate` benchmark: the
// built-in, our main namespace, and sandboxes with a timeout, with fuel, and
// with caps only, each on its own memory of 16 MiB. Medians (and bests) of
// rounds that alternate the sides; ratios to our main namespace.
//   node --expose-gc bench/sandbox.js [--quick]
// bench/index.js runs it at its end. A report, not a test: the exit code is 0.
const fs = require('node:fs');
const path = require('node:path');

const QUICK = process.argv.includes('--quick');
const ROOT = path.join(__dirname, '..');
const ours = require(ROOT);
const { Sandbox } = require(path.join(ROOT, 'lib', 'sandbox.js'));
const { wat } = require(path.join(__dirname, '..', '__test__', 'wat.js'));

const accumulate = wat(fs.readFileSync(path.join(ROOT, 'examples', 'memory.wat'), 'utf8'));
const n = 4 * 1024 * 1024;
const rounds = QUICK ? 5 : 15;

function setup(M) {
  const memory = new M.Memory({ initial: (n * 4) / 65536 });
  const a = new Uint32Array(memory.buffer);
  for (let i = 0; i < a.length; i++) a[i] = i & 0xff;
  return new M.Instance(new M.Module(accumulate), { js: { mem: memory } }).exports.accumulate;
}

const sides = [
  { name: 'built-in', M: globalThis.WebAssembly },
  { name: 'ours, main namespace', M: ours },
  { name: 'sandbox { timeout: 10000 }', M: new Sandbox({ timeout: 10_000 }).WebAssembly, target: 1.05 },
  { name: 'sandbox { fuel: 1e12 }', M: new Sandbox({ fuel: 1e12 }).WebAssembly },
  { name: 'sandbox { maxMemoryBytes: 64 MiB }', M: new Sandbox({ maxMemoryBytes: 64 * 1024 * 1024 }).WebAssembly },
];
for (const side of sides) {
  side.f = setup(side.M);
  side.times = [];
}
let value;
for (let r = -2; r < rounds; r++) {
  const order = r % 2 ? sides : [...sides].reverse();
  for (const side of order) {
    globalThis.gc?.();
    const t0 = process.hrtime.bigint();
    const v = side.f(0, n);
    const ns = Number(process.hrtime.bigint() - t0);
    if (value === undefined) value = v;
    if (v !== value) throw new Error(`${side.name}: result ${v}, expected ${value}`);
    if (r >= 0) side.times.push(ns / n);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const main = median(sides[1].times);
console.log(`\n## Sandboxes: accumulate over 16 MiB (${rounds} rounds, ns per element)\n`);
console.log('| namespace | median | best | median / ours (main) | target | ok? |\n|---|---|---|---|---|---|');
for (const side of sides) {
  const m = median(side.times);
  const ratio = m / main;
  const ok = side.target === undefined ? '-' : ratio <= side.target ? 'yes' : 'NO';
  console.log(`| ${side.name} | ${m.toFixed(3)} | ${Math.min(...side.times).toFixed(3)} | ${ratio.toFixed(3)} | ` +
    `${side.target === undefined ? '(report)' : `≤ ${side.target}`} | ${ok} |`);
}

// Where the timeout's cost goes: the per-call part that is ours (entering
// the sandbox, arming the epoch deadline: src/api/sandbox.rs) is measured with
// calls over 0 elements; the rest scales with the loop (the epoch check
// Cranelift puts at every loop back-edge: wasmtime's).
const calls = QUICK ? 100_000 : 500_000;
const perCall = [];
for (const side of sides.slice(1, 3)) {
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) side.f(0, 0);
    samples.push(Number(process.hrtime.bigint() - t0) / calls);
  }
  perCall.push({ name: side.name, median: median(samples), best: Math.min(...samples) });
}
const callCost = perCall[1].median - perCall[0].median;
const loopCost = (median(sides[2].times) - main) * n;
console.log(`\n## Sandbox { timeout }: where the cost goes (${rounds} rounds)\n`);
console.log('| part | ns |\n|---|---|');
for (const p of perCall) console.log(`| one empty call, ${p.name} (median; best) | ${p.median.toFixed(1)}; ${p.best.toFixed(1)} |`);
console.log(`| per call, ours (enter sandbox, arm deadline): difference of medians | ${callCost.toFixed(1)} |`);
console.log(`| per accumulate call of ${n} elements, total extra (median difference × n) | ${loopCost.toFixed(0)} |`);
console.log(`| share of the extra that is per-call (ours) | ${((100 * callCost) / loopCost).toFixed(3)} % |`);
