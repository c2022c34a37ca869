'use strict';
// 64-bit tables (table64, the memory64 proposal's tables; WPT
// wasm/jsapi/table/*.any.js with `address: "i64"`): the descriptor's
// `address`, BigInt sizes and indexes in `length`, `get`, `set` and `grow`,
// V8's messages, and modules that define, export and import 64-bit tables.
// Run on the built-in where it has table64 (Node 24+) and on ours (every
// Node, as memory64 is), with the same assertions.
const { describe, test: plainTest } = require('node:test');
const assert = require('node:assert');
const { impls, builtin, ours } = require('./impls');
const { assertThrows } = require('./helpers');
const { testFor } = require('./known-differences');
const { wat } = require('./wat');

/** True if `WA` makes 64-bit tables (Node 20 and 22's built-ins do not). */
function hasTable64(WA) {
  try {
    return typeof new WA.Table({ element: 'anyfunc', initial: 0n, address: 'i64' }).length === 'bigint';
  } catch {
    return false;
  }
}
const builtinHasTable64 = builtin !== undefined && hasTable64(builtin);

/** The descriptor's reads, in order, through a Proxy. */
function reads(WA, descriptor) {
  const order = [];
  const proxy = new Proxy(descriptor, {
    get(target, key) {
      order.push(key);
      return target[key];
    },
  });
  new WA.Table(proxy);
  return order;
}

const exporter = wat(`(module
  (table $t (export "t") i64 2 10 funcref)
  (func (export "size") (result i64) (table.size $t))
  (func (export "grow") (param i64) (result i64) (table.grow $t (ref.null func) (local.get 0))))`);
const importer64 = wat(`(module
  (import "m" "t" (table $t i64 1 externref))
  (export "t" (table $t))
  (func (export "read") (param i64) (result externref) (table.get $t (local.get 0))))`);
const importer32 = wat('(module (import "m" "t" (table 1 funcref)))');

