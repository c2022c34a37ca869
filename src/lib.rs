#![deny(clippy::all)]
//! wasm-memory-rs: the `WebAssembly` namespace for Node.js over wasmtime,
//! with memories whose bytes live in wasmtime linear memory. This file only
//! wires the modules together.

mod api;
mod error;
mod js;
mod memory;
mod runtime;
#[cfg(unix)]
mod wasi;
