//! The one process-wide wasmtime `Engine`, and the tiny modules that give a
//! standalone memory its home.
//!
//! wasmtime 48's `Memory::new` ignores `Config::with_host_memory` (its
//! trampoline allocator uses the default creator), while instantiating a
//! module honours it. So a standalone memory is the one export of a module
//! that defines just that memory, compiled once per memory type and cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use wasmtime::{Config, Engine, MemoryType, Module};

use crate::mapping::HostMemory;

/// Returns the engine every store of this process uses.
///
/// # Errors
/// Fails only if wasmtime rejects the configuration (a build problem).
pub fn engine() -> Result<&'static Engine, String> {
  static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
  ENGINE
    .get_or_init(|| Engine::new(&config()).map_err(|e| format!("{e:#}")))
    .as_ref()
    .map_err(Clone::clone)
}

/// The `Config` of the main engine. Sandboxes (sandbox.rs) build their
/// engines from it, adding only epoch interruption or fuel.
pub(crate) fn config() -> Config {
  let mut config = Config::new();
  config
    // We allocate every linear memory ourselves (mapping.rs), so that
    // ArrayBuffers can alias it and outlive the store.
    .with_host_memory(Arc::new(HostMemory))
    // An ArrayBuffer points at the base: it must never move.
    .memory_may_move(false)
    // No guard pages and no fixed reservation: each memory reserves only
    // what its maximum needs, and code bounds-checks explicitly.
    .memory_reservation(0)
    .memory_guard_size(0)
    .memory_reservation_for_growth(0)
    .guard_before_linear_memory(false)
    // Copy-on-write data segments need wasmtime's own mmap memories:
    // with ours, wasmtime 48 panics (`unreachable!`) at the first
    // instantiation of a module with a memory image. Ours get their
    // data segments copied in by the compiled start-up code, which
    // data_init.rs keeps small.
    .memory_init_cow(false);
  // Linear memories have no guard pages, so every access is bounds
  // checked. Cranelift would also mask each address against Spectre;
  // V8 does not (it relies on process isolation), and neither do we,
  // so that wasm runs at V8's speed.
  // SAFETY: a documented Cranelift setting; it changes code generation
  // only, never the soundness of the bounds checks themselves.
  unsafe {
    config.cranelift_flag_set("enable_heap_access_spectre_mitigation", "false");
    config.cranelift_flag_set("enable_table_access_spectre_mitigation", "false");
  }
  config
    // V8 owns the process's signal handlers; wasmtime must not touch them.
    .signals_based_traps(false)
    // Shared memories (for SharedArrayBuffers) and memory64.
    .wasm_threads(true)
    .shared_memory(true)
    .wasm_memory64(true)
    // Reference types (externref) and exception handling: they need
    // wasmtime's `gc` feature (externrefs and exception objects live in
    // its GC heap, collected by deferred reference counting). The GC
    // proposal itself (struct, array, i31) and typed function
    // references are not wired to JS yet, so `validate` says no to them.
    .wasm_reference_types(true)
    .wasm_exceptions(true)
    .wasm_function_references(false)
    .wasm_gc(false);
  config
}

/// The export name of the memory in [`memory_module`]s.
pub const MEMORY_EXPORT: &str = "memory";

/// Appends `value` as unsigned LEB128 (module bytes made here and in
/// data_init.rs).
pub(crate) fn leb128(out: &mut Vec<u8>, mut value: u64) {
  loop {
    let byte = (value & 0x7f) as u8;
    value >>= 7;
    if value == 0 {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

/// The binary of `(module (memory (export "memory") <ty>))`.
fn memory_module_bytes(ty: &MemoryType) -> Vec<u8> {
  let mut limits = Vec::new();
  let flags = u8::from(ty.maximum().is_some())
    | if ty.is_shared() { 0x02 } else { 0 }
    | if ty.is_64() { 0x04 } else { 0 };
  limits.push(flags);
  leb128(&mut limits, ty.minimum());
  if let Some(max) = ty.maximum() {
    leb128(&mut limits, max);
  }
  let mut out = b"\0asm\x01\0\0\0".to_vec();
  // Memory section: one memory.
  out.push(5);
  leb128(&mut out, 1 + limits.len() as u64);
  out.push(1);
  out.extend(&limits);
  // Export section: "memory" -> memory 0.
  out.push(7);
  leb128(&mut out, 1 + 1 + MEMORY_EXPORT.len() as u64 + 2);
  out.push(1);
  out.push(MEMORY_EXPORT.len() as u8);
  out.extend(MEMORY_EXPORT.as_bytes());
  out.extend([0x02, 0x00]);
  out
}

/// Modules cached at most; the cache starts over when full (shapes in real
/// programs are few; a fuzzer's are many and cheap to compile again).
const CACHE_LIMIT: usize = 1024;

type Shape = (u64, Option<u64>, bool, bool, usize);

/// Returns the cached module that defines and exports one memory of `ty`,
/// compiled for `engine` (a module links only into stores of its engine).
///
/// # Errors
/// Fails if wasmtime rejects the type (it was validated before).
pub fn memory_module(engine: &Engine, ty: &MemoryType) -> Result<Module, String> {
  static CACHE: OnceLock<Mutex<HashMap<Shape, Module>>> = OnceLock::new();
  // The main engine's shapes keep the plain key; other engines' get the
  // address of their (process-wide, never freed) engine configuration.
  let other = if Engine::same(engine, crate::engine::engine()?) {
    0
  } else {
    std::ptr::from_ref(engine.config()) as usize
  };
  let shape = (
    ty.minimum(),
    ty.maximum(),
    ty.is_64(),
    ty.is_shared(),
    other,
  );
  let cache = CACHE.get_or_init(Default::default);
  if let Some(module) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&shape) {
    return Ok(module.clone());
  }
  let module = Module::new(engine, memory_module_bytes(ty)).map_err(|e| format!("{e:#}"))?;
  let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
  if cache.len() >= CACHE_LIMIT {
    cache.clear();
  }
  cache.insert(shape, module.clone());
  Ok(module)
}
