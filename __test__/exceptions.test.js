'use strict';
// Exception handling (WebAssembly/exception-handling: the JS API's Tag,
// Exception and JSTag, and wasm's throw/try_table/throw_ref/exnref and the
// legacy try/catch/rethrow/delegate), run on the built-in first and then on
// ours, with the same assertions. Written from the spec and the ideas of
// WPT's wasm/jsapi/{tag,exception}/*.
//
// Node 20's built-in has Tag and Exception but compiles only the legacy
// instructions, and its Exception constructor checks less (known difference
// "exception-checks-node20"); tests of the final proposal's instructions
// skip a built-in that cannot compile them, saying so.
const { describe } = require('node:test');
const assert = require('node:assert');
const { impls, builtin } = require('./impls');
const { assertThrows, assertFunctionName, assertFunctionLength } = require('./helpers');
const { testFor, savedException } = require('./known-differences');
const { wat } = require('./wat');

// The final proposal: a tag, throw, try_table with catch, catch_ref,
// catch_all, catch_all_ref, throw_ref; imports a tag, a JS function and
// JSTag's type of tag.
const finalText = `(module
  (import "m" "tag" (tag $t (param i32)))
  (import "m" "jstag" (tag $js (param externref)))
  (import "m" "f" (func $f (param i32)))
  (import "m" "trap" (func $trapper))
  (tag $own (export "own") (param i64 f32 externref))
  (export "t" (tag $t))
  (export "t2" (tag $t))
  (func (export "throwT") (param i32) (throw $t (local.get 0)))
  (func (export "throwOwn") (param i64 f32 externref) (throw $own (local.get 0) (local.get 1) (local.get 2)))
  (func (export "catchT") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) (call $f (local.get 0)))
      (i32.const -1)))
  (func (export "catchAll") (param i32) (result i32)
    (block $h
      (try_table (catch_all $h) (call $f (local.get 0)))
      (return (i32.const 0)))
    (i32.const 1))
  (func (export "catchJs") (param i32) (result externref)
    (block $h (result externref)
      (try_table (catch $js $h) (call $f (local.get 0)))
      (ref.null extern)))
  (func (export "rethrow") (param i32)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (call $f (local.get 0)))
      (return))
    (throw_ref))
  (func (export "trapInside") (result i32)
    (block $h
      (try_table (catch_all $h) (call $trapper))
      (return (i32.const 0)))
    (i32.const 1))
  (func (export "unreachable") unreachable)
)`;

// The legacy instructions (what LLVM emits for Rust and Emscripten).
const legacyText = `(module
  (import "m" "tag" (tag $t (param i32)))
  (import "m" "f" (func $f (param i32)))
  (tag $u (param i64))
  (func (export "catchT") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $f
      i32.const -1
    catch $t
      i32.const 100
      i32.add
    catch_all
      i32.const -2
    end)
  (func (export "rethrow") (param i32)
    try
      local.get 0
      call $f
    catch_all
      rethrow 0
    end)
  (func (export "delegate") (param i32) (result i32)
    try (result i32)
      try
        local.get 0
        call $f
      delegate 0
      i32.const -1
    catch $t
    end)
  (func (export "delegateOut") (param i32)
    try
      local.get 0
      call $f
    delegate 0)
  (func (export "nested") (param i32) (result i32)
    (local i32)
    try (result i32)
      try
        i64.const 7
        throw $u
      catch $u
        i32.wrap_i64
        local.set 1
        local.get 0
        call $f
      end
      local.get 1
    catch $t
      local.get 1
      i32.add
    end)
  (func (export "branchOut") (param i32) (result i32)
    block $out (result i32)
      try (result i32)
        i32.const 5
        br $out
      catch_all
        i32.const 6
      end
    end)
)`;

const node20 = Number(process.versions.node.split('.')[0]) < 22;

function canCompile(WA, text) {
  try {
    return WA.validate(wat(text));
  } catch {
    return false;
  }
}

const finalSkip = (WA) => !canCompile(WA, finalText) && 'this built-in compiles only the legacy exception instructions';

