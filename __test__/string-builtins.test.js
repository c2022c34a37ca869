'use strict';
// JS string builtins (WPT wasm/jsapi/js-string/*'s ideas): the compile
// options `builtins: ['js-string']` and `importedStringConstants`, the
// `wasm:js-string` functions and their traps, import types checked when
// compiling, and the provided imports hidden from Module.imports. Run on the
// built-in where it reads these options (builtins: Node 22+; string
// constants: Node 24+) and on ours, with the same assertions.
const { describe } = require('node:test');
const assert = require('node:assert');
const { impls, builtin } = require('./impls');
const { assertThrows } = require('./helpers');
const { testFor } = require('./known-differences');
const { wat } = require('./wat');

const read = { builtins: false, importedStringConstants: false };
if (builtin !== undefined) {
  builtin.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]), {
    get builtins() { read.builtins = true; return []; },
    get importedStringConstants() { read.importedStringConstants = true; return undefined; },
  });
}
const noBuiltins = !read.builtins && 'this Node\'s built-in has no JS string builtins (Node 22+ has)';
const noConstants = !read.importedStringConstants && 'this Node\'s built-in has no imported string constants (Node 24+ has)';
const options = { builtins: ['js-string'] };
const node22 = process.versions.node.split('.')[0] === '22';

const stringsText = `(module
  (type $a (array (mut i16)))
  (import "wasm:js-string" "cast" (func $cast (param externref) (result (ref extern))))
  (import "wasm:js-string" "test" (func $test (param externref) (result i32)))
  (import "wasm:js-string" "fromCharCodeArray" (func $fromArray (param (ref null $a) i32 i32) (result (ref extern))))
  (import "wasm:js-string" "intoCharCodeArray" (func $intoArray (param externref (ref null $a) i32) (result i32)))
  (import "wasm:js-string" "fromCharCode" (func $fromCharCode (param i32) (result (ref extern))))
  (import "wasm:js-string" "fromCodePoint" (func $fromCodePoint (param i32) (result (ref extern))))
  (import "wasm:js-string" "charCodeAt" (func $charCodeAt (param externref i32) (result i32)))
  (import "wasm:js-string" "codePointAt" (func $codePointAt (param externref i32) (result i32)))
  (import "wasm:js-string" "length" (func $length (param externref) (result i32)))
  (import "wasm:js-string" "concat" (func $concat (param externref externref) (result (ref extern))))
  (import "wasm:js-string" "substring" (func $substring (param externref i32 i32) (result (ref extern))))
  (import "wasm:js-string" "equals" (func $equals (param externref externref) (result i32)))
  (import "wasm:js-string" "compare" (func $compare (param externref externref) (result i32)))
  (import "env" "f" (func $f))
  (func (export "cast") (param externref) (result externref) (call $cast (local.get 0)))
  (func (export "test") (param externref) (result i32) (call $test (local.get 0)))
  (func (export "fromCharCode") (param i32) (result externref) (call $fromCharCode (local.get 0)))
  (func (export "fromCodePoint") (param i32) (result externref) (call $fromCodePoint (local.get 0)))
  (func (export "charCodeAt") (param externref i32) (result i32) (call $charCodeAt (local.get 0) (local.get 1)))
  (func (export "codePointAt") (param externref i32) (result i32) (call $codePointAt (local.get 0) (local.get 1)))
  (func (export "length") (param externref) (result i32) (call $length (local.get 0)))
  (func (export "concat") (param externref externref) (result externref) (call $concat (local.get 0) (local.get 1)))
  (func (export "substring") (param externref i32 i32) (result externref) (call $substring (local.get 0) (local.get 1) (local.get 2)))
  (func (export "equals") (param externref externref) (result i32) (call $equals (local.get 0) (local.get 1)))
  (func (export "compare") (param externref externref) (result i32) (call $compare (local.get 0) (local.get 1)))
  (func (export "roundTrip") (param externref) (result externref) (local $arr (ref $a))
    (local.set $arr (array.new $a (i32.const 0) (call $length (local.get 0))))
    (drop (call $intoArray (local.get 0) (local.get $arr) (i32.const 0)))
    (call $fromArray (local.get $arr) (i32.const 0) (array.len (local.get $arr))))
  (func (export "arrayOf") (param externref i32) (result i32)
    (call $intoArray (local.get 0) (array.new $a (i32.const 0) (local.get 1)) (i32.const 0)))
  (func (export "fromArrayRange") (param i32 i32) (result externref)
    (call $fromArray (array.new $a (i32.const 65) (i32.const 3)) (local.get 0) (local.get 1)))
  (func (export "catchAll") (param externref) (result i32)
    (block $caught (try_table (catch_all $caught) (drop (call $length (local.get 0))))) (i32.const 7)))`;
