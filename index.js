'use strict';
// wasm-memory-rs: a `WebAssembly` namespace run by wasmtime, whose `Memory`
// keeps its bytes in wasmtime linear memory. This file loads the native
// binding, sets what the process needs once per binding, and builds the
// namespace (lib/namespace.js). lib/sandbox.js evaluates it again over a
// sandbox's binding.

// The local build, else the prebuilt binary package for this platform; the
// same file loads the namespace's files (below).
const shim = require('./lib/binding.js');
const { binding } = shim.loadBinding();

// The longest buffer this Node can make (4 GiB on Node 20): a larger memory's
// `buffer` is a RangeError, never a truncated buffer.
binding.setMaxBufferLength(require('node:buffer').constants.MAX_LENGTH);

// Sweeps of unreachable memories sometimes must know, with no user code in
// between, whether a buffer they stopped holding is still reachable (see
// src/memory/reclaim.rs): they run a full garbage collection. A process
// started with --expose-gc lends its `gc`, the cheapest; otherwise the addon
// asks V8 itself (src/memory/full_gc.rs), with no flag or context made here.
if (typeof globalThis.gc === 'function') binding.setCollector(globalThis.gc);

// The namespace, built by lib/namespace.js (a file per interface under
// lib/), in the order of the running Node's built-in; lib/binding.js loads
// those files with V8's code cache.
const { WebAssembly, internals } = shim.createNamespace(binding, globalThis.WebAssembly);

module.exports = WebAssembly;

// Hooks for this package's tests and benchmarks, and lib/transfer.js
// (internal.js); kept off the namespace so that it stays shaped like the
// built-in.
Object.defineProperty(module, 'wasmMemoryInternals', { value: Object.freeze(internals) });
