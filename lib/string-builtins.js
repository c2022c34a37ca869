'use strict';
// JS string builtins (the JS String Builtins proposal, `builtins:
// ['js-string']`): the functions of `wasm:js-string`, linked in place of a
// module's imports of them. wasmtime has no JS strings, so each is a JS
// function called through the import path; each traps (a RuntimeError wasm
// cannot catch) where the proposal says, with V8's message. The import
// types are checked when the module is compiled (src/runtime/string_builtins.rs).

const { String: StringCtor, Array: ArrayCtor } = globalThis;
const StringFromCharCode = StringCtor.fromCharCode;
const StringFromCodePoint = StringCtor.fromCodePoint;
const uncurryThis = (fn) => Function.prototype.call.bind(fn);
const StringCharCodeAt = uncurryThis(StringCtor.prototype.charCodeAt);
const StringCodePointAt = uncurryThis(StringCtor.prototype.codePointAt);
const StringSubstring = uncurryThis(StringCtor.prototype.substring);
const ReflectApply = Reflect.apply;

/** Code units passed to String.fromCharCode at once (argument limits). */
const kChunk = 8192;

module.exports = function stringBuiltins({ binding, trapError }) {
  const trap = (message) => trapError(message, false);
  const illegalCast = () => trap('illegal cast');
  // "cast": a string, else a trap.
  const cast = (v) => {
    if (typeof v !== 'string') throw illegalCast();
    return v;
  };
  // i32 arguments arrive signed; the proposal reads them as unsigned.
  const u32 = (i) => i >>> 0;

  // Named as V8 names them (the builtin's name).
  const functions = {
    cast(v) { return cast(v); },
    test(v) { return typeof v === 'string' ? 1 : 0; },
    fromCharCodeArray(array, start, end) {
      if (array === null) throw trap('dereferencing a null pointer');
      const codes = binding.charCodesOf(array, u32(start), u32(end));
      if (codes === null) throw trap('array element access out of bounds');
      let out = '';
      for (let i = 0; i < codes.length; i += kChunk) {
        out += ReflectApply(StringFromCharCode, undefined, codes.slice(i, i + kChunk));
      }
      return out;
    },
    intoCharCodeArray(string, array, start) {
      const s = cast(string);
      if (array === null) throw trap('dereferencing a null pointer');
      const codes = new ArrayCtor(s.length);
      for (let i = 0; i < s.length; i++) codes[i] = StringCharCodeAt(s, i);
      if (!binding.setCharCodes(array, u32(start), codes)) throw trap('array element access out of bounds');
      return s.length;
    },
    fromCharCode(code) { return StringFromCharCode(u32(code) & 0xffff); },
    fromCodePoint(codePoint) {
      const c = u32(codePoint);
      if (c > 0x10ffff) throw trap(`Invalid code point ${c}`);
      return StringFromCodePoint(c);
    },
    charCodeAt(string, index) {
      const s = cast(string);
      const i = u32(index);
      if (i >= s.length) throw trap('string offset out of bounds');
      return StringCharCodeAt(s, i);
    },
    codePointAt(string, index) {
      const s = cast(string);
      const i = u32(index);
      if (i >= s.length) throw trap('string offset out of bounds');
      return StringCodePointAt(s, i);
    },
    length(string) { return cast(string).length; },
    concat(first, second) { return cast(first) + cast(second); },
    substring(string, start, end) {
      const s = cast(string);
      const from = u32(start);
      const to = u32(end);
      if (from > s.length || from > to) return '';
      return StringSubstring(s, from, to);
    },
    equals(first, second) {
      if (first !== null && typeof first !== 'string') throw illegalCast();
      if (second !== null && typeof second !== 'string') throw illegalCast();
      return first === second ? 1 : 0;
    },
    compare(first, second) {
      const a = cast(first);
      const b = cast(second);
      return a < b ? -1 : a > b ? 1 : 0;
    },
  };
  return functions;
};
