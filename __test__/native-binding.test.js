'use strict';
// The native binding never trusts its caller: reached without index.js, it
// rejects bad values with a TypeError or RangeError and never crashes.
const { test } = require('node:test');
const assert = require('node:assert');
const { binding } = require('../internal.js');

const bad = [NaN, -1, -0.5, 1.5, Infinity, -Infinity, 2 ** 53, Number.MAX_VALUE];

test('createMemory rejects sizes that are not whole page counts', () => {
  for (const value of bad) {
    assert.throws(() => binding.createMemory(value), /TypeError|RangeError/.test.bind(/x/) && Error, String(value));
    assert.throws(() => binding.createMemory(0, value), Error, String(value));
  }
  for (const value of ['1', {}, [], null, 1n, Symbol('x')]) {
    assert.throws(() => binding.createMemory(value), Error);
  }
  assert.throws(() => binding.createMemory(1.5), { name: 'TypeError' });
  assert.throws(() => binding.createMemory(-1), { name: 'TypeError' });
  assert.throws(() => binding.createMemory(65537), { name: 'RangeError' });
  assert.throws(() => binding.createMemory(2, 1), { name: 'RangeError' });
  assert.throws(() => binding.createMemory(1, 65537), { name: 'RangeError' });
});

test('shared memories: a SharedArrayBuffer where Node can make one, else a TypeError', () => {
  assert.throws(() => binding.createMemory(1, undefined, true), { name: 'TypeError', message: /maximum/ });
  if (binding.sharedSupported()) {
    const memory = binding.createMemory(1, 2, true);
    assert.ok(memory.buffer() instanceof SharedArrayBuffer);
  } else {
    assert.throws(() => binding.createMemory(1, 2, true), { name: 'TypeError', message: /shared/ });
  }
});

test('memory64 sizes are checked against 262144 pages', () => {
  assert.throws(() => binding.createMemory(262145, undefined, false, true), { name: 'RangeError' });
  assert.throws(() => binding.createMemory(65537), { name: 'RangeError' });
  assert.strictEqual(binding.createMemory(65537, 65537, false, true).byteLength(), 65537 * 65536);
});

test('discard re-checks its arguments', () => {
  const memory = binding.createMemory(2);
  for (const [offset, length] of [[-1, 0], [NaN, 0], [0, 1.5], [1, 65536], [65536, 131072], [2 ** 64, 0]]) {
    assert.throws(() => memory.discard(offset, length), Error, `${offset}, ${length}`);
  }
  memory.discard(65536, 65536);
});

test('grow rejects bad deltas and keeps the buffer', () => {
  const memory = binding.createMemory(1, 2);
  const buffer = memory.buffer();
  for (const value of bad) assert.throws(() => memory.grow(value), Error, String(value));
  assert.throws(() => memory.grow(2), { name: 'RangeError' });
  assert.strictEqual(buffer.byteLength, 65536);
  assert.strictEqual(memory.buffer(), buffer);
  assert.strictEqual(memory.grow(1), 1);
  assert.strictEqual(buffer.byteLength, 0);
});

test('methods on foreign receivers throw instead of crashing', () => {
  const { NativeMemory } = binding;
  for (const receiver of [{}, null, undefined, 1, new Proxy({}, {}), Object.create(NativeMemory.prototype)]) {
    assert.throws(() => NativeMemory.prototype.grow.call(receiver, 1), Error);
    assert.throws(() => NativeMemory.prototype.buffer.call(receiver), Error);
    assert.throws(() => NativeMemory.prototype.byteLength.call(receiver), Error);
  }
  assert.throws(() => new NativeMemory(), Error);
});

test('setCollector wants a function', () => {
  assert.throws(() => binding.setCollector(1), { name: 'TypeError' });
});

// The namespace's native half (issue 3), reached without lib/namespace.js.
const { wat } = require('./wat');

test('compileModule/validateModule take only Uint8Arrays; bad bytes are CompileErrors', () => {
  for (const value of [undefined, null, 1, 'x', {}, [0, 97, 115, 109], new ArrayBuffer(8)]) {
    assert.throws(() => binding.compileModule(value), Error, String(value));
    assert.throws(() => binding.validateModule(value), Error, String(value));
  }
  const WA = require('..');
  assert.throws(() => binding.compileModule(new Uint8Array([1, 2, 3])), WA.CompileError);
  assert.strictEqual(binding.validateModule(new Uint8Array([1, 2, 3])), false);
});

