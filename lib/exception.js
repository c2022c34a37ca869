'use strict';
// Exception handling (WebAssembly/exception-handling, JS API): Tag,
// Exception and JSTag. The shim checks and converts as WebIDL and the spec
// say; src/api/tag.rs and src/runtime/exception.rs carry exceptions across the
// boundary (a JS throw into wasm as a wasm exception, a wasm exception out
// to JS as its `Exception` object or, for JSTag, the JS value itself).
//
// Where the spec leaves room, the built-in of Node 22+ is the reference
// (messages, and the members the running Node has: `Exception.length`, the
// `stack` getter on the prototype).

const { TypeError, RangeError, Symbol: SymbolCtor, WeakSet: WeakSetCtor, Error: ErrorCtor } = globalThis;
const { defineProperty, freeze: ObjectFreeze } = Object;
const BigIntAsIntN = BigInt.asIntN;
const MathFround = Math.fround;
const WeakSetHas = Function.prototype.call.bind(WeakSet.prototype.has);
const WeakSetAdd = Function.prototype.call.bind(WeakSet.prototype.add);
const captureStackTrace = ErrorCtor.captureStackTrace;

// The running Node's built-in (read once, before anyone can replace it).
const builtin = globalThis.WebAssembly;
const builtinException = builtin && builtin.Exception;

/** Value types a tag's parameters may have (as Node 22+'s built-in). */
const paramTypes = ['i32', 'i64', 'f32', 'f64', 'v128', 'externref', 'anyfunc', 'funcref', 'exnref'];
/** ECMAScript ToLength, capped where no real sequence reaches. */
const toLength = (value) => {
  const n = Math.trunc(+value);
  return n > 0 ? Math.min(n, 2 ** 32) : 0;
};
const kNotFunction = 'function-typed object must be null (if nullable) or a Wasm function object';

const { isObject, defineInterface } = require('./webidl.js');

