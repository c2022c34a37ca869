'use strict';
// `node --require wasm-memory-rs/register app.js`: the whole program's wasm
// runs on wasmtime. Replaces globalThis.WebAssembly with this package's
// namespace, with the built-in's property descriptor (writable,
// configurable, not enumerable). Code that captured the built-in before
// this ran keeps it. `node:wasi` (and `wasi`) then give wasm-memory-rs/wasi
// (lib/register-wasi.js says how, per Node version).
const WebAssembly = require('./index.js');

Object.defineProperty(globalThis, 'WebAssembly', {
  value: WebAssembly,
  writable: true,
  enumerable: false,
  configurable: true,
});

require('./lib/register-wasi.js').install();
