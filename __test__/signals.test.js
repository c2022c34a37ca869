'use strict';
// Signal handlers. In the guard layout (the default; engine.rs) wasmtime
// installs SIGSEGV/SIGILL/SIGFPE handlers after Node's (which serves V8's
// wasm trap handler) and passes every fault outside its own code on to them.
// So in one process: an out-of-bounds access in wasm run by V8 and one in
// wasm run by us each become their own RuntimeError, JS goes on working, the
// same holds in worker threads, and a real crash in native code still kills
// the process with SIGSEGV. Each scenario runs in a child process, so that a
// crash is a failed test rather than a dead runner, once per memory layout.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { spawnCollect } = require('./child.js');
const { builtinUsable, needsBuiltin } = require('./impls.js');

const root = JSON.stringify(path.join(__dirname, '..'));

// (memory 1), a load at any address, a 32-bit division, unreachable and
// unbounded recursion.
const PROGRAM = `
(module
  (import "js" "f" (func $f))
  (memory (export "m") 1)
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "loadFar") (param i32) (result i32) (i32.load offset=0x100000 (local.get 0)))
  (func (export "store") (param i32) (i32.store8 (local.get 0) (i32.const 7)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "unreachable") unreachable)
  (func $deep (export "deep") (param i32) (result i32)
    (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "callOut") (call $f)))`;

// The body of every child: defines `outcome(WA, imports)`, which runs each
// trap on an instance of PROGRAM and names the error class it threw.
const SCENARIO = `
const { wat } = require(${JSON.stringify(path.join(__dirname, 'wat.js'))});
const bytes = wat(${JSON.stringify(PROGRAM)});
function classOf(f) {
  try { f(); return 'none'; } catch (e) { return e.constructor.name + (e instanceof Error ? '' : '?'); }
}
function outcome(WA, f = () => {}) {
  const { exports: e } = new WA.Instance(new WA.Module(bytes), { js: { f } });
  return {
    inBounds: e.load(65532),
    oob: classOf(() => e.load(65533)),
    oobFar: classOf(() => e.loadFar(0)),
    oobStore: classOf(() => e.store(0x7fffffff)),
    oobHuge: classOf(() => e.load(-1)),
    div: classOf(() => e.div(1, 0)),
    overflow: classOf(() => e.div(-2147483648, -1)),
    unreachable: classOf(() => e.unreachable()),
    stack: classOf(() => e.deep(0)),
    after: e.load(0) + e.div(7, 2),
  };
}
`;

function child(script, env) {
  return spawnCollect(process.execPath, ['--expose-gc', '-e', SCENARIO + script], 60000, { ...process.env, ...env });
}

const EXPECTED = {
  inBounds: 0,
  oob: 'RuntimeError',
  oobFar: 'RuntimeError',
  oobStore: 'RuntimeError',
  oobHuge: 'RuntimeError',
  div: 'RuntimeError',
  overflow: 'RuntimeError',
  unreachable: 'RuntimeError',
  stack: 'RangeError',
  after: 3,
};

for (const layout of ['guard', 'compact']) {
  const env = { WASM_MEMORY_RS_MEMORY: layout };

  test(`${layout}: traps in V8's wasm and in ours, one process, each its own error`, { skip: needsBuiltin }, async () => {
    const r = await child(`
      const ours = require(${root});
      const { binding } = require(${JSON.stringify(path.join(__dirname, '..', 'internal.js'))});
      const results = [];
      // Interleaved, so that each runtime's handler sees faults after the other's ran.
      for (let round = 0; round < 3; round++) {
        results.push(outcome(WebAssembly), outcome(ours));
      }
      // Each runtime's trap from inside the other's wasm (an import calling across).
      const v8Inside = outcome(ours, () => outcome(WebAssembly));
      const oursInside = outcome(WebAssembly, () => outcome(ours));
      // Plain JS afterwards.
      const junk = Array.from({ length: 1e5 }, (_, i) => ({ i })).reduce((a, o) => a + o.i, 0);
      console.log('RESULT ' + JSON.stringify({ layout: binding.memoryLayout(), results, v8Inside, oursInside, junk }));
    `, env);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(r.result.layout, layout);
    for (const result of r.result.results) assert.deepStrictEqual(result, EXPECTED);
    assert.deepStrictEqual(r.result.v8Inside, EXPECTED);
    assert.deepStrictEqual(r.result.oursInside, EXPECTED);
    assert.strictEqual(r.result.junk, 4999950000);
  });

  test(`${layout}: the same in worker threads, four at once`, { skip: needsBuiltin }, async () => {
    const r = await child(`
      const { Worker } = require('node:worker_threads');
      const body = ${JSON.stringify(SCENARIO)} + \`
        const ours = require(${root.replace(/\\/g, '\\\\')});
        const { parentPort } = require('node:worker_threads');
        const out = [];
        for (let round = 0; round < 3; round++) out.push(outcome(WebAssembly), outcome(ours));
        parentPort.postMessage(out);\`;
      // The main thread traps too, before and while the workers run.
      const ours = require(${root});
      const main = [outcome(ours), outcome(WebAssembly)];
      const runs = Array.from({ length: 4 }, () => new Promise((resolve, reject) => {
        const w = new Worker(body, { eval: true });
        w.once('message', resolve);
        w.once('error', reject);
      }));
      main.push(outcome(ours), outcome(WebAssembly));
      Promise.all(runs).then((workers) => {
        console.log('RESULT ' + JSON.stringify({ main, workers: workers.flat() }));
      });
    `, env);
    assert.strictEqual(r.status, 0, r.stderr);
    for (const result of [...r.result.main, ...r.result.workers]) assert.deepStrictEqual(result, EXPECTED);
    assert.strictEqual(r.result.workers.length, 24);
  });

  test(`${layout}: a real crash in native code is not swallowed`, async () => {
    const prelude = `
      const ours = require(${root});
      const { binding } = require(${JSON.stringify(path.join(__dirname, '..', 'internal.js'))});
      outcome(ours);
      ${builtinUsable ? 'outcome(WebAssembly);' : ''}
    `;
    // A fault in native code outside any wasm.
    const fault = await child(prelude + 'binding.faultForTest(); console.log("survived");', env);
    assert.strictEqual(fault.signal, 'SIGSEGV', `status ${fault.status}: ${fault.stdout}${fault.stderr}`);
    assert.doesNotMatch(fault.stdout, /survived/);
    // A fault in native code called by a JS import while our wasm is on the stack.
    const inside = await child(prelude + `
      const { exports: e } = new ours.Instance(new ours.Module(bytes), { js: { f: () => binding.faultForTest() } });
      e.callOut(); console.log("survived");`, env);
    assert.strictEqual(inside.signal, 'SIGSEGV', `status ${inside.status}: ${inside.stdout}${inside.stderr}`);
    assert.doesNotMatch(inside.stdout, /survived/);
    // A SIGSEGV sent by kill(2).
    const kill = await child(prelude + 'process.kill(process.pid, "SIGSEGV"); setTimeout(() => console.log("survived"), 500);', env);
    assert.strictEqual(kill.signal, 'SIGSEGV', `status ${kill.status}: ${kill.stdout}${kill.stderr}`);
  });
}