/** Adds Tag, Exception and JSTag to the namespace under construction. */
module.exports = function defineExceptions(ns) {
  const { binding, isExportedFunction, RuntimeError, addTrapFrames } = ns;
  const kWrap = SymbolCtor('native');

  // ---------------------------------------------------------------------
  // Tag (exception-handling JS API §"Tags").
  let isTag;
  let tagNative;
  let tagParameters;
  const TagClass = class Tag {
    #native;
    #parameters;
    constructor(type) {
      const context = 'WebAssembly.Tag()';
      if (type === kWrap) {
        // A tag a module defines (src/api/tag.rs `to_js`), or JSTag.
        this.#native = arguments[1];
        this.#parameters = ObjectFreeze(this.#native.parameters());
      } else {
        // dictionary TagType { required sequence<ValueType> parameters; }
        // V8 reads the sequence as an array-like (its length, then each
        // index), not through the iterator; so do we.
        if (!isObject(type)) throw new TypeError(`${context}: Argument 0 must be a tag type`);
        const parameters = type.parameters;
        if (!isObject(parameters)) throw new TypeError(`${context}: Argument 0 must be a tag type with 'parameters'`);
        const length = parameters.length;
        if (length === undefined) throw new TypeError(`${context}: Argument 0 contains parameters without 'length'`);
        const names = [];
        for (let i = 0, n = toLength(length); i < n; i++) {
          const name = `${parameters[i]}`;
          if (!paramTypes.includes(name)) {
            throw new TypeError(`${context}: Argument 0 parameter type at index #${i} must be a value type`);
          }
          names.push(name === 'anyfunc' ? 'funcref' : name);
        }
        this.#native = binding.createTag(names);
        this.#parameters = ObjectFreeze(names);
      }
      this.#native.setObject(this);
    }

    // TagType type() (type-reflection proposal; no built-in has it yet).
    type() {
      if (!isTag(this)) throw new TypeError('WebAssembly.Tag.type(): Receiver is not a WebAssembly.Tag');
      return { parameters: [...this.#parameters] };
    }

    static {
      isTag = (value) => isObject(value) && #native in value;
      tagNative = (tag) => tag.#native;
      tagParameters = (tag) => tag.#parameters;
    }
  };
  const Tag = defineInterface(TagClass, 'Tag', ['type']);

  // JSTag: the tag of JS exceptions in wasm (every Node has one inside; the
  // namespace shows it where the running Node's built-in does).
  const JSTag = new TagClass(kWrap, binding.createJsTag());

  // ---------------------------------------------------------------------
  // Exception (exception-handling JS API §"Runtime exceptions").

  // ToWebAssemblyValue(v, type), then ToJSValue: the payload as wasm will
  // see it (numbers wrapped, funcrefs checked).
  function toPayload(v, type, context) {
    switch (type) {
      case 'i32': return +v | 0;
      case 'i64': return BigIntAsIntN(64, v);
      case 'f32': return MathFround(+v);
      case 'f64': return +v;
      case 'externref': return v;
      case 'funcref':
        if (v === null || isExportedFunction(v)) return v;
        throw new TypeError(`${context}: ${kNotFunction}`);
      default:
        throw new TypeError(`${context}: type incompatibility when transforming from/to JS`);
    }
  }

  let isException;
  let exceptionParts;
  const ExceptionClass = class Exception {
    #tag;
    #payload;
    // (options is read from arguments: the length follows the built-in.)
    constructor(exceptionTag, payload) {
      const context = 'WebAssembly.Exception()';
      if (exceptionTag === kWrap) {
        // From wasm (src/runtime/exception.rs): already converted.
        this.#tag = arguments[1];
        this.#payload = arguments[2];
        return;
      }
      const options = arguments[2];
      // WebIDL: Tag, sequence<any>, optional ExceptionOptions.
      if (!isTag(exceptionTag)) throw new TypeError(`${context}: Argument 0 must be a WebAssembly tag`);
      // (An array-like, as V8 reads it: see Tag.)
      if (!isObject(payload)) throw new TypeError(`${context}: Exception values must be an iterable object`);
      const length = payload.length;
      if (length === undefined) throw new TypeError(`${context}: Exception values argument has no length`);
      const values = [];
      for (let i = 0, n = toLength(length); i < n; i++) values.push(payload[i]);
      if (options !== undefined && options !== null && !isObject(options)) {
        throw new TypeError(`${context}: Argument 2 is not an object`);
      }
      const traceStack = options === undefined || options === null ? false : !!options.traceStack;
      // 1-2. JSTag's exceptions are JS values, never Exception objects.
      if (exceptionTag === JSTag) throw new TypeError(`${context}: Argument 0 cannot be WebAssembly.JSTag`);
      // 3-4. The payload must match the tag's parameters.
      const types = tagParameters(exceptionTag);
      if (values.length !== types.length) {
        throw new TypeError(`${context}: Number of exception values does not match signature length`);
      }
      // 5. ToWebAssemblyValue of each value.
      for (let i = 0; i < values.length; i++) values[i] = toPayload(values[i], types[i], context);
      this.#tag = exceptionTag;
      this.#payload = values;
      // 8. traceStack: an own `stack`, as V8 gives errors.
      if (traceStack) captureStackTrace(this, new.target);
    }

    // any getArg(Tag exceptionTag, [EnforceRange] unsigned long index)
    getArg(exceptionTag, index) {
      const context = 'WebAssembly.Exception.getArg()';
      checkException(this, context);
      if (!isTag(exceptionTag)) throw new TypeError(`${context}: Argument 0 must be a WebAssembly tag`);
      const i = +index;
      if (index === undefined || !Number.isFinite(i) || i < 0 || Math.trunc(i) > 0xffffffff) {
        throw new TypeError(`${context}: Index must be convertible to a valid number`);
      }
      // 1. The tag must be this exception's.
      if (this.#tag !== exceptionTag) throw new TypeError(`${context}: First argument does not match the exception tag`);
      // 3. The index must be in range.
      const n = Math.trunc(i);
      if (n >= this.#payload.length) throw new RangeError(`${context}: Index out of range`);
      return this.#payload[n];
    }

    // boolean is(Tag exceptionTag)
    is(exceptionTag) {
      const context = 'WebAssembly.Exception.is()';
      checkException(this, context);
      if (!isTag(exceptionTag)) throw new TypeError(`${context}: Argument 0 must be a WebAssembly tag`);
      return this.#tag === exceptionTag;
    }

    static {
      isException = (value) => isObject(value) && #tag in value;
      exceptionParts = (value) => (isException(value) ? [tagNative(value.#tag), value.#payload] : undefined);
    }
  };
  function checkException(value, context) {
    if (!isException(value)) throw new TypeError(`${context}: Receiver is not a WebAssembly.Exception`);
  }
  const members = ['getArg', 'is'];
  // Node 24+ has a `stack` getter on the prototype (undefined unless the
  // exception was made with traceStack, which gives an own `stack`).
  if (builtinException && Object.getOwnPropertyDescriptor(builtinException.prototype, 'stack')) {
    const { get } = Object.getOwnPropertyDescriptor({
      get stack() {
        checkException(this, 'get WebAssembly.Exception.stack');
        return undefined;
      },
    }, 'stack');
    defineProperty(ExceptionClass.prototype, 'stack', { get, set: undefined, enumerable: true, configurable: true });
    members.push('stack');
  }
  // The constructor's length follows the running Node (1 on 20 and 22, 2 after).
  if (builtinException && builtinException.length !== 2) {
    defineProperty(ExceptionClass, 'length', { value: builtinException.length });
  }
  const Exception = defineInterface(ExceptionClass, 'Exception', members);

  // ---------------------------------------------------------------------
  // Traps are never caught by wasm, even after they pass through JS.
  const uncatchable = new WeakSetCtor();
  function trapError(message, isRangeError, frames) {
    const error = isRangeError ? new RangeError(message) : new RuntimeError(message);
    // The stack starts at the caller (the exported function's closure),
    // whose place the wasm frames take.
    if (frames !== undefined && frames.length > 0) addTrapFrames(error, frames, trapError);
    else captureStackTrace(error, trapError);
    WeakSetAdd(uncatchable, error);
    return error;
  }
  binding.setExceptionHooks({
    makeTag: (native) => new TagClass(kWrap, native),
    makeException: (tag, payload) => new ExceptionClass(kWrap, tag, payload),
    exceptionParts: (value) => exceptionParts(value),
    isUncatchable: (value) => isObject(value) && WeakSetHas(uncatchable, value),
    trapError,
  });

  // (trapError also for the JS string builtins' traps.)
  Object.assign(ns, { Tag, Exception, JSTag, isTag, tagNative, trapError });
};
