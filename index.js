'use strict';
// wasm-memory-rs: a `WebAssembly` namespace whose `Memory` keeps its bytes in
// wasmtime linear memory. This file is the spec-shaped shim: WebIDL
// conversions, brand checks, property descriptors and error classes live here;
// the native binding (src/) re-checks every value it is given.
//
// Spec: WebAssembly JavaScript Interface, "Memories" section
// (https://webassembly.github.io/spec/js-api/#memories). Where V8 differs
// from the spec (it range-checks before truncating), we follow V8, as
// Node's built-in is the reference users compare against.

const binding = require('./wasm-memory-rs.node');

// Primordials: user code may replace these later; we keep the originals.
const { TypeError, RangeError, Symbol: SymbolCtor, Proxy: ProxyCtor } = globalThis;
const { defineProperty, getOwnPropertyDescriptor } = Object;
const MathTrunc = Math.trunc;
const NumberIsNaN = Number.isNaN;
const uncurryThis = (fn) => Function.prototype.call.bind(fn);
const ArrayBufferByteLength = uncurryThis(getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get);

// Sweeps of unreachable memories sometimes must know, with no user code in
// between, whether a buffer they stopped holding is still reachable (see
// src/reclaim.rs): they call this to run a full garbage collection. The V8
// flag is set only for the moment it takes to make the function.
let gcFunction;
binding.setCollector(function collect() {
  if (gcFunction === undefined) {
    gcFunction = null;
    const v8 = require('node:v8');
    const hadGc = typeof globalThis.gc === 'function';
    v8.setFlagsFromString('--expose-gc');
    try {
      gcFunction = require('node:vm').runInNewContext('gc');
    } finally {
      if (!hadGc) v8.setFlagsFromString('--no-expose-gc');
    }
  }
  if (gcFunction === null) throw new Error('garbage collection is not available');
  gcFunction();
});

const kPageSize = 65536;
/** The JS API's limit on a 32-bit memory, in pages. */
const kMaxPages = 65536;
const kUint32Max = 4294967295;

/**
 * WebIDL `[EnforceRange] unsigned long` (https://webidl.spec.whatwg.org/#es-unsigned-long),
 * with V8's messages and V8's order of checks.
 */
function enforceRangeUint32(value, context, what) {
  // 1. Let x be ? ToNumber(V). (Unary plus: Symbols and BigInts throw a
  // TypeError here; Number(1n) would not.)
  const x = +value;
  // 2.1. If x is NaN, +Infinity or -Infinity, throw a TypeError.
  if (NumberIsNaN(x) || x === Infinity || x === -Infinity) {
    throw new TypeError(`${context}: ${what} must be convertible to a valid number`);
  }
  // 2.3. If x < lowerBound or x > upperBound, throw a TypeError. V8 checks
  // before 2.2's truncation, so -0.5 is rejected (the spec would accept 0).
  if (x < 0) throw new TypeError(`${context}: ${what} must be non-negative`);
  if (x > kUint32Max) throw new TypeError(`${context}: ${what} must be in the unsigned long range`);
  // 2.2. Set x to IntegerPart(x). (+0 for -0.)
  return MathTrunc(x) + 0;
}

/** A descriptor member in pages: converted, then checked against [min, kMaxPages]. */
function pagesMember(descriptor, name, lowerBound) {
  const context = 'WebAssembly.Memory()';
  const value = descriptor[name];
  if (value === undefined) return undefined;
  const pages = enforceRangeUint32(value, context, `Property '${name}'`);
  if (pages > kMaxPages) {
    throw new RangeError(`${context}: Property '${name}': value ${pages} is above the upper bound ${kMaxPages}`);
  }
  if (pages < lowerBound) {
    // V8 prints this bound in hexadecimal; so do we, to match its message.
    throw new RangeError(
      `${context}: Property '${name}': value ${pages} is below the lower bound ${lowerBound.toString(16)}`,
    );
  }
  return pages;
}

