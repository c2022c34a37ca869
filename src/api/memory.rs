//! The native half of `WebAssembly.Memory`: a wasmtime memory in a store of
//! its own (its state: `memory/tracked.rs`), and the external buffers that
//! alias it (`memory/buffer.rs`).
//!
//! # Memory and safety
//! An `ArrayBuffer` handed to JS points straight at the linear memory. That
//! is sound because:
//! - the base never moves (`engine.rs` forbids moving, and `mapping.rs`
//!   reserves the maximum up front);
//! - every buffer's finalizer holds an `Arc<Mapping>`, so the bytes outlive
//!   every buffer, whatever happens to the `Memory` or the store;
//! - a successful grow detaches the previous buffer, so no buffer claims more
//!   than the memory holds;
//! - the reclaimer unmaps early (before the finalizers) only when it has seen
//!   the `Memory` collected, then seen its last buffer still attached (we hold
//!   it strongly until that moment, so a `transfer()` made while the `Memory`
//!   lived cannot go unnoticed), and then seen that buffer collected too. A
//!   buffer that was ever detached by someone else marks the memory
//!   *escaped*: only the finalizers may free it. Shared memories are escaped
//!   from birth: their SharedArrayBuffers can be posted to other threads.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::{ClassInstance, JavaScriptClassExt, ObjectFinalize, Unknown};
use napi::{sys, Env};
use napi_derive::napi;
use wasmtime::{Extern, MemoryType, MemoryTypeBuilder, SharedMemory};

use crate::error::{error, range_error, type_error};
use crate::js;
use crate::memory::buffer;
use crate::memory::mapping::{self, Mapping, MAX_PAGES_32, MAX_PAGES_64, WASM_PAGE};
use crate::memory::reclaim::{self, Reclaimable, Ref};
use crate::memory::tracked::{self, free_garbage, Handle, Live, Tracked};
use crate::runtime::store::StoreCell;

/// Checks that `value` is a whole number of pages in `0..=limit`.
fn pages(env: &Env, what: &str, value: f64, limit: u64) -> napi::Result<u64> {
  crate::error::whole(env, what, value, limit)
}

/// The native side of one `WebAssembly.Memory`. The JS shim (`index.js`)
/// owns the spec's conversions; this class re-checks everything it is given.
#[napi(custom_finalize)]
pub struct NativeMemory {
  tracked: Rc<RefCell<Tracked>>,
}

/// Creates a memory of `initial_pages` that may grow to `maximum_pages`;
/// a 64-bit one (memory64) if `address64`, a shared one if `shared`.
///
/// # Errors
/// `TypeError` for values that are not whole page counts, for a shared
/// memory without a maximum, or a shared one where this Node cannot make a
/// SharedArrayBuffer over native memory; `RangeError` past the page limit
/// (65536, or 262144 for 64-bit memories), for `maximum < initial`, or when
/// the memory cannot be allocated.
#[napi]
pub fn create_memory<'env>(
  env: &'env Env,
  initial_pages: f64,
  maximum_pages: Option<f64>,
  shared: Option<bool>,
  address64: Option<bool>,
) -> napi::Result<ClassInstance<'env, NativeMemory>> {
  let is_64 = address64 == Some(true);
  let shared = shared == Some(true);
  let limit = if is_64 { MAX_PAGES_64 } else { MAX_PAGES_32 };
  let initial = pages(env, "initial", initial_pages, limit)?;
  let maximum = match maximum_pages {
    Some(m) => Some(pages(env, "maximum", m, limit)?),
    None => None,
  };
  if let Some(max) = maximum {
    if max < initial {
      return Err(range_error(
        env,
        format!("maximum: value {max} is below the lower bound {initial}"),
      ));
    }
  }
  if shared && maximum.is_none() {
    return Err(type_error(env, "a shared memory must have a maximum"));
  }
  if shared && !buffer::shared_supported() {
    return Err(type_error(env, SHARED_UNSUPPORTED));
  }
  let mut builder = MemoryTypeBuilder::new();
  builder
    .min(initial)
    .max(maximum)
    .memory64(is_64)
    .shared(shared);
  let ty = builder
    .build()
    .map_err(|e| range_error(env, format!("{e:#}")))?;
  let recycled = tracked::take_parked(&ty);
  let (live, mapping) = match recycled {
    Some(parked) => parked,
    None => instantiate(env, &ty)?,
  };
  // A SharedArrayBuffer can be posted to other threads: only finalizers
  // know when the last one is gone.
  let escaped = shared;
  new_native(env, live, mapping, escaped, false)
}

