'use strict';
// require('wasm-memory-rs/sandbox'): time and fuel limits per call, caps for
// the whole sandbox (src/api/sandbox.rs, lib/sandbox.js). The built-in has no
// equivalent, so these run on ours only.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const WA = require(ROOT);
const { Sandbox } = require(path.join(ROOT, 'lib', 'sandbox.js'));
const { wat } = require('./wat');

const PAGE = 65536;
const MiB = 1024 * 1024;

const spin = wat(`(module
  (func (export "spin") (loop (br 0)))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "count") (param i32) (result i32) (local i32)
    (loop (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))
    (local.get 1)))`);

test('the sandbox namespace has the main one\'s keys and classes of its own', () => {
  const { WebAssembly: SW } = new Sandbox({ timeout: 1000 });
  assert.deepStrictEqual(Reflect.ownKeys(SW), Reflect.ownKeys(WA));
  for (const name of ['Module', 'Instance', 'Memory', 'Table', 'Global', 'RuntimeError', 'LinkError', 'CompileError']) {
    assert.notStrictEqual(SW[name], WA[name], name);
  }
  const m = new SW.Module(spin);
  assert.ok(m instanceof SW.Module);
  assert.ok(!(m instanceof WA.Module));
  assert.throws(() => new SW.Module(new Uint8Array([0, 1, 2])), SW.CompileError);
  assert.ok(new SW.Memory({ initial: 1 }) instanceof SW.Memory);
});