const constantsText = `(module
  (import "'" "hello" (global $h externref))
  (import "'" "" (global $e (ref extern)))
  (func (export "hello") (result externref) (global.get $h))
  (func (export "empty") (result externref) (global.get $e)))`;

for (const [name, WA] of impls) {
  describe(name, () => {
    const test = testFor('string-builtins', WA);
    const strings = () => new WA.Module(wat(stringsText), options);
    const f = () => {};

    test('without the option, wasm:js-string imports are ordinary imports', { skip: noBuiltins }, () => {
      const module = new WA.Module(wat(stringsText));
      assert.strictEqual(WA.Module.imports(module).length, 14);
      assertThrows(() => new WA.Instance(module, { env: { f } }), TypeError);
    });

    test('builtins are hidden from Module.imports and linked without an import object', { skip: noBuiltins }, () => {
      const module = strings();
      assert.deepStrictEqual(WA.Module.imports(module), [{ module: 'env', name: 'f', kind: 'function' }]);
      const e = new WA.Instance(module, { env: { f } }).exports;
      assert.strictEqual(e.length('abcd'), 4);
      assert.strictEqual(e.concat('ab', 'cd'), 'abcd');
      assert.strictEqual(e.cast('x'), 'x');
      assert.strictEqual(e.test('x'), 1);
      assert.strictEqual(e.test(5), 0);
      assert.strictEqual(e.test(null), 0);
      assert.strictEqual(e.fromCharCode(0x41), 'A');
      assert.strictEqual(e.fromCharCode(0x10041), 'A');
      assert.strictEqual(e.fromCodePoint(0x1f600), '\u{1f600}');
      assert.strictEqual(e.charCodeAt('AB', 1), 0x42);
      assert.strictEqual(e.codePointAt('\u{1f600}', 0), 0x1f600);
      assert.strictEqual(e.substring('abcdef', 1, 3), 'bc');
      assert.strictEqual(e.substring('abcdef', 4, 2), '');
      assert.strictEqual(e.substring('abcdef', 2, 100), 'cdef');
      assert.strictEqual(e.substring('abcdef', -1, 2), '');
      assert.strictEqual(e.equals('a', 'a'), 1);
      assert.strictEqual(e.equals(null, null), 1);
      assert.strictEqual(e.equals('a', null), 0);
      assert.strictEqual(e.compare('a', 'b'), -1);
      assert.strictEqual(e.compare('b', 'a'), 1);
      assert.strictEqual(e.compare('a', 'a'), 0);
      assert.strictEqual(e.roundTrip('héllo \u{1f600}'), 'héllo \u{1f600}');
      assert.strictEqual(e.fromArrayRange(1, 3), 'AA');
    });

    test('builtins trap (RuntimeError, not catchable by wasm) on values that are not strings and bad ranges', { skip: noBuiltins }, async () => {
      const e = (await WA.instantiate(wat(stringsText), { env: { f } }, options)).instance.exports;
      for (const call of [
        () => e.length(5), () => e.cast({}), () => e.concat('a', 1), () => e.charCodeAt(1, 0),
        () => e.compare('a', null), () => e.equals('a', 1), () => e.cast(null),
      ]) {
        assertThrows(call, WA.RuntimeError, /illegal cast/);
      }
      assertThrows(() => e.charCodeAt('ab', 2), WA.RuntimeError, /^string offset out of bounds$/);
      assertThrows(() => e.codePointAt('ab', -1), WA.RuntimeError, /^string offset out of bounds$/);
      assertThrows(() => e.fromCodePoint(0x110000), WA.RuntimeError, /^Invalid code point 1114112$/);
      for (const call of [() => e.arrayOf('abc', 2), () => e.fromArrayRange(2, 1), () => e.fromArrayRange(0, 4)]) {
        assertThrows(call, WA.RuntimeError, /^array element access out of bounds$/);
      }
      assertThrows(() => e.catchAll(5), WA.RuntimeError);
      assert.strictEqual(e.catchAll('x'), 7);
    });

    test('a builtin import of the wrong type is a CompileError; unknown names stay ordinary imports', { skip: noBuiltins }, async () => {
      for (const text of [
        '(module (import "wasm:js-string" "length" (func (param i32) (result i32))))',
        '(module (import "wasm:js-string" "cast" (func (param externref) (result externref))))',
      ]) {
        const bytes = wat(text);
        assert.strictEqual(WA.validate(bytes), true, text);
        assert.strictEqual(WA.validate(bytes, options), false, text);
        // (Node 22's V8 throws a LinkError here; the proposal, and V8 from
        // Node 24 on, a CompileError.)
        const error = node22 ? WA.LinkError : WA.CompileError;
        assertThrows(() => new WA.Module(bytes, options), error, /Imported builtin function "wasm:js-string" "\w+" has incorrect signature/);
        await assert.rejects(WA.compile(bytes, options), error);
      }
      const unknown = new WA.Module(wat('(module (import "wasm:js-string" "nope" (func)))'), options);
      assert.deepStrictEqual(WA.Module.imports(unknown), [{ module: 'wasm:js-string', name: 'nope', kind: 'function' }]);
      const global = new WA.Module(wat('(module (import "wasm:js-string" "concat" (global i32)))'), options);
      assert.deepStrictEqual(WA.Module.imports(global), [{ module: 'wasm:js-string', name: 'concat', kind: 'global' }]);
      // Options that are not objects, and builtins that name nothing, change nothing.
      for (const other of [null, 1, 'js-string', { builtins: ['js-strings'] }, { builtins: 5 }]) {
        assert.strictEqual(WA.Module.imports(new WA.Module(wat(stringsText), other)).length, 14);
      }
    });

    // JS String Builtins, "validate builtins": the import's type must be the
    // builtin's type. The i16 array type it names must be the array type
    // alone in its recursion group (every V8); Node 26's V8 also compares
    // the function type itself, so one in a recursion group with another
    // type is not it, where Node 22's and 24's compare parameters and
    // results. Both answers are the running Node's.
    test('a builtin import whose type is in a recursion group with another type', { skip: noBuiltins }, async () => {
      const node = Number(process.versions.node.split('.')[0]);
      const cases = [
        [node >= 26, '(module (rec (type $f (func (param externref) (result i32))) (type (struct))) (import "wasm:js-string" "length" (func (type $f))))'],
        [true, `(module (rec (type $a (array (mut i16))) (type (struct)))
          (import "wasm:js-string" "fromCharCodeArray" (func (param (ref null $a) i32 i32) (result (ref extern)))))`],
      ];
      for (const [rejected, text] of cases) {
        const bytes = wat(text);
        assert.strictEqual(WA.validate(bytes, options), !rejected, text);
        if (rejected) {
          const error = node22 ? WA.LinkError : WA.CompileError;
          assertThrows(() => new WA.Module(bytes, options), error, /Imported builtin function "wasm:js-string" "\w+" has incorrect signature/);
          await assert.rejects(WA.compile(bytes, options), error);
        } else {
          assert.strictEqual(WA.Module.imports(new WA.Module(bytes, options)).length, 0);
        }
      }
      // The same types, each alone in its group, are the builtins' own.
      const own = wat(`(module (type $a (array (mut i16)))
        (import "wasm:js-string" "length" (func (param externref) (result i32)))
        (import "wasm:js-string" "fromCharCodeArray" (func (param (ref null $a) i32 i32) (result (ref extern)))))`);
      assert.strictEqual(WA.validate(own, options), true);
    });

    test('importedStringConstants: immutable externref globals whose value is their name', { skip: noConstants }, async () => {
      const module = new WA.Module(wat(constantsText), { importedStringConstants: "'" });
      assert.deepStrictEqual(WA.Module.imports(module), []);
      const e = new WA.Instance(module).exports;
      assert.strictEqual(e.hello(), 'hello');
      assert.strictEqual(e.empty(), '');
      const { instance } = await WA.instantiate(wat(constantsText), undefined, { importedStringConstants: "'" });
      assert.strictEqual(instance.exports.hello(), 'hello');
      for (const text of ['(module (import "s" "x" (global (mut externref))))', '(module (import "s" "x" (func)))',
        '(module (import "s" "x" (global i32)))']) {
        assertThrows(() => new WA.Module(wat(text), { importedStringConstants: 's' }), WA.CompileError,
          /String constant import #0 "x" must be an immutable global subtyping externref/);
        assert.strictEqual(WA.validate(wat(text), { importedStringConstants: 's' }), false);
      }
    });
  });
}
