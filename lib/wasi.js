'use strict';
// `require('wasm-memory-rs/wasi')`: `WASI` with node:wasi's API and errors,
// run natively (src/wasi/) on instances of any of our namespaces (the main
// one, any sandbox's) and of the built-in.
//
// Each WASI import is a JS function that checks its arguments' types (as
// node:wasi does: a wrong type or count is EINVAL), writes them into a
// per-WASI argument array, and calls the native context with a Uint8Array
// over the memory's current buffer: re-read at every call, since wasm may
// have grown the memory. The native side copies in and out of those bytes
// for the length of the call only. `proc_exit` lives here: with
// `returnOnExit` it throws a private value that unwinds through wasm to
// `start()`, which returns the exit code; otherwise it ends the process.

const { inspect } = require('node:util');

require('../index.js');
const { binding } = require('./binding.js').loadBinding();
const { isAnyMemory, nativeMemoryOf } = require('./memory-brands.js');

const { TypeError, RangeError, Error } = globalThis;
const { defineProperty } = Object;

const kExitCode = Symbol('kExitCode');
const kEINVAL = 28;
const kEmptyObject = Object.freeze({ __proto__: null });
const [kMajor] = process.versions.node.split('.').map(Number);

// ---- node's error messages (lib/internal/errors.js, in brief) ----

function withCode(error, code) {
  defineProperty(error, 'code', { value: code, writable: true, enumerable: true, configurable: true });
  return error;
}

