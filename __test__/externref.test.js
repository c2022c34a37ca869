'use strict';
// externref (reference types) in every position: exported function
// parameters and results, JS import parameters and results, globals and
// tables (from JS and from wasm), with the spec's null/undefined rules and
// identity; run on the built-in first and then on ours. Then, for ours, how
// long the JS values wasm holds live (src/runtime/value.rs: a slot in the store
// token's `values` array, freed by wasmtime's collector).
const { describe, test: plainTest } = require('node:test');
const assert = require('node:assert');
const { impls, builtin, ours } = require('./impls');
const { assertThrows } = require('./helpers');
const { testFor } = require('./known-differences');
const { wat } = require('./wat');

const text = `(module
  (import "js" "echo" (func $echo (param externref) (result externref)))
  (import "js" "g" (global $imported externref))
  (table $t (export "table") 4 externref)
  (global $g (export "global") (mut externref) (ref.null extern))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "viaJs") (param externref) (result externref) (call $echo (local.get 0)))
  (func (export "isNull") (param externref) (result i32) (ref.is_null (local.get 0)))
  (func (export "store") (param i32 externref) (table.set $t (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result externref) (table.get $t (local.get 0)))
  (func (export "setGlobal") (param externref) (global.set $g (local.get 0)))
  (func (export "imported") (result externref) (global.get $imported))
  (func (export "grow") (param externref i32) (result i32) (table.grow $t (local.get 0) (local.get 1)))
  (func (export "two") (param externref externref) (result externref externref) (local.get 1) (local.get 0))
)`;

const node20 = Number(process.versions.node.split('.')[0]) < 22;
const values = () => [{}, [], () => 1, 'text', '', 0, -0, NaN, 1.5, 7n, true, false, Symbol('s'), undefined];

function make(WA, echo = (v) => v, g = 'imported value') {
  return new WA.Instance(new WA.Module(wat(text)), { js: { echo, g } }).exports;
}

for (const [name, WA] of impls) {
  describe(name, () => {
    const test = testFor('externref', WA);

    test('any JS value goes in and comes out as itself; null is ref.null', () => {
      const e = make(WA);
      for (const v of values()) {
        assert.ok(Object.is(e.id(v), v), String(v));
        assert.ok(Object.is(e.viaJs(v), v), String(v));
        assert.strictEqual(e.isNull(v), 0, String(v));
      }
      assert.strictEqual(e.id(null), null);
      assert.strictEqual(e.isNull(null), 1);
      // A missing argument is undefined, a real value.
      assert.strictEqual(e.isNull(), 0);
      assert.strictEqual(e.id(), undefined);
      assert.deepStrictEqual(e.two(1, 'b'), ['b', 1]);
      assert.strictEqual(e.imported(), 'imported value');
    });

    test('JS imports receive and return externrefs unchanged', () => {
      const seen = [];
      const replacement = {};
      const e = make(WA, (v) => { seen.push(v); return replacement; });
      const object = {};
      assert.strictEqual(e.viaJs(object), replacement);
      assert.strictEqual(e.viaJs(null), replacement);
      assert.deepStrictEqual(seen, [object, null]);
      assert.strictEqual(seen[0], object);
    });

    test('tables and globals of externref, from wasm and from JS', () => {
      const e = make(WA);
      const object = {};
      e.store(1, object);
      assert.strictEqual(e.table.get(1), object);
      assert.strictEqual(e.table.get(0), null);
      e.table.set(2, 'x');
      assert.strictEqual(e.load(2), 'x');
      e.table.set(2);
      assert.strictEqual(e.load(2), undefined);
      e.table.set(2, null);
      assert.strictEqual(e.load(2), null);
      assert.strictEqual(e.table.grow(2, object), 4);
      assert.strictEqual(e.load(5), object);
      assert.strictEqual(e.grow(null, 1), 6);
      assert.strictEqual(e.table.get(6), null);
      assert.strictEqual(e.table.length, 7);
      assertThrows(() => e.table.get(7), RangeError);
      assertThrows(() => e.table.set(7, 1), RangeError);
      e.setGlobal(object);
      assert.strictEqual(e.global.value, object);
      e.global.value = undefined;
      assert.strictEqual(e.global.value, undefined);
      e.global.value = null;
      assert.strictEqual(e.global.value, null);
    });

    test('Global and Table of externref without a value hold undefined', {
      skip: WA === builtin && node20 && "Node 20's built-in starts a Global at null (known difference externref-global-default-node20)",
    }, () => {
      assert.strictEqual(new WA.Global({ value: 'externref' }).value, undefined);
      assert.strictEqual(new WA.Table({ element: 'externref', initial: 1 }).get(0), undefined);
    });

    test('standalone Global and Table of externref imported by an instance keep their values', () => {
      const object = {};
      const global = new WA.Global({ value: 'externref', mutable: true }, object);
      const table = new WA.Table({ element: 'externref', initial: 2 }, 'fill');
      table.set(1, object);
      const { exports } = new WA.Instance(new WA.Module(wat(`(module
        (import "js" "g" (global $g (mut externref)))
        (import "js" "t" (table $t 2 externref))
        (func (export "g") (result externref) (global.get $g))
        (func (export "t") (param i32) (result externref) (table.get $t (local.get 0))))`)), { js: { g: global, t: table } });
      assert.strictEqual(exports.g(), object);
      assert.strictEqual(exports.t(0), 'fill');
      assert.strictEqual(exports.t(1), object);
      global.value = 5;
      assert.strictEqual(exports.g(), 5);
    });

    test('an immutable global import takes any value for externref', () => {
      for (const v of values()) {
        if (v === undefined) continue;
        assert.ok(Object.is(make(WA, undefined, v).imported(), v), String(v));
      }
    });
  });
}

