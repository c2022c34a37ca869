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

use crate::memory::mapping::HostMemory;

/// How linear memories are laid out, chosen once per process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Memories {
  /// wasmtime's guard-page layout: a 32-bit memory reserves 4 GiB plus a
  /// 32 MiB guard, compiled code leaves out the bounds checks that cover,
  /// and out-of-bounds accesses fault into wasmtime's signal handler (which
  /// passes faults it does not own on to Node's and V8's).
  Guard,
  /// Each memory reserves only its maximum (small ones share slabs), and
  /// compiled code checks every access explicitly: 100,000 live memories
  /// and `ulimit -v` fit, at the price of those checks. No signal handlers.
  Compact,
}

impl Memories {
  /// The value of `WASM_MEMORY_RS_MEMORY` (`guard` or `compact`); unset (or
  /// empty), `compact` when the process's address space is limited (`ulimit
  /// -v`: a guard memory takes 4 GiB of it), `guard` otherwise.
  fn from_env() -> Memories {
    match std::env::var("WASM_MEMORY_RS_MEMORY").as_deref() {
      Ok("compact") => Memories::Compact,
      Ok("guard") => Memories::Guard,
      _ if crate::memory::budget::address_space_limited() => Memories::Compact,
      _ => Memories::Guard,
    }
  }

  pub fn name(self) -> &'static str {
    match self {
      Memories::Guard => "guard",
      Memories::Compact => "compact",
    }
  }
}

/// The memory layout of this process's engine.
pub fn memories() -> Memories {
  static MEMORIES: OnceLock<Memories> = OnceLock::new();
  *MEMORIES.get_or_init(Memories::from_env)
}

/// The wasmtime configuration of an engine whose memories are laid out as
/// `memories` says (one place, so that engines for other purposes start
/// from the same settings).
pub fn config(memories: Memories) -> Config {
  let mut config = Config::new();
  config
    // We allocate every linear memory ourselves (mapping.rs), so that
    // ArrayBuffers can alias it and outlive the store.
    .with_host_memory(Arc::new(HostMemory))
    // An ArrayBuffer points at the base: it must never move.
    .memory_may_move(false)
    .memory_reservation_for_growth(0)
    .guard_before_linear_memory(false)
    // Copy-on-write data segments need wasmtime's own mmap memories:
    // with ours, wasmtime 48 panics (`unreachable!`) at the first
    // instantiation of a module with a memory image. Ours get their
    // data segments copied in by the compiled start-up code, which
    // data_init.rs keeps small.
    .memory_init_cow(false);
  match memories {
    Memories::Guard => {
      config
        // wasmtime's 64-bit defaults: with 4 GiB reserved and 32 MiB of
        // guard after it, a 32-bit access with a static offset under 32
        // MiB can never leave the mapping, so Cranelift drops its check.
        .memory_reservation(1 << 32)
        .memory_guard_size(32 << 20)
        // Faults in our code become traps. wasmtime's handlers are
        // installed after Node's (which serves V8's wasm trap handler) and
        // pass every fault outside wasmtime's code on to it (signals.test.js).
        .signals_based_traps(true);
    }
    Memories::Compact => {
      config
        // No guard pages and no fixed reservation: each memory reserves
        // only what its maximum needs, and code bounds-checks explicitly.
        .memory_reservation(0)
        .memory_guard_size(0)
        // Without guard pages nothing may fault on purpose; leave the
        // process's signal handlers to V8.
        .signals_based_traps(false);
    }
  }
  // Cranelift would also mask each bounds-checked address against Spectre;
  // V8 does not (it relies on process isolation), and neither do we, so
  // that wasm runs at V8's speed.
  // SAFETY: a documented Cranelift setting; it changes code generation
  // only, never the soundness of the bounds checks themselves.
  unsafe {
    config.cranelift_flag_set("enable_heap_access_spectre_mitigation", "false");
    config.cranelift_flag_set("enable_table_access_spectre_mitigation", "false");
  }
  config
    // Shared memories (for SharedArrayBuffers) and memory64.
    .wasm_threads(true)
    .shared_memory(true)
    .wasm_memory64(true)
    // Reference types (externref), exception handling, typed function
    // references and Wasm GC (struct, array, i31): they need wasmtime's
    // `gc` feature (externrefs, exceptions and GC objects live in its GC
    // heap, collected by deferred reference counting). GC objects cross
    // into JS as opaque objects (src/runtime/gc.rs); off where the running
    // Node's built-in has no Wasm GC (Node 20).
    .wasm_reference_types(true)
    .wasm_exceptions(true)
    .wasm_function_references(crate::runtime::gc::enabled())
    .wasm_gc(crate::runtime::gc::enabled());
  config
}

/// Returns the engine every store of this process uses.
///
/// # Errors
/// Fails only if wasmtime rejects the configuration (a build problem).
pub fn engine() -> Result<&'static Engine, String> {
  static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
  ENGINE
    .get_or_init(|| Engine::new(&config(memories())).map_err(|e| format!("{e:#}")))
    .as_ref()
    .map_err(Clone::clone)
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
  let other = if Engine::same(engine, crate::runtime::engine::engine()?) {
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
