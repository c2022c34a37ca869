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

// The local build, else the prebuilt binary package for this platform.
const { binding } = require('./lib/binding.js').loadBinding();

// The longest buffer this Node can make (4 GiB on Node 20): a larger memory's
// `buffer` is a RangeError, never a truncated buffer.
binding.setMaxBufferLength(require('node:buffer').constants.MAX_LENGTH);

// Primordials: user code may replace these later; we keep the originals.
const { TypeError, RangeError, Symbol: SymbolCtor, Proxy: ProxyCtor } = globalThis;
const { defineProperty, getOwnPropertyDescriptor, freeze: ObjectFreeze } = Object;
const BigIntCtor = BigInt;
const BigIntAsIntN = BigInt.asIntN;
const NumberCtor = Number;
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
/** The JS API's limits on memories, in pages: 32-bit, and 64-bit (memory64). */
const kMaxPages = 65536;
const kMaxPages64 = 262144;
const kUint32Max = 4294967295;
const kUint64Max = 2n ** 64n - 1n;

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

/**
 * ToBigInt (ECMA-262 §7.1.13): BigInt.asIntN performs exactly that (Numbers
 * throw a TypeError, bad strings a SyntaxError) and, this wide, returns the
 * value unchanged.
 */
function toBigInt(value) {
  return BigIntAsIntN(2 ** 53 - 1, value);
}

/**
 * AddressValueToU64(v, addressType) (JS API §"Memories"): an
 * `[EnforceRange] unsigned long` for i32, a BigInt in [0, 2^64) for i64.
 * Returns a Number either way (sizes are checked against page limits far
 * below 2^53 before they are used).
 */
function addressValue(value, address, context, what) {
  if (address === 'i32') return enforceRangeUint32(value, context, what);
  // 1. Let x be ? ToBigInt(v). 2. If x < 0 or x > 2^64 - 1, throw a TypeError.
  const x = toBigInt(value);
  if (x < 0n || x > kUint64Max) throw new TypeError(`${context}: ${what} must be in u64 range`);
  return NumberCtor(x);
}

/** A size in pages as JS sees it: a Number for i32, a BigInt for i64. */
function toAddressValue(pages, address) {
  return address === 'i64' ? BigIntCtor(pages) : pages;
}

/**
 * MemoryDescriptor's `address` (and its older name `index`): read first,
 * ToString, then "i32" or "i64".
 */
function addressMember(descriptor) {
  let value = descriptor.address;
  if (value === undefined) value = descriptor.index;
  if (value === undefined) return 'i32';
  const address = `${value}`;
  if (address !== 'i32' && address !== 'i64') {
    throw new TypeError(`WebAssembly.Memory(): Unknown address type '${address}'; pass 'i32' or 'i64'`);
  }
  return address;
}

