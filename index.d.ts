// Types for wasm-memory-rs: a `WebAssembly` namespace run on wasmtime, whose
// memories keep their bytes in wasmtime linear memory.

declare namespace WebAssemblyMemoryRs {
  type AddressType = 'i32' | 'i64';
  /** A size or index: a Number for an "i32" address type, a BigInt for "i64". */
  type AddressValue = number | bigint;
  /** Wasm GC's abstract reference types (where the running Node's built-in has Wasm GC: 22+). */
  type GcRefType = 'anyref' | 'eqref' | 'i31ref' | 'structref' | 'arrayref';
  type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'anyfunc' | 'funcref' | 'externref' | GcRefType;
  /** A tag's parameter types (v128 and exnref values cannot cross into JS). */
  type TagValueType = ValueType | 'v128' | 'exnref';
  type ImportExportKind = 'function' | 'table' | 'memory' | 'global' | 'tag';
  type BufferSource = ArrayBuffer | ArrayBufferView;
  type ExportValue = Function | Global | Memory | Table | Tag;
  type Exports = Readonly<Record<string, ExportValue>>;
  /** (An immutable externref global may be imported from any JS value.) */
  type ImportValue = ExportValue | number | bigint | unknown;
  type Imports = Record<string, Record<string, ImportValue>>;

  /** The descriptor of `new Memory(descriptor)`, sizes in 64 KiB pages. */
  interface MemoryDescriptor {
    /** Initial size in pages (`minimum` is its type-reflection name). */
    initial?: number | bigint;
    minimum?: number | bigint;
    /** Largest size in pages the memory may grow to. */
    maximum?: number | bigint;
    /** A SharedArrayBuffer-backed memory (needs `maximum`; Node 22.23+/24.21+). */
    shared?: boolean;
    /** `'i64'` for memory64 (sizes are then BigInts). */
    address?: AddressType;
  }

  interface MemoryType {
    minimum: number | bigint;
    maximum?: number | bigint;
    shared: boolean;
    address: AddressType;
  }

  /** `WebAssembly.Memory`, with its bytes in wasmtime linear memory. */
  class Memory {
    /**
     * @throws {TypeError} for a bad descriptor.
     * @throws {RangeError} for sizes past the limits, `maximum < initial`,
     *   or when the memory cannot be allocated.
     */
    constructor(descriptor: MemoryDescriptor);
    /**
     * Grows by `delta` pages and returns the previous size in pages. Every
     * successful grow, `grow(0)` included, detaches the previous buffer.
     * @throws {RangeError} past the maximum or when memory runs out.
     */
    grow(delta: number | bigint): number | bigint;
    /** The memory's bytes: the same buffer until the next grow (from JS or wasm). */
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    toFixedLengthBuffer(): ArrayBuffer | SharedArrayBuffer;
    /** @throws {TypeError} always: Node-API cannot make resizable external buffers. */
    toResizableBuffer(): never;
    type(): MemoryType;
    /** Zeroes whole pages and gives them back to the OS (memory-control proposal). */
    discard(byteOffset: number | bigint, byteLength: number | bigint): void;
    readonly [Symbol.toStringTag]: 'WebAssembly.Memory';
  }

  interface ModuleExportDescriptor { name: string; kind: ImportExportKind }
  interface ModuleImportDescriptor { module: string; name: string; kind: ImportExportKind }

  /** `WebAssembly.Module`: code compiled by wasmtime (Cranelift). */
  class Module {
    /** @throws {CompileError} with wasmtime's reason. @throws {TypeError} for non-bytes. */
    constructor(bytes: BufferSource, options?: CompileOptions);
    static exports(module: Module): ModuleExportDescriptor[];
    static imports(module: Module): ModuleImportDescriptor[];
    static customSections(module: Module, sectionName: string): ArrayBuffer[];
    readonly [Symbol.toStringTag]: 'WebAssembly.Module';
  }

  /** `WebAssembly.Instance`: a module linked with its imports, run on wasmtime. */
  class Instance {
    /**
     * @throws {TypeError} for a missing or non-object import module.
     * @throws {LinkError} naming the import for a value of the wrong kind or
     *   type, or for imports bound to two different instance groups.
     * @throws {RuntimeError} if the start function traps.
     */
    constructor(module: Module, importObject?: Imports);
    /** Frozen, null-prototype object of the exports. */
    readonly exports: Exports;
    readonly [Symbol.toStringTag]: 'WebAssembly.Instance';
  }

  interface GlobalDescriptor { value: ValueType; mutable?: boolean }

  class Global {
    /** An externref global holds any JS value (undefined when none is given). */
    constructor(descriptor: GlobalDescriptor, value?: unknown);
    /** @throws {TypeError} when set on an immutable global. */
    value: unknown;
    valueOf(): unknown;
    type(): { mutable: boolean; value: ValueType };
    readonly [Symbol.toStringTag]: 'WebAssembly.Global';
  }

  /** Sizes and indexes are Numbers for 'i32' tables, BigInts for 'i64' ones (table64). */
  interface TableDescriptor {
    element: 'anyfunc' | 'funcref' | 'externref' | GcRefType;
    address?: 'i32' | 'i64';
    initial: AddressValue;
    maximum?: AddressValue;
  }

