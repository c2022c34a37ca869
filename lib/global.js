'use strict';
// WebAssembly.Global (JS API §"Globals").

const { TypeError } = globalThis;
const { isObject, defineInterface } = require('./webidl.js');

/** V8's words for a value that is not a funcref. */
const kNotFunction = 'function-typed object must be null (if nullable) or a Wasm function object';

/** Adds Global, and the value types Table shares, to the namespace under construction. */
module.exports = function defineGlobal(ns) {
  const { binding } = ns;
  // Wasm GC's abstract reference types, by the names V8 takes (22+).
  const gcTypes = ns.wasmGc ? ['anyref', 'eqref', 'i31ref', 'structref', 'arrayref'] : [];
  // Types whose values may live in a store token (externrefs, internalized
  // JS values, GC objects): setting one may bind to a store.
  const holdsValues = (type) => type === 'externref' || gcTypes.includes(type);
  const valueTypes = ['i32', 'i64', 'f32', 'f64', 'v128', 'externref', 'anyfunc', 'funcref', ...gcTypes];
  function toValueType(value, context) {
    const type = `${value}`;
    if (!valueTypes.includes(type)) {
      throw new TypeError(`${context}: Descriptor property 'value' must be a WebAssembly type`);
    }
    return type === 'anyfunc' ? 'funcref' : type;
  }

  const kWrapGlobal = {};
  let isGlobal;
  let globalNative;
  let bindGlobal;
  const GlobalClass = class Global {
    #native;
    #store = null;
    #type;
    #mutable;
    // (v is read from arguments: the constructor's length is 1.)
    constructor(descriptor) {
      const context = 'WebAssembly.Global()';
      const v = arguments[1];
      if (!isObject(descriptor)) throw new TypeError(`${context}: Argument 0 must be a global descriptor`);
      if (descriptor === kWrapGlobal) {
        this.#native = arguments[1];
        [this.#type, this.#mutable] = this.#native.kind();
        this.#store = arguments[2];
        return;
      }
      // GlobalDescriptor members, in WebIDL's (lexicographic) order.
      // 1. Let mutable be descriptor["mutable"].
      const mutable = !!descriptor.mutable;
      // 2. Let valuetype be ToValueType(descriptor["value"]).
      const valueType = toValueType(descriptor.value, context);
      // 3. If valuetype is v128, throw a TypeError.
      if (valueType === 'v128') throw new TypeError(`${context}: v128 globals are not allowed in JavaScript`);
      // 4-5. The value: DefaultValue(valuetype) if v is missing, else
      // ToWebAssemblyValue(v, valuetype) (native). V8 takes an undefined v
      // as missing for numbers, but converts it (a TypeError) for funcref.
      if (valueType === 'funcref' && arguments.length >= 2 && v === undefined) {
        throw new TypeError(`${context}: ${kNotFunction}`);
      }
      this.#native = binding.createGlobal(valueType, mutable, v);
      this.#type = valueType;
      this.#mutable = mutable;
      this.#store = this.#native.token();
    }

    valueOf() {
      return checkGlobal(this, 'WebAssembly.Global.valueOf()').get();
    }

    get value() {
      return checkGlobal(this, 'get WebAssembly.Global.value').get();
    }

    set value(v) {
      const native = checkGlobal(this, 'set WebAssembly.Global.value');
      if (arguments.length < 1) throw new TypeError('set WebAssembly.Global.value: Argument 0 is required');
      native.set(v);
      // A function, or an externref's value kept by a store token.
      if (typeof v === 'function' || holdsValues(this.#type)) this.#store = native.token();
    }

    // GlobalType type() (type-reflection proposal).
    type() {
      checkGlobal(this, 'WebAssembly.Global.type()');
      return { mutable: this.#mutable, value: this.#type };
    }

    static {
      isGlobal = (value) => isObject(value) && #native in value;
      globalNative = (global) => global.#native;
      bindGlobal = (global, store) => {
        global.#store = store;
      };
    }
  };
  const Global = defineInterface(GlobalClass, 'Global', ['valueOf', 'value', 'type']);
  function checkGlobal(value, context) {
    if (!isGlobal(value)) throw new TypeError(`${context}: Receiver is not a WebAssembly.Global`);
    return globalNative(value);
  }

  Object.assign(ns, {
    Global,
    isGlobal,
    globalNative,
    bindGlobal,
    wrapGlobal: (native, store) => new GlobalClass(kWrapGlobal, native, store),
    gcTypes,
    holdsValues,
    kNotFunction,
  });
};
