'use strict';
// Wasm GC at the JS boundary (the GC proposal's JS API, WPT wasm/jsapi/gc/*):
// structs and arrays cross into JS as opaque objects (frozen, null
// prototype, no properties) and come back as themselves; anyref, eqref,
// i31ref, structref and arrayref convert as ToWebAssemblyValue says (i31
// from Numbers in range, other JS values as internalized externrefs for
// anyref, a TypeError where the type does not match); typed function
// references take only functions of their type. Run on the built-in where it
// has Wasm GC (Node 22+) and on ours, with the same assertions.
const { describe } = require('node:test');
const assert = require('node:assert');
const { impls, builtin } = require('./impls');
const { assertThrows } = require('./helpers');
const { testFor } = require('./known-differences');
const { wat } = require('./wat');

const probe = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 0x5f, 1, 0x7f, 1]); // (type (struct (field i32)))
const builtinHasGc = builtin !== undefined && builtin.validate(probe);

const gcModule = wat(`(module
  (type $s (struct (field (mut i32))))
  (type $t (struct (field i64)))
  (type $a (array (mut i16)))
  (type $ft (func (param i32) (result i32)))
  (func (export "struct") (param i32) (result (ref $s)) (struct.new $s (local.get 0)))
  (func (export "other") (result anyref) (struct.new $t (i64.const 1)))
  (func (export "array") (param i32) (result (ref $a)) (array.new $a (i32.const 7) (local.get 0)))
  (func (export "field") (param (ref null $s)) (result i32) (struct.get $s 0 (local.get 0)))
  (func (export "setField") (param (ref $s) i32) (struct.set $s 0 (local.get 0) (local.get 1)))
  (func (export "length") (param arrayref) (result i32) (array.len (local.get 0)))
  (func (export "any") (param anyref) (result anyref) (local.get 0))
  (func (export "eq") (param eqref) (result eqref) (local.get 0))
  (func (export "i31") (param i31ref) (result i31ref) (local.get 0))
  (func (export "structref") (param structref) (result structref) (local.get 0))
  (func (export "isI31") (param anyref) (result i32) (ref.test i31ref (local.get 0)))
  (func (export "isS") (param anyref) (result i32) (ref.test (ref $s) (local.get 0)))
  (func (export "makeI31") (param i32) (result i31ref) (ref.i31 (local.get 0)))
  (func (export "externalize") (param anyref) (result externref) (extern.convert_any (local.get 0)))
  (func (export "internalize") (param externref) (result anyref) (any.convert_extern (local.get 0)))
  (func (export "double") (type $ft) (i32.mul (local.get 0) (i32.const 2)))
  (func (export "nullary") (result i32) (i32.const 0))
  (func (export "callTyped") (param (ref $ft) i32) (result i32) (call_ref $ft (local.get 1) (local.get 0)))
  (func (export "churn") (param i32)
    (loop $l
      (drop (struct.new $s (local.get 0)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))
  (global (export "g") (mut anyref) (ref.null any))
  (table (export "t") 2 anyref))`);

