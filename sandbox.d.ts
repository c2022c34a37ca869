// Types for `wasm-memory-rs/sandbox`: a WebAssembly namespace of its own whose
// stores run under time and fuel limits and resource caps.

import WebAssemblyNamespace = require('./index');

declare namespace SandboxTypes {
  interface SandboxOptions {
    /** Milliseconds each call from JS into wasm may run (rounded up to whole ms; epoch interruption). */
    timeout?: number;
    /** Fuel each call from JS into wasm may consume (a positive integer; wasmtime's fuel). */
    fuel?: number;
    /** Bytes of linear memory all the sandbox's live stores may hold together. */
    maxMemoryBytes?: number;
    /** Table elements all the sandbox's live stores may hold together. */
    maxTableElements?: number;
    /** Instances all the sandbox's live stores may hold together. */
    maxInstances?: number;
  }

  interface SandboxUsage {
    memoryBytes: number;
    tableElements: number;
    instances: number;
  }

  class Sandbox {
    /**
     * @throws {TypeError} for options that are not an object, an unknown key, a non-number or NaN.
     * @throws {RangeError} for a negative, zero (timeout, fuel), non-integer (all but timeout) or unsafe value.
     */
    constructor(options?: SandboxOptions);
    /** A complete namespace shaped like the main one, with classes of its own. */
    readonly WebAssembly: typeof WebAssemblyNamespace;
    /** The options in force. */
    readonly options: Readonly<SandboxOptions>;
    /** What the sandbox's live stores use now. */
    usage(): SandboxUsage;
    readonly [Symbol.toStringTag]: 'Sandbox';
  }
}

declare const sandbox: { Sandbox: typeof SandboxTypes.Sandbox };
export = sandbox;
