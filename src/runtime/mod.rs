//! wasmtime underneath: the engines and compilation (with the compiled-code
//! cache and the module rewrites done before compiling), stores, calls
//! across the boundary, and the conversion of values, exceptions, GC
//! objects and backtraces between wasm and JS.

pub mod backtrace;
pub mod cache;
pub mod checksum;
pub mod compile;
pub mod data_init;
pub mod engine;
pub mod exception;
pub mod func;
pub mod gc;
pub mod host;
pub mod js_cache;
pub mod jspi;
pub mod legacy;
pub mod store;
pub mod string_builtins;
pub mod tiering;
pub mod timing;
pub mod value;
