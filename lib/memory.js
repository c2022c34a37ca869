'use strict';
// WebAssembly.Memory (JS API §"Memories"): a memory whose bytes are
// wasmtime linear memory, handed to JS as external ArrayBuffers
// (src/api/memory.rs). Where V8 differs from the spec (it range-checks
// before truncating), we follow V8, as Node's built-in is the reference
// users compare against.

const { TypeError, RangeError, Symbol: SymbolCtor, WeakMap: WeakMapCtor } = globalThis;
const { freeze: ObjectFreeze } = Object;
const BigIntCtor = BigInt;
const NumberCtor = Number;
const { isObject, addressValueToU64, defineInterface, ArrayBufferByteLength } = require('./webidl.js');

const kPageSize = 65536;
/** The JS API's limits on memories, in pages: 32-bit, and 64-bit (memory64). */
const kMaxPages = 65536;
const kMaxPages64 = 262144;

/**
 * AddressValueToU64 as a Number (sizes are checked against page limits far
 * below 2^53 before they are used).
 */
function addressValue(value, address, context, what) {
  return NumberCtor(addressValueToU64(value, address, context, what));
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

/** Adds Memory to the namespace under construction. */
module.exports = function defineMemory(ns) {
  const { binding } = ns;
  let isMemory;
  let memoryNative;
  let bindMemory;
  /** Marks the internal construction of a Memory around a native memory. */
  const kWrapNative = SymbolCtor('wrap native');
  /** NativeMemory -> Memory: one wasm memory, one JS object. */
  const memoryObjects = new WeakMapCtor();

  /** The Memory object of a native memory (made on first sight). */
  function wrapMemory(native, store) {
    let memory = memoryObjects.get(native);
    if (memory === undefined) memory = new MemoryClass(kWrapNative, native);
    if (store !== null) bindMemory(memory, store);
    return memory;
  }

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

    /** The store token (src/api/instance.rs) once the memory is bound to one. */
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
      memoryNative = (memory) => memory.#native;
      bindMemory = (memory, store) => {
        memory.#store = store;
      };
    }
  };

  // Members in the order of Node 26's built-in (grow, buffer,
  // toFixedLengthBuffer, toResizableBuffer), then the proposals' type and
  // discard.
  ns.Memory = defineInterface(MemoryClass, 'Memory', [
    'grow', 'buffer', 'toFixedLengthBuffer', 'toResizableBuffer', 'type', 'discard',
  ]);
  ns.isMemory = isMemory;
  ns.memoryNative = memoryNative;
  // wasm-memory-rs/wasi accepts every namespace's memories (lib/wasi.js).
  require('./memory-brands.js').addMemoryCheck(isMemory, memoryNative);
  ns.bindMemory = bindMemory;
  ns.wrapMemory = wrapMemory;
};
