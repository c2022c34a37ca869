// Types for `wasm-memory-rs/wasi`: node:wasi's `WASI`, run natively on
// wasmtime memories (of the main namespace, of any sandbox, or the built-in's).

declare namespace WasiTypes {
  interface WASIOptions {
    /** Required: 'preview1' (imports under `wasi_snapshot_preview1`) or 'unstable' (`wasi_unstable`). */
    version: 'preview1' | 'unstable';
    /** The guest's arguments (each converted with String). */
    args?: readonly unknown[];
    /** The guest's environment (values that are undefined are left out). Not the host's unless given. */
    env?: Record<string, unknown>;
    /** Guest path -> host directory. Guest paths are resolved beneath these: no `..`, absolute or symlink escape. */
    preopens?: Record<string, string>;
    /** true (default): proc_exit makes start() return the code; false: it ends the process. */
    returnOnExit?: boolean;
    /** Host descriptors behind guest fds 0, 1 and 2 (defaults 0, 1, 2). */
    stdin?: number;
    stdout?: number;
    stderr?: number;
  }

  interface WASIInstance {
    exports: { memory: object; _start?: () => unknown; _initialize?: () => unknown; [name: string]: unknown };
  }

  class WASI {
    /**
     * @throws {TypeError} with node:wasi's codes (ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE) for bad options.
     * @throws {RangeError} (ERR_OUT_OF_RANGE) for a stdio descriptor that is not an int32 >= 0.
     * @throws {Error} (UVWASI_E...) for a preopen that cannot be opened as a directory; on Windows, always.
     */
    constructor(options: WASIOptions);
    /** The WASI functions, to import as `wasi_snapshot_preview1` (or `wasi_unstable`). */
    readonly wasiImport: Record<string, (...args: Array<number | bigint>) => number | undefined>;
    /** `{ wasi_snapshot_preview1: wasiImport }` (or `wasi_unstable`). */
    getImportObject(): Record<string, Record<string, (...args: Array<number | bigint>) => number | undefined>>;
    /** Runs `_start`; returns the exit code (0 if it returns). ERR_WASI_ALREADY_STARTED the second time. */
    start(instance: WASIInstance): number;
    /** Runs `_initialize` if there is one (a reactor). ERR_WASI_ALREADY_STARTED the second time. */
    initialize(instance: WASIInstance): void;
    /** Node 24+: binds the instance (and `memory`, if given) without running anything. */
    finalizeBindings?(instance: WASIInstance, options?: { memory?: object }): void;
  }
}

declare const wasi: { WASI: typeof WasiTypes.WASI };
export = wasi;
