'use strict';
// The WebAssembly namespace, run on wasmtime, built over one native binding
// (the main one, or a sandbox's: lib/sandbox.js). A file per interface
// holds the spec-shaped shim (WebIDL conversions in lib/webidl.js, brand
// checks, descriptors, error classes, promise timing); the native binding
// (src/api/) re-checks what it is given. Each file adds its interface to
// `ns`, the namespace under construction, and reads what it needs of the
// others from it.
//
// Spec: WebAssembly JavaScript Interface (https://webassembly.github.io/spec/js-api/),
// step numbers in the files are its. Where the spec leaves room, Node's
// built-in is the reference (messages, order of observable reads).

const { Symbol: SymbolCtor } = globalThis;
const { defineProperty, hasOwn, getOwnPropertyNames } = Object;

// The namespace's keys in Node 24's order, for a Node without a built-in
// (--jitless).
const kDefaultOrder = [
  'compile', 'validate', 'instantiate', 'Module', 'Instance', 'Table', 'Memory', 'Global', 'Tag', 'JSTag',
  'Exception', 'CompileError', 'LinkError', 'RuntimeError', 'compileStreaming', 'instantiateStreaming',
  'Suspending', 'promising', 'SuspendError',
];

/**
 * Builds a namespace over `binding`; returns it, and the hooks this
 * package's tests, benchmarks and lib/transfer.js reach through internal.js.
 */
module.exports = function createNamespace(binding, builtin) {
  const ns = { binding };
  require('./errors.js')(ns);
  require('./functions.js')(ns);
  require('./memory.js')(ns);
  require('./module.js')(ns);
  require('./global.js')(ns);
  require('./table.js')(ns);
  require('./instance.js')(ns);
  // Wasm frames in Error.stack.
  ns.addTrapFrames = require('./frames.js')(binding, ns.makeFunction).addTrapFrames;
  require('./exception.js')(ns);
  require('./jspi.js')(ns);
  const operations = require('./operations.js')(ns);
  // JSPI's function, where the running Node's built-in has it (24+).
  operations.promising = ns.promising;

  // The namespace object: the running Node's built-in keys that we have, in
  // its order (Node 20 puts the streaming functions before the classes, 22+
  // after; JSTag appears in 22): operations writable, enumerable and
  // configurable; interfaces not enumerable; JSTag also read-only; then the
  // class string "WebAssembly".
  const interfaces = {
    Module: ns.Module, Instance: ns.Instance, Table: ns.Table, Memory: ns.Memory, Global: ns.Global, Tag: ns.Tag,
    JSTag: ns.JSTag, Exception: ns.Exception, CompileError: ns.CompileError, LinkError: ns.LinkError,
    RuntimeError: ns.RuntimeError, Suspending: ns.Suspending, SuspendError: ns.SuspendError,
  };
  const order = builtin && typeof builtin === 'object' ? getOwnPropertyNames(builtin) : kDefaultOrder;
  const WebAssembly = {};
  for (const name of order) {
    if (hasOwn(operations, name)) {
      defineProperty(WebAssembly, name, { value: operations[name], writable: true, enumerable: true, configurable: true });
    } else if (hasOwn(interfaces, name)) {
      defineProperty(WebAssembly, name, {
        value: interfaces[name], writable: name !== 'JSTag', enumerable: false, configurable: true,
      });
    }
  }
  defineProperty(WebAssembly, SymbolCtor.toStringTag, {
    value: 'WebAssembly',
    writable: false,
    enumerable: false,
    configurable: true,
  });

  const internals = {
    binding,
    nativeOf: ns.memoryNative,
    isMemory: ns.isMemory,
    wrapMemory: ns.wrapMemory,
    isModule: ns.isModule,
    moduleNative: ns.moduleNative,
    wrapModule: (native) => ns.wrapModule(native),
    // JSPI on Nodes whose namespace has no JSPI members (20, 22).
    jspi: { Suspending: ns.Suspending, promising: ns.promising, SuspendError: ns.SuspendError },
  };
  return { WebAssembly, internals };
};
