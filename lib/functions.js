'use strict';
// The JS objects native code makes for wasm values: exported functions
// (JS API §"Exported Functions") and Wasm GC objects; and the hooks the
// native side calls back (src/js.rs `install_hooks`).

const { TypeError, WeakMap: WeakMapCtor, Proxy: ProxyCtor } = globalThis;
const { defineProperty, freeze: ObjectFreeze, create: ObjectCreate } = Object;
const BigIntAsIntN = BigInt.asIntN;
const { apply: ReflectApply } = Reflect;
// Captured now: later code may replace Function.prototype.bind.
const FunctionPrototypeBind = Function.prototype.call.bind(Function.prototype.bind);

/** Adds exported functions and GC objects to the namespace under construction. */
module.exports = function defineFunctions(ns) {
  const { binding } = ns;

  // A JS function per wasm function, `name` its function index, `length`
  // its arity: a closure that calls the native function of its batch
  // (src/runtime/func.rs) with its position there first. The native
  // function holds the store's token (`store` below), so while JS holds an
  // exported function the store and the JS functions it imports live.
  function makeFunction(call, store, name, arity, position = 0) {
    let f;
    switch (arity) {
      case 0: f = { f() { return call(position); } }.f; break;
      case 1: f = { f(a) { return call(position, a); } }.f; break;
      case 2: f = { f(a, b) { return call(position, a, b); } }.f; break;
      case 3: f = { f(a, b, c) { return call(position, a, b, c); } }.f; break;
      case 4: f = { f(a, b, c, d) { return call(position, a, b, c, d); } }.f; break;
      default: {
        // No spread: it would run Array.prototype[Symbol.iterator], which
        // user code may have replaced; a bound function prepends natively.
        const callAt = FunctionPrototypeBind(call, undefined, position);
        f = { f(...args) { return ReflectApply(callAt, undefined, args); } }.f;
        defineProperty(f, 'length', { value: arity });
      }
    }
    defineProperty(f, 'name', { value: name });
    return f;
  }
  // A batch's closures, appended to the store token's `functions` array
  // (which holds them for the store's life); `spec` is an Int32Array of
  // [function index or -1 (no name), arity] per function.
  function makeFunctions(call, store, spec) {
    defineProperty(call, 'store', { value: store });
    const list = store.functions ??= [];
    for (let i = 0, position = 0; i < spec.length; i += 2, position++) {
      const index = spec[i];
      list.push(makeFunction(call, store, index < 0 ? '' : `${index}`, spec[i + 1], position));
    }
  }
  ns.makeFunction = makeFunction;
  ns.isExportedFunction = binding.isExportedFunction;

  // Wasm GC and typed function references where the running Node's
  // built-in has them (Node 22+; without a built-in, as Node 24): validate
  // then answers as the built-in does. Before the engine is made.
  const builtin = globalThis.WebAssembly;
  ns.wasmGc = !(builtin && typeof builtin.validate === 'function') ||
    builtin.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 0x5f, 1, 0x7f, 1]));
  binding.setWasmGc(ns.wasmGc);
  // The JS objects of Wasm GC objects, as V8's: frozen, null prototype, and
  // every change a TypeError, in sloppy code too (a Proxy over a frozen
  // object; reads see nothing). The JS API's [[PreventExtensions]] of such an
  // object throws, so Object.preventExtensions, seal and freeze do.
  const opaque = () => {
    throw new TypeError('WebAssembly objects are opaque');
  };
  const opaqueHandler = ObjectFreeze({
    __proto__: null, set: opaque, defineProperty: opaque, deleteProperty: opaque, setPrototypeOf: opaque,
    preventExtensions: opaque,
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
    makeFunctions,
    toBigInt64: (value) => BigIntAsIntN(64, value),
    // "Iterable to list": GetIterator, so a non-iterable is a TypeError
    // (Array.from would take array-likes).
    toList: (value) => [...value],
    CompileError: ns.CompileError,
    LinkError: ns.LinkError,
    RuntimeError: ns.RuntimeError,
  });
};