for (const [name, WA] of impls) {
  describe(name, () => {
    const test = testFor('exceptions', WA);

    // Tag ------------------------------------------------------------------------

    test('Tag: interface object and prototype', () => {
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA, 'Tag'),
        { value: WA.Tag, writable: true, enumerable: false, configurable: true });
      assertFunctionName(WA.Tag, 'Tag');
      assertFunctionLength(WA.Tag, 1);
      assert.strictEqual(WA.Tag.prototype.constructor, WA.Tag);
      assert.strictEqual(Object.prototype.toString.call(new WA.Tag({ parameters: [] })), '[object WebAssembly.Tag]');
      assert.deepStrictEqual(Reflect.ownKeys(WA.Tag.prototype), Reflect.ownKeys(builtin.Tag.prototype));
    });

    test('Tag: constructor checks', () => {
      assertThrows(() => WA.Tag({ parameters: [] }), TypeError);
      for (const type of [undefined, null, 1, 'i32']) assertThrows(() => new WA.Tag(type), TypeError, undefined, String(type));
      assertThrows(() => new WA.Tag({}), TypeError);
      for (const p of ['i33', 'I32', '', 'anyref?']) assertThrows(() => new WA.Tag({ parameters: [p] }), TypeError, undefined, p);
      assertThrows(() => new WA.Tag({ parameters: 1 }), TypeError);
      assertThrows(() => new WA.Tag({ parameters: new Set(['i32']) }), TypeError);
      assertThrows(() => new WA.Tag({ get parameters() { throw new RangeError('boom'); } }), RangeError);
      // V8 reads an array-like (not the iterator); values go through ToString.
      const parameters = { length: 4, 0: 'i32', 1: { toString: () => 'f64' }, 2: 'externref', 3: 'anyfunc' };
      const tag = new WA.Tag({ parameters });
      assert.ok(tag instanceof WA.Tag);
      assert.ok(new WA.Tag({ parameters: [] }) !== new WA.Tag({ parameters: [] }));
    });

    // Exception --------------------------------------------------------------------

    test('Exception: interface object and prototype members', () => {
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA, 'Exception'),
        { value: WA.Exception, writable: true, enumerable: false, configurable: true });
      assertFunctionName(WA.Exception, 'Exception');
      assertFunctionLength(WA.Exception, builtin.Exception.length);
      assert.deepStrictEqual(Reflect.ownKeys(WA.Exception.prototype), Reflect.ownKeys(builtin.Exception.prototype));
      for (const [key, length] of [['getArg', 2], ['is', 1]]) {
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA.Exception.prototype, key),
          { value: WA.Exception.prototype[key], writable: true, enumerable: true, configurable: true });
        assertFunctionName(WA.Exception.prototype[key], key);
        assertFunctionLength(WA.Exception.prototype[key], length);
      }
      // Not an Error (V8: a plain object with its own prototype chain).
      assert.strictEqual(Object.getPrototypeOf(WA.Exception.prototype), Object.prototype);
      const tag = new WA.Tag({ parameters: [] });
      const exception = new WA.Exception(tag, []);
      assert.strictEqual(Object.prototype.toString.call(exception), '[object WebAssembly.Exception]');
      assert.strictEqual(exception instanceof Error, false);
      assert.deepStrictEqual(Reflect.ownKeys(exception), []);
      assert.strictEqual(exception.stack, undefined);
    });

    test('Exception: constructor checks', () => {
      const tag = new WA.Tag({ parameters: ['i32', 'externref'] });
      assertThrows(() => WA.Exception(tag, [1, 2]), TypeError);
      for (const t of [undefined, null, {}, new WA.Global({ value: 'i32' })]) {
        assertThrows(() => new WA.Exception(t, []), TypeError);
      }
      for (const payload of [undefined, 1, 'ab']) assertThrows(() => new WA.Exception(tag, payload), TypeError);
      assertThrows(() => new WA.Exception(tag, [1, 2], 5), TypeError);
      assertThrows(() => new WA.Exception(tag, [1n, 2]), TypeError);
      // An array-like payload (as V8 reads it); options null or undefined are {}.
      assert.ok(new WA.Exception(tag, { length: 2, 0: 1, 1: 2 }, null) instanceof WA.Exception);
    });

    test('Exception: payload length and types are checked (Node 22+)', {
      skip: WA === builtin && node20 && "Node 20's built-in checks none of these (known difference exception-checks-node20)",
    }, () => {
      const tag = new WA.Tag({ parameters: ['i32', 'externref'] });
      assertThrows(() => new WA.Exception(tag, {}), TypeError);
      assertThrows(() => new WA.Exception(tag, new Set([1, 2])), TypeError);
      assertThrows(() => new WA.Exception(tag, [1]), TypeError);
      assertThrows(() => new WA.Exception(tag, [1, 2, 3]), TypeError);
      const f = new WA.Tag({ parameters: ['anyfunc'] });
      assertThrows(() => new WA.Exception(f, [() => 1]), TypeError);
      assert.ok(new WA.Exception(f, [null]).is(f));
    });

    test('Exception: getArg converts as wasm would, is() compares tags', () => {
      const tag = new WA.Tag({ parameters: ['i32', 'i64', 'f32', 'f64', 'externref'] });
      const object = {};
      const payload = [2 ** 32 + 5, -1n, 1.1, { valueOf: () => 2.5 }, object];
      const exception = new WA.Exception(tag, payload);
      assert.deepStrictEqual([0, 1, 2, 3].map((i) => exception.getArg(tag, i)), [5, -1n, Math.fround(1.1), 2.5]);
      assert.strictEqual(exception.getArg(tag, 4), object);
      assert.strictEqual(exception.is(tag), true);
      const other = new WA.Tag({ parameters: ['i32', 'i64', 'f32', 'f64', 'externref'] });
      assert.strictEqual(exception.is(other), false);
      assertThrows(() => exception.getArg(other, 0), TypeError);
      assertThrows(() => exception.getArg(tag, 5), RangeError);
      assertThrows(() => exception.getArg(tag), TypeError);
      assertThrows(() => exception.getArg({}, 0), TypeError);
      assertThrows(() => exception.is({}), TypeError);
      assertThrows(() => WA.Exception.prototype.getArg.call({}, tag, 0), TypeError);
      assertThrows(() => WA.Exception.prototype.is.call(tag, tag), TypeError);
    });

    test('Exception: traceStack gives an own stack', () => {
      const tag = new WA.Tag({ parameters: [] });
      const traced = new WA.Exception(tag, [], { traceStack: true });
      assert.ok(Object.hasOwn(traced, 'stack'));
      assert.strictEqual(typeof traced.stack, 'string');
      assert.match(traced.stack, /exceptions\.test\.js/);
      assert.strictEqual(new WA.Exception(tag, [], { traceStack: false }).stack, undefined);
      assert.strictEqual(Object.hasOwn(new WA.Exception(tag, []), 'stack'), false);
    });

    test('JSTag: where the running Node has it, a Tag whose exceptions JS cannot make', { skip: !builtin.JSTag && 'this Node has no JSTag' }, () => {
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA, 'JSTag'),
        { value: WA.JSTag, writable: false, enumerable: false, configurable: true });
      assert.ok(WA.JSTag instanceof WA.Tag);
      assertThrows(() => new WA.Exception(WA.JSTag, [1]), TypeError);
    });

    // Across the boundary ----------------------------------------------------------

    function instance(f, extra = {}) {
      const tag = new WA.Tag({ parameters: ['i32'] });
      const jstag = WA.JSTag || new WA.Tag({ parameters: ['externref'] });
      const trap = () => exports.unreachable();
      const { exports } = new WA.Instance(new WA.Module(wat(finalText)), { m: { tag, jstag, f, trap, ...extra } });
      return { tag, exports };
    }

    test('a wasm exception reaches JS as a WebAssembly.Exception of its tag', { skip: finalSkip(WA) }, () => {
      const { tag, exports } = instance(() => {});
      // An exported imported tag is the same Tag object, every time.
      assert.strictEqual(exports.t, tag);
      assert.strictEqual(exports.t2, tag);
      assert.ok(exports.own instanceof WA.Tag);
      assert.throws(() => exports.throwT(7), (e) => e instanceof WA.Exception && e.is(tag) && e.getArg(tag, 0) === 7);
      const object = {};
      assert.throws(() => exports.throwOwn(-3n, 1.5, object), (e) => {
        assert.ok(e.is(exports.own));
        assert.deepStrictEqual([e.getArg(exports.own, 0), e.getArg(exports.own, 1)], [-3n, 1.5]);
        assert.strictEqual(e.getArg(exports.own, 2), object);
        assert.strictEqual(e.stack, undefined);
        return true;
      });
    });

    test('a WebAssembly.Exception thrown by an import is caught by its tag, and else comes out the same object', { skip: finalSkip(WA) }, () => {
      let tag;
      const thrown = [];
      const { exports, tag: t } = instance((x) => {
        const e = new WA.Exception(x < 100 ? tag : new WA.Tag({ parameters: ['i32'] }), [x * 2]);
        thrown.push(e);
        throw e;
      });
      tag = t;
      assert.strictEqual(exports.catchT(21), 42);
      // Another tag: not caught by `catch $t`; out unchanged.
      assert.throws(() => exports.catchT(500), (e) => e === thrown[1]);
      // catch_all_ref + throw_ref keeps identity too.
      assert.throws(() => exports.rethrow(3), (e) => e === thrown[2]);
    });

    test('any other JS value passes through wasm unchanged and is caught by catch_all', { skip: finalSkip(WA) }, () => {
      const values = [new Error('e'), 'text', 5, undefined, null, Symbol('s'), 3n];
      let next;
      const { exports } = instance(() => { throw next; });
      for (const value of values) {
        next = value;
        assert.throws(() => exports.rethrow(0), (e) => Object.is(e, value), String(value));
        assert.throws(() => exports.catchT(0), (e) => Object.is(e, value), String(value));
        assert.strictEqual(exports.catchAll(0), 1, String(value));
      }
      assert.strictEqual(exports.catchAll(0) === 1, true);
    });

    test('catch JSTag gives the JS value', { skip: (!builtin.JSTag && 'this Node has no JSTag') || finalSkip(WA) }, () => {
      const object = {};
      let next = object;
      const { exports } = instance(() => { throw next; });
      assert.strictEqual(exports.catchJs(0), object);
      next = 'primitive';
      assert.strictEqual(exports.catchJs(0), 'primitive');
      // A WebAssembly.Exception is not a JS exception of JSTag.
      const tag = new WA.Tag({ parameters: [] });
      next = new WA.Exception(tag, []);
      assert.throws(() => exports.catchJs(0), (e) => e === next);
    });

    test('traps are never caught by wasm, even through JS', { skip: finalSkip(WA) }, () => {
      const { exports } = instance(() => {});
      assert.throws(() => exports.trapInside(), WA.RuntimeError);
    });

    test('an exception kept in an exnref global and rethrown by a later call is the same object', { skip: finalSkip(WA) }, () => {
      const { thrown, rethrowSaved } = savedException(WA);
      assert.throws(rethrowSaved, (e) => e === thrown);
    });

    test('GC types (struct) validate where the built-in has Wasm GC', () => {
      const bytes = wat('(module (type $s (struct (field i32))) (func (result (ref null $s)) (ref.null $s)))');
      assert.strictEqual(WA.validate(bytes), !node20);
    });

    // Legacy instructions -------------------------------------------------------------

    test('legacy try/catch/catch_all/rethrow/delegate', () => {
      const tag = new WA.Tag({ parameters: ['i32'] });
      let next;
      const f = (x) => {
        if (x === 1) throw new WA.Exception(tag, [x + 1]);
        if (x === 2) throw next;
      };
      const { exports } = new WA.Instance(new WA.Module(wat(legacyText)), { m: { tag, f } });
      assert.strictEqual(exports.catchT(0), -1);
      assert.strictEqual(exports.catchT(1), 102);
      next = new Error('js');
      assert.strictEqual(exports.catchT(2), -2);
      assert.throws(() => exports.rethrow(2), (e) => e === next);
      assert.throws(() => exports.rethrow(1), (e) => e instanceof WA.Exception && e.getArg(tag, 0) === 2);
      assert.strictEqual(exports.delegate(1), 2);
      assert.strictEqual(exports.delegate(0), -1);
      assert.throws(() => exports.delegateOut(2), (e) => e === next);
      assert.strictEqual(exports.nested(0), 7);
      assert.strictEqual(exports.nested(1), 9);
      assert.strictEqual(exports.branchOut(0), 5);
    });
  });
}