/// The `NativeMemory` (tracked by the reclaimer) of a live memory.
fn new_native<'env>(
  env: &'env Env,
  live: Live,
  mapping: Arc<Mapping>,
  escaped: bool,
  bound: bool,
) -> napi::Result<ClassInstance<'env, NativeMemory>> {
  let bytes = mapping.accessible();
  let tracked = Rc::new(RefCell::new(Tracked {
    live: Some(live),
    mapping,
    handle: Ref::none(),
    buffer: Ref::none(),
    escaped,
    accounted: 0,
    bound,
  }));
  let instance = NativeMemory {
    tracked: tracked.clone(),
  }
  .into_instance(env)?;
  {
    let mut t = tracked.borrow_mut();
    t.handle = Ref::new(env, instance.value, false)?;
    t.account(env);
  }
  if bound {
    tracked::track_bound(&tracked);
  }
  reclaim::track(env, tracked, bytes);
  Ok(instance)
}

/// Why `shared: true` fails on Node versions without the Node-API for it.
const SHARED_UNSUPPORTED: &str = "WebAssembly.Memory(): shared memories need a Node.js whose \
  Node-API can create a SharedArrayBuffer over native memory \
  (node_api_create_external_sharedarraybuffer: Node 22.23+, 24.21+); this one cannot";

/// A new memory of type `ty`: the one export of its memory module,
/// instantiated in a store of its own.
fn instantiate(env: &Env, ty: &MemoryType) -> napi::Result<(Live, Arc<Mapping>)> {
  // The engine of the namespace that asked (sandbox.rs).
  let engine = crate::api::sandbox::current_engine().map_err(|e| error(env, e))?;
  let module = crate::runtime::engine::memory_module(engine, ty).map_err(|e| error(env, e))?;
  let attempt = || -> wasmtime::Result<Live> {
    let store = StoreCell::new(env).map_err(wasmtime::Error::msg)?;
    let memory = store
      .with(|ctx| memory_in(ctx, &module, ty.is_shared()))
      .map_err(wasmtime::Error::msg)??;
    Ok(Live { store, memory })
  };
  let live = match mapping::without_shrinking(attempt) {
    // Out of address space or mappings: free what is already garbage, then
    // retry, settling for a smaller reservation if we must (V8 does too).
    Err(_) => {
      free_garbage(env);
      attempt()
    }
    result => result,
  };
  let live = match live {
    Ok(live) => live,
    Err(e) => {
      mapping::forget_unclaimed();
      return Err(range_error(
        env,
        format!("WebAssembly.Memory(): could not allocate memory: {e:#}"),
      ));
    }
  };
  let mapping = mapping::claim(live.base())
    .ok_or_else(|| error(env, "wasmtime did not use our memory creator"))?;
  Ok((live, mapping))
}

/// Instantiates a memory module in a store and returns its memory.
fn memory_in(
  ctx: &mut wasmtime::StoreContextMut<'_, crate::runtime::store::Data>,
  module: &wasmtime::Module,
  shared: bool,
) -> wasmtime::Result<Handle> {
  // A JSPI store instantiates asynchronously (jspi.rs).
  let instance = crate::runtime::jspi::instantiate(&mut *ctx, module, &[])?;
  let export = crate::runtime::engine::MEMORY_EXPORT;
  let memory = if shared {
    instance
      .get_shared_memory(&mut *ctx, export)
      .map(Handle::Shared)
  } else {
    instance.get_memory(&mut *ctx, export).map(Handle::Local)
  };
  memory.ok_or_else(|| wasmtime::Error::msg("memory module has no memory"))
}

/// A `NativeMemory` for a memory of `store`, over `mapping`.
fn wrap_bound(env: &Env, live: Live, mapping: Arc<Mapping>) -> js::JsResult<sys::napi_value> {
  let shared = live.is_shared();
  // A shared memory's buffers can cross threads: finalizers only. A bound
  // one is released early only once its `NativeMemory` is collected, which
  // the store's token keeps alive (see `check`).
  new_native(env, live, mapping, shared, !shared)
    .map(|instance| instance.value)
    .map_err(|_| js::Pending)
}

