'use strict';
// wasm-memory-rs/transfer: a Module or a shared Memory of ours across
// postMessage to a worker_threads Worker (or a MessagePort, a
// BroadcastChannel) of the same process.
//
// Node's structured clone copies V8's own WebAssembly.Module and shared
// WebAssembly.Memory, but only V8's: ours are JavaScript objects over native
// state, so a clone is an empty object, and no public Node API lets a class
// take part in structured clone (the `kClone`/`kDeserialize` protocol of
// lib/internal/worker/js_transferable.js is internal, and Node-API has no
// serializer hooks). So the sender posts what `serialize` gives, and the
// receiver calls `deserialize`:
//
//   // main thread
//   worker.postMessage({ module: serialize(module), memory: serialize(memory) });
//   // worker
//   const module = deserialize(data.module);   // the same compiled code
//   const memory = deserialize(data.memory);   // the same bytes (shared)
//
// A serialized value is a small plain object naming the compiled code or
// the shared memory in a process-wide registry (src/api/transfer.rs); it works
// in any thread of the process, any number of times, until `release`.
// Nothing is compiled again, and a shared memory is the same memory, as
// with V8's. Non-shared memories cannot cross (their bytes belong to one
// thread: post a copy of the contents).

const { TypeError } = globalThis;
const { binding, isMemory, nativeOf, wrapMemory, isModule, moduleNative, wrapModule } = require('../internal.js');

const MODULE = 'wasm-memory-rs:Module';
const MEMORY = 'wasm-memory-rs:Memory';

/**
 * A structured-clonable stand-in for `value`, a WebAssembly.Module or a
 * shared WebAssembly.Memory of this package.
 */
function serialize(value) {
  if (isModule(value)) return { type: MODULE, handle: binding.moduleHandle(moduleNative(value)) };
  if (isMemory(value)) return { type: MEMORY, handle: binding.memoryHandle(nativeOf(value)) };
  throw new TypeError('serialize: Argument 0 must be a WebAssembly.Module or a shared WebAssembly.Memory of wasm-memory-rs');
}

function checkSerialized(data, context) {
  if (typeof data !== 'object' || data === null || (data.type !== MODULE && data.type !== MEMORY) ||
      typeof data.handle !== 'number') {
    throw new TypeError(`${context}: Argument 0 must be what serialize() returned`);
  }
  return data;
}

/** The Module or Memory `data` (from `serialize`, in any thread) stands for. */
function deserialize(data) {
  const { type, handle } = checkSerialized(data, 'deserialize');
  if (type === MODULE) return wrapModule(binding.moduleFromHandle(handle));
  return wrapMemory(binding.memoryFromHandle(handle), null);
}

/**
 * Lets the registry forget what `data` names (the objects made from it live
 * on); later `deserialize(data)` calls throw. Returns whether it was known.
 */
function release(data) {
  return binding.releaseHandle(checkSerialized(data, 'release').handle);
}

module.exports = { serialize, deserialize, release };
