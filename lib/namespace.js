'use strict';
// The rest of the WebAssembly namespace, run on wasmtime: Module, Instance,
// Global, Table, the error classes, validate/compile/instantiate and their
// streaming forms. Like index.js, this is the spec-shaped shim (WebIDL
// conversions, brand checks, descriptors, error classes, promise timing);
// the native binding (src/module.rs, instance.rs, func.rs, global.rs,
// table.rs) re-checks what it is given.
//
// Spec: WebAssembly JavaScript Interface (https://webassembly.github.io/spec/js-api/),
// step numbers below are its. Where the spec leaves room, Node's built-in is
// the reference (messages, order of observable reads).

const {
  TypeError, RangeError, Error: ErrorCtor, Symbol: SymbolCtor, Promise: PromiseCtor, WeakMap: WeakMapCtor,
  Proxy: ProxyCtor, Set: SetCtor,
} = globalThis;
const { defineProperty, freeze: ObjectFreeze, create: ObjectCreate, setPrototypeOf } = Object;
const { apply: ReflectApply, construct: ReflectConstruct } = Reflect;
const BigIntAsIntN = BigInt.asIntN;
const BigIntCtor = BigInt;
const NumberCtor = Number;
const kUint32Max = 4294967295;
const kUint64Max = 2n ** 64n - 1n;
const uncurryThis = (fn) => Function.prototype.call.bind(fn);
const ArrayBufferIsView = ArrayBuffer.isView;
const ArrayBufferSlice = uncurryThis(ArrayBuffer.prototype.slice);
const ArrayBufferByteLength = uncurryThis(Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get);
const TypedArrayBuffer = uncurryThis(
  Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), 'buffer').get,
);
const DataViewBuffer = uncurryThis(Object.getOwnPropertyDescriptor(DataView.prototype, 'buffer').get);
const DataViewByteOffset = uncurryThis(Object.getOwnPropertyDescriptor(DataView.prototype, 'byteOffset').get);
const DataViewByteLength = uncurryThis(Object.getOwnPropertyDescriptor(DataView.prototype, 'byteLength').get);
const TypedArrayByteOffset = uncurryThis(
  Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), 'byteOffset').get,
);
const TypedArrayByteLength = uncurryThis(
  Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), 'byteLength').get,
);
const isArrayBuffer = require('node:util').types.isArrayBuffer;
const isSharedArrayBuffer = require('node:util').types.isSharedArrayBuffer;
const isDataView = require('node:util').types.isDataView;
const PromiseResolve = (value) => PromiseCtor.resolve(value);
const PromiseReject = (reason) => PromiseCtor.reject(reason);
const PromiseThen = uncurryThis(PromiseCtor.prototype.then);
const StringIsWellFormed = uncurryThis(String.prototype.isWellFormed);

/** The largest table V8 makes; ours matches, so programs behave alike. */
const kMaxTableElements = 10000000;
/** V8's words for a value that is not a funcref. */
const kNotFunction = 'function-typed object must be null (if nullable) or a Wasm function object';