function received(value) {
  if (value === null || value === undefined) return ` Received ${value}`;
  if (typeof value === 'function') return ` Received function ${value.name}`;
  if (typeof value === 'object') {
    if (value.constructor?.name) return ` Received an instance of ${value.constructor.name}`;
    return ` Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return ` Received type ${typeof value} (${shown})`;
}

function invalidArgType(name, expected, value) {
  const subject = name.includes('.') ? `The "${name}" property` : `The "${name}" argument`;
  const what = expected === 'Array' ? 'an instance of Array' : `of type ${expected}`;
  return withCode(new TypeError(`${subject} must be ${what}.${received(value)}`), 'ERR_INVALID_ARG_TYPE');
}

function validateObject(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgType(name, 'object', value);
  }
}

function validateFunction(value, name) {
  if (typeof value !== 'function') throw invalidArgType(name, 'function', value);
}

function validateUndefined(value, name) {
  if (value !== undefined) {
    throw withCode(new TypeError(`The "${name}" property must be undefined.${received(value)}`), 'ERR_INVALID_ARG_TYPE');
  }
}

function validateInt32(value, name) {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value);
  if (!Number.isInteger(value)) {
    throw withCode(new RangeError(`The value of "${name}" is out of range. It must be an integer. Received ${value}`), 'ERR_OUT_OF_RANGE');
  }
  if (value < 0 || value > 2147483647) {
    throw withCode(new RangeError(`The value of "${name}" is out of range. It must be >= 0 && <= 2147483647. Received ${value}`), 'ERR_OUT_OF_RANGE');
  }
}

function alreadyStarted() {
  return withCode(new Error('WASI instance has already started'), 'ERR_WASI_ALREADY_STARTED');
}

function notStarted() {
  return withCode(new Error('wasi.start() has not been called'), 'ERR_WASI_NOT_STARTED');
}

/** The preopen error node:wasi throws (`UVWASI_ENOENT, uvwasi_init`), with the path and reason added. */
function preopenError(error) {
  const [code, text, host] = String(error?.message).split('|');
  return withCode(new Error(`UVWASI_${code}, uvwasi_init (${host}: ${text})`), `UVWASI_${code}`);
}

// ---- the class ----

const kFunctions = typeof binding.wasiFunctions === 'function' ? binding.wasiFunctions() : [];

class WASI {
  #context;
  #started = false;
  #exitCode = 0;
  #memory = undefined;
  #instance = undefined;
  #bindingName;
  #viewBuffer = null;
  #view = null;

  constructor(options = kEmptyObject) {
    validateObject(options, 'options');
    if (typeof options.version !== 'string') throw invalidArgType('options.version', 'string', options.version);
    switch (options.version) {
      case 'unstable':
        this.#bindingName = 'wasi_unstable';
        break;
      case 'preview1':
        this.#bindingName = 'wasi_snapshot_preview1';
        break;
      default:
        throw withCode(
          new TypeError(`The property 'options.version' unsupported WASI version. Received ${inspect(options.version)}`),
          'ERR_INVALID_ARG_VALUE',
        );
    }
    if (options.args !== undefined && !Array.isArray(options.args)) {
      throw invalidArgType('options.args', 'Array', options.args);
    }
    const args = (options.args || []).map(String);
    const env = [];
    if (options.env !== undefined) {
      validateObject(options.env, 'options.env');
      for (const [key, value] of Object.entries(options.env)) {
        if (value !== undefined) env.push(`${key}=${value}`);
      }
    }
    const preopens = [];
    if (options.preopens !== undefined) {
      validateObject(options.preopens, 'options.preopens');
      for (const [key, value] of Object.entries(options.preopens)) preopens.push(String(key), String(value));
    }
    const { stdin = 0, stdout = 1, stderr = 2 } = options;
    validateInt32(stdin, 'options.stdin');
    validateInt32(stdout, 'options.stdout');
    validateInt32(stderr, 'options.stderr');
    let returnOnExit = true;
    if (options.returnOnExit !== undefined) {
      if (typeof options.returnOnExit !== 'boolean') {
        throw invalidArgType('options.returnOnExit', 'boolean', options.returnOnExit);
      }
      returnOnExit = options.returnOnExit;
    }
    if (typeof binding.WasiContext !== 'function') {
      throw new Error(`wasm-memory-rs/wasi: WASI is not available on ${process.platform} (it needs POSIX *at() calls); the rest of the library works`);
    }
    try {
      this.#context = new binding.WasiContext(args, env, preopens, [stdin, stdout, stderr]);
    } catch (error) {
      throw preopenError(error);
    }
    this.wasiImport = this.#makeImports(returnOnExit);
  }

  #makeImports(returnOnExit) {
    const context = this.#context;
    const argv = new BigUint64Array(10);
    const words = new Uint32Array(argv.buffer);
    const call = binding.wasiCall;
    const id = context.id;
    const imports = {};
    kFunctions.forEach((entry, op) => {
      const [name, sig] = entry.split(':');
      const arity = sig.length;
      let fn;
      if (name === 'proc_exit') {
        fn = returnOnExit
          ? (rval) => {
            this.#exitCode = rval;
            throw kExitCode;
          }
          : (rval) => process.exit(rval);
      } else {
        fn = (...values) => {
          if (this.#memory === undefined) throw notStarted();
          if (values.length !== arity) return kEINVAL;
          for (let i = 0; i < arity; i++) {
            const value = values[i];
            if (sig.charCodeAt(i) === 0x69 /* i */) {
              if (typeof value !== 'number') return kEINVAL;
              words[2 * i] = value;
              words[2 * i + 1] = 0;
            } else {
              if (typeof value !== 'bigint') return kEINVAL;
              argv[i] = value;
            }
          }
          return call(id, op, this.#currentView(), argv);
        };
      }
      defineProperty(fn, 'name', { value: name });
      defineProperty(fn, 'length', { value: arity });
      // Instances of ours call it natively once a memory of ours is bound
      // (src/wasi/link.rs); JS callers and the built-in's instances call fn.
      if (name !== 'proc_exit') binding.wasiMarkImport(fn, id, op);
      imports[name] = fn;
    });
    return imports;
  }

  /** A Uint8Array over the memory's buffer as it is now. */
  #currentView() {
    const buffer = this.#memory.buffer;
    if (buffer !== this.#viewBuffer) {
      this.#view = new Uint8Array(buffer);
      this.#viewBuffer = buffer;
    }
    return this.#view;
  }

  #setMemory(memory) {
    if (!isAnyMemory(memory)) {
      throw withCode(
        new TypeError('"instance.exports.memory" property must be a WebAssembly.Memory object'),
        'ERR_INVALID_ARG_TYPE',
      );
    }
    this.#memory = memory;
    this.#viewBuffer = null;
    binding.wasiSetMemory(this.#context.id, nativeMemoryOf(memory));
  }

  #setupInstance(instance) {
    validateObject(instance, 'instance');
    validateObject(instance.exports, 'instance.exports');
    this.#instance = instance;
    this.#setMemory(instance.exports.memory);
  }

  // Binds an instance (and another memory, if given) without running it.
  finalizeBindings(instance, { memory = instance?.exports?.memory } = {}) {
    if (this.#started) throw alreadyStarted();
    validateObject(instance, 'instance');
    validateObject(instance.exports, 'instance.exports');
    this.#setMemory(memory);
    this.#instance = instance;
    this.#started = true;
  }

  // Must export _start, must not export _initialize.
  start(instance) {
    if (this.#started) throw alreadyStarted();
    this.#started = true;
    this.#setupInstance(instance);
    const { _start, _initialize } = this.#instance.exports;
    validateFunction(_start, 'instance.exports._start');
    validateUndefined(_initialize, 'instance.exports._initialize');
    try {
      _start();
    } catch (error) {
      if (error !== kExitCode) throw error;
    }
    return this.#exitCode;
  }

  // Must not export _start; may export _initialize.
  initialize(instance) {
    if (this.#started) throw alreadyStarted();
    this.#started = true;
    this.#setupInstance(instance);
    const { _start, _initialize } = this.#instance.exports;
    validateUndefined(_start, 'instance.exports._start');
    if (_initialize !== undefined) {
      validateFunction(_initialize, 'instance.exports._initialize');
      _initialize();
    }
  }

  getImportObject() {
    return { [this.#bindingName]: this.wasiImport };
  }
}

// Node 24 added finalizeBindings: where the running Node lacks it, so do we.
if (kMajor < 24) delete WASI.prototype.finalizeBindings;

module.exports = { WASI };