for (const [name, WA] of impls) {
  describe(name, () => {
    const test = testFor('gc', WA);

    test('validate answers as the running Node\'s built-in', () => {
      assert.strictEqual(WA.validate(probe), builtinHasGc);
      assert.strictEqual(WA.validate(gcModule), builtinHasGc);
    });

    const skip = !builtinHasGc && 'this Node\'s built-in has no Wasm GC (Node 22+ has)';
    const gcTest = (title, fn) => test(title, { skip }, fn);
    const exportsOf = () => new WA.Instance(new WA.Module(gcModule)).exports;

    gcTest('structs and arrays are opaque objects: frozen, null prototype, no properties', () => {
      const e = exportsOf();
      for (const object of [e.struct(7), e.array(3)]) {
        assert.strictEqual(typeof object, 'object');
        assert.strictEqual(Object.getPrototypeOf(object), null);
        assert.ok(Object.isFrozen(object));
        assert.ok(!Object.isExtensible(object));
        assert.deepStrictEqual(Reflect.ownKeys(object), []);
        assert.strictEqual(object.x, undefined);
        assertThrows(() => { object.x = 1; }, TypeError, /WebAssembly objects are opaque/);
        assertThrows(() => Object.defineProperty(object, 'x', { value: 1 }), TypeError, /opaque/);
        assertThrows(() => delete object.x, TypeError, /opaque/);
        assertThrows(() => Object.setPrototypeOf(object, null), TypeError, /opaque/);
        // [[PreventExtensions]] throws too, though the object is not
        // extensible (JS API: exported GC objects), and with it seal/freeze.
        assertThrows(() => Object.preventExtensions(object), TypeError, /opaque/);
        assertThrows(() => Reflect.preventExtensions(object), TypeError, /opaque/);
        assertThrows(() => Object.seal(object), TypeError, /opaque/);
        assertThrows(() => Object.freeze(object), TypeError, /opaque/);
        assert.ok(!('x' in object));
        assert.strictEqual(Object.getOwnPropertyDescriptor(object, 'x'), undefined);
        assertThrows(() => `${object}`, TypeError);
      }
    });

    gcTest('a GC object comes back as itself; the same object crossing twice is one JS object', () => {
      const e = exportsOf();
      const s = e.struct(7);
      assert.strictEqual(e.field(s), 7);
      e.setField(s, 9);
      assert.strictEqual(e.field(s), 9);
      assert.strictEqual(e.any(s), s);
      assert.strictEqual(e.eq(s), s);
      assert.strictEqual(e.structref(s), s);
      assert.strictEqual(e.isS(s), 1);
      const a = e.array(5);
      assert.strictEqual(e.length(a), 5);
      assert.strictEqual(e.any(a), a);
      e.g.value = s;
      assert.strictEqual(e.g.value, s);
      assert.strictEqual(e.g.value, e.g.value);
      e.t.set(1, a);
      assert.strictEqual(e.t.get(1), a);
    });

    gcTest('anyref: i31 from Numbers in range, anything else as itself', () => {
      const e = exportsOf();
      for (const n of [0, 1, -1, 2 ** 30 - 1, -(2 ** 30)]) {
        assert.strictEqual(e.any(n), n);
        assert.strictEqual(e.isI31(n), 1, String(n));
      }
      for (const v of [2 ** 30, -(2 ** 30) - 1, 1.5, -0, NaN, 'str', 1n, undefined, true, {}, Symbol.iterator]) {
        assert.ok(Object.is(e.any(v), v), String(v));
        assert.strictEqual(e.isI31(v), 0, String(v));
      }
      assert.strictEqual(e.any(null), null);
      assert.strictEqual(e.makeI31(-5), -5);
      assert.strictEqual(e.makeI31(2 ** 31 - 1), -1);
      assert.strictEqual(e.i31(12), 12);
    });

    gcTest('eqref, i31ref, structref, arrayref and concrete types refuse what does not match (TypeError)', () => {
      const e = exportsOf();
      const s = e.struct(1);
      const a = e.array(1);
      assertThrows(() => e.eq('str'), TypeError);
      assertThrows(() => e.eq(2 ** 31), TypeError);
      assertThrows(() => e.i31(s), TypeError);
      assertThrows(() => e.i31(1.5), TypeError);
      assertThrows(() => e.structref(a), TypeError);
      assertThrows(() => e.length(s), TypeError);
      assertThrows(() => e.field(e.other()), TypeError);
      assertThrows(() => e.field({}), TypeError);
      assertThrows(() => e.setField(null, 1), TypeError);
      assert.strictEqual(e.eq(null), null);
      assert.strictEqual(e.eq(3), 3);
    });

    gcTest('extern.convert_any and any.convert_extern keep identity both ways', () => {
      const e = exportsOf();
      const s = e.struct(4);
      assert.strictEqual(e.externalize(s), s);
      assert.strictEqual(e.externalize(5), 5);
      assert.strictEqual(e.internalize(s), s);
      assert.strictEqual(e.isS(e.internalize(s)), 1);
      const o = {};
      assert.strictEqual(e.internalize(o), o);
      assert.strictEqual(e.externalize(o), o);
    });

    gcTest('Global and Table of GC types by name: default null, values converted', () => {
      for (const type of ['anyref', 'eqref', 'i31ref', 'structref', 'arrayref']) {
        assert.strictEqual(new WA.Global({ value: type }).value, null, type);
        assert.strictEqual(new WA.Table({ element: type, initial: 1 }).get(0), null, type);
      }
      const g = new WA.Global({ value: 'anyref', mutable: true }, 'x');
      assert.strictEqual(g.value, 'x');
      g.value = 12;
      assert.strictEqual(g.value, 12);
      assertThrows(() => new WA.Global({ value: 'eqref' }, 'x'), TypeError);
      assertThrows(() => new WA.Global({ value: 'i31ref' }, {}), TypeError);
      const t = new WA.Table({ element: 'anyref', initial: 2 }, 'y');
      assert.strictEqual(t.get(1), 'y');
      const s = exportsOf().struct(3);
      const held = new WA.Global({ value: 'structref', mutable: true }, s);
      assert.strictEqual(held.value, s);
    });

    gcTest('a GC object held only by JS survives wasm\'s collections and V8\'s', () => {
      const e = exportsOf();
      const kept = [e.struct(11), e.array(4)];
      e.churn(200000);
      if (global.gc) global.gc();
      e.churn(200000);
      assert.strictEqual(e.field(kept[0]), 11);
      assert.strictEqual(e.length(kept[1]), 4);
      assert.strictEqual(e.any(kept[0]), kept[0]);
      // Many objects crossing, most dropped at once: the survivors keep
      // their identity.
      const survivors = [];
      for (let i = 0; i < 5000; i++) {
        const s = e.struct(i);
        if (i % 500 === 0) survivors.push([i, s]);
      }
      if (global.gc) global.gc();
      for (let i = 0; i < 5000; i++) e.struct(i);
      for (const [i, s] of survivors) {
        assert.strictEqual(e.field(s), i);
        assert.strictEqual(e.any(s), s);
      }
    });

    gcTest('a GC object kept by JS stays usable; then it and a cycle through an externref table are collected', async () => {
      const turns = async (n) => {
        for (let i = 0; i < n; i++) {
          global.gc();
          await new Promise(setImmediate);
        }
      };
      const gone = new Set();
      const registry = new FinalizationRegistry((label) => gone.add(label));
      const bytes = wat(`(module (type $s (struct (field i32)))
        (table (export "t") 1 externref)
        (func (export "make") (param i32) (result anyref) (struct.new $s (local.get 0)))
        (func (export "field") (param anyref) (result i32) (struct.get $s 0 (ref.cast (ref $s) (local.get 0)))))`);
      let kept = null;
      let field = null;
      (() => {
        const e = new WA.Instance(new WA.Module(bytes)).exports;
        kept = e.make(41);
        field = e.field;
        const cyclic = e.make(42);
        e.t.set(0, cyclic); // the table holds the object, whose group holds the table
        registry.register(e, 'exports');
        registry.register(cyclic, 'cyclic');
        registry.register(e.t, 'table');
        registry.register(kept, 'kept');
      })();
      await turns(5);
      assert.strictEqual(field(kept), 41);
      kept = null;
      field = null;
      await turns(10);
      assert.deepStrictEqual([...gone].sort(), ['cyclic', 'exports', 'kept', 'table']);
    });

    gcTest('GC objects of two instance groups kept in each other\'s externref tables are collected', async () => {
      const gone = new Set();
      const registry = new FinalizationRegistry((label) => gone.add(label));
      const bytes = wat(`(module (type $s (struct (field i32)))
        (table (export "t") 1 externref)
        (func (export "make") (result anyref) (struct.new $s (i32.const 1))))`);
      (() => {
        const a = new WA.Instance(new WA.Module(bytes)).exports;
        const b = new WA.Instance(new WA.Module(bytes)).exports;
        const sa = a.make();
        const sb = b.make();
        a.t.set(0, sb);
        b.t.set(0, sa);
        assert.strictEqual(a.t.get(0), sb);
        registry.register(a.t, 'a');
        registry.register(b.t, 'b');
        registry.register(sa, 'sa');
        registry.register(sb, 'sb');
      })();
      for (let i = 0; i < 10; i++) {
        global.gc();
        await new Promise(setImmediate);
      }
      assert.deepStrictEqual([...gone].sort(), ['a', 'b', 'sa', 'sb']);
    });

    gcTest('a GC object passes to another instance', () => {
      const a = exportsOf();
      const b = exportsOf();
      const s = a.struct(5);
      assert.strictEqual(b.any(s), s);
      // The same struct type in both (types are canonicalized).
      assert.strictEqual(b.isS(s), 1);
      assert.strictEqual(b.field(s), 5);
      b.g.value = s;
      assert.strictEqual(b.g.value, s);
    });

    gcTest('typed function references take functions of their type only', () => {
      const e = exportsOf();
      assert.strictEqual(e.callTyped(e.double, 21), 42);
      assertThrows(() => e.callTyped(e.nullary, 1), TypeError);
      assertThrows(() => e.callTyped(null, 1), TypeError);
      assertThrows(() => e.callTyped(() => 1, 1), TypeError);
    });
  });
}
