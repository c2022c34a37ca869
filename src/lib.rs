#![deny(clippy::all)]
//! wasm-memory-rs: the `WebAssembly` namespace for Node.js over wasmtime,
//! with memories whose bytes live in wasmtime linear memory. This file only
//! wires the modules together.

mod backtrace;
mod buffer;
mod cache;
mod data_init;
mod engine;
mod error;
mod exception;
mod func;
mod gc;
mod global;
mod instance;
mod js;
mod jspi;
mod legacy;
mod mapping;
mod memory;
mod module;
mod pool;
mod reclaim;
mod sandbox;
mod slab;
mod store;
mod string_builtins;
mod table;
mod tag;
mod transfer;
mod value;
mod wat;
