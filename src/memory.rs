//! The native half of `WebAssembly.Memory`: a wasmtime memory in a store of
//! its own, and the external `ArrayBuffer`s that alias it.
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
//!   *escaped*: only the finalizers may free it.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::{ClassInstance, JavaScriptClassExt, ObjectFinalize, Unknown};
use napi::{sys, Env};
use napi_derive::napi;
use wasmtime::{MemoryType, Store};

use crate::error::{check, error, range_error, type_error};
use crate::mapping::{self, Mapping, MAX_PAGES_32, WASM_PAGE};
use crate::pool::Pool;
use crate::reclaim::{self, Reclaimable, Ref, Verdict};

/// What a live memory owns.
struct Live {
  /// The store the memory lives in; dropping it frees wasmtime's state.
  store: Store<()>,
  memory: wasmtime::Memory,
}

/// A memory type, as the recycling pool keys it.
#[derive(PartialEq)]
struct Shape {
  minimum: u64,
  maximum: Option<u64>,
}

impl Shape {
  fn of(ty: &MemoryType) -> Shape {
    Shape {
      minimum: ty.minimum(),
      maximum: ty.maximum(),
    }
  }
}

thread_local! {
  /// Released memories, zeroed, waiting to be reused by a memory of the
  /// same type and size.
  static POOL: RefCell<Pool<Shape, (Live, Arc<Mapping>)>> = const { RefCell::new(Pool::new()) };
}

/// Unmaps every parked memory (when the budget runs short).
fn drain_pool() {
  for (live, mapping) in POOL.with(|p| p.borrow_mut().drain()) {
    drop(live);
    // SAFETY: parked memories were unreachable when parked (see `release`)
    // and nothing has handed them out since.
    unsafe { mapping.release() };
  }
}

/// A memory's state, shared by its JS wrapper and the reclaimer.
struct Tracked {
  live: Option<Live>,
  mapping: Arc<Mapping>,
  /// The `NativeMemory` JS object (weak).
  handle: Ref,
  /// The buffer handed out last, unless we detached it since: strong while
  /// the `NativeMemory` lives, weak once a sweep has seen it orphaned.
  buffer: Ref,
  /// Some buffer was detached by someone else (a byte stream, or
  /// `ArrayBuffer.prototype.transfer`): its bytes may live on in a buffer we
  /// cannot see, so only the finalizers may free this memory.
  escaped: bool,
  /// Bytes reported to V8 with `napi_adjust_external_memory`.
  accounted: usize,
}

impl Tracked {
  /// The current buffer if it is still attached; notes a foreign detach.
  fn attached_buffer(&mut self, env: &Env) -> Option<sys::napi_value> {
    let value = self.buffer.get(env)?;
    if is_detached(env, value) {
      self.escaped = true;
      self.buffer.clear(env);
      return None;
    }
    Some(value)
  }

  fn account(&mut self, env: &Env) {
    let now = self.mapping.accessible();
    let change = now as i64 - self.accounted as i64;
    if change != 0 {
      reclaim::adjust_external_memory(env, change);
    }
    self.accounted = now;
  }

  /// Drops the store and the references; the bytes stay until the last
  /// buffer's finalizer drops the last `Arc<Mapping>`.
  fn retire(&mut self, env: &Env) {
    self.live = None;
    self.handle.clear(env);
    self.buffer.clear(env);
    let accounted = std::mem::take(&mut self.accounted);
    reclaim::adjust_external_memory(env, -(accounted as i64));
  }
}

impl Reclaimable for Tracked {
  fn released(&self) -> bool {
    self.live.is_none()
  }

  fn check(&mut self, env: &Env) -> Verdict {
    if self.escaped || self.handle.get(env).is_some() {
      return Verdict::Live;
    }
    // The `Memory` is gone. We held its last buffer until now, so we can
    // still see whether anyone detached (and so maybe moved) it.
    if self.attached_buffer(env).is_some() {
      self.buffer.weaken(env);
      return Verdict::Confirm;
    }
    if self.escaped {
      // Detached by someone else: its bytes may live on elsewhere.
      self.retire(env);
      return Verdict::Live;
    }
    Verdict::Unreachable
  }

  fn confirmed(&mut self, env: &Env) -> bool {
    self.buffer.get(env).is_none()
  }

  fn release(&mut self, env: &Env) {
    let live = self.live.take();
    self.retire(env);
    // From here on, no JS object can reach the bytes: the `NativeMemory` was
    // collected; its last buffer was attached when we let go of it and a
    // collection with no user code in between freed it (or there was none);
    // older buffers were detached by us. The finalizers that still hold the
    // `Arc` never touch the bytes.
    if let Some(mut live) = live {
      let ty = live.memory.ty(&live.store);
      // Reusable only at its initial size: wasm memories never shrink.
      // SAFETY: unreachable, as above.
      if live.memory.size(&mut live.store) == ty.minimum() && unsafe { self.mapping.zero() }.is_ok()
      {
        let bytes = self.mapping.accessible();
        let parked = (live, self.mapping.clone());
        if POOL
          .with(|p| p.borrow_mut().put(Shape::of(&ty), parked, bytes))
          .is_none()
        {
          return;
        }
      }
    }
    // SAFETY: unreachable, as above, and the store is gone.
    unsafe { self.mapping.release() };
  }