test('timeout: an endless loop throws the sandbox\'s RuntimeError within 1 s; the instance answers the next call', () => {
  const { WebAssembly: SW } = new Sandbox({ timeout: 100 });
  const { exports } = new SW.Instance(new SW.Module(spin));
  const start = process.hrtime.bigint();
  assert.throws(() => exports.spin(), (e) => {
    assert.ok(e instanceof SW.RuntimeError, `${e}`);
    assert.ok(!(e instanceof WA.RuntimeError));
    assert.match(e.message, /timeout/);
    assert.match(e.message, /100 ms/);
    return true;
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.ok(ms >= 90 && ms < 1000, `stopped after ${ms} ms`);
  assert.strictEqual(exports.add(2, 3), 5);
  // Each call gets the whole timeout again.
  assert.throws(() => exports.spin(), SW.RuntimeError);
  assert.strictEqual(exports.count(1000), 1000);
});

test('timeout bounds async instantiation and start functions too', async () => {
  const { WebAssembly: SW } = new Sandbox({ timeout: 50 });
  const startLoop = wat('(module (func $s (loop (br 0))) (start $s))');
  await assert.rejects(SW.instantiate(startLoop), (e) => e instanceof SW.RuntimeError && /timeout/.test(e.message));
  const { instance } = await SW.instantiate(spin);
  assert.throws(() => instance.exports.spin(), SW.RuntimeError);
});

test('timeout bounds re-entrant calls (wasm -> JS -> wasm)', () => {
  const { WebAssembly: SW } = new Sandbox({ timeout: 100 });
  let inner;
  const outer = new SW.Instance(new SW.Module(wat(`(module
    (import "js" "f" (func $f))
    (func (export "run") (call $f)))`)), { js: { f: () => inner.spin() } });
  inner = new SW.Instance(new SW.Module(spin)).exports;
  const start = Date.now();
  assert.throws(() => outer.exports.run(), (e) => e instanceof SW.RuntimeError && /timeout/.test(e.message));
  assert.ok(Date.now() - start < 1000);
  // The same store re-entered: bounded by what is left of the outer call.
  const self = new SW.Instance(new SW.Module(wat(`(module
    (import "js" "f" (func $f))
    (func (export "run") (call $f))
    (func (export "spin") (loop (br 0))))`)), { js: { f: () => self.exports.spin() } });
  assert.throws(() => self.exports.run(), (e) => e instanceof SW.RuntimeError && /timeout/.test(e.message));
  assert.strictEqual(inner.add(1, 1), 2);
});

test('fuel: an endless loop throws at once; the next call gets its fuel again', () => {
  const { WebAssembly: SW } = new Sandbox({ fuel: 1e6 });
  const { exports } = new SW.Instance(new SW.Module(spin));
  const start = Date.now();
  assert.throws(() => exports.spin(), (e) => {
    assert.ok(e instanceof SW.RuntimeError, `${e}`);
    assert.match(e.message, /fuel/);
    assert.match(e.message, /1000000/);
    return true;
  });
  assert.ok(Date.now() - start < 1000);
  assert.strictEqual(exports.count(1000), 1000);
  assert.throws(() => exports.count(1e7), /fuel/);
  assert.strictEqual(exports.add(1, 2), 3);
});

test('timeout and fuel together: whichever comes first', () => {
  const { WebAssembly: SW } = new Sandbox({ timeout: 5000, fuel: 1e5 });
  const { exports } = new SW.Instance(new SW.Module(spin));
  assert.throws(() => exports.spin(), /fuel/);
  const { WebAssembly: SW2 } = new Sandbox({ timeout: 50, fuel: 1e15 });
  const { exports: e2 } = new SW2.Instance(new SW2.Module(spin));
  assert.throws(() => e2.spin(), /timeout/);
});

test('maxMemoryBytes: growth past the cap fails as the spec says, nothing else is disturbed', () => {
  const sandbox = new Sandbox({ maxMemoryBytes: MiB });
  const SW = sandbox.WebAssembly;
  // Memory.prototype.grow: RangeError.
  const memory = new SW.Memory({ initial: 8 });
  assert.throws(() => memory.grow(9), RangeError);
  assert.strictEqual(memory.buffer.byteLength, 8 * PAGE);
  assert.strictEqual(memory.grow(8), 8);
  assert.strictEqual(memory.buffer.byteLength, 16 * PAGE);
  assert.throws(() => memory.grow(1), RangeError);
  // A memory above the cap cannot be made.
  assert.throws(() => new SW.Memory({ initial: 17 }), RangeError);
  // memory.grow in wasm: -1.
  const grower = wat(`(module (memory (export "memory") 1)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`);
  const { WebAssembly: SW2 } = new Sandbox({ maxMemoryBytes: MiB });
  const { exports } = new SW2.Instance(new SW2.Module(grower));
  assert.strictEqual(exports.grow(15), 1);
  assert.strictEqual(exports.grow(1), -1);
  assert.strictEqual(exports.memory.buffer.byteLength, 16 * PAGE);
  // Instantiation with more than the cap: V8's RangeError.
  assert.throws(() => new SW2.Instance(new SW2.Module(wat('(module (memory 1))'))), (e) => {
    assert.strictEqual(e.constructor, RangeError);
    assert.match(e.message, /^WebAssembly.Instance\(\): Out of memory: Cannot allocate Wasm memory for new instance/);
    return true;
  });
  // The main namespace is not limited.
  const big = new WA.Memory({ initial: 64 });
  assert.strictEqual(big.grow(64), 64);
});

test('maxMemoryBytes counts the whole sandbox and gives back what dropped stores used', async () => {
  const sandbox = new Sandbox({ maxMemoryBytes: 4 * PAGE });
  const SW = sandbox.WebAssembly;
  let a = new SW.Memory({ initial: 2 });
  const b = new SW.Memory({ initial: 2 });
  assert.strictEqual(sandbox.usage().memoryBytes, 4 * PAGE);
  assert.throws(() => new SW.Memory({ initial: 1 }), RangeError);
  assert.throws(() => b.grow(1), RangeError);
  a = null;
  for (let i = 0; i < 20 && sandbox.usage().memoryBytes > 2 * PAGE; i++) {
    globalThis.gc?.();
    await new Promise(setImmediate);
  }
  if (globalThis.gc) {
    assert.strictEqual(sandbox.usage().memoryBytes, 2 * PAGE);
    assert.strictEqual(b.grow(1), 2);
  }
  assert.strictEqual(a, null);
});

test('maxTableElements: Table.prototype.grow throws RangeError, table.grow in wasm returns -1', () => {
  const { WebAssembly: SW } = new Sandbox({ maxTableElements: 10 });
  const table = new SW.Table({ element: 'anyfunc', initial: 5 });
  assert.throws(() => table.grow(6), RangeError);
  assert.strictEqual(table.grow(5), 5);
  assert.throws(() => new SW.Table({ element: 'anyfunc', initial: 1 }), RangeError);
  const { WebAssembly: SW2 } = new Sandbox({ maxTableElements: 10 });
  const { exports } = new SW2.Instance(new SW2.Module(wat(`(module (table 2 funcref)
    (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))`)));
  assert.strictEqual(exports.grow(8), 2);
  assert.strictEqual(exports.grow(1), -1);
});

test('maxInstances: the next instantiation throws RangeError', () => {
  const { WebAssembly: SW } = new Sandbox({ maxInstances: 2 });
  const module = new SW.Module(spin);
  new SW.Instance(module);
  new SW.Instance(module);
  assert.throws(() => new SW.Instance(module), (e) => e instanceof RangeError && /maxInstances/.test(e.message));
});

test('objects of different namespaces: memories, tables, globals are a LinkError, modules a TypeError, functions cross', () => {
  const { WebAssembly: SW } = new Sandbox({ timeout: 1000 });
  const importer = wat('(module (import "m" "mem" (memory 1)) (func (export "size") (result i32) (memory.size)))');
  // Each namespace's Memory, Table and Global are its own classes: another
  // namespace's is not one of them (the spec's LinkError for a wrong import).
  assert.throws(() => new SW.Instance(new SW.Module(importer), { m: { mem: new WA.Memory({ initial: 1 }) } }), (e) => {
    assert.ok(e instanceof SW.LinkError, `${e}`);
    assert.match(e.message, /memory import must be a WebAssembly.Memory object/);
    return true;
  });
  assert.throws(() => new WA.Instance(new WA.Module(importer), { m: { mem: new SW.Memory({ initial: 1 }) } }), WA.LinkError);
  const globalImporter = wat('(module (import "m" "g" (global (mut i32))))');
  assert.throws(() => new SW.Instance(new SW.Module(globalImporter), { m: { g: new WA.Global({ value: 'i32', mutable: true }) } }),
    SW.LinkError);
  assert.strictEqual(new SW.Instance(new SW.Module(importer), { m: { mem: new SW.Memory({ initial: 1 }) } }).exports.size(), 1);
  // Another namespace's Module is not a Module of this one (a TypeError, as
  // for any other object); the native side refuses code of another engine
  // too (a LinkError), should it ever get there.
  assert.throws(() => new SW.Instance(new WA.Module(spin)), { name: 'TypeError', message: /must be a WebAssembly.Module/ });
  assert.throws(() => new WA.Instance(new SW.Module(spin)), TypeError);
  // Functions cross freely (JS calls).
  const main = new WA.Instance(new WA.Module(spin)).exports;
  const { exports: calls } = new SW.Instance(new SW.Module(wat(`(module
    (import "m" "add" (func $add (param i32 i32) (result i32)))
    (func (export "run") (result i32) (call $add (i32.const 4) (i32.const 5))))`)), { m: { add: main.add } });
  assert.strictEqual(calls.run(), 9);
});

test('a main-namespace call inside a sandbox import is not limited, and its errors are the main classes', () => {
  const { WebAssembly: SW } = new Sandbox({ fuel: 1e5 });
  const main = new WA.Instance(new WA.Module(spin)).exports;
  let seen;
  const { exports } = new SW.Instance(new SW.Module(wat(`(module
    (import "js" "f" (func $f))
    (func (export "run") (call $f)))`)), {
    js: {
      f() {
        seen = main.count(1e6);
        try {
          new WA.Module(new Uint8Array([1]));
        } catch (e) {
          seen = [seen, e instanceof WA.CompileError];
        }
      },
    },
  });
  exports.run();
  assert.deepStrictEqual(seen, [1e6, true]);
});

test('bad options: TypeError or RangeError with a clear message', () => {
  assert.throws(() => new Sandbox(5), { name: 'TypeError', message: /options must be an object/ });
  assert.throws(() => new Sandbox(null), TypeError);
  assert.throws(() => new Sandbox({ timeot: 5 }), { name: 'TypeError', message: /unknown option 'timeot'/ });
  assert.throws(() => new Sandbox({ timeout: NaN }), { name: 'TypeError', message: /timeout must be a number/ });
  assert.throws(() => new Sandbox({ timeout: '5' }), { name: 'TypeError', message: /timeout/ });
  assert.throws(() => new Sandbox({ timeout: -1 }), { name: 'RangeError', message: /timeout/ });
  assert.throws(() => new Sandbox({ timeout: 0 }), RangeError);
  assert.throws(() => new Sandbox({ timeout: Infinity }), RangeError);
  assert.throws(() => new Sandbox({ fuel: 1.5 }), { name: 'RangeError', message: /fuel must be an integer/ });
  assert.throws(() => new Sandbox({ fuel: 0 }), RangeError);
  assert.throws(() => new Sandbox({ fuel: 10n }), TypeError);
  assert.throws(() => new Sandbox({ maxMemoryBytes: -1 }), RangeError);
  assert.throws(() => new Sandbox({ maxInstances: 2.5 }), RangeError);
  assert.throws(() => Sandbox(), TypeError);
  const s = new Sandbox({ timeout: 10.2 });
  assert.strictEqual(s.options.timeout, 11);
  assert.strictEqual(Object.prototype.toString.call(s), '[object Sandbox]');
});

test('caps only: the main engine, limits still apply', () => {
  const { WebAssembly: SW } = new Sandbox({ maxInstances: 1, maxMemoryBytes: PAGE });
  const { exports } = new SW.Instance(new SW.Module(spin));
  assert.strictEqual(exports.add(1, 2), 3);
  assert.throws(() => new SW.Instance(new SW.Module(spin)), RangeError);
});

test('a funcref passed to a JS import is the sandbox\'s exported function, limits included', () => {
  const { WebAssembly: SW } = new Sandbox({ fuel: 1e6 });
  let got;
  const { exports } = new SW.Instance(new SW.Module(wat(`(module
    (import "js" "take" (func $take (param funcref)))
    (func $spin (export "spin") (loop (br 0)))
    (elem declare func $spin)
    (func (export "run") (call $take (ref.func $spin))))`)), { js: { take: (f) => { got = f; } } });
  exports.run();
  assert.strictEqual(got, exports.spin);
  assert.throws(() => got(), (e) => e instanceof SW.RuntimeError && /fuel/.test(e.message));
});
