// Types for wasm-memory-rs/transfer: a Module or a shared Memory of
// wasm-memory-rs across postMessage to a worker of the same process.
import WebAssembly = require('./index');

type Module = InstanceType<typeof WebAssembly.Module>;
type Memory = InstanceType<typeof WebAssembly.Memory>;

/** What `serialize` gives: a plain object that survives structured clone. */
export interface Serialized {
  readonly type: 'wasm-memory-rs:Module' | 'wasm-memory-rs:Memory';
  readonly handle: number;
}

/** A stand-in for `value` (a Module, or a shared Memory) to post to a worker. */
export function serialize(value: Module | Memory): Serialized;
/** The Module (same compiled code) or Memory (same bytes) `data` stands for. */
export function deserialize(data: Serialized): Module | Memory;
/** Forgets what `data` names; returns whether it was known. */
export function release(data: Serialized): boolean;
