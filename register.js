'use strict';
// `node --require wasm-memory-rs/register app.js`: the whole program's wasm
// runs on wasmtime. Replaces globalThis.WebAssembly with this package's
// namespace, with the built-in's property descriptor (writable,
// configurable, not enumerable). Code that captured the built-in before
// this ran keeps it. `node:wasi` is left as it is (the native WASI of
// issue 11 is not built yet; see the README).
const WebAssembly = require('./index.js');

Object.defineProperty(globalThis, 'WebAssembly', {
  value: WebAssembly,
  writable: true,
  enumerable: false,
  configurable: true,
});
