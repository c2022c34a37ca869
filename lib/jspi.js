'use strict';
// JSPI: WebAssembly.Suspending, WebAssembly.promising and
// WebAssembly.SuspendError (JS Promise Integration,
// https://github.com/WebAssembly/js-promise-integration, proposals/
// js-promise-integration/Overview.md), over src/runtime/jspi.rs: an instance with a
// Suspending import runs its wasm on a wasmtime fiber, which waits while
// the import's promise is pending; the JS of every import runs on the main
// stack. Messages are V8's (Node 26).

const { TypeError, Promise: PromiseCtor } = globalThis;
const { isObject, defineInterface } = require('./webidl.js');
const { errorClass } = require('./errors.js');
const { defineProperty } = Object;
const uncurryThis = (fn) => Function.prototype.call.bind(fn);
const PromiseResolve = (value) => PromiseCtor.resolve(value);
const PromiseThen = uncurryThis(PromiseCtor.prototype.then);

/** Adds Suspending, promising and SuspendError to the namespace under construction. */
module.exports = function defineJspi(ns) {
  const { binding, isExportedFunction } = ns;
  // [LegacyNamespace=WebAssembly] interface SuspendError : Error (a native
  // error class like RuntimeError).
  const SuspendError = errorClass('SuspendError');
  binding.setJspiHooks(SuspendError);

  let isSuspending;
  let callableOf;
  // [LegacyNamespace=WebAssembly, Exposed=*] interface Suspending {
  //   constructor(Function jsFun); }
  const SuspendingClass = class Suspending {
    #callable;
    constructor(jsFun) {
      // 1. If IsCallable(jsFun) is false, throw a TypeError.
      if (typeof jsFun !== 'function') {
        throw new TypeError('WebAssembly.Suspending(): Argument 0 must be a function');
      }
      // 2. Set this.[[wrappedFunction]] to jsFun.
      this.#callable = jsFun;
    }

    static {
      isSuspending = (value) => isObject(value) && #callable in value;
      callableOf = (value) => value.#callable;
    }
  };
  const Suspending = defineInterface(SuspendingClass, 'Suspending', []);

  // Runs one step of a promising call (the native call, or its resumption
  // once the awaited value settles) and settles the caller's promise when
  // the call ends.
  function step(attempt, resolve, reject) {
    let state;
    try {
      state = attempt();
    } catch (error) {
      reject(error);
      return;
    }
    if (state[0]) {
      resolve(state[1]);
      return;
    }
    // A Suspending import returned state[2]: the wasm waits for it to settle
    // (Overview: "Let promise be ? PromiseResolve(%Promise%, result)").
    const driver = state[1];
    PromiseThen(
      PromiseResolve(state[2]),
      (value) => step(() => binding.jspiResume(driver, true, value), resolve, reject),
      (reason) => step(() => binding.jspiResume(driver, false, reason), resolve, reject),
    );
  }

  // Function promising(Function wasmFunc)
  function promising(wasmFunc) {
    // 1. If IsCallable(wasmFunc) is false, throw a TypeError.
    if (typeof wasmFunc !== 'function') {
      throw new TypeError('WebAssembly.promising(): Argument 0 must be a function');
    }
    // 2. If wasmFunc is not an Exported Function, throw a TypeError.
    if (!isExportedFunction(wasmFunc)) {
      throw new TypeError('WebAssembly.promising(): Argument 0 must be a WebAssembly exported function');
    }
    // 3-4. A function that calls wasmFunc and returns a promise of its
    // result: the call runs now, up to its first suspension.
    const name = wasmFunc.name;
    const wrapper = {
      [name](...args) {
        return new PromiseCtor((resolve, reject) => {
          step(() => binding.jspiCall(wasmFunc, args), resolve, reject);
        });
      },
    }[name];
    defineProperty(wrapper, 'length', { value: wasmFunc.length });
    return wrapper;
  }

  // The positions of Suspending imports among the values read for an
  // instance (function imports only), or undefined if there are none.
  function suspendingImports(values, natives) {
    let indexes;
    for (let i = 0; i < values.length; i++) {
      if (isSuspending(values[i]) && typeof natives[i] === 'function') (indexes ??= []).push(i);
    }
    return indexes;
  }

  Object.assign(ns, { Suspending, promising, SuspendError, isSuspending, callableOf, suspendingImports });
};