for (const [name, WA] of impls) {
  describe(name, () => {
    const test = testFor('table64', WA);

    // Reading `address` is table64's: where the built-in has no table64,
    // ours still reads it (known difference table64-descriptor).
    test('descriptor members are read in the order of the running Node\'s built-in', () => {
      const expected = builtinHasTable64
        ? ['element', 'address', 'initial', 'maximum']
        : ['element', 'initial', 'maximum'];
      assert.deepStrictEqual(reads(WA, { element: 'anyfunc', initial: 1, maximum: 2 }), expected);
    });

    const skip = !hasTable64(WA) && `this Node's built-in has no 64-bit tables (Node 24+ has)`;
    const test64 = (title, fn) => test(title, { skip }, fn);

    test64('constructor: BigInt sizes; Numbers, negatives and values past 2^64 are TypeErrors', () => {
      const table = new WA.Table({ element: 'anyfunc', initial: 1n, maximum: 5n, address: 'i64' });
      assert.strictEqual(table.length, 1n);
      assert.strictEqual(new WA.Table({ element: 'anyfunc', initial: 0n, maximum: 2n ** 64n - 1n, address: 'i64' }).length, 0n);
      assertThrows(() => new WA.Table({ element: 'anyfunc', initial: 1, address: 'i64' }), TypeError, /Cannot convert 1 to a BigInt/);
      assertThrows(() => new WA.Table({ element: 'anyfunc', initial: 1n, address: 'i32' }), TypeError, /BigInt/);
      assertThrows(() => new WA.Table({ element: 'anyfunc', initial: -1n, address: 'i64' }), TypeError,
        /^WebAssembly\.Table\(\): Property 'initial' must be in u64 range$/);
      assertThrows(() => new WA.Table({ element: 'anyfunc', initial: 2n ** 64n, address: 'i64' }), TypeError, /u64 range/);
      assertThrows(() => new WA.Table({ element: 'anyfunc', initial: 0n, maximum: 2n ** 64n, address: 'i64' }), TypeError,
        /Property 'maximum' must be in u64 range/);
      assertThrows(() => new WA.Table({ element: 'anyfunc', initial: 1, address: 'i65' }), TypeError,
        /^WebAssembly\.Table\(\): Unknown address type 'i65'; pass 'i32' or 'i64'$/);
      assertThrows(() => new WA.Table({ element: 'anyfunc', initial: 10000001n, address: 'i64' }), RangeError,
        /^WebAssembly\.Table\(\): Property 'initial': value 10000001 is above the upper bound 10000000$/);
      assertThrows(() => new WA.Table({ element: 'anyfunc', initial: 3n, maximum: 2n, address: 'i64' }), RangeError,
        /^WebAssembly\.Table\(\): Property 'maximum': value 2 is below the lower bound 3$/);
      // The address is read before the sizes, and only `address` (not
      // Memory's older `index`).
      assert.deepStrictEqual(reads(WA, { element: 'anyfunc', initial: 1n, maximum: 2n, address: 'i64' }),
        ['element', 'address', 'initial', 'maximum']);
      assert.strictEqual(new WA.Table({ element: 'anyfunc', initial: 3, index: 'i64' }).length, 3);
    });

    test64('get, set, grow and length take and give BigInts', () => {
      const table = new WA.Table({ element: 'externref', initial: 3n, address: 'i64' }, 'v');
      assert.strictEqual(table.get(2n), 'v');
      assert.strictEqual(table.set(1n, 'w'), undefined);
      assert.strictEqual(table.get(1n), 'w');
      assert.strictEqual(table.grow(2n, 'x'), 3n);
      assert.strictEqual(table.length, 5n);
      assert.strictEqual(table.get(4n), 'x');
      assert.strictEqual(table.grow(1n), 5n);
      assert.strictEqual(table.get(5n), undefined);
      const funcs = new WA.Table({ element: 'anyfunc', initial: 1n, address: 'i64' });
      assert.strictEqual(funcs.get(0n), null);
      assert.strictEqual(funcs.grow(0n), 1n);
    });

    test64('bad indexes: Numbers and negatives are TypeErrors; past the end a RangeError with the exact index', () => {
      const table = new WA.Table({ element: 'externref', initial: 3n, maximum: 2n ** 64n - 1n, address: 'i64' });
      assertThrows(() => table.get(0), TypeError, /Cannot convert 0 to a BigInt/);
      assertThrows(() => table.set(0, null), TypeError, /Cannot convert 0 to a BigInt/);
      assertThrows(() => table.grow(1), TypeError, /Cannot convert 1 to a BigInt/);
      assertThrows(() => table.get(-1n), TypeError, /^WebAssembly\.Table\.get\(\): Argument 0 must be in u64 range$/);
      assertThrows(() => table.grow(-1n), TypeError, /^WebAssembly\.Table\.grow\(\): Argument 0 must be in u64 range$/);
      assertThrows(() => table.grow(2n ** 64n), TypeError, /u64 range/);
      assertThrows(() => table.get(3n), RangeError, /^WebAssembly\.Table\.get\(\): invalid address 3 in externref table of size 3$/);
      assertThrows(() => table.get(2n ** 63n), RangeError,
        /^WebAssembly\.Table\.get\(\): invalid address 9223372036854775808 in externref table of size 3$/);
      assertThrows(() => table.set(3n, 1), RangeError, /^WebAssembly\.Table\.set\(\): invalid address 3 in externref table of size 3$/);
      assertThrows(() => table.set(2n ** 63n, 1), RangeError, /invalid address 9223372036854775808 in externref table of size 3/);
      assertThrows(() => table.grow(2n ** 40n), RangeError, /^WebAssembly\.Table\.grow\(\): failed to grow table by 1099511627776$/);
      assert.strictEqual(table.length, 3n);
      const bounded = new WA.Table({ element: 'anyfunc', initial: 1n, maximum: 2n, address: 'i64' });
      assertThrows(() => bounded.grow(2n), RangeError, /failed to grow table by 2/);
      assert.strictEqual(bounded.grow(1n), 1n);
    });

    test64('a module\'s 64-bit table: exported with a BigInt length, grown by JS and by wasm', () => {
      const { t, size, grow } = new WA.Instance(new WA.Module(exporter)).exports;
      assert.strictEqual(t.length, 2n);
      assert.strictEqual(t.grow(1n), 2n);
      assert.strictEqual(size(), 3n);
      assert.strictEqual(grow(2n), 3n);
      assert.strictEqual(t.length, 5n);
      assert.strictEqual(t.get(4n), null);
      assertThrows(() => t.grow(6n), RangeError);
    });

    test64('a 64-bit Table imported by a module: the same object, shared elements; address types must match', () => {
      const table = new WA.Table({ element: 'externref', initial: 2n, address: 'i64' }, 'a');
      const { exports } = new WA.Instance(new WA.Module(importer64), { m: { t: table } });
      assert.strictEqual(exports.t, table);
      table.set(1n, 'b');
      assert.strictEqual(exports.read(1n), 'b');
      assert.strictEqual(exports.read(0n), 'a');
      const table32 = new WA.Table({ element: 'externref', initial: 2 });
      assertThrows(() => new WA.Instance(new WA.Module(importer64), { m: { t: table32 } }), WA.LinkError);
      const funcs64 = new WA.Table({ element: 'anyfunc', initial: 2n, address: 'i64' });
      assertThrows(() => new WA.Instance(new WA.Module(importer32), { m: { t: funcs64 } }), WA.LinkError);
    });
  });
}

// type() is type reflection, which no built-in has for Table yet: ours only.
describe('wasm-memory-rs: Table type() with the address type', { skip: !ours && 'the addon is not loaded' }, () => {
  plainTest('32- and 64-bit tables, maxima past 2^53 exact', () => {
    assert.deepStrictEqual(new ours.Table({ element: 'anyfunc', initial: 1, maximum: 4 }).type(),
      { minimum: 1, maximum: 4, element: 'anyfunc', address: 'i32' });
    assert.deepStrictEqual(new ours.Table({ element: 'externref', initial: 2n, address: 'i64' }).type(),
      { minimum: 2n, element: 'externref', address: 'i64' });
    assert.deepStrictEqual(
      new ours.Table({ element: 'anyfunc', initial: 0n, maximum: 2n ** 64n - 1n, address: 'i64' }).type(),
      { minimum: 0n, maximum: 2n ** 64n - 1n, element: 'anyfunc', address: 'i64' });
    const { t } = new ours.Instance(new ours.Module(exporter)).exports;
    assert.deepStrictEqual(t.type(), { minimum: 2n, maximum: 10n, element: 'anyfunc', address: 'i64' });
  });
});
