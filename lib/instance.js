'use strict';
// WebAssembly.Instance (JS API §"Instances"): reading the imports, and the
// exports object of a new instance.

const { TypeError, Symbol: SymbolCtor } = globalThis;
const { freeze: ObjectFreeze, create: ObjectCreate } = Object;
const { isObject, defineInterface } = require('./webidl.js');

/** Adds Instance to the namespace under construction. */
module.exports = function defineInstance(ns) {
  const {
    binding, LinkError, isMemory, memoryNative, bindMemory, wrapMemory, isTable, tableNative, bindTable, wrapTable,
    isGlobal, globalNative, bindGlobal, wrapGlobal, checkModule, moduleProvided,
  } = ns;
  // (Tag and the string builtins' trapError come later: read from ns.)
  /** Marks Instance construction from instantiate(), imports already read. */
  const kPrepared = SymbolCtor('imports already read');
  // The `wasm:js-string` functions, made on first use (lib/string-builtins.js).
  let jsStringFunctions = null;

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
            jsStringFunctions = require('./string-builtins.js')({ binding, trapError: ns.trapError });
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
          if (ns.isSuspending(v)) {
            natives.push(ns.callableOf(v));
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
          if (!ns.isTag(v)) throw new LinkError(`${where}: tag import requires a WebAssembly.Tag`);
          natives.push(ns.tagNative(v));
          break;
        case 'memory':
          // 3.6.1. If v does not implement Memory, throw a LinkError.
          if (!isMemory(v)) throw new LinkError(`${where}: memory import must be a WebAssembly.Memory object`);
          natives.push(memoryNative(v));
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
    const [store, entries] = binding.instantiateModule(native, natives, ns.suspendingImports(values, natives));
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
    // `entries` is flat: name, kind, alias, value per export (an indexed
    // loop: 4,000 exports took 4-5 ms longer destructured in for-of).
    for (let i = 0; i < entries.length; i += 4) {
      const name = entries[i];
      const kind = entries[i + 1];
      const alias = entries[i + 2];
      const value = entries[i + 3];
      let exported;
      if (alias >= 0) exported = values[alias];
      else if (kind === 'memory') exported = wrapMemory(value, store);
      else if (kind === 'table') exported = wrapTable(value, store);
      else if (kind === 'global') exported = wrapGlobal(value, store);
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

  const Instance = defineInterface(InstanceClass, 'Instance', ['exports']);

  Object.assign(ns, { Instance, InstanceClass, readImports, kPrepared });
};