/** A descriptor member in pages: converted, then checked against [lowerBound, limit]. */
function pagesMember(descriptor, name, lowerBound, address) {
  const context = 'WebAssembly.Memory()';
  const value = descriptor[name];
  if (value === undefined) return undefined;
  const pages = addressValue(value, address, context, `Property '${name}'`);
  const limit = address === 'i64' ? kMaxPages64 : kMaxPages;
  if (pages > limit) {
    throw new RangeError(`${context}: Property '${name}': value ${pages} is above the upper bound ${limit}`);
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
let bindMemory;
/** Marks the internal construction of a Memory around a native memory. */
const kWrapNative = SymbolCtor('wrap native');
/** NativeMemory -> Memory: one wasm memory, one JS object. */
const memoryObjects = new WeakMap();

/** The Memory object of a native memory (made on first sight). */
function wrapMemory(native, store) {
  let memory = memoryObjects.get(native);
  if (memory === undefined) memory = new MemoryClass(kWrapNative, native);
  if (store !== null) bindMemory(memory, store);
  return memory;
}

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

  /** 'i32' or 'i64' (memory64). */
  #address = 'i32';
  /** The maximum in pages, or undefined. */
  #maximum;
  #shared = false;

  /** The store token (src/instance.rs) once the memory is bound to one. */
  #store = null;

  constructor(descriptor) {
    const context = 'WebAssembly.Memory()';
    if (descriptor === kWrapNative) {
      // A memory an instance defines and exports (see wrapMemory).
      const native = arguments[1];
      const [maximum, is64, shared] = native.describe();
      this.#native = native;
      this.#address = is64 ? 'i64' : 'i32';
      this.#maximum = maximum ?? undefined;
      this.#shared = shared;
      this.#byteLength = shared ? -1 : native.byteLength();
      memoryObjects.set(native, this);
      return;
    }
    // 1. descriptor is a MemoryDescriptor dictionary. (V8 also rejects undefined.)
    if (!isObject(descriptor)) throw new TypeError(`${context}: Argument 0 must be a memory descriptor`);
    // Dictionary members are read and converted one by one: the address
    // type first, since it decides how sizes convert (memory64).
    const address = addressMember(descriptor);
    // `minimum` is `initial`'s name in the type-reflection proposal.
    const initial = pagesMember(descriptor, 'initial', 0, address);
    const minimum = pagesMember(descriptor, 'minimum', 0, address);
    if (initial !== undefined && minimum !== undefined) {
      throw new TypeError(`${context}: The properties 'initial' and 'minimum' are not allowed at the same time`);
    }
    const min = initial ?? minimum;
    if (min === undefined) throw new TypeError(`${context}: Property 'initial' is required`);
    // 2-3. If maximum is present and maximum < initial, throw a RangeError.
    const maximum = pagesMember(descriptor, 'maximum', min, address);
    const shared = !!descriptor.shared;
    // 4. If shared is true and maximum is not present, throw a TypeError.
    if (shared && maximum === undefined) {
      throw new TypeError(`${context}: If shared is true, maximum property should be defined.`);
    }
    // 5-8. Create the memory (RangeError if it cannot be allocated).
    this.#native = binding.createMemory(min, maximum, shared, address === 'i64');
    this.#address = address;
    this.#maximum = maximum;
    this.#shared = shared;
    // A shared memory's buffer is a SharedArrayBuffer: never detached, so
    // the getter's length check (for ArrayBuffers) is skipped (-1).
    this.#byteLength = shared ? -1 : min * kPageSize;
    memoryObjects.set(this.#native, this);
  }

  grow(delta) {
    const context = 'WebAssembly.Memory.grow()';
    if (!isMemory(this)) throw new TypeError(`${context}: Receiver is not a WebAssembly.Memory`);
    const address = this.#address;
    const pages = addressValue(delta, address, context, 'Argument 0');
    // Grow; the native side detaches the old buffer ("refresh the memory
    // buffer") or throws a RangeError and leaves it alone.
    const oldPages = this.#native.grow(pages);
    this.#buffer = null;
    if (!this.#shared) this.#byteLength = (oldPages + pages) * kPageSize;
    return toAddressValue(oldPages, address);
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
    if (buffer !== null && this.#byteLength > 0 && ArrayBufferByteLength(buffer) === this.#byteLength) {
      return buffer;
    }
    return this.#refreshBuffer(buffer);
  }

  #refreshBuffer(buffer) {
    if (this.#shared) {
      if (buffer !== null) return buffer;
      // SetIntegrityLevel(buffer, "frozen"), as the spec does for shared memories.
      const fresh = ObjectFreeze(this.#native.buffer());
      this.#buffer = fresh;
      return fresh;
    }
    const fresh = this.#native.buffer();
    this.#buffer = fresh;
    this.#byteLength = ArrayBufferByteLength(fresh);
    return fresh;
  }

  // ArrayBuffer toFixedLengthBuffer() (JS API, resizable buffers): our
  // buffers are always fixed-length, so this is the `buffer` getter.
  toFixedLengthBuffer() {
    if (!isMemory(this)) {
      throw new TypeError('WebAssembly.Memory.toFixedLengthBuffer(): Receiver is not a WebAssembly.Memory');
    }
    return this.buffer;
  }

  // ArrayBuffer toResizableBuffer() (JS API, resizable buffers).
  toResizableBuffer() {
    const context = 'WebAssembly.Memory.toResizableBuffer()';
    if (!isMemory(this)) throw new TypeError(`${context}: Receiver is not a WebAssembly.Memory`);
    throw new TypeError(
      `${context}: not supported: Node-API cannot create a resizable ArrayBuffer over native memory`,
    );
  }

  // MemoryType type() (type-reflection proposal): the current size as the
  // minimum, the maximum if any, sharedness and address type.
  type() {
    if (!isMemory(this)) throw new TypeError('WebAssembly.Memory.type(): Receiver is not a WebAssembly.Memory');
    const address = this.#address;
    const type = { minimum: toAddressValue(this.#native.byteLength() / kPageSize, address) };
    if (this.#maximum !== undefined) type.maximum = toAddressValue(this.#maximum, address);
    type.shared = this.#shared;
    type.address = address;
    return type;
  }

  // undefined discard(byteOffset, byteLength) (memory-control proposal,
  // prototype; an extension here): zeroes whole pages and gives them back to
  // the operating system, keeping the memory's size.
  discard(byteOffset, byteLength) {
    const context = 'WebAssembly.Memory.discard()';
    if (!isMemory(this)) throw new TypeError(`${context}: Receiver is not a WebAssembly.Memory`);
    const address = this.#address;
    const offset = addressValue(byteOffset, address, context, 'Argument 0');
    const length = addressValue(byteLength, address, context, 'Argument 1');
    this.#native.discard(offset, length);
  }

  static {
    isMemory = (value) => isObject(value) && #native in value;
    nativeOf = (memory) => memory.#native;
    bindMemory = (memory, store) => {
      memory.#store = store;
    };
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
// Members in the order of Node 26's built-in (grow, buffer, toFixedLengthBuffer,
// toResizableBuffer), then the proposals' type and discard.
for (const name of ['grow', 'buffer', 'toFixedLengthBuffer', 'toResizableBuffer', 'type', 'discard']) {
  defineProperty(proto, name, { enumerable: true });
}
defineProperty(proto, SymbolCtor.toStringTag, {
  value: 'WebAssembly.Memory',
  writable: false,
  enumerable: false,
  configurable: true,
});

const {
  operations, Module, Instance, Global, Table, Tag, Exception, JSTag, CompileError, LinkError, RuntimeError, moduleHooks,
  Suspending, promising, SuspendError,
} = require('./lib/namespace.js')({
  binding, isMemory, nativeOf, wrapMemory, bindMemory, enforceRangeUint32, isObject,
});

// The namespace object: the running Node's built-in keys that we have, in
// its order (Node 20 puts the streaming functions before the classes, 22+
// after; JSTag appears in 22): operations writable, enumerable and
// configurable; interfaces not enumerable; JSTag also read-only; then the
// class string "WebAssembly". Without a built-in (--jitless), Node 24's order.
const interfaces = {
  Module, Instance, Table, Memory, Global, Tag, JSTag, Exception, CompileError, LinkError, RuntimeError, Suspending, SuspendError,
};
// JSPI's members where the running Node's built-in has them (24+).
operations.promising = promising;
const defaultOrder = [
  'compile', 'validate', 'instantiate', 'Module', 'Instance', 'Table', 'Memory', 'Global', 'Tag', 'JSTag',
  'Exception', 'CompileError', 'LinkError', 'RuntimeError', 'compileStreaming', 'instantiateStreaming',
  'Suspending', 'promising', 'SuspendError',
];
const builtinNamespace = globalThis.WebAssembly;
const order = builtinNamespace && typeof builtinNamespace === 'object' && builtinNamespace !== module.exports
  ? Object.getOwnPropertyNames(builtinNamespace)
  : defaultOrder;
const WebAssembly = {};
for (const name of order) {
  if (Object.hasOwn(operations, name)) {
    defineProperty(WebAssembly, name, { value: operations[name], writable: true, enumerable: true, configurable: true });
  } else if (Object.hasOwn(interfaces, name)) {
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

module.exports = WebAssembly;

// Hooks for this package's tests and benchmarks, and lib/transfer.js
// (internal.js); kept off the namespace so that it stays shaped like the
// built-in.
defineProperty(module, 'wasmMemoryInternals', {
  // `jspi`: JSPI on Nodes whose namespace has no JSPI members (20, 22).
  value: Object.freeze({ binding, nativeOf, isMemory, wrapMemory, ...moduleHooks, jspi: { Suspending, promising, SuspendError } }),
});
