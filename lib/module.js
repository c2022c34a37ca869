'use strict';
// WebAssembly.Module (JS API §"Modules"), the compile options of JS String
// Builtins (WebAssemblyCompileOptions), and %AbstractModuleSource%.

const { TypeError, Symbol: SymbolCtor, Set: SetCtor } = globalThis;
const { defineProperty, setPrototypeOf } = Object;
const StringIsWellFormed = Function.prototype.call.bind(String.prototype.isWellFormed);
const { isObject, copyBytes, defineInterface } = require('./webidl.js');

// The running Node's built-in (read once, before anyone can replace it).
const builtin = globalThis.WebAssembly;

// Compile options, read as the running Node's built-in reads them: nothing
// on Node 20, `builtins` on 22, also `importedStringConstants` (when
// present) on 24+. V8 ignores options that are not objects and `builtins`
// that are not iterable; so do we.
const optionsRead = (() => {
  const read = { builtins: false, importedStringConstants: false };
  if (!builtin || typeof builtin.validate !== 'function') {
    return { builtins: true, importedStringConstants: true };
  }
  try {
    builtin.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]), {
      get builtins() { read.builtins = true; return []; },
      get importedStringConstants() { read.importedStringConstants = true; return undefined; },
    });
  } catch {
    // A built-in that rejects the probe reads nothing we mirror.
  }
  return read;
})();

// Whether a `wasm:js-string` import must have the builtin's very type (the
// function type, and the i16 array type it names, each alone in its
// recursion group), as Node 26's V8 checks; Node 22's and 24's compare
// parameters and results only. The probe imports `test` with the right
// parameters and results, its type in a recursion group with a struct.
const exactBuiltinTypes = (() => {
  if (!builtin || typeof builtin.validate !== 'function') return true;
  const name = [119, 97, 115, 109, 58, 106, 115, 45, 115, 116, 114, 105, 110, 103]; // "wasm:js-string"
  const probe = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0,
    1, 10, 1, 0x4e, 2, 0x60, 1, 0x6f, 1, 0x7f, 0x5f, 0, // (rec (func (param externref) (result i32)) (struct))
    2, 23, 1, 14, ...name, 4, 116, 101, 115, 116, 0, 0, // (import "wasm:js-string" "test" (func (type 0)))
  ]);
  try {
    return builtin.validate(probe, { builtins: ['js-string'] }) === false;
  } catch {
    return false;
  }
})();

/** WebAssemblyCompileOptions: `{ jsString, constants }`, or null for none. */
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

// %AbstractModuleSource% (source phase imports, JS API §"Modules"): the
// parent of Module and of its prototype, where the running Node's built-in
// has it (Node 24+). Ours is a copy of the intrinsic (V8's getter answers
// only for V8's modules): a function that throws "Illegal invocation"
// however it is called, and a prototype whose toStringTag getter gives the
// class string of our modules, else undefined.
function abstractModuleSource(Class, isSource) {
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

/** Adds Module to the namespace under construction. */
module.exports = function defineModule(ns) {
  const { binding, CompileError } = ns;

  // "Validate builtins and imported strings" of a compiled module: a
  // CompileError (V8's message) for a builtin or string constant import of
  // the wrong type; else the imports the options provide.
  function provideImports(native, options, context) {
    if (options === null) return null;
    const [message, indexes] = binding.checkBuiltinImports(
      native, options.jsString, options.constants ?? undefined, exactBuiltinTypes);
    if (message !== null) throw new CompileError(`${context}: ${message}`);
    return indexes.length === 0 ? null : { indexes: new SetCtor(indexes), constants: options.constants };
  }

  const kWrapModule = {};
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
  abstractModuleSource(ModuleClass, isModule);
  const Module = defineInterface(ModuleClass, 'Module', []);
  for (const member of ['imports', 'exports', 'customSections']) defineProperty(ModuleClass, member, { enumerable: true });
  function checkModule(value, context) {
    if (!isModule(value)) throw new TypeError(`${context}: Argument 0 must be a WebAssembly.Module`);
    return moduleNative(value);
  }

  Object.assign(ns, {
    Module,
    ModuleClass,
    isModule,
    moduleNative,
    moduleProvided,
    checkModule,
    compileOptions,
    provideImports,
    /** A Module over a native one compiled elsewhere (off the main thread, or another thread's). */
    wrapModule: (native, provided = null) => new ModuleClass(kWrapModule, native, provided),
  });
};