test('compileModuleAsync resolves to a module, or to the reason it is refused', async () => {
  const module = await binding.compileModuleAsync(wat('(module (func (export "f")))'));
  assert.deepStrictEqual(module.exports(), [['f', 'function']]);
  const reason = await binding.compileModuleAsync(new Uint8Array([1, 2, 3]));
  assert.strictEqual(typeof reason, 'string');
  assert.match(reason, /WebAssembly module/);
  assert.throws(() => binding.compileModuleAsync('x'), Error);
});

test('instantiateModule checks each import itself: count, kind, type', () => {
  const WA = require('..');
  const module = binding.compileModule(wat(`(module
    (import "m" "f" (func))
    (import "m" "mem" (memory 1))
    (import "m" "t" (table 1 funcref))
    (import "m" "g" (global i32)))`));
  const memory = binding.createMemory(1);
  const table = binding.createTable('funcref', 1);
  const global = binding.createGlobal('i32', false, 5);
  const good = [() => {}, memory, table, global];
  assert.throws(() => binding.instantiateModule(module, []), WA.LinkError);
  assert.throws(() => binding.instantiateModule(module, good.slice(1)), WA.LinkError);
  for (let i = 0; i < good.length; i++) {
    // The last one: an object of another kind (a table for a memory, ...).
    for (const wrong of [undefined, null, 1, {}, 'x', [table, table, memory, memory][i]]) {
      const imports = good.slice();
      imports[i] = wrong;
      if (i === 3 && wrong === 1) continue; // a Number is a valid immutable i32 global
      assert.throws(() => binding.instantiateModule(module, imports), WA.LinkError, `import ${i}: ${String(wrong)}`);
    }
  }
  assert.throws(() => binding.instantiateModule({}, good), Error);
  const [store, exports] = binding.instantiateModule(module, good);
  assert.strictEqual(typeof store, 'object');
  assert.deepStrictEqual(exports, []);
});

test('createGlobal and createTable check types, sizes and values themselves', () => {
  for (const type of ['', 'i33', 'v128', 'exnref']) {
    assert.throws(() => binding.createGlobal(type, false), TypeError, type);
    assert.throws(() => binding.createTable(type, 1), TypeError, type);
  }
  // Not a string at all: napi-rs's own conversion error.
  for (const type of [undefined, 1, {}]) {
    assert.throws(() => binding.createGlobal(type, false), Error);
    assert.throws(() => binding.createTable(type, 1), Error);
  }
  assert.throws(() => binding.createGlobal('i64', false, 1), TypeError);
  assert.throws(() => binding.createGlobal('i32', false, 1n), TypeError);
  assert.throws(() => binding.createGlobal('funcref', false, () => {}), TypeError);
  for (const value of bad) {
    assert.throws(() => binding.createTable('funcref', value), /TypeError|RangeError/, String(value));
  }
  assert.throws(() => binding.createTable('funcref', 10000001), RangeError);
  assert.throws(() => binding.createTable('funcref', 2, 1), RangeError);
  const table = binding.createTable('funcref', 2);
  for (const value of bad) {
    assert.throws(() => table.get(value), /TypeError|RangeError/, String(value));
    assert.throws(() => table.set(value, null), /TypeError|RangeError/, String(value));
    assert.throws(() => table.grow(value, null), /TypeError|RangeError/, String(value));
  }
  assert.throws(() => table.get(2), RangeError);
  assert.throws(() => table.set(0, () => {}), TypeError);
  const immutable = binding.createGlobal('i32', false, 1);
  assert.throws(() => immutable.set(2), TypeError);
  assert.strictEqual(immutable.get(), 1);
});

test('setHooks insists on functions', () => {
  assert.throws(() => binding.setHooks({}), TypeError);
  assert.throws(() => binding.setHooks({ makeFunction: 1 }), TypeError);
});

test('createTag, setExceptionHooks and the Tag native check what they are given', () => {
  assert.throws(() => binding.createTag(['i33']), TypeError);
  assert.throws(() => binding.createTag(['exnref', 'v128', 'anyref']), TypeError);
  for (const bad of [undefined, 1, 'i32', [1]]) assert.throws(() => binding.createTag(bad), Error, String(bad));
  assert.deepStrictEqual(binding.createTag(['i32', 'externref', 'funcref', 'exnref']).parameters(),
    ['i32', 'externref', 'funcref', 'exnref']);
  assert.deepStrictEqual(binding.createJsTag().parameters(), ['externref']);
  assert.throws(() => binding.setExceptionHooks({}), TypeError);
  assert.throws(() => binding.setExceptionHooks({ makeTag: () => {}, makeException: 1 }), TypeError);
});