  fn retire(&mut self, env: &Env) {
    Tracked::retire(self, env);
  }

  fn bytes(&self) -> usize {
    self.accounted
  }
}

fn is_detached(env: &Env, value: sys::napi_value) -> bool {
  let mut detached = false;
  // SAFETY: `value` is a live ArrayBuffer handle of the current scope.
  unsafe { sys::napi_is_detached_arraybuffer(env.raw(), value, &mut detached) };
  detached
}

/// Runs on the JS thread when V8 has freed an external buffer.
unsafe extern "C" fn finalize_buffer(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
  // SAFETY: `hint` is the `Box<Arc<Mapping>>` leaked in `new_buffer`, and
  // Node calls each finalizer exactly once.
  drop(unsafe { Box::from_raw(hint.cast::<Arc<Mapping>>()) });
}

/// Makes an external ArrayBuffer over the first `len` bytes of `mapping`.
fn new_buffer(env: &Env, mapping: &Arc<Mapping>, len: usize) -> napi::Result<sys::napi_value> {
  let hint = Box::into_raw(Box::new(mapping.clone()));
  let mut value = ptr::null_mut();
  // SAFETY: `base` is valid for `len` bytes (len <= accessible) for as long
  // as the Arc in `hint` lives, which the finalizer drops only when V8 has
  // freed the buffer. `base` is never null, so Node does not detach at once.
  let status = unsafe {
    sys::napi_create_external_arraybuffer(
      env.raw(),
      mapping.base().cast(),
      len,
      Some(finalize_buffer),
      hint.cast(),
      &mut value,
    )
  };
  if status != sys::Status::napi_ok {
    // SAFETY: the call failed, so Node took no ownership of `hint`.
    drop(unsafe { Box::from_raw(hint) });
    if status == sys::Status::napi_no_external_buffers_allowed {
      return Err(error(
        env,
        "this runtime forbids external ArrayBuffers, so wasm memory cannot be \
         exposed without copying (and a copy would not alias the memory)",
      ));
    }
    check(env, status, "napi_create_external_arraybuffer")?;
  }
  Ok(value)
}

/// Checks that `value` is a whole number of pages in `0..=limit`.
fn pages(env: &Env, what: &str, value: f64, limit: u64) -> napi::Result<u64> {
  if !value.is_finite() || value.fract() != 0.0 || value < 0.0 {
    return Err(type_error(
      env,
      format!("{what} must be a non-negative integer, got {value}"),
    ));
  }
  if value > limit as f64 {
    return Err(range_error(
      env,
      format!("{what}: value {value} is above the upper bound {limit}"),
    ));
  }
  Ok(value as u64)
}

/// The native side of one `WebAssembly.Memory`. The JS shim (`index.js`)
/// owns the spec's conversions; this class re-checks everything it is given.
#[napi(custom_finalize)]
pub struct NativeMemory {
  tracked: Rc<RefCell<Tracked>>,
}

