'use strict';
// The namespace's operations (JS API §"The WebAssembly Namespace"):
// validate, compile, instantiate, and their streaming forms (JS API "Web
// Embedding"), with the spec's promise timing.

const { TypeError, Promise: PromiseCtor } = globalThis;
const { construct: ReflectConstruct } = Reflect;
const PromiseResolve = (value) => PromiseCtor.resolve(value);
const PromiseReject = (reason) => PromiseCtor.reject(reason);
const PromiseThen = Function.prototype.call.bind(PromiseCtor.prototype.then);
const { isObject, copyBytes } = require('./webidl.js');

/** The operations of the namespace under construction. */
module.exports = function defineOperations(ns) {
  const {
    binding, CompileError, isModule, checkModule, moduleProvided, compileOptions, provideImports, wrapModule,
    InstanceClass, readImports, kPrepared,
  } = ns;

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
      return wrapModule(compiled, provideImports(compiled, options, context));
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

  // Namespace operations are not constructors: methods, renamed.
  return {
    // (importObject and options are read from arguments: the lengths are 1.)
    compile(bytes) { return compile(bytes, arguments[1]); },
    validate(bytes) { return validate(bytes, arguments[1]); },
    instantiate(source) { return instantiate(source, arguments[1], arguments[2]); },
    compileStreaming(source) { return compileStreaming(source, arguments[1]); },
    instantiateStreaming(source) { return instantiateStreaming(source, arguments[1], arguments[2]); },
  };
};