/// The `NativeMemory` of a memory an instance of `cell`'s store defines and
/// exports.
pub fn exported(
  env: &Env,
  cell: &Rc<StoreCell>,
  memory: wasmtime::Memory,
) -> js::JsResult<sys::napi_value> {
  let base = cell
    .with(|ctx| memory.data_ptr(&*ctx))
    .map_err(|e| js::throw(env, &e))?;
  if let Some(existing) = tracked::bound_object(env, base) {
    return Ok(existing);
  }
  let mapping = mapping::claim(base)
    .ok_or_else(|| js::throw(env, "wasmtime did not use our memory creator"))?;
  let live = Live {
    store: cell.clone(),
    memory: Handle::Local(memory),
  };
  wrap_bound(env, live, mapping)
}

/// The `NativeMemory` of a shared memory an instance defines and exports.
pub fn exported_shared(env: &Env, memory: SharedMemory) -> js::JsResult<sys::napi_value> {
  if !buffer::shared_supported() {
    return Err(js::throw_type(env, SHARED_UNSUPPORTED));
  }
  let base = memory.data().as_ptr() as *mut u8;
  let mapping = mapping::claim(base)
    .ok_or_else(|| js::throw(env, "wasmtime did not use our memory creator"))?;
  let store = StoreCell::new(env).map_err(|e| js::throw(env, &e))?;
  let live = Live {
    store,
    memory: Handle::Shared(memory),
  };
  wrap_bound(env, live, mapping)
}

/// The `NativeMemory` of a shared memory made on another thread (for
/// transfer.rs): a new JS object over the same wasmtime memory and mapping.
pub fn from_shared(
  env: &Env,
  memory: SharedMemory,
  mapping: Arc<Mapping>,
) -> js::JsResult<sys::napi_value> {
  if !buffer::shared_supported() {
    return Err(js::throw_type(env, SHARED_UNSUPPORTED));
  }
  let store = StoreCell::new(env).map_err(|e| js::throw(env, &e))?;
  let live = Live {
    store,
    memory: Handle::Shared(memory),
  };
  wrap_bound(env, live, mapping)
}

impl NativeMemory {
  /// A shared memory's wasmtime handle and mapping (both may cross
  /// threads), for transfer.rs; `None` for any other memory.
  pub(crate) fn shared_parts(&self) -> Option<(SharedMemory, Arc<Mapping>)> {
    let t = self.tracked.borrow();
    match &t.live.as_ref()?.memory {
      Handle::Shared(m) => Some((m.clone(), t.mapping.clone())),
      Handle::Local(_) => None,
    }
  }

  /// The store this memory shares with instances, if it is bound.
  pub(crate) fn bound_store(&self) -> Option<Rc<StoreCell>> {
    let t = self.tracked.borrow();
    if !t.bound {
      return None;
    }
    t.live.as_ref().map(|l| l.store.clone())
  }

  /// The memory as an import for `cell`'s store: adopted into it first if
  /// unbound (a memory of that store over the same mapping, so existing
  /// buffers stay valid). Shared memories link into any store.
  ///
  /// # Errors
  /// Fails if the memory was released or wasmtime refuses the adoption.
  pub(crate) fn extern_in(&self, env: &Env, cell: &Rc<StoreCell>) -> napi::Result<Extern> {
    let mut t = self.tracked.borrow_mut();
    let Some(live) = t.live.as_ref() else {
      return Err(error(env, "memory has been released"));
    };
    match &live.memory {
      Handle::Shared(m) => return Ok(Extern::SharedMemory(m.clone())),
      Handle::Local(m) if t.bound => return Ok(Extern::Memory(*m)),
      Handle::Local(_) => {}
    }
    // The memory's type as of now: its current size is its minimum.
    let ty = live.ty();
    let mut builder = MemoryTypeBuilder::new();
    builder
      .min(live.size())
      .max(ty.maximum())
      .memory64(ty.is_64());
    let current = builder.build().map_err(|e| error(env, format!("{e:#}")))?;
    // Compiled for the store's engine (a sandbox's may not be the main one).
    let engine = cell
      .with(|ctx| ctx.engine().clone())
      .map_err(|e| error(env, e))?;
    let module =
      crate::runtime::engine::memory_module(&engine, &current).map_err(|e| error(env, e))?;
    let adopted = mapping::adopting(t.mapping.clone(), || {
      cell.with(|ctx| memory_in(ctx, &module, false))
    })
    .map_err(|e| error(env, e))?
    .map_err(|e| error(env, e))?
    .map_err(|e| {
      error(
        env,
        format!("cannot share this memory with the instance: {e:#}"),
      )
    })?;
    let Handle::Local(memory) = adopted else {
      return Err(error(env, "adopted memory is not local"));
    };
    t.live = Some(Live {
      store: cell.clone(),
      memory: Handle::Local(memory),
    });
    t.bound = true;
    drop(t);
    tracked::track_bound(&self.tracked);
    Ok(Extern::Memory(memory))
  }
}

