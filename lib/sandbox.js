'use strict';
// `require('wasm-memory-rs/sandbox')`: `new Sandbox(options).WebAssembly` is a
// complete namespace of its own (its own classes and error classes, so
// `instanceof` works within it) whose stores run under the options: a
// timeout and fuel per call from JS into wasm, and caps on the memory,
// table elements and instances of the whole sandbox (src/api/sandbox.rs).
//
// The namespace is built by the very code that builds the main one:
// index.js is evaluated again as a module of its own, given a binding whose
// every function enters the sandbox for the length of the call (the native
// side then makes stores, modules and hooks for the sandbox).

const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const { TypeError, RangeError } = globalThis;
const { defineProperty, keys: ObjectKeys } = Object;
const { apply: ReflectApply } = Reflect;
const NumberIsInteger = Number.isInteger;
const NumberIsNaN = Number.isNaN;

// The main namespace first: it loads the addon and sets the main hooks.
require('../index.js');
const { binding } = require('./binding.js').loadBinding();

const kIndex = path.join(__dirname, '..', 'index.js');
const kBindingRequest = './lib/binding.js';

/** A binding whose functions run with `sandbox` entered (classes untouched). */
function sandboxBinding(sandbox) {
  const wrapped = { __proto__: null };
  for (const name of ObjectKeys(binding)) {
    const fn = binding[name];
    // Native classes (capitalised) are never called by the shim directly.
    if (typeof fn !== 'function' || /^[A-Z]/.test(name)) {
      wrapped[name] = fn;
      continue;
    }
    wrapped[name] = {
      [name](...args) {
        binding.enterSandbox(sandbox);
        try {
          return ReflectApply(fn, binding, args);
        } finally {
          binding.leaveSandbox();
        }
      },
    }[name];
  }
  return wrapped;
}

/** Evaluates index.js again, as a new module, over `wrappedBinding`. */
function loadNamespace(wrappedBinding) {
  const source = fs.readFileSync(kIndex, 'utf8');
  const mod = new Module(kIndex, module);
  mod.filename = kIndex;
  mod.paths = Module._nodeModulePaths(path.dirname(kIndex));
  const ownRequire = mod.require;
  mod.require = function require(request) {
    if (request === kBindingRequest) {
      return { ...ReflectApply(ownRequire, this, [request]), loadBinding: () => ({ binding: wrappedBinding }) };
    }
    return ReflectApply(ownRequire, this, [request]);
  };
  mod._compile(source, kIndex);
  return mod.exports;
}

const kOptions = ['timeout', 'fuel', 'maxMemoryBytes', 'maxTableElements', 'maxInstances'];
const kMaxSafe = Number.MAX_SAFE_INTEGER;

/**
 * One option: undefined, or a Number in [1, 2^53) (`integer`: a whole
 * number). TypeError for another type or NaN, RangeError for the rest.
 */
function readLimit(options, name, { integer, minimum }) {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || NumberIsNaN(value)) {
    throw new TypeError(`Sandbox: options.${name} must be a number, got ${typeof value === 'number' ? 'NaN' : typeof value}`);
  }
  if (integer && !NumberIsInteger(value) && value !== Infinity) {
    throw new RangeError(`Sandbox: options.${name} must be an integer, got ${value}`);
  }
  if (!(value >= minimum) || value > kMaxSafe) {
    throw new RangeError(`Sandbox: options.${name} must be in [${minimum}, ${kMaxSafe}], got ${value}`);
  }
  return value;
}

function readOptions(options) {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('Sandbox: options must be an object');
  }
  for (const key of ObjectKeys(options)) {
    if (!kOptions.includes(key)) {
      throw new TypeError(`Sandbox: unknown option '${key}' (known: ${kOptions.join(', ')})`);
    }
  }
  const timeout = readLimit(options, 'timeout', { integer: false, minimum: 1 });
  return {
    // Whole milliseconds, rounded up (the ticker's resolution is coarser).
    timeout: timeout === undefined ? undefined : Math.ceil(timeout),
    fuel: readLimit(options, 'fuel', { integer: true, minimum: 1 }),
    maxMemoryBytes: readLimit(options, 'maxMemoryBytes', { integer: true, minimum: 0 }),
    maxTableElements: readLimit(options, 'maxTableElements', { integer: true, minimum: 0 }),
    maxInstances: readLimit(options, 'maxInstances', { integer: true, minimum: 0 }),
  };
}

class Sandbox {
  #native;
  #options;

  /**
   * @param {{ timeout?: number, fuel?: number, maxMemoryBytes?: number,
   *   maxTableElements?: number, maxInstances?: number }} [options]
   */
  constructor(options) {
    const limits = readOptions(options);
    this.#options = Object.freeze({ ...limits });
    this.#native = binding.createSandbox(
      limits.timeout, limits.fuel, limits.maxMemoryBytes, limits.maxTableElements, limits.maxInstances,
    );
    defineProperty(this, 'WebAssembly', {
      value: loadNamespace(sandboxBinding(this.#native)),
      enumerable: true,
    });
  }

  /** The options in force (timeout rounded up to whole milliseconds). */
  get options() {
    return this.#options;
  }

  /** What the sandbox's live stores use now: bytes of memory, table elements, instances. */
  usage() {
    const [memoryBytes, tableElements, instances] = this.#native.usage();
    return { memoryBytes, tableElements, instances };
  }
}
defineProperty(Sandbox.prototype, Symbol.toStringTag, { value: 'Sandbox', configurable: true });

module.exports = { Sandbox };