// Lifetime (ours) ---------------------------------------------------------------------

const gcOptions = { skip: (!ours && 'the addon is not loaded') || (typeof gc !== 'function' && 'needs --expose-gc') };

async function collect() {
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

plainTest('ours: a JS value held only by wasm survives collections; a dropped instance lets it go', gcOptions, async () => {
  let e = make(ours);
  let object = { payload: new Array(100).fill(1) };
  const weak = new WeakRef(object);
  e.store(0, object);
  e.setGlobal({ other: true });
  object = null;
  await collect();
  assert.ok(weak.deref(), 'the value was collected while wasm held it');
  assert.strictEqual(e.load(0), weak.deref());
  e = null;
  await collect();
  assert.strictEqual(weak.deref(), undefined, 'the value outlived its store');
});

plainTest('ours: a cycle through an externref (a table holding its own instance) is collected', gcOptions, async () => {
  // Compared with instances that hold nothing: the last instance made may
  // outlive the collections in both cases (held by something outside this
  // test's reach), so at most that one may remain.
  async function survivors(cycle) {
    const refs = [];
    for (let i = 0; i < 20; i++) {
      const instance = new ours.Instance(new ours.Module(wat(text)), { js: { echo: (v) => v, g: null } });
      if (cycle) {
        instance.exports.table.set(0, instance);
        instance.exports.setGlobal(instance.exports.id);
      }
      refs.push(new WeakRef(instance));
    }
    await collect();
    return refs.filter((r) => r.deref()).length;
  }
  const plain = await survivors(false);
  const cyclic = await survivors(true);
  assert.ok(cyclic <= Math.max(plain, 1), `${cyclic} of 20 cyclic instances survived (plain: ${plain})`);
});

plainTest('ours: many externrefs through one store stay correct', gcOptions, () => {
  const e = make(ours);
  for (let i = 0; i < 200000; i++) {
    const object = { i };
    if (e.id(object) !== object) assert.fail(`identity lost at ${i}`);
    if (i % 1000 === 0) e.store(i % 4, object);
  }
  assert.strictEqual(e.load(0).i % 4, 0);
});
