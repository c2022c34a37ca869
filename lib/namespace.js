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
  Proxy: ProxyCtor,
} = globalThis;
const { defineProperty, freeze: ObjectFreeze, create: ObjectCreate, setPrototypeOf } = Object;
const { apply: ReflectApply, construct: ReflectConstruct } = Reflect;
const BigIntAsIntN = BigInt.asIntN;
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
  // Module (JS API §"Modules").
  let isModule;
  let moduleNative;
  const ModuleClass = class Module {
    #native;
    constructor(bytes) {
      if (bytes === kWrapModule) {
        // Compiled off the main thread (compileLater).
        this.#native = arguments[1];
        return;
      }
      // 1. Let stableBytes be a copy of the bytes held by the buffer bytes.
      const stableBytes = copyBytes(bytes, 'WebAssembly.Module()');
      // 2. Compile (CompileError with wasmtime's reason on failure).
      this.#native = binding.compileModule(stableBytes);
    }

    // sequence<ModuleImportDescriptor> imports(Module moduleObject)
    static imports(moduleObject) {
      const native = checkModule(moduleObject, 'WebAssembly.Module.imports()');
      return native.imports().map(([module, name, kind]) => ({ module, name, kind }));
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
      return native.customSections(`${sectionName}`);
    }

    static {
      isModule = (value) => isObject(value) && #native in value;
      moduleNative = (module) => module.#native;
    }
  };
  const Module = requireNew(ModuleClass, 'Module');
  const kWrapModule = {};
  function checkModule(value, context) {
    if (!isModule(value)) throw new TypeError(`${context}: Argument 0 must be a WebAssembly.Module`);
    return moduleNative(value);
  }

  // ---------------------------------------------------------------------
  // Global (JS API §"Globals").
  const valueTypes = ['i32', 'i64', 'f32', 'f64', 'v128', 'externref', 'anyfunc', 'funcref'];
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
      if (typeof v === 'function' || this.#type === 'externref') this.#store = native.token();
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
  let isTable;
  let tableNative;
  let bindTable;
  const TableClass = class Table {
    #native;
    #store = null;
    #element;
    constructor(descriptor) {
      const context = 'WebAssembly.Table()';
      const value = arguments[1];
      if (!isObject(descriptor)) throw new TypeError(`${context}: Argument 0 must be a table descriptor`);
      if (descriptor === kWrapTable) {
        this.#native = arguments[1];
        this.#store = arguments[2];
        this.#element = this.#native.element();
        return;
      }
      // TableDescriptor members, in WebIDL's order: element, initial, maximum.
      const element = `${descriptor.element}`;
      if (element !== 'anyfunc' && element !== 'funcref' && element !== 'externref') {
        throw new TypeError(`${context}: Descriptor property 'element' must be a WebAssembly reference type`);
      }
      const initialValue = descriptor.initial;
      if (initialValue === undefined) throw new TypeError(`${context}: Property 'initial' is required`);
      const initial = enforceRangeUint32(initialValue, context, "Property 'initial'");
      if (initial > kMaxTableElements) {
        throw new RangeError(`${context}: Property 'initial': value ${initial} is above the upper bound ${kMaxTableElements}`);
      }
      const maximumValue = descriptor.maximum;
      let maximum;
      if (maximumValue !== undefined) {
        maximum = enforceRangeUint32(maximumValue, context, "Property 'maximum'");
        if (maximum < initial) {
          throw new RangeError(`${context}: Property 'maximum': value ${maximum} is below the lower bound ${initial}`);
        }
      }
      // 5-6. The initial value fills the table: with nothing to fill, V8
      // does not convert it, nor do we.
      this.#element = element === 'anyfunc' ? 'funcref' : element;
      this.#native = binding.createTable(this.#element, initial, maximum, initial === 0 ? undefined : value);
      this.#store = this.#native.token();
    }

    get length() {
      return checkTable(this, 'get WebAssembly.Table.length').length();
    }

    grow(delta) {
      const value = arguments[1];
      const context = 'WebAssembly.Table.grow()';
      const native = checkTable(this, context);
      const d = enforceRangeUint32(delta, context, 'Argument 0');
      // A missing value is the default (null; undefined for externref); an
      // explicit undefined is converted (a TypeError for funcref), as V8
      // does from Node 22 on (Node 20's took it as missing).
      if (arguments.length >= 2 && value === undefined && this.#element === 'funcref') {
        throw new TypeError(`${context}: Argument 1 is invalid: ${kNotFunction}`);
      }
      const old = native.grow(d, value);
      if (typeof value === 'function' || this.#element === 'externref') this.#store = native.token();
      return old;
    }

    // (value is read from arguments: the length is 1.)
    set(index) {
      const value = arguments[1];
      const context = 'WebAssembly.Table.set()';
      const native = checkTable(this, context);
      const i = enforceRangeUint32(index, context, 'Argument 0');
      // A missing value is null; V8 converts an explicit undefined (a
      // TypeError), after checking the index (a RangeError).
      if (arguments.length >= 2 && value === undefined && this.#element === 'funcref') {
        if (i >= native.length()) native.get(i);
        throw new TypeError(`${context}: Argument 1 is invalid for table: ${kNotFunction}`);
      }
      native.set(i, value);
      if (typeof value === 'function' || this.#element === 'externref') this.#store = native.token();
    }

    get(index) {
      const context = 'WebAssembly.Table.get()';
      const native = checkTable(this, context);
      return native.get(enforceRangeUint32(index, context, 'Argument 0'));
    }

    // TableType type() (type-reflection proposal).
    type() {
      const native = checkTable(this, 'WebAssembly.Table.type()');
      const type = { minimum: native.length() };
      const maximum = native.maximum();
      if (maximum !== null) type.maximum = maximum;
      type.element = this.#element === 'funcref' ? 'anyfunc' : this.#element;
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
  function readImports(native, importObject, context) {
    const imports = native.imports();
    // 1. If module.imports is not empty, and importObject is undefined,
    // throw a TypeError.
    if (imports.length !== 0 && importObject === undefined) {
      throw new TypeError(`${context}: Imports argument must be present and must be an object`);
    }
    // 3. For each import, o = ? Get(importObject, moduleName) (a TypeError
    // unless an Object) and v = ? Get(o, componentName). V8 reads every
    // import before it checks any, so a later getter's exception wins over
    // an earlier LinkError: so do we.
    const values = [];
    for (let i = 0; i < imports.length; i++) {
      const [moduleName, componentName] = imports[i];
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
    const [store, entries] = binding.instantiateModule(native, natives);
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
        ({ values, natives } = readImports(native, importObject, context));
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
  const { Tag, Exception, JSTag, isTag, tagNative } = require('./exception.js')({
    binding, isObject, isExportedFunction: (value) => functionStores.has(value), RuntimeError, requireNew, shape,
    addTrapFrames,
  });

  // ---------------------------------------------------------------------
  // Namespace functions (JS API §"The WebAssembly Namespace").

  // boolean validate(BufferSource bytes)
  function validate(bytes) {
    const stableBytes = copyBytes(bytes, 'WebAssembly.validate()');
    return binding.validateModule(stableBytes);
  }

  // "Asynchronously compile a WebAssembly module" from stableBytes: on a
  // libuv worker thread (Cranelift may take a while on big modules); the
  // promise settles in a later task, as the spec's does.
  function compileLater(stableBytes, context) {
    return PromiseThen(binding.compileModuleAsync(stableBytes), (compiled) => {
      if (typeof compiled === 'string') throw new CompileError(`${context}: ${compiled}`);
      return new ModuleClass(kWrapModule, compiled);
    });
  }

  // Promise<Module> compile(BufferSource bytes)
  function compile(bytes) {
    let stableBytes;
    try {
      stableBytes = copyBytes(bytes, 'WebAssembly.compile()');
    } catch (error) {
      return PromiseReject(error);
    }
    return compileLater(stableBytes, 'WebAssembly.compile()');
  }

  // "Asynchronously instantiate a WebAssembly module": the imports are read
  // now, the instance made in a later task.
  function instantiateLater(module, importObject, context) {
    try {
      const native = checkModule(module, context);
      if (importObject !== undefined && !isObject(importObject)) {
        throw new TypeError(`${context}: Argument 1 must be an object`);
      }
      const { values, natives } = readImports(native, importObject, context);
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
  function instantiate(source, importObject) {
    const context = 'WebAssembly.instantiate()';
    if (isModule(source)) return instantiateLater(source, importObject, context);
    let stableBytes;
    try {
      stableBytes = copyBytes(source, context);
      if (importObject !== undefined && !isObject(importObject)) {
        throw new TypeError(`${context}: Argument 1 must be an object`);
      }
    } catch (error) {
      return PromiseReject(error);
    }
    return PromiseThen(compileLater(stableBytes, context), (module) =>
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
  function compileStreaming(source) {
    const context = 'WebAssembly.compileStreaming()';
    return PromiseThen(responseBytes(source, context), (bytes) => compileLater(copyBytes(bytes, context), context));
  }

  // Promise<WebAssemblyInstantiatedSource> instantiateStreaming(source, importObject)
  function instantiateStreaming(source, importObject) {
    const context = 'WebAssembly.instantiateStreaming()';
    return PromiseThen(responseBytes(source, context), (bytes) => {
      if (importObject !== undefined && !isObject(importObject)) {
        throw new TypeError(`${context}: Argument 1 must be an object`);
      }
      return PromiseThen(compileLater(copyBytes(bytes, context), context), (module) =>
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

  // Namespace operations are not constructors: methods, renamed.
  const operations = {
    compile(bytes) { return compile(bytes); },
    validate(bytes) { return validate(bytes); },
    // (importObject is read from arguments: the length is 1.)
    instantiate(source) { return instantiate(source, arguments[1]); },
    compileStreaming(source) { return compileStreaming(source); },
    instantiateStreaming(source) { return instantiateStreaming(source, arguments[1]); },
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
    // For lib/transfer.js (through internal.js): a Module over a native one.
    moduleHooks: { isModule, moduleNative, wrapModule: (native) => new ModuleClass(kWrapModule, native) },
  };
};