#[napi]
impl NativeMemory {
  /// Grows the memory by `delta_pages` and returns its previous size in
  /// pages, as wasmtime's `Memory::grow` does. Every successful grow,
  /// `grow(0)` included, detaches the previous ArrayBuffer (a shared
  /// memory's SharedArrayBuffers stay as they are).
  ///
  /// # Errors
  /// `TypeError` for a delta that is not a whole page count, `RangeError`
  /// when the memory cannot grow (past its maximum, past the page limit, or
  /// out of memory); the buffer is then untouched.
  #[napi]
  pub fn grow(&self, env: Env, delta_pages: f64) -> napi::Result<f64> {
    let delta = pages(&env, "delta", delta_pages, u64::MAX)?;
    let mut t = self.tracked.borrow_mut();
    let Some(live) = t.live.as_mut() else {
      return Err(error(&env, "memory has been released"));
    };
    let old_pages = match live.grow(delta) {
      Ok(old) => old,
      Err(_) => {
        let over_max = live
          .ty()
          .maximum()
          .is_some_and(|max| live.size().saturating_add(delta) > max);
        let reason = if over_max {
          "Maximum memory size exceeded"
        } else {
          "Unable to grow instance memory"
        };
        return Err(range_error(
          &env,
          format!("WebAssembly.Memory.grow(): {reason}"),
        ));
      }
    };
    let shared = live.is_shared();
    if !shared {
      if let Some(old) = t.attached_buffer(&env) {
        buffer::detach(&env, old)?;
      }
    }
    let grown = t.forget_buffer(&env);
    drop(t);
    reclaim::note_growth(&env, grown);
    Ok(old_pages as f64)
  }

