'use strict';
// Which objects are a `WebAssembly.Memory`: of the main namespace, of any
// sandbox's namespace (each evaluation of index.js adds its brand check
// here), or of the built-in namespace. `wasm-memory-rs/wasi` accepts any of
// them, as node:wasi accepts the built-in's.

const checks = [];
const natives = [];

// The built-in's brand check: its `buffer` getter throws on anything else.
const builtin = globalThis.WebAssembly;
const builtinBuffer = builtin && typeof builtin.Memory === 'function'
  ? Object.getOwnPropertyDescriptor(builtin.Memory.prototype, 'buffer')?.get
  : undefined;

function isBuiltinMemory(value) {
  if (builtinBuffer === undefined || value === null || typeof value !== 'object') return false;
  try {
    Reflect.apply(builtinBuffer, value, []);
    return true;
  } catch {
    return false;
  }
}

/** Adds one namespace's brand check and its way to the native memory (lib/memory.js). */
function addMemoryCheck(check, nativeOf) {
  checks.push(check);
  natives.push(nativeOf);
}

/** The native memory of a Memory of ours (any namespace); null for anything else. */
function nativeMemoryOf(value) {
  for (let i = 0; i < checks.length; i++) {
    if (checks[i](value)) return natives[i](value);
  }
  return null;
}

/** Whether `value` is a Memory of ours (any namespace) or of the built-in. */
function isAnyMemory(value) {
  return nativeMemoryOf(value) !== null || isBuiltinMemory(value);
}

module.exports = { addMemoryCheck, isAnyMemory, nativeMemoryOf };
