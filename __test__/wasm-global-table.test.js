'use strict';
// WebAssembly.Global and WebAssembly.Table (WPT wasm/jsapi/global/*,
// table/*, and the MDN examples' behaviours), run on the built-in first and
// then on ours, with the same assertions. Only funcref tables ("anyfunc")
// are compared; externref is a known difference of ours.
const { describe } = require('node:test');
const assert = require('node:assert');
const { impls, builtin } = require('./impls');
const { assertThrows, assertFunctionName, assertFunctionLength } = require('./helpers');
const { testFor } = require('./known-differences');
const { watFile } = require('./wat');

function exportsOf(WA, name, imports) {
  return new WA.Instance(new WA.Module(watFile(name)), imports).exports;
}

for (const [name, WA] of impls) {
  describe(name, () => {
    const test = testFor('wasm-global-table', WA);

    // Global -------------------------------------------------------------------

    test('Global: descriptors of the prototype members', () => {
      const value = Object.getOwnPropertyDescriptor(WA.Global.prototype, 'value');
      assert.deepStrictEqual(Object.keys(value), ['get', 'set', 'enumerable', 'configurable']);
      assert.strictEqual(value.enumerable, true);
      assert.strictEqual(value.configurable, true);
      assertFunctionName(value.get, 'get value');
      assertFunctionName(value.set, 'set value');
      assertFunctionLength(value.get, 0);
      assertFunctionLength(value.set, 1);
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA.Global.prototype, 'valueOf'),
        { value: WA.Global.prototype.valueOf, writable: true, enumerable: true, configurable: true });
      assertFunctionName(WA.Global.prototype.valueOf, 'valueOf');
      assertFunctionLength(WA.Global.prototype.valueOf, 0);
    });

    test('Global: constructor argument checks', () => {
      assertThrows(() => new WA.Global(), TypeError);
      for (const descriptor of [undefined, null, 1, 'i32', Symbol('s')]) assertThrows(() => new WA.Global(descriptor), TypeError);
      for (const value of [undefined, 'i33', 'v128', 'I32', '', {}]) {
        assertThrows(() => new WA.Global({ value }), TypeError, undefined, String(value));
      }
      assertThrows(() => WA.Global({ value: 'i32' }), TypeError);
    });

    test('Global: "funcref" is not a value type (the JS API and V8 say "anyfunc")', () => {
      assertThrows(() => new WA.Global({ value: 'funcref' }), TypeError);
      assertThrows(() => new WA.Global({ value: 'funcref', mutable: true }, null), TypeError);
    });

    test('undefined and null as values: V8\'s rules (found by the robustness fuzzer)', () => {
      // Global: undefined is "missing" for numbers, converted (TypeError) for anyfunc;
      // null converts (ToBigInt(null) throws, ToNumber(null) is 0).
      assert.throws(() => new WA.Global({ value: 'i64' }, null), TypeError);
      assert.strictEqual(new WA.Global({ value: 'i32' }, null).value, 0);
      assert.strictEqual(new WA.Global({ value: 'i64' }, undefined).value, 0n);
      assert.throws(() => new WA.Global({ value: 'anyfunc' }, undefined), TypeError);
      assert.strictEqual(new WA.Global({ value: 'anyfunc' }).value, null);
      // Table: set() converts an explicit undefined (TypeError) after the
      // index check (RangeError); a missing value, the constructor's and
      // grow's undefined are null.
      const table = new WA.Table({ element: 'anyfunc', initial: 1 }, undefined);
      assert.throws(() => table.set(0, undefined), TypeError);
      assert.throws(() => table.set(1, undefined), RangeError);
      table.set(0);
      table.set(0, null);
      assert.strictEqual(table.grow(1), 1);
      assert.strictEqual(table.get(1), null);
    });

    const node20 = Number(process.versions.node.split('.')[0]) < 22;
    test('Table.grow: an explicit undefined is converted (TypeError), as set\'s is', {
      skip: WA === builtin && node20 &&
        'Node 20\'s V8 takes grow(n, undefined) as grow(n); V8 converts it from Node 22 on (known difference table-grow-undefined)',
    }, () => {
      const table = new WA.Table({ element: 'anyfunc', initial: 1 });
      assert.throws(() => table.grow(1, undefined), TypeError);
      assert.strictEqual(table.length, 1);
      assert.strictEqual(table.grow(1, null), 1);
    });

    test('Global: default values', () => {
      assert.strictEqual(new WA.Global({ value: 'i32' }).value, 0);
      assert.strictEqual(new WA.Global({ value: 'i64' }).value, 0n);
      assert.strictEqual(new WA.Global({ value: 'f32' }).value, 0);
      assert.strictEqual(new WA.Global({ value: 'f64' }).value, 0);
      assert.strictEqual(new WA.Global({ value: 'anyfunc' }).value, null);
      assert.strictEqual(new WA.Global({ value: 'i32' }, undefined).value, 0);
      assert.strictEqual(new WA.Global({ value: 'i64' }, undefined).value, 0n);
      assert.ok(Object.is(new WA.Global({ value: 'f64' }, undefined).value, 0));
    });

    test('Global: conversions of the initial value', () => {
      assert.strictEqual(new WA.Global({ value: 'i32' }, 2 ** 32 + 1).value, 1);
      assert.strictEqual(new WA.Global({ value: 'i32' }, '5').value, 5);
      assert.strictEqual(new WA.Global({ value: 'i32' }, -1.9).value, -1);
      assert.strictEqual(new WA.Global({ value: 'i32' }, NaN).value, 0);
      assert.strictEqual(new WA.Global({ value: 'i32' }, { valueOf: () => 9 }).value, 9);
      assertThrows(() => new WA.Global({ value: 'i32' }, 1n), TypeError);
      assertThrows(() => new WA.Global({ value: 'i32' }, Symbol('s')), TypeError);
      assert.strictEqual(new WA.Global({ value: 'i64' }, 2n ** 64n + 3n).value, 3n);
      assert.strictEqual(new WA.Global({ value: 'i64' }, '5').value, 5n);
      assert.strictEqual(new WA.Global({ value: 'i64' }, true).value, 1n);
      assertThrows(() => new WA.Global({ value: 'i64' }, 5), TypeError);
      assertThrows(() => new WA.Global({ value: 'i64' }, 'x'), SyntaxError);
      assert.strictEqual(new WA.Global({ value: 'f32' }, 0.1).value, Math.fround(0.1));
      assert.strictEqual(new WA.Global({ value: 'f32' }, 1e40).value, Infinity);
      assert.ok(Object.is(new WA.Global({ value: 'f64' }, -0).value, -0));
      assert.ok(Number.isNaN(new WA.Global({ value: 'f64' }, NaN).value));
      assertThrows(() => new WA.Global({ value: 'f64' }, 1n), TypeError);
    });

    test('Global: mutable is converted with ToBoolean', () => {
      for (const [mutable, expected] of [[1, true], ['', false], ['x', true], [null, false], [{}, true], [0, false]]) {
        const global = new WA.Global({ value: 'i32', mutable }, 1);
        if (expected) {
          global.value = 2;
          assert.strictEqual(global.value, 2);
        } else {
          assertThrows(() => { global.value = 2; }, TypeError);
          assert.strictEqual(global.value, 1);
        }
      }
    });

    test('Global: set on a mutable global, value and valueOf agree', () => {
      for (const [type, value, expected] of [['i32', 2 ** 31, -(2 ** 31)], ['i64', -5n, -5n], ['f32', 1.1, Math.fround(1.1)], ['f64', -0, -0]]) {
        const global = new WA.Global({ value: type, mutable: true });
        global.value = value;
        assert.ok(Object.is(global.value, expected), type);
        assert.ok(Object.is(global.valueOf(), expected), type);
      }
      const global = new WA.Global({ value: 'i64', mutable: true });
      assertThrows(() => { global.value = 1; }, TypeError);
      const setter = Object.getOwnPropertyDescriptor(WA.Global.prototype, 'value').set;
      assertThrows(() => setter.call(new WA.Global({ value: 'i32', mutable: true })), TypeError);
    });

    test('Global: set on an immutable global is a TypeError, in sloppy and strict mode', () => {
      const global = new WA.Global({ value: 'i32' }, 3);
      assertThrows(() => { global.value = 4; }, TypeError);
      assertThrows(() => { 'use strict'; global.value = 4; }, TypeError);
      assertThrows(() => Object.getOwnPropertyDescriptor(WA.Global.prototype, 'value').set.call(global, 4), TypeError);
      assert.strictEqual(global.value, 3);
    });

    test('Global: brand checks', () => {
      const { get, set } = Object.getOwnPropertyDescriptor(WA.Global.prototype, 'value');
      for (const receiver of [undefined, null, {}, 1, WA.Global.prototype, new WA.Memory({ initial: 0 }), Object.create(WA.Global.prototype)]) {
        assertThrows(() => get.call(receiver), TypeError);
        assertThrows(() => set.call(receiver, 1), TypeError);
        assertThrows(() => WA.Global.prototype.valueOf.call(receiver), TypeError);
      }
    });

    test('Global: anyfunc globals hold exported functions or null', () => {
      const { tbl } = exportsOf(WA, 'table', {});
      const f = tbl.get(1);
      const global = new WA.Global({ value: 'anyfunc', mutable: true }, f);
      assert.strictEqual(global.value, f);
      global.value = null;
      assert.strictEqual(global.value, null);
      assertThrows(() => { global.value = () => 42; }, TypeError);
      assertThrows(() => { global.value = {}; }, TypeError);
      assertThrows(() => new WA.Global({ value: 'anyfunc' }, () => 42), TypeError);
      assertThrows(() => new WA.Global({ value: 'anyfunc' }, 1), TypeError);
    });

    test('Global: subclassing', () => {
      class Sub extends WA.Global {}
      const global = new Sub({ value: 'i32', mutable: true }, 5);
      assert.strictEqual(Object.getPrototypeOf(global), Sub.prototype);
      assert.strictEqual(global.value, 5);
    });

    test('Global: MDN example, wasm and JS see one global', () => {
      const global = new WA.Global({ value: 'i32', mutable: true }, 0);
      const exports = exportsOf(WA, 'global', { js: { global } });
      const output = [];
      output.push(`getGlobal() returns ${exports.getGlobal()}`);
      global.value = 42;
      output.push(`getGlobal() returns ${exports.getGlobal()} after global.value = 42`);
      exports.incGlobal();
      output.push(`global.value is ${global.value} after incGlobal()`);
      assert.deepStrictEqual(output, [
        'getGlobal() returns 0',
        'getGlobal() returns 42 after global.value = 42',
        'global.value is 43 after incGlobal()',
      ]);
    });

    test('Global: exported globals are Globals of the namespace, one object per export', () => {
      const e = exportsOf(WA, 'i64', {});
      assert.strictEqual(Object.getPrototypeOf(e.g), WA.Global.prototype);
      assert.strictEqual(e.g, e.g);
      assert.strictEqual(e.g.value, -1n);
      e.g.value = 3n;
      assert.strictEqual(e.getG(), 3n);
      assertThrows(() => { e.k.value = 3n; }, TypeError);
    });

    test('Global of externref: default undefined, any value, set', () => {
      // (Without a value, Node 20's V8 starts it at null, Node 24's at undefined, as the spec.)
      const global = new WA.Global({ value: 'externref', mutable: true }, undefined);
      assert.strictEqual(global.value, undefined);
      const object = {};
      global.value = object;
      assert.strictEqual(global.value, object);
      global.value = null;
      assert.strictEqual(global.value, null);
      assert.strictEqual(new WA.Global({ value: 'externref' }, 'text').value, 'text');
    });

    // Table ----------------------------------------------------------------------

    test('Table: descriptors of the prototype members', () => {
      const length = Object.getOwnPropertyDescriptor(WA.Table.prototype, 'length');
      assert.strictEqual(length.set, undefined);
      assert.strictEqual(length.enumerable, true);
      assert.strictEqual(length.configurable, true);
      assertFunctionName(length.get, 'get length');
      for (const key of ['get', 'set', 'grow']) {
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA.Table.prototype, key),
          { value: WA.Table.prototype[key], writable: true, enumerable: true, configurable: true }, key);
        assertFunctionName(WA.Table.prototype[key], key);
        assertFunctionLength(WA.Table.prototype[key], 1);
      }
    });

    test('Table: constructor argument checks', () => {
      assertThrows(() => new WA.Table(), TypeError);
      for (const descriptor of [undefined, null, 1, 'anyfunc']) assertThrows(() => new WA.Table(descriptor), TypeError);
      assertThrows(() => new WA.Table({ initial: 1 }), TypeError);
      for (const element of ['i32', 'any', '', undefined]) {
        assertThrows(() => new WA.Table({ element, initial: 1 }), TypeError, undefined, String(element));
      }
      assertThrows(() => new WA.Table({ element: 'anyfunc' }), TypeError);
      for (const initial of [-1, NaN, Infinity, 2 ** 32, Symbol('s'), 1n]) {
        assertThrows(() => new WA.Table({ element: 'anyfunc', initial }), TypeError);
      }
      assertThrows(() => new WA.Table({ element: 'anyfunc', initial: 1, maximum: 2 ** 32 }), TypeError);
      assertThrows(() => new WA.Table({ element: 'anyfunc', initial: 2, maximum: 1 }), RangeError);
      assertThrows(() => new WA.Table({ element: 'anyfunc', initial: 10000001 }), RangeError);
      assertThrows(() => WA.Table({ element: 'anyfunc', initial: 1 }), TypeError);
      assertThrows(() => new WA.Table({ element: 'anyfunc', initial: 1 }, () => 1), TypeError);
    });

    test('Table: "funcref" is not an element type (the JS API and V8 say "anyfunc")', () => {
      assertThrows(() => new WA.Table({ element: 'funcref', initial: 1 }), TypeError);
    });

    test('Table: new tables are full of null', () => {
      const table = new WA.Table({ element: 'anyfunc', initial: 3 });
      assert.strictEqual(table.length, 3);
      assert.deepStrictEqual([table.get(0), table.get(1), table.get(2)], [null, null, null]);
      assert.strictEqual(new WA.Table({ element: 'anyfunc', initial: 0 }).length, 0);
      assert.strictEqual(new WA.Table({ element: 'anyfunc', initial: 1.9, maximum: 2.5 }).length, 1);
      assert.deepStrictEqual(Reflect.ownKeys(table), []);
    });

    test('Table: get and set indices ([EnforceRange] unsigned long), RangeError past the end', () => {
      const table = new WA.Table({ element: 'anyfunc', initial: 2 });
      assert.strictEqual(table.get('1'), null);
      assert.strictEqual(table.get(1.9), null);
      assertThrows(() => table.get(2), RangeError);
      assertThrows(() => table.get(2 ** 32 - 1), RangeError);
      for (const index of [-1, 2 ** 32, NaN, Infinity, Symbol('s'), 1n, undefined]) {
        assertThrows(() => table.get(index), TypeError);
        assertThrows(() => table.set(index, null), TypeError);
      }
      assertThrows(() => table.get(), TypeError);
      assertThrows(() => table.set(), TypeError);
      assertThrows(() => table.set(2, null), RangeError);
    });

    test('Table: set takes exported functions or null, TypeError for anything else', () => {
      const table = new WA.Table({ element: 'anyfunc', initial: 2 });
      const { tbl } = exportsOf(WA, 'table', {});
      const f = tbl.get(0);
      assert.strictEqual(table.set(0, f), undefined);
      assert.strictEqual(table.get(0), f);
      assert.strictEqual(table.get(0)(), 13);
      for (const value of [() => 13, function f() {}, {}, 1, 'f', true, Symbol('s'), new WA.Global({ value: 'i32' }, 0)]) {
        assertThrows(() => table.set(1, value), TypeError);
      }
      assert.strictEqual(table.get(1), null);
      table.set(0, null);
      assert.strictEqual(table.get(0), null);
      table.set(1, f);
      table.set(1);
      assert.strictEqual(table.get(1), null, 'set without a value stores null');
    });

    test('Table: grow returns the old length; RangeError past the maximum', () => {
      const table = new WA.Table({ element: 'anyfunc', initial: 1, maximum: 3 });
      assert.strictEqual(table.grow(0), 1);
      assert.strictEqual(table.grow(2), 1);
      assert.strictEqual(table.length, 3);
      assert.strictEqual(table.get(2), null);
      assertThrows(() => table.grow(1), RangeError);
      assert.strictEqual(table.length, 3);
      for (const delta of [-1, 2 ** 32, NaN, Symbol('s')]) assertThrows(() => table.grow(delta), TypeError);
      assertThrows(() => table.grow(), TypeError);
      const unbounded = new WA.Table({ element: 'anyfunc', initial: 0 });
      assert.strictEqual(unbounded.grow(5), 0);
      assertThrows(() => unbounded.grow(10000001), RangeError);
    });

    test('Table: grow with an initial value', () => {
      const { tbl } = exportsOf(WA, 'table', {});
      const f = tbl.get(1);
      const table = new WA.Table({ element: 'anyfunc', initial: 1 });
      assert.strictEqual(table.grow(2, f), 1);
      assert.deepStrictEqual([table.get(0), table.get(1), table.get(2)], [null, f, f]);
      assert.strictEqual(table.grow(1, null), 3);
      assert.strictEqual(table.get(3), null);
      assertThrows(() => table.grow(1, () => 1), TypeError);
      assert.strictEqual(table.length, 4);
    });

    test('Table: brand checks', () => {
      const length = Object.getOwnPropertyDescriptor(WA.Table.prototype, 'length').get;
      for (const receiver of [undefined, null, {}, WA.Table.prototype, new WA.Memory({ initial: 0 }), Object.create(WA.Table.prototype)]) {
        assertThrows(() => length.call(receiver), TypeError);
        assertThrows(() => WA.Table.prototype.get.call(receiver, 0), TypeError);
        assertThrows(() => WA.Table.prototype.set.call(receiver, 0, null), TypeError);
        assertThrows(() => WA.Table.prototype.grow.call(receiver, 0), TypeError);
      }
    });

    test('Table: subclassing', () => {
      class Sub extends WA.Table {}
      const table = new Sub({ element: 'anyfunc', initial: 2 });
      assert.strictEqual(Object.getPrototypeOf(table), Sub.prototype);
      assert.strictEqual(table.length, 2);
    });

    test('Table: MDN example, the exported table prints 13 and 42', () => {
      const { tbl } = exportsOf(WA, 'table', {});
      const output = [tbl.get(0)(), tbl.get(1)()];
      assert.deepStrictEqual(output, [13, 42]);
      assert.ok(tbl instanceof WA.Table);
      assert.strictEqual(tbl.length, 2);
      assertThrows(() => tbl.grow(1), RangeError, undefined, 'the table of table.wat has maximum 2');
    });

    test('Table: Table.prototype.set with an exported function, called through call_indirect', () => {
      const tbl = new WA.Table({ element: 'anyfunc', initial: 2 });
      const e = exportsOf(WA, 'table-import', { env: { tbl } });
      const { tbl: mdn } = exportsOf(WA, 'table', {});
      tbl.set(0, mdn.get(1));
      tbl.set(1, e.five);
      assert.strictEqual(e.call(0), 42);
      assert.strictEqual(e.call(1), 5);
      tbl.grow(1);
      assertThrows(() => e.call(2), WA.RuntimeError);
      tbl.set(2, mdn.get(0));
      assert.strictEqual(e.call(2), 13);
      assert.strictEqual(tbl.get(1), e.five);
    });

    test('Table: a wasm function from another instance keeps its instance', () => {
      const mem = new WA.Memory({ initial: 1 });
      const { accumulate } = exportsOf(WA, 'memory', { js: { mem } });
      new Int32Array(mem.buffer).set([5, 6]);
      const table = new WA.Table({ element: 'anyfunc', initial: 1 });
      table.set(0, accumulate);
      assert.strictEqual(table.get(0), accumulate);
      assert.strictEqual(table.get(0)(0, 2), 11);
    });

    test('Table of externref: default undefined, any value, grow with a value', () => {
      const table = new WA.Table({ element: 'externref', initial: 2 });
      assert.strictEqual(table.get(0), undefined);
      const object = {};
      table.set(0, object);
      assert.strictEqual(table.get(0), object);
      table.set(1, 'text');
      assert.strictEqual(table.get(1), 'text');
      assert.strictEqual(table.grow(1, 5), 2);
      assert.strictEqual(table.get(2), 5);
    });
  });
}
