#![deny(clippy::all)]
//! wasm-memory-rs: `WebAssembly.Memory` for Node.js over wasmtime linear
//! memory. This file only wires the modules together.

mod buffer;
mod engine;
mod error;
mod mapping;
mod memory;
mod pool;
mod reclaim;
mod slab;