  /** Elements: exported functions or null (funcref); any JS value (externref, undefined by default). */
  class Table {
    constructor(descriptor: TableDescriptor, value?: unknown);
    readonly length: AddressValue;
    grow(delta: AddressValue, value?: unknown): AddressValue;
    set(index: AddressValue, value?: unknown): void;
    get(index: AddressValue): unknown;
    type(): { minimum: AddressValue; maximum?: AddressValue; element: 'anyfunc' | 'externref' | GcRefType; address: 'i32' | 'i64' };
    readonly [Symbol.toStringTag]: 'WebAssembly.Table';
  }

  interface TagType { parameters: ArrayLike<TagValueType> }

  /** An exception tag (exception handling). Links into instances of any store. */
  class Tag {
    constructor(type: TagType);
    /** Type reflection: `{ parameters }`. */
    type(): { parameters: TagValueType[] };
    readonly [Symbol.toStringTag]: 'WebAssembly.Tag';
  }

  interface ExceptionOptions { traceStack?: boolean }

  /** A wasm exception as JS sees it; thrown by wasm, or by JS into wasm. */
  class Exception {
    constructor(exceptionTag: Tag, payload: ArrayLike<unknown>, options?: ExceptionOptions);
    getArg(exceptionTag: Tag, index: number): unknown;
    is(exceptionTag: Tag): boolean;
    /** Own, when made with `traceStack: true`. */
    readonly stack?: string;
    readonly [Symbol.toStringTag]: 'WebAssembly.Exception';
  }

  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}

  /** JSPI: marks a JS function as an import that may return a promise for wasm to wait on. */
  class Suspending {
    constructor(jsFun: (...args: any[]) => unknown);
    readonly [Symbol.toStringTag]: 'WebAssembly.Suspending';
  }
  /** JSPI: a Suspending import called with no `promising` call to suspend (or, on ours, through JS frames). */
  class SuspendError extends Error {}

  interface WebAssemblyInstantiatedSource { module: Module; instance: Instance }

  /** JS string builtins (read where the running Node's built-in reads them: 22+, constants 24+). */
  interface CompileOptions { builtins?: Iterable<string>; importedStringConstants?: string | null }
}

declare const WebAssembly: {
  compile(bytes: WebAssemblyMemoryRs.BufferSource, options?: WebAssemblyMemoryRs.CompileOptions): Promise<WebAssemblyMemoryRs.Module>;
  validate(bytes: WebAssemblyMemoryRs.BufferSource, options?: WebAssemblyMemoryRs.CompileOptions): boolean;
  instantiate(
    bytes: WebAssemblyMemoryRs.BufferSource,
    importObject?: WebAssemblyMemoryRs.Imports,
    options?: WebAssemblyMemoryRs.CompileOptions,
  ): Promise<WebAssemblyMemoryRs.WebAssemblyInstantiatedSource>;
  instantiate(
    module: WebAssemblyMemoryRs.Module,
    importObject?: WebAssemblyMemoryRs.Imports,
  ): Promise<WebAssemblyMemoryRs.Instance>;
  compileStreaming(source: Response | PromiseLike<Response>, options?: WebAssemblyMemoryRs.CompileOptions): Promise<WebAssemblyMemoryRs.Module>;
  instantiateStreaming(
    source: Response | PromiseLike<Response>,
    importObject?: WebAssemblyMemoryRs.Imports,
    options?: WebAssemblyMemoryRs.CompileOptions,
  ): Promise<WebAssemblyMemoryRs.WebAssemblyInstantiatedSource>;
  readonly Module: typeof WebAssemblyMemoryRs.Module;
  readonly Instance: typeof WebAssemblyMemoryRs.Instance;
  readonly Table: typeof WebAssemblyMemoryRs.Table;
  readonly Memory: typeof WebAssemblyMemoryRs.Memory;
  readonly Global: typeof WebAssemblyMemoryRs.Global;
  readonly Tag: typeof WebAssemblyMemoryRs.Tag;
  /** Where the running Node's built-in has it (Node 22+). */
  readonly JSTag?: WebAssemblyMemoryRs.Tag;
  readonly Exception: typeof WebAssemblyMemoryRs.Exception;
  readonly CompileError: typeof WebAssemblyMemoryRs.CompileError;
  readonly LinkError: typeof WebAssemblyMemoryRs.LinkError;
  readonly RuntimeError: typeof WebAssemblyMemoryRs.RuntimeError;
  /** JSPI, where the running Node's built-in has it (Node 24+): `wasmFunc` must be an exported function. */
  promising?<A extends unknown[], R>(wasmFunc: (...args: A) => R): (...args: A) => Promise<R>;
  /** JSPI, where the running Node's built-in has it (Node 24+). */
  readonly Suspending?: typeof WebAssemblyMemoryRs.Suspending;
  /** JSPI, where the running Node's built-in has it (Node 24+). */
  readonly SuspendError?: typeof WebAssemblyMemoryRs.SuspendError;
  readonly [Symbol.toStringTag]: 'WebAssembly';
};

export = WebAssembly;