  /// The buffer over the memory's current bytes: the one handed out last if
  /// it still covers them (and, for an ArrayBuffer, is attached), otherwise
  /// a new one.
  ///
  /// # Errors
  /// Fails if Node-API cannot create the buffer.
  #[napi]
  pub fn buffer<'env>(&self, env: &'env Env) -> napi::Result<Unknown<'env>> {
    let mut t = self.tracked.borrow_mut();
    let Some(live) = t.live.as_ref() else {
      return Err(error(env, "memory has been released"));
    };
    let shared = live.is_shared();
    let len = t.mapping.accessible();
    let current = if shared {
      t.buffer
        .get(env)
        .filter(|&v| shared_byte_length(env, v) == Some(len))
    } else {
      t.attached_buffer(env)
    };
    let value = match current {
      Some(value) => value,
      None => {
        let value = if shared {
          buffer::new_shared_array_buffer(env, &t.mapping, len)?
        } else {
          buffer::new_array_buffer(env, &t.mapping, len)?
        };
        t.buffer.clear(env);
        // Held strongly (see `Tracked::buffer`); a shared memory's only
        // weakly: it is never released early.
        t.buffer = Ref::new(env, value, !shared)?;
        value
      }
    };
    // SAFETY: `value` is a live buffer handle of this call's scope.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
  }

  /// Zeroes `byte_length` bytes from `byte_offset` and gives their pages
  /// back to the operating system; the memory keeps its size (the
  /// memory-control proposal's `discard`).
  ///
  /// # Errors
  /// `TypeError` for values that are not whole numbers, `RangeError` unless
  /// both are multiples of the 64 KiB page size and the range is inside the
  /// memory.
  #[napi]
  pub fn discard(&self, env: Env, byte_offset: f64, byte_length: f64) -> napi::Result<()> {
    let offset = pages(&env, "byteOffset", byte_offset, u64::MAX)?;
    let length = pages(&env, "byteLength", byte_length, u64::MAX)?;
    let t = self.tracked.borrow();
    if t.live.is_none() {
      return Err(error(&env, "memory has been released"));
    }
    let page = WASM_PAGE as u64;
    let size = t.mapping.accessible() as u64;
    if offset % page != 0 || length % page != 0 {
      return Err(range_error(
        &env,
        "WebAssembly.Memory.discard(): byteOffset and byteLength must be multiples of 65536",
      ));
    }
    if offset.checked_add(length).is_none_or(|end| end > size) {
      return Err(range_error(
        &env,
        "WebAssembly.Memory.discard(): the range is outside the memory",
      ));
    }
    // SAFETY: the range is inside the accessible memory, and discarding is
    // a store of zeroes, which every view of the memory may observe.
    unsafe { t.mapping.zero_range(offset as usize, length as usize) }.map_err(|e| error(&env, e))
  }

  /// `[maximum pages or null, 64-bit, shared]` (for memories an instance
  /// exports, whose type the JS side did not choose).
  #[napi]
  pub fn describe(&self) -> (Option<f64>, bool, bool) {
    let t = self.tracked.borrow();
    match t.live.as_ref() {
      Some(live) => {
        let ty = live.ty();
        (ty.maximum().map(|m| m as f64), ty.is_64(), live.is_shared())
      }
      None => (None, false, false),
    }
  }

  /// The `NativeStore` token of the store this memory is bound to.
  #[napi]
  pub fn token<'env>(&self, env: &'env Env) -> napi::Result<Option<Unknown<'env>>> {
    let cell = match self.tracked.borrow().live.as_ref() {
      Some(live) => live.store.clone(),
      None => return Ok(None),
    };
    crate::api::instance::token_of(env, &cell)
  }

  /// The memory's size in bytes.
  #[napi]
  pub fn byte_length(&self) -> f64 {
    self.tracked.borrow().mapping.accessible() as f64
  }

  /// The reservation holding the bytes (for WASI calls linked natively).
  pub(crate) fn mapping(&self) -> Arc<Mapping> {
    self.tracked.borrow().mapping.clone()
  }

  /// The address of the first byte (for tests that prove it never moves).
  #[napi]
  pub fn base_address(&self) -> f64 {
    self.tracked.borrow().mapping.base() as usize as f64
  }
}

/// A SharedArrayBuffer's length (None for anything else).
fn shared_byte_length(env: &Env, value: sys::napi_value) -> Option<usize> {
  let mut data = std::ptr::null_mut();
  let mut len = 0;
  // SAFETY: `value` is a live handle; Node-API checks its type.
  let status = unsafe { sys::napi_get_arraybuffer_info(env.raw(), value, &mut data, &mut len) };
  (status == sys::Status::napi_ok).then_some(len)
}

impl ObjectFinalize for NativeMemory {
  fn finalize(self, env: Env) -> napi::Result<()> {
    let mut t = self.tracked.borrow_mut();
    if !t.released() {
      // The buffers' finalizers free the bytes; we only let go of ours.
      t.retire(&env);
      drop(t);
      reclaim::note_retired();
    }
    Ok(())
  }
}

/// Releases every memory that JS can no longer reach; returns how many
/// were unmapped at once. Exposed for tests (`gc()` then `sweep()`).
#[napi]
pub fn sweep(env: Env) -> u32 {
  reclaim::sweep(&env) as u32
}

/// Lends sweeps the process's `gc` (when started with `--expose-gc`), for
/// when they must know whether a buffer they stopped holding is still
/// reachable; without it they ask V8 directly (memory/full_gc.rs).
///
/// # Errors
/// `TypeError` if `collector` is not a function.
#[napi]
pub fn set_collector(env: Env, collector: Unknown) -> napi::Result<()> {
  use napi::JsValue;
  if collector.get_type()? != napi::ValueType::Function {
    return Err(type_error(&env, "collector must be a function"));
  }
  reclaim::set_collector(&env, collector.raw())
}

/// The size of a wasm page in bytes.
#[napi]
pub const PAGE_SIZE: u32 = WASM_PAGE as u32;