function isObject(value) {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

let isMemory;
let nativeOf;

// The class holds the private state; the `Memory` users see is a Proxy of it
// whose only trap makes a call without `new` throw V8's message (a class
// would throw its own). Construction goes straight to the class, so
// newTarget.prototype is read once, as the built-in does.
const MemoryClass = class Memory {
  #native;
  /** The last buffer handed out, or null after a grow. */
  #buffer = null;
  /** The memory's size in bytes when #buffer was made. */
  #byteLength = 0;

  constructor(descriptor) {
    const context = 'WebAssembly.Memory()';
    // 1. descriptor is a MemoryDescriptor dictionary. (V8 also rejects undefined.)
    if (!isObject(descriptor)) throw new TypeError(`${context}: Argument 0 must be a memory descriptor`);
    // Dictionary members are read and converted one by one, in order.
    const initial = pagesMember(descriptor, 'initial', 0);
    if (initial === undefined) throw new TypeError(`${context}: Property 'initial' is required`);
    // 2-3. If maximum is present and maximum < initial, throw a RangeError.
    const maximum = pagesMember(descriptor, 'maximum', initial);
    const shared = !!descriptor.shared;
    // 4. If shared is true and maximum is not present, throw a TypeError.
    if (shared && maximum === undefined) {
      throw new TypeError(`${context}: If shared is true, maximum property should be defined.`);
    }
    // 5-8. Create the memory (RangeError if it cannot be allocated).
    this.#native = binding.createMemory(initial, maximum, shared);
    this.#byteLength = initial * kPageSize;
  }

  grow(delta) {
    const context = 'WebAssembly.Memory.grow()';
    if (!isMemory(this)) throw new TypeError(`${context}: Receiver is not a WebAssembly.Memory`);
    const pages = enforceRangeUint32(delta, context, 'Argument 0');
    // Grow; the native side detaches the old buffer ("refresh the memory
    // buffer") or throws a RangeError and leaves it alone.
    const oldPages = this.#native.grow(pages);
    this.#buffer = null;
    this.#byteLength = (oldPages + pages) * kPageSize;
    return oldPages;
  }

  get buffer() {
    let buffer;
    // The brand check is the private read itself (it throws on anything
    // that is not a Memory, Proxies included): the cheapest check there is.
    try {
      buffer = this.#buffer;
    } catch {
      throw new TypeError('WebAssembly.Memory.buffer: Receiver is not a WebAssembly.Memory');
    }
    // Fast path: still attached. A detached buffer reads 0 bytes, so a
    // non-empty memory notices a foreign detach here; an empty one always
    // asks the native side, which checks.
    if (buffer !== null && this.#byteLength !== 0 && ArrayBufferByteLength(buffer) === this.#byteLength) {
      return buffer;
    }
    const fresh = this.#native.buffer();
    this.#buffer = fresh;
    this.#byteLength = ArrayBufferByteLength(fresh);
    return fresh;
  }

  static {
    isMemory = (value) => isObject(value) && #native in value;
    nativeOf = (memory) => memory.#native;
  }
};

/** `new WebAssembly.Memory(descriptor)`. */
const Memory = new ProxyCtor(MemoryClass, {
  apply() {
    throw new TypeError("WebAssembly.Memory(): WebAssembly.Memory must be invoked with 'new'");
  },
});

const proto = MemoryClass.prototype;
// WebIDL: operations and attributes are enumerable; the interface object's
// `prototype` is read-only (as a class's is); the prototype carries the
// class string and points back at the interface object.
defineProperty(proto, 'constructor', { value: Memory, writable: true, enumerable: false, configurable: true });
defineProperty(proto, 'grow', { enumerable: true });
defineProperty(proto, 'buffer', { enumerable: true });
defineProperty(proto, SymbolCtor.toStringTag, {
  value: 'WebAssembly.Memory',
  writable: false,
  enumerable: false,
  configurable: true,
});

// The namespace object: members as the built-in's (writable, non-enumerable,
// configurable), and the class string "WebAssembly".
const WebAssembly = {};
defineProperty(WebAssembly, 'Memory', { value: Memory, writable: true, enumerable: false, configurable: true });
defineProperty(WebAssembly, SymbolCtor.toStringTag, {
  value: 'WebAssembly',
  writable: false,
  enumerable: false,
  configurable: true,
});

module.exports = WebAssembly;

// Hooks for this package's tests and benchmarks (internal.js); kept off the
// namespace so that it stays shaped like the built-in.
defineProperty(module, 'wasmMemoryInternals', {
  value: Object.freeze({ binding, nativeOf, isMemory }),
});