module.exports = function namespace({ binding, isMemory, nativeOf, wrapMemory, bindMemory, enforceRangeUint32, isObject }) {
  // ---------------------------------------------------------------------
  // Error classes (JS API §"Error Objects"): like ECMAScript's NativeErrors,
  // callable with or without `new`, inheriting from Error.
  function errorClass(name) {
    // Reflect.construct gives the object Error's internal slot and stack,
    // with the prototype of new.target (or of the class when called).
    const Ctor = function (message) {
      return ReflectConstruct(ErrorCtor, arguments, new.target === undefined ? Ctor : new.target);
    };
    defineProperty(Ctor, 'name', { value: name });
    setPrototypeOf(Ctor, ErrorCtor);
    const proto = ObjectCreate(ErrorCtor.prototype);
    defineProperty(proto, 'constructor', { value: Ctor, writable: true, enumerable: false, configurable: true });
    defineProperty(proto, 'name', { value: name, writable: true, enumerable: false, configurable: true });
    defineProperty(proto, 'message', { value: '', writable: true, enumerable: false, configurable: true });
    defineProperty(Ctor, 'prototype', { value: proto, writable: false, enumerable: false, configurable: false });
    return Ctor;
  }
  const CompileError = errorClass('CompileError');
  const LinkError = errorClass('LinkError');
  const RuntimeError = errorClass('RuntimeError');

  // ---------------------------------------------------------------------
  /** Marks Instance construction from instantiate(), imports already read. */
  const kPrepared = SymbolCtor('imports already read');

  // ---------------------------------------------------------------------
  // Exported functions (JS API §"Exported Functions"): a JS function per
  // wasm function, `name` its function index, `length` its arity. The
  // closure calls the native function, and holds the store's token (in
  // functionStores) so the JS functions the store imports stay alive.
  const functionStores = new WeakMapCtor();
  function makeFunction(call, store, name, arity) {
    let f;
    switch (arity) {
      case 0: f = { f() { return call(); } }.f; break;
      case 1: f = { f(a) { return call(a); } }.f; break;
      case 2: f = { f(a, b) { return call(a, b); } }.f; break;
      case 3: f = { f(a, b, c) { return call(a, b, c); } }.f; break;
      case 4: f = { f(a, b, c, d) { return call(a, b, c, d); } }.f; break;
      default:
        f = { f(...args) { return ReflectApply(call, undefined, args); } }.f;
        defineProperty(f, 'length', { value: arity });
    }
    defineProperty(f, 'name', { value: name });
    functionStores.set(f, store);
    return f;
  }

  // Wasm GC and typed function references where the running Node's
  // built-in has them (Node 22+; without a built-in, as Node 24): validate
  // then answers as the built-in does. Before the engine is made.
  const builtinNamespace = globalThis.WebAssembly;
  const wasmGc = !(builtinNamespace && typeof builtinNamespace.validate === 'function') ||
    builtinNamespace.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 0x5f, 1, 0x7f, 1]));
  binding.setWasmGc(wasmGc);
  // The JS objects of Wasm GC objects, as V8's: frozen, null prototype, and
  // every change a TypeError, in sloppy code too (a Proxy over a frozen
  // object; reads see nothing).
  const opaque = () => {
    throw new TypeError('WebAssembly objects are opaque');
  };
  const opaqueHandler = ObjectFreeze({
    __proto__: null, set: opaque, defineProperty: opaque, deleteProperty: opaque, setPrototypeOf: opaque,
  });
  // Each holds its store's token (as exported functions hold theirs), so
  // the store lives while JS holds the object.
  const gcObjectStores = new WeakMapCtor();
  binding.setGcObjectFactory((token) => {
    const object = new ProxyCtor(ObjectFreeze(ObjectCreate(null)), opaqueHandler);
    gcObjectStores.set(object, token);
    return object;
  });

  binding.setHooks({
    makeFunction,
    toBigInt64: (value) => BigIntAsIntN(64, value),
    // "Iterable to list": GetIterator, so a non-iterable is a TypeError
    // (Array.from would take array-likes).
    toList: (value) => [...value],
    CompileError,
    LinkError,
    RuntimeError,
  });

  // ---------------------------------------------------------------------
  // Bytes: "get a copy of the bytes held by the buffer source".
  function copyBytes(source, context) {
    let buffer;
    let offset = 0;
    let length;
    if (isArrayBuffer(source)) {
      buffer = source;
      length = ArrayBufferByteLength(source);
    } else if (isDataView(source)) {
      buffer = DataViewBuffer(source);
      offset = DataViewByteOffset(source);
      length = DataViewByteLength(source);
    } else if (ArrayBufferIsView(source)) {
      buffer = TypedArrayBuffer(source);
      offset = TypedArrayByteOffset(source);
      length = TypedArrayByteLength(source);
    } else {
      throw new TypeError(`${context}: Argument 0 must be a buffer source`);
    }
    // A detached buffer holds no bytes (slice would throw).
    if (length === 0) return new Uint8Array(0);
    if (isSharedArrayBuffer(buffer)) {
      return new Uint8Array(new Uint8Array(buffer, offset, length));
    }
    return new Uint8Array(ArrayBufferSlice(buffer, offset, offset + length));
  }

  // The constructors users see: Proxies of the classes whose only trap
  // makes a call without `new` throw V8's message (a class would throw its
  // own); construction goes straight to the class.
  const publicOf = new WeakMapCtor();
  function requireNew(Class, name) {
    const Ctor = new ProxyCtor(Class, {
      apply() {
        throw new TypeError(`WebAssembly.${name}(): WebAssembly.${name} must be invoked with 'new'`);
      },
    });
    publicOf.set(Class, Ctor);
    return Ctor;
  }

  // ---------------------------------------------------------------------
  // Compile options (JS String Builtins: WebAssemblyCompileOptions), read
  // as the running Node's built-in reads them: nothing on Node 20,
  // `builtins` on 22, also `importedStringConstants` (when present) on 24+.
  // V8 ignores options that are not objects and `builtins` that are not
  // iterable; so do we.
  const optionsRead = (() => {
    const read = { builtins: false, importedStringConstants: false };
    if (!builtinNamespace || typeof builtinNamespace.validate !== 'function') {
      return { builtins: true, importedStringConstants: true };
    }
    try {
      builtinNamespace.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]), {
        get builtins() { read.builtins = true; return []; },
        get importedStringConstants() { read.importedStringConstants = true; return undefined; },
      });
    } catch {
      // A built-in that rejects the probe reads nothing we mirror.
    }
    return read;
  })();
  function compileOptions(options) {
    if (!optionsRead.builtins || !isObject(options)) return null;
    let jsString = false;
    const builtins = options.builtins;
    if (isObject(builtins) || typeof builtins === 'string') {
      for (const name of builtins) if (`${name}` === 'js-string') jsString = true;
    }
    let constants = null;
    if (optionsRead.importedStringConstants && 'importedStringConstants' in options) {
      const value = options.importedStringConstants;
      if (value !== undefined && value !== null) constants = `${value}`;
    }
    return jsString || constants !== null ? { jsString, constants } : null;
  }
  // "Validate builtins and imported strings" of a compiled module: a
  // CompileError (V8's message) for a builtin or string constant import of
  // the wrong type; else the imports the options provide.
  function provideImports(native, options, context) {
    if (options === null) return null;
    const [message, indexes] = binding.checkBuiltinImports(native, options.jsString, options.constants ?? undefined);
    if (message !== null) throw new CompileError(`${context}: ${message}`);
    return indexes.length === 0 ? null : { indexes: new SetCtor(indexes), constants: options.constants };
  }
  let jsStringFunctions = null;

  // ---------------------------------------------------------------------
  // Module (JS API §"Modules").
  let isModule;
  let moduleNative;
  let moduleProvided;
  const ModuleClass = class Module {
    #native;
    // The imports the compile options provide (builtins, string
    // constants): { indexes: Set, constants }, or null.
    #provided = null;
    // (options is read from arguments: the length is 1.)
    constructor(bytes) {
      if (bytes === kWrapModule) {
        // Compiled off the main thread (compileLater).
        this.#native = arguments[1];
        this.#provided = arguments[2] ?? null;
        return;
      }
      // 1. Let stableBytes be a copy of the bytes held by the buffer bytes.
      const stableBytes = copyBytes(bytes, 'WebAssembly.Module()');
      const options = compileOptions(arguments[1]);
      // 2. Compile (CompileError with wasmtime's reason on failure).
      this.#native = binding.compileModule(stableBytes);
      this.#provided = provideImports(this.#native, options, 'WebAssembly.Module()');
    }

    // sequence<ModuleImportDescriptor> imports(Module moduleObject)
    static imports(moduleObject) {
      const native = checkModule(moduleObject, 'WebAssembly.Module.imports()');
      // Imports the compile options provide are not the user's to give.
      const provided = moduleProvided(moduleObject);
      const out = [];
      const imports = native.imports();
      for (let i = 0; i < imports.length; i++) {
        if (provided !== null && provided.indexes.has(i)) continue;
        const [module, name, kind] = imports[i];
        out.push({ module, name, kind });
      }
      return out;
    }

    // sequence<ModuleExportDescriptor> exports(Module moduleObject)
    static exports(moduleObject) {
      const native = checkModule(moduleObject, 'WebAssembly.Module.exports()');
      return native.exports().map(([name, kind]) => ({ name, kind }));
    }

    // sequence<ArrayBuffer> customSections(Module moduleObject, DOMString sectionName)
    static customSections(moduleObject, sectionName) {
      const context = 'WebAssembly.Module.customSections()';
      const native = checkModule(moduleObject, context);
      if (arguments.length < 2 || sectionName === undefined) {
        throw new TypeError(`${context}: Argument 1 is required`);
      }
      const name = `${sectionName}`;
      // Names are compared as JS strings: one with a lone surrogate is no
      // UTF-8 name (the native side would see U+FFFD in its place).
      if (!StringIsWellFormed(name)) return [];
      return native.customSections(name);
    }

    static {
      isModule = (value) => isObject(value) && #native in value;
      moduleNative = (module) => module.#native;
      moduleProvided = (module) => module.#provided;
    }
  };
  const Module = requireNew(ModuleClass, 'Module');
  const kWrapModule = {};
  abstractModuleSource(ModuleClass, isModule);
  function checkModule(value, context) {
    if (!isModule(value)) throw new TypeError(`${context}: Argument 0 must be a WebAssembly.Module`);
    return moduleNative(value);
  }

  // ---------------------------------------------------------------------
  // %AbstractModuleSource% (source phase imports, JS API §"Modules"): the
  // parent of Module and of its prototype, where the running Node's
  // built-in has it (Node 24+). Ours is a copy of the intrinsic (V8's
  // getter answers only for V8's modules): a function that throws
  // "Illegal invocation" however it is called, and a prototype whose
  // toStringTag getter gives the class string of our modules, else
  // undefined.
  function abstractModuleSource(Class, isSource) {
    const builtin = globalThis.WebAssembly;
    const builtinModule = builtin && typeof builtin === 'object' && builtin.Module;
    if (typeof builtinModule !== 'function') return;
    if (Object.getPrototypeOf(builtinModule.prototype) === Object.prototype) return;
    const AbstractModuleSource = function AbstractModuleSource() {
      throw new TypeError('Illegal invocation');
    };
    const proto = AbstractModuleSource.prototype;
    defineProperty(AbstractModuleSource, 'prototype', { writable: false });
    defineProperty(proto, SymbolCtor.toStringTag, {
      get: Object.getOwnPropertyDescriptor({
        get [SymbolCtor.toStringTag]() {
          return isSource(this) ? 'WebAssembly.Module' : undefined;
        },
      }, SymbolCtor.toStringTag).get,
      set: undefined,
      enumerable: false,
      configurable: true,
    });
    setPrototypeOf(Class, AbstractModuleSource);
    setPrototypeOf(Class.prototype, proto);
  }

  // ---------------------------------------------------------------------
  // Global (JS API §"Globals").
  // Wasm GC's abstract reference types, by the names V8 takes (22+).
  const gcTypes = wasmGc ? ['anyref', 'eqref', 'i31ref', 'structref', 'arrayref'] : [];
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
  const Global = requireNew(GlobalClass, 'Global');
  const kWrapGlobal = {};
  function checkGlobal(value, context) {
    if (!isGlobal(value)) throw new TypeError(`${context}: Receiver is not a WebAssembly.Global`);
    return globalNative(value);
  }

  // ---------------------------------------------------------------------
  // Table (JS API §"Tables").

  // TableDescriptor's `address` (table64): ToString, then "i32" or "i64".
  function tableAddress(value, context) {
    if (value === undefined) return 'i32';
    const address = `${value}`;
    if (address !== 'i32' && address !== 'i64') {
      throw new TypeError(`${context}: Unknown address type '${address}'; pass 'i32' or 'i64'`);
    }
    return address;
  }

  // AddressValueToU64(v, addressType): an `[EnforceRange] unsigned long`
  // (a Number) for i32, a BigInt in [0, 2^64) for i64 (kept a BigInt, so
  // that messages show it exactly).
  function tableAddressValue(value, address, context, what) {
    if (address === 'i32') return enforceRangeUint32(value, context, what);
    // 1. Let x be ? ToBigInt(v) (BigInt.asIntN is ToBigInt; Numbers throw).
    const x = BigIntAsIntN(2 ** 53 - 1, value);
    // 2. If x < 0 or x > 2^64 - 1, throw a TypeError.
    if (x < 0n || x > kUint64Max) throw new TypeError(`${context}: ${what} must be in u64 range`);
    return x;
  }

  // A size or index as JS sees it: a Number for i32, a BigInt for i64.
  function toTableAddressValue(value, address) {
    return address === 'i64' ? BigIntCtor(value) : value;
  }

  let isTable;
  let tableNative;
  let bindTable;
  const TableClass = class Table {
    #native;
    #store = null;
    #element;
    #address = 'i32';
    constructor(descriptor) {
      const context = 'WebAssembly.Table()';
      const value = arguments[1];
      if (!isObject(descriptor)) throw new TypeError(`${context}: Argument 0 must be a table descriptor`);
      if (descriptor === kWrapTable) {
        this.#native = arguments[1];
        this.#store = arguments[2];
        this.#element = this.#native.element();
        this.#address = this.#native.is64() ? 'i64' : 'i32';
        return;
      }
      // TableDescriptor members, in V8's order: element, address, initial,
      // maximum.
      const element = `${descriptor.element}`;
      if (element !== 'anyfunc' && element !== 'funcref' && element !== 'externref' && !gcTypes.includes(element)) {
        throw new TypeError(`${context}: Descriptor property 'element' must be a WebAssembly reference type`);
      }
      // The address type (table64) decides how sizes convert: read before
      // them. (Unlike Memory's, V8 reads no older `index` name here.)
      const address = tableAddress(descriptor.address, context);
      const initialValue = descriptor.initial;
      if (initialValue === undefined) throw new TypeError(`${context}: Property 'initial' is required`);
      const initial = tableAddressValue(initialValue, address, context, "Property 'initial'");
      if (initial > kMaxTableElements) {
        throw new RangeError(`${context}: Property 'initial': value ${initial} is above the upper bound ${kMaxTableElements}`);
      }
      const maximumValue = descriptor.maximum;
      let maximum;
      if (maximumValue !== undefined) {
        maximum = tableAddressValue(maximumValue, address, context, "Property 'maximum'");
        if (maximum < initial) {
          throw new RangeError(`${context}: Property 'maximum': value ${maximum} is below the lower bound ${initial}`);
        }
      }
      // 5-6. The initial value fills the table: with nothing to fill, V8
      // does not convert it, nor do we.
      this.#element = element === 'anyfunc' ? 'funcref' : element;
      this.#address = address;
      // Sizes cross as Numbers (the initial size is at most 10^7); a 64-bit
      // maximum as a BigInt, exactly (it takes part in import matching).
      this.#native = binding.createTable(
        this.#element, NumberCtor(initial), maximum, initial === 0 ? undefined : value, address === 'i64',
      );
      this.#store = this.#native.token();
    }

    get length() {
      const native = checkTable(this, 'get WebAssembly.Table.length');
      return toTableAddressValue(native.length(), this.#address);
    }

    grow(delta) {
      const value = arguments[1];
      const context = 'WebAssembly.Table.grow()';
      const native = checkTable(this, context);
      const address = this.#address;
      const d = tableAddressValue(delta, address, context, 'Argument 0');
      // A missing value is the default (null; undefined for externref); an
      // explicit undefined is converted (a TypeError for funcref), as V8
      // does from Node 22 on (Node 20's took it as missing).
      if (arguments.length >= 2 && value === undefined && this.#element === 'funcref') {
        throw new TypeError(`${context}: Argument 1 is invalid: ${kNotFunction}`);
      }
      // A 64-bit delta past any table V8 makes fails as V8's grow does
      // (the native side takes Numbers below 2^53).
      if (address === 'i64' && d > kUint32Max) {
        throw new RangeError(`${context}: failed to grow table by ${d}`);
      }
      const old = native.grow(NumberCtor(d), value);
      if (typeof value === 'function' || holdsValues(this.#element)) this.#store = native.token();
      return toTableAddressValue(old, address);
    }

    // (value is read from arguments: the length is 1.)
    set(index) {
      const value = arguments[1];
      const context = 'WebAssembly.Table.set()';
      const native = checkTable(this, context);
      const i = this.#index(native, index, context);
      // A missing value is null; V8 converts an explicit undefined (a
      // TypeError), after checking the index (a RangeError).
      if (arguments.length >= 2 && value === undefined && this.#element === 'funcref') {
        if (i >= native.length()) native.get(i);
        throw new TypeError(`${context}: Argument 1 is invalid for table: ${kNotFunction}`);
      }
      native.set(i, value);
      if (typeof value === 'function' || holdsValues(this.#element)) this.#store = native.token();
    }

    get(index) {
      const context = 'WebAssembly.Table.get()';
      const native = checkTable(this, context);
      return native.get(this.#index(native, index, context));
    }

    // An index as a Number; a 64-bit one past the table's end is refused
    // here, with its exact value in V8's message (Numbers round past 2^53).
    #index(native, index, context) {
      const address = this.#address;
      const i = tableAddressValue(index, address, context, 'Argument 0');
      if (address === 'i64' && i > kUint32Max) {
        const size = native.length();
        throw new RangeError(
          `${context}: invalid address ${i} in ${this.#element} table of size ${size}`,
        );
      }
      return NumberCtor(i);
    }

    // TableType type() (type-reflection proposal).
    type() {
      const native = checkTable(this, 'WebAssembly.Table.type()');
      const address = this.#address;
      const type = { minimum: toTableAddressValue(native.length(), address) };
      // The native maximum is a BigInt (a 64-bit one may pass 2^53).
      const maximum = native.maximum();
      if (maximum !== null) type.maximum = address === 'i64' ? maximum : NumberCtor(maximum);
      type.element = this.#element === 'funcref' ? 'anyfunc' : this.#element;
      // The address type, as Memory's type() gives it (memory64 proposal).
      type.address = address;
      return type;
    }

    static {
      isTable = (value) => isObject(value) && #native in value;
      tableNative = (table) => table.#native;
      bindTable = (table, store) => {
        table.#store = store;
      };
    }
  };
  const Table = requireNew(TableClass, 'Table');
  const kWrapTable = {};
  function checkTable(value, context) {
    if (!isTable(value)) throw new TypeError(`${context}: Receiver is not a WebAssembly.Table`);
    return tableNative(value);
  }

  // ---------------------------------------------------------------------
  // Instance (JS API §"Instances").

  // "Read the imports" of module from importObject: the values, in import
  // order, and for the native side the natives of our objects.
  function readImports(native, importObject, context, provided) {
    const imports = native.imports();
    const isProvided = (i) => provided !== null && provided.indexes.has(i);
    // 1. If module.imports is not empty, and importObject is undefined,
    // throw a TypeError. (Imports the compile options provide do not count.)
    const wanted = provided === null ? imports.length : imports.length - provided.indexes.size;
    if (wanted !== 0 && importObject === undefined) {
      throw new TypeError(`${context}: Imports argument must be present and must be an object`);
    }
    // 3. For each import, o = ? Get(importObject, moduleName) (a TypeError
    // unless an Object) and v = ? Get(o, componentName). V8 reads every
    // import before it checks any, so a later getter's exception wins over
    // an earlier LinkError: so do we.
    const values = [];
    for (let i = 0; i < imports.length; i++) {
      const [moduleName, componentName] = imports[i];
      if (isProvided(i)) {
        // A builtin function, or a string constant: the import's name.
        if (moduleName === provided.constants) {
          values.push(componentName);
        } else {
          if (jsStringFunctions === null) {
            jsStringFunctions = require('./string-builtins.js')({ binding, trapError });
          }
          values.push(jsStringFunctions[componentName]);
        }
        continue;
      }
      const o = importObject[moduleName];
      if (!isObject(o)) {
        throw new TypeError(`${context}: Import #${i} "${moduleName}": module is not an object or function`);
      }
      values.push(o[componentName]);
    }
    const natives = [];
    for (let i = 0; i < imports.length; i++) {
      const [moduleName, componentName, kind] = imports[i];
      const v = values[i];
      const where = `${context}: Import #${i} "${moduleName}" "${componentName}"`;
      switch (kind) {
        case 'function':
          // JSPI: a Suspending import is its wrapped function (lib/jspi.js).
          if (jspi.isSuspending(v)) {
            natives.push(jspi.callableOf(v));
            break;
          }
          // 3.4.1. If IsCallable(v) is false, throw a LinkError.
          if (typeof v !== 'function') throw new LinkError(`${where}: function import requires a callable`);
          natives.push(v);
          break;
        case 'global':
          // 3.5. A Global, or for an immutable global a value of its type
          // (a Number, a BigInt, null, a function, anything for externref);
          // the native side checks the type and mutability (LinkError).
          natives.push(isGlobal(v) ? globalNative(v) : v);
          break;
        case 'tag':
          // 3.8.1. If v does not implement Tag, throw a LinkError.
          if (!isTag(v)) throw new LinkError(`${where}: tag import requires a WebAssembly.Tag`);
          natives.push(tagNative(v));
          break;
        case 'memory':
          // 3.6.1. If v does not implement Memory, throw a LinkError.
          if (!isMemory(v)) throw new LinkError(`${where}: memory import must be a WebAssembly.Memory object`);
          natives.push(nativeOf(v));
          break;
        case 'table':
          // 3.7.1. If v does not implement Table, throw a LinkError.
          if (!isTable(v)) throw new LinkError(`${where}: table import requires a WebAssembly.Table`);
          natives.push(tableNative(v));
          break;
        default:
          throw new LinkError(`${where}: ${kind} imports are not supported`);
      }
    }
    return { values, natives };
  }

  // Instantiates and builds the exports object.
  function instantiateCore(native, values, natives) {
    const [store, entries] = binding.instantiateModule(native, natives, jspi.suspendingImports(values, natives));
    // Imported memories, tables and globals now belong to this store: they
    // hold its token, and the token holds them (as V8's instance holds its
    // memory objects: one JS object per wasm memory, for the store's life;
    // and the reclaimer may free a bound memory early only once its object
    // is collected, which then proves the whole store unreachable).
    const keep = store.keep;
    for (const v of values) {
      if (isMemory(v)) bindMemory(v, store);
      else if (isTable(v)) bindTable(v, store);
      else if (isGlobal(v)) bindGlobal(v, store);
      else continue;
      keep.push(v);
    }
    // "Create an exports object": null prototype, frozen.
    const exportsObject = ObjectCreate(null);
    for (const [name, kind, alias, value] of entries) {
      let exported;
      if (alias >= 0) exported = values[alias];
      else if (kind === 'memory') exported = wrapMemory(value, store);
      else if (kind === 'table') exported = new TableClass(kWrapTable, value, store);
      else if (kind === 'global') exported = new GlobalClass(kWrapGlobal, value, store);
      else exported = value;
      if (kind === 'memory' || kind === 'table' || kind === 'global') keep.push(exported);
      exportsObject[name] = exported;
    }
    ObjectFreeze(exportsObject);
    return { exportsObject, store };
  }

  let isInstance;
  const InstanceClass = class Instance {
    #exports;
    #store;
    constructor(module) {
      const context = 'WebAssembly.Instance()';
      const native = checkModule(module, context);
      const importObject = arguments[1];
      let values;
      let natives;
      if (arguments[2] === kPrepared) {
        // From instantiate(): the imports were read when it was called.
        values = arguments[3];
        natives = arguments[4];
      } else {
        if (importObject !== undefined && !isObject(importObject)) {
          throw new TypeError(`${context}: Argument 1 must be an object`);
        }
        ({ values, natives } = readImports(native, importObject, context, moduleProvided(module)));
      }
      const { exportsObject, store } = instantiateCore(native, values, natives);
      this.#exports = exportsObject;
      this.#store = store;
    }

    get exports() {
      if (!isInstance(this)) throw new TypeError('get WebAssembly.Instance.exports: Receiver is not a WebAssembly.Instance');
      return this.#exports;
    }

    static {
      isInstance = (value) => isObject(value) && #exports in value;
    }
  };

  const Instance = requireNew(InstanceClass, 'Instance');

  // Wasm frames in Error.stack (lib/frames.js).
  const { addTrapFrames } = require('./frames.js')(binding, makeFunction);

  // Tag, Exception, JSTag (lib/exception.js).
  const { Tag, Exception, JSTag, isTag, tagNative, trapError } = require('./exception.js')({
    binding, isObject, isExportedFunction: (value) => functionStores.has(value), RuntimeError, requireNew, shape,
    addTrapFrames,
  });

  // ---------------------------------------------------------------------
  // Namespace functions (JS API §"The WebAssembly Namespace").

  // boolean validate(BufferSource bytes, optional WebAssemblyCompileOptions options)
  function validate(bytes, rawOptions) {
    const stableBytes = copyBytes(bytes, 'WebAssembly.validate()');
    const options = compileOptions(rawOptions);
    if (options === null) return binding.validateModule(stableBytes);
    // Builtin import types are checked on the compiled module.
    try {
      provideImports(binding.compileModule(stableBytes), options, 'WebAssembly.validate()');
      return true;
    } catch {
      return false;
    }
  }

  // "Asynchronously compile a WebAssembly module" from stableBytes: on a
  // libuv worker thread (Cranelift may take a while on big modules); the
  // promise settles in a later task, as the spec's does.
  function compileLater(stableBytes, context, options = null) {
    return PromiseThen(binding.compileModuleAsync(stableBytes), (compiled) => {
      if (typeof compiled === 'string') throw new CompileError(`${context}: ${compiled}`);
      return new ModuleClass(kWrapModule, compiled, provideImports(compiled, options, context));
    });
  }

  // Promise<Module> compile(BufferSource bytes, optional WebAssemblyCompileOptions options)
  function compile(bytes, rawOptions) {
    let stableBytes;
    let options;
    try {
      stableBytes = copyBytes(bytes, 'WebAssembly.compile()');
      options = compileOptions(rawOptions);
    } catch (error) {
      return PromiseReject(error);
    }
    return compileLater(stableBytes, 'WebAssembly.compile()', options);
  }

  // "Asynchronously instantiate a WebAssembly module": the imports are read
  // now, the instance made in a later task.
  function instantiateLater(module, importObject, context) {
    try {
      const native = checkModule(module, context);
      if (importObject !== undefined && !isObject(importObject)) {
        throw new TypeError(`${context}: Argument 1 must be an object`);
      }
      const { values, natives } = readImports(native, importObject, context, moduleProvided(module));
      return new PromiseCtor((resolve, reject) => {
        setImmediate(() => {
          try {
            const instance = ReflectConstruct(InstanceClass, [module, importObject, kPrepared, values, natives]);
            resolve(instance);
          } catch (error) {
            reject(error);
          }
        });
      });
    } catch (error) {
      return PromiseReject(error);
    }
  }

  // instantiate(BufferSource bytes, optional object importObject) → {module, instance}
  // instantiate(Module moduleObject, optional object importObject) → Instance
  function instantiate(source, importObject, rawOptions) {
    const context = 'WebAssembly.instantiate()';
    if (isModule(source)) return instantiateLater(source, importObject, context);
    let stableBytes;
    let options;
    try {
      stableBytes = copyBytes(source, context);
      if (importObject !== undefined && !isObject(importObject)) {
        throw new TypeError(`${context}: Argument 1 must be an object`);
      }
      options = compileOptions(rawOptions);
    } catch (error) {
      return PromiseReject(error);
    }
    return PromiseThen(compileLater(stableBytes, context, options), (module) =>
      PromiseThen(instantiateLater(module, importObject, context), (instance) => ({ module, instance })));
  }

  // JS API "Web Embedding": compileStreaming / instantiateStreaming take a
  // Response (or a promise of one), check it and compile its body.
  function responseBytes(source, context) {
    return PromiseThen(PromiseResolve(source), (response) => {
      // 1. If response is not a Response object, reject with a TypeError.
      const ResponseCtor = globalThis.Response;
      if (typeof ResponseCtor !== 'function' || !(response instanceof ResponseCtor)) {
        throw new TypeError(`${context}: Argument 0 must be provided and must be a Response`);
      }
      // 2-4. mimeType: the Content-Type header, HTTP tab/space trimmed,
      // byte-case-insensitively `application/wasm`.
      const mimeType = response.headers.get('Content-Type');
      if (mimeType === null) throw new TypeError(`${context}: WebAssembly response has no MIME type`);
      const trimmed = mimeType.replace(/^[\t ]+|[\t ]+$/g, '');
      if (trimmed.toLowerCase() !== 'application/wasm') {
        throw new TypeError(`${context}: WebAssembly response has unsupported MIME type '${mimeType}'`);
      }
      // 5. If response is not ok, reject with a TypeError.
      if (!response.ok) {
        throw new TypeError(`${context}: WebAssembly response has status code ${response.status}`);
      }
      if (response.bodyUsed) throw new TypeError(`${context}: WebAssembly response body has already been used`);
      // 6. Consume the body as an ArrayBuffer.
      return response.arrayBuffer();
    });
  }

  // Promise<Module> compileStreaming(Promise<Response> source)
  function compileStreaming(source, rawOptions) {
    const context = 'WebAssembly.compileStreaming()';
    let options;
    try {
      options = compileOptions(rawOptions);
    } catch (error) {
      return PromiseReject(error);
    }
    return PromiseThen(responseBytes(source, context), (bytes) =>
      compileLater(copyBytes(bytes, context), context, options));
  }

  // Promise<WebAssemblyInstantiatedSource> instantiateStreaming(source, importObject)
  function instantiateStreaming(source, importObject, rawOptions) {
    const context = 'WebAssembly.instantiateStreaming()';
    let options;
    try {
      options = compileOptions(rawOptions);
    } catch (error) {
      return PromiseReject(error);
    }
    return PromiseThen(responseBytes(source, context), (bytes) => {
      if (importObject !== undefined && !isObject(importObject)) {
        throw new TypeError(`${context}: Argument 1 must be an object`);
      }
      return PromiseThen(compileLater(copyBytes(bytes, context), context, options), (module) =>
        PromiseThen(instantiateLater(module, importObject, context), (instance) => ({ module, instance })));
    });
  }


  // ---------------------------------------------------------------------
  // Shapes: WebIDL operations and attributes are enumerable; prototypes
  // carry class strings; constructors must be called with `new`.
  function shape(Ctor, name, members) {
    const proto = Ctor.prototype;
    defineProperty(proto, 'constructor', { value: publicOf.get(Ctor), writable: true, enumerable: false, configurable: true });
    for (const member of members) defineProperty(proto, member, { enumerable: true });
    defineProperty(proto, SymbolCtor.toStringTag, {
      value: `WebAssembly.${name}`, writable: false, enumerable: false, configurable: true,
    });
  }
  shape(ModuleClass, 'Module', []);
  for (const member of ['imports', 'exports', 'customSections']) defineProperty(ModuleClass, member, { enumerable: true });
  shape(InstanceClass, 'Instance', ['exports']);
  shape(GlobalClass, 'Global', ['valueOf', 'value', 'type']);
  shape(TableClass, 'Table', ['length', 'grow', 'set', 'get', 'type']);

  // Suspending, promising, SuspendError (lib/jspi.js).
  const jspi = require('./jspi.js')({
    binding, isObject, isExportedFunction: (value) => functionStores.has(value), errorClass, requireNew, shape,
  });

  // Namespace operations are not constructors: methods, renamed.
  const operations = {
    // (importObject and options are read from arguments: the lengths are 1.)
    compile(bytes) { return compile(bytes, arguments[1]); },
    validate(bytes) { return validate(bytes, arguments[1]); },
    instantiate(source) { return instantiate(source, arguments[1], arguments[2]); },
    compileStreaming(source) { return compileStreaming(source, arguments[1]); },
    instantiateStreaming(source) { return instantiateStreaming(source, arguments[1], arguments[2]); },
  };

  return {
    operations,
    Module,
    Instance,
    Global,
    Table,
    Tag,
    Exception,
    JSTag,
    CompileError,
    LinkError,
    RuntimeError,
    Suspending: jspi.Suspending,
    promising: jspi.promising,
    SuspendError: jspi.SuspendError,
    // For lib/transfer.js (through internal.js): a Module over a native one.
    moduleHooks: { isModule, moduleNative, wrapModule: (native) => new ModuleClass(kWrapModule, native) },
  };
};
