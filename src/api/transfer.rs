//! Handing a `Module` or a shared `Memory` to another thread of this
//! process (`worker_threads`): `wasm-memory-rs/transfer` (lib/transfer.js).
//!
//! Structured clone copies only V8's own host objects, and Node-API has no
//! serializer hooks, so ours cannot cross `postMessage` themselves. What
//! they stand for can: wasmtime's `Module` (compiled code) and
//! `SharedMemory` are `Send + Sync`, the engine is process-wide, and a
//! shared memory's mapping is ours (`Arc<Mapping>`). A handle is a number
//! naming them in a process-wide registry; the receiving thread makes new
//! JS objects over the same compiled code (nothing is compiled again) or
//! the same bytes (a shared memory, as V8's).
//!
//! A handle is good for any number of receivers, so the registry keeps
//! what it names until `release` (one entry per module or memory, however
//! often it is serialized). A forged or released handle is a `TypeError`.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::Unknown;
use napi::Env;
use napi_derive::napi;
use wasmtime::{Module, SharedMemory};

use crate::api::memory::NativeMemory;
use crate::api::module::NativeModule;
use crate::error::type_error;
use crate::js;
use crate::memory::mapping::Mapping;

enum Entry {
  Module(NativeModule),
  Memory(SharedMemory, Arc<Mapping>),
}

struct Registry {
  /// The last handle given (handles start at 1; 0 is never one).
  last: u64,
  entries: Vec<(u64, Entry)>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
  last: 0,
  entries: Vec::new(),
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
  REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

impl Registry {
  /// The handle of the entry `same` finds, or of `make()`'s, added.
  fn handle(&mut self, same: impl Fn(&Entry) -> bool, make: impl FnOnce() -> Entry) -> f64 {
    if let Some((id, _)) = self.entries.iter().find(|(_, e)| same(e)) {
      return *id as f64;
    }
    self.last += 1;
    self.entries.push((self.last, make()));
    self.last as f64
  }

  fn get(&self, handle: f64) -> Option<&Entry> {
    self
      .entries
      .iter()
      .find(|(id, _)| *id as f64 == handle)
      .map(|(_, e)| e)
  }
}

const UNKNOWN: &str =
  "not a handle of this process (handles cross threads, not processes), or released";

/// A handle for `module`'s compiled code.
#[napi]
pub fn module_handle(module: &NativeModule) -> f64 {
  registry().handle(
    |e| matches!(e, Entry::Module(m) if Module::same(&m.module, &module.module)),
    || Entry::Module(module.duplicate()),
  )
}

/// A native module over the compiled code `handle` names.
///
/// # Errors
/// `TypeError` if `handle` names no module.
#[napi]
pub fn module_from_handle(env: Env, handle: f64) -> napi::Result<NativeModule> {
  match registry().get(handle) {
    Some(Entry::Module(m)) => Ok(m.duplicate()),
    _ => Err(type_error(&env, format!("deserialize: {UNKNOWN}"))),
  }
}

/// A handle for a shared memory.
///
/// # Errors
/// `TypeError` for a memory that is not shared (its bytes belong to one
/// thread: post its contents instead).
#[napi]
pub fn memory_handle(env: Env, memory: &NativeMemory) -> napi::Result<f64> {
  let Some((shared, mapping)) = memory.shared_parts() else {
    return Err(type_error(
      &env,
      "serialize: only a shared Memory can cross threads",
    ));
  };
  let base = shared.data().as_ptr();
  Ok(registry().handle(
    |e| matches!(e, Entry::Memory(m, _) if m.data().as_ptr() == base),
    || Entry::Memory(shared, mapping),
  ))
}

/// A new native memory over the shared memory `handle` names.
///
/// # Errors
/// `TypeError` if `handle` names no memory, or this Node cannot make shared
/// memories.
#[napi]
pub fn memory_from_handle(env: &Env, handle: f64) -> napi::Result<Unknown<'_>> {
  let parts = match registry().get(handle) {
    Some(Entry::Memory(m, mapping)) => Some((m.clone(), mapping.clone())),
    _ => None,
  };
  let Some((shared, mapping)) = parts else {
    return Err(type_error(env, format!("deserialize: {UNKNOWN}")));
  };
  let value = js::into_napi(crate::api::memory::from_shared(env, shared, mapping))?;
  // SAFETY: `value` is a live handle of this call's scope.
  Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
}

/// Forgets what `handle` names (objects already made from it live on).
/// Returns whether it named something.
#[napi]
pub fn release_handle(handle: f64) -> bool {
  let mut r = registry();
  let before = r.entries.len();
  r.entries.retain(|(id, _)| *id as f64 != handle);
  r.entries.len() != before
}