/// Creates a memory of `initial_pages` that may grow to `maximum_pages`.
///
/// # Errors
/// `TypeError` for values that are not whole page counts or for `shared`
/// (not available on this runtime yet), `RangeError` past 65536 pages, for
/// `maximum < initial`, or when the memory cannot be allocated.
#[napi]
pub fn create_memory<'env>(
  env: &'env Env,
  initial_pages: f64,
  maximum_pages: Option<f64>,
  shared: Option<bool>,
) -> napi::Result<ClassInstance<'env, NativeMemory>> {
  let initial = pages(env, "initial", initial_pages, MAX_PAGES_32)?;
  let maximum = match maximum_pages {
    Some(m) => Some(pages(env, "maximum", m, MAX_PAGES_32)?),
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
  if shared == Some(true) {
    return Err(type_error(
      env,
      "shared memories are not supported: Node-API on this Node version cannot \
       create a SharedArrayBuffer over native memory",
    ));
  }
  // u32 conversions cannot fail: both are <= 65536.
  let ty = MemoryType::new(initial as u32, maximum.map(|m| m as u32));
  let recycled = POOL.with(|p| p.borrow_mut().take(&Shape::of(&ty)));
  let (live, mapping) = match recycled {
    Some(parked) => parked,
    None => instantiate(env, &ty)?,
  };
  let bytes = mapping.accessible();
  let tracked = Rc::new(RefCell::new(Tracked {
    live: Some(live),
    mapping,
    handle: Ref::none(),
    buffer: Ref::none(),
    escaped: false,
    accounted: 0,
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
  reclaim::track(env, tracked, bytes);
  Ok(instance)
}

/// A new memory of type `ty`: the one export of its memory module,
/// instantiated in a store of its own.
fn instantiate(env: &Env, ty: &MemoryType) -> napi::Result<(Live, Arc<Mapping>)> {
  let engine = crate::engine::engine().map_err(|e| error(env, e))?;
  let module = crate::engine::memory_module(ty).map_err(|e| error(env, e))?;
  let attempt = || -> wasmtime::Result<Live> {
    let mut store = Store::new(engine, ());
    let instance = wasmtime::Instance::new(&mut store, &module, &[])?;
    let memory = instance
      .get_memory(&mut store, crate::engine::MEMORY_EXPORT)
      .ok_or_else(|| wasmtime::Error::msg("memory module has no memory"))?;
    Ok(Live { store, memory })
  };
  let live = match mapping::without_shrinking(attempt) {
    // Out of address space or mappings: free what is already garbage, then
    // retry, settling for a smaller reservation if we must (V8 does too).
    Err(_) => {
      mapping::forget_unclaimed();
      drain_pool();
      reclaim::collect_and_sweep(env);
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
  let base = live.memory.data_ptr(&live.store);
  let mapping =
    mapping::claim(base).ok_or_else(|| error(env, "wasmtime did not use our memory creator"))?;
  Ok((live, mapping))
}

#[napi]
impl NativeMemory {
  /// Grows the memory by `delta_pages` and returns its previous size in
  /// pages, as wasmtime's `Memory::grow` does. Every successful grow,
  /// `grow(0)` included, detaches the previous buffer.
  ///
  /// # Errors
  /// `TypeError` for a delta that is not a whole page count, `RangeError`
  /// when the memory cannot grow (past its maximum, past 65536 pages, or out
  /// of memory); the buffer is then untouched.
  #[napi]
  pub fn grow(&self, env: Env, delta_pages: f64) -> napi::Result<f64> {
    let delta = pages(&env, "delta", delta_pages, u32::MAX as u64)?;
    let mut t = self.tracked.borrow_mut();
    let Tracked { live, .. } = &mut *t;
    let Some(live) = live else {
      return Err(error(&env, "memory has been released"));
    };
    let old_pages = match live.memory.grow(&mut live.store, delta) {
      Ok(old) => old,
      Err(_) => {
        let ty = live.memory.ty(&live.store);
        let size = live.memory.size(&live.store);
        let over_max = ty
          .maximum()
          .is_some_and(|max| size.saturating_add(delta) > max);
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
    if let Some(old) = t.attached_buffer(&env) {
      // SAFETY: `old` is a live, attached external ArrayBuffer we created.
      let status = unsafe { sys::napi_detach_arraybuffer(env.raw(), old) };
      check(&env, status, "napi_detach_arraybuffer")?;
    }
    t.buffer.clear(&env);
    let before = t.accounted;
    t.account(&env);
    let grown = t.accounted.saturating_sub(before);
    drop(t);
    reclaim::note_growth(&env, grown);
    Ok(old_pages as f64)
  }

  /// The buffer over the memory's current bytes: the one handed out last if
  /// it is still attached, otherwise a new one.
  ///
  /// # Errors
  /// Fails if Node-API cannot create an external ArrayBuffer.
  #[napi]
  pub fn buffer<'env>(&self, env: &'env Env) -> napi::Result<Unknown<'env>> {
    let mut t = self.tracked.borrow_mut();
    if t.live.is_none() {
      return Err(error(env, "memory has been released"));
    }
    let len = t.mapping.accessible();
    let value = match t.attached_buffer(env) {
      Some(value) => value,
      None => {
        let value = new_buffer(env, &t.mapping, len)?;
        t.buffer.clear(env);
        t.buffer = Ref::new(env, value, true)?;
        value
      }
    };
    // SAFETY: `value` is a live ArrayBuffer handle of this call's scope.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
  }

  /// The memory's size in bytes.
  #[napi]
  pub fn byte_length(&self) -> f64 {
    self.tracked.borrow().mapping.accessible() as f64
  }

  /// The address of the first byte (for tests that prove it never moves).
  #[napi]
  pub fn base_address(&self) -> f64 {
    self.tracked.borrow().mapping.base() as usize as f64
  }
}

impl ObjectFinalize for NativeMemory {
  fn finalize(self, env: Env) -> napi::Result<()> {
    let mut t = self.tracked.borrow_mut();
    if !t.released() {
      // The buffers' finalizers free the bytes; we only let go of ours.
      t.retire(&env);
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

/// Sets the function that sweeps call to run a full garbage collection, when
/// they must know whether a buffer they stopped holding is still reachable.
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
