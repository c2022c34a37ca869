// Types for wasm-memory-rs: the parts of the WebAssembly namespace it provides.

declare namespace WebAssemblyMemoryRs {
  /** The descriptor of `new Memory(descriptor)`, sizes in 64 KiB pages. */
  interface MemoryDescriptor {
    /** Initial size in pages (0..65536). */
    initial: number;
    /** Largest size in pages the memory may grow to (initial..65536). */
    maximum?: number;
    /** Shared memories are not supported yet: `true` throws a TypeError. */
    shared?: boolean;
  }

  /** `WebAssembly.Memory`, with its bytes in wasmtime linear memory. */
  class Memory {
    /**
     * @throws {TypeError} for a descriptor that is not an object, a missing
     *   `initial`, sizes that are not unsigned 32-bit integers, or `shared`.
     * @throws {RangeError} for sizes above 65536 pages, `maximum < initial`,
     *   or when the memory cannot be allocated.
     */
    constructor(descriptor: MemoryDescriptor);
    /**
     * Grows by `delta` pages and returns the previous size in pages. Every
     * successful grow, `grow(0)` included, detaches the previous buffer.
     * @throws {RangeError} past the maximum or when memory runs out.
     */
    grow(delta: number): number;
    /** The memory's bytes: the same ArrayBuffer until the next grow. */
    readonly buffer: ArrayBuffer;
    readonly [Symbol.toStringTag]: 'WebAssembly.Memory';
  }
}

declare const WebAssembly: {
  readonly Memory: typeof WebAssemblyMemoryRs.Memory;
  readonly [Symbol.toStringTag]: 'WebAssembly';
};

export = WebAssembly;
