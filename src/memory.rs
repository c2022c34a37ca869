//! The native half of `WebAssembly.Memory`: a wasmtime memory in a store of
//! its own, and the external buffers that alias it (`buffer.rs`).
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

use crate::buffer;
use crate::error::{error, range_error, type_error};
use crate::js;
use crate::mapping::{self, Mapping, MAX_PAGES_32, MAX_PAGES_64, WASM_PAGE};
use crate::pool::Pool;
use crate::reclaim::{self, Reclaimable, Ref, Verdict};
use crate::store::StoreCell;

/// What a live memory owns.
struct Live {
  /// The store the memory lives in: a private one until an instance
  /// imports the memory; dropping the last `Rc` frees wasmtime's state.
  store: Rc<StoreCell>,
  memory: Handle,
}

/// wasmtime's handle on the memory: shared memories have their own type.
enum Handle {
  Local(wasmtime::Memory),
  Shared(SharedMemory),
}

impl Live {
  // A store is busy only while wasm of it runs, and then its memories are
  // reached through the running import (`StoreCell::with`): the fallbacks
  // below are never taken.
  fn ty(&self) -> MemoryType {
    match &self.memory {
      Handle::Local(m) => self
        .store
        .with(|ctx| m.ty(&*ctx))
        .unwrap_or_else(|_| MemoryType::new(0, None)),
      Handle::Shared(m) => m.ty(),
    }
  }

  /// The size in pages.
  fn size(&self) -> u64 {
    match &self.memory {
      Handle::Local(m) => self.store.with(|ctx| m.size(&*ctx)).unwrap_or(0),
      Handle::Shared(m) => m.size(),
    }
  }

  fn base(&self) -> *mut u8 {
    match &self.memory {
      Handle::Local(m) => self
        .store
        .with(|ctx| m.data_ptr(&*ctx))
        .unwrap_or(std::ptr::null_mut()),
      Handle::Shared(m) => m.data().as_ptr() as *mut u8,
    }
  }

  /// Grows by `delta` pages; returns the previous size in pages.
  fn grow(&mut self, delta: u64) -> wasmtime::Result<u64> {
    match &self.memory {
      Handle::Local(m) => self
        .store
        .with(|ctx| m.grow(&mut *ctx, delta))
        .map_err(wasmtime::Error::msg)?,
      Handle::Shared(m) => m.grow(delta),
    }
  }

  fn is_shared(&self) -> bool {
    matches!(self.memory, Handle::Shared(_))
  }
}

/// A memory type, as the recycling pool keys it.
#[derive(PartialEq)]
struct Shape {
  minimum: u64,
  maximum: Option<u64>,
  is_64: bool,
  /// Never true for a parked memory (shared ones are not recycled), so a
  /// shared request never takes a non-shared memory.
  shared: bool,
}

impl Shape {
  fn of(ty: &MemoryType) -> Shape {
    Shape {
      minimum: ty.minimum(),
      maximum: ty.maximum(),
      is_64: ty.is_64(),
      shared: ty.is_shared(),
    }
  }
}

thread_local! {
  /// Released memories, zeroed, waiting to be reused by a memory of the
  /// same type and size.
  static POOL: RefCell<Pool<Shape, (Live, Arc<Mapping>)>> = const { RefCell::new(Pool::new()) };
}

/// Frees what garbage holds (collection, sweep, parked memories): before
/// trying an allocation that failed once more.
pub fn free_garbage(env: &Env) {
  mapping::forget_unclaimed();
  reclaim::collect_and_sweep(env);
  // After the sweep, which parks what it frees.
  drain_pool();
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
  /// Imported by (or defined in) an instance: its store is shared, so it is
  /// never recycled, and released early only once its `NativeMemory` (which
  /// the store's token keeps alive) is collected.
  bound: bool,
}

impl Tracked {
  /// The current buffer if it is still attached; notes a foreign detach.
  fn attached_buffer(&mut self, env: &Env) -> Option<sys::napi_value> {
    let value = self.buffer.get(env)?;
    if buffer::is_detached(env, value) {
      self.escaped = true;
      self.buffer.clear(env);
      return None;
    }
    Some(value)
  }

  /// After a grow (the old buffer detached): forgets the buffer, so that
  /// the next `buffer` makes one of the new size, and accounts the new
  /// size. Returns the bytes gained.
  fn forget_buffer(&mut self, env: &Env) -> usize {
    self.buffer.clear(env);
    let before = self.accounted;
    self.account(env);
    self.accounted.saturating_sub(before)
  }

  fn account(&mut self, env: &Env) {
    let now = self.mapping.accessible();
    let change = now as i64 - self.accounted as i64;
    if change != 0 {
      reclaim::adjust_external_memory(env, change);
    }
    self.accounted = now;
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
    // `Arc` never touch the bytes. A bound memory's store is unreachable too:
    // every JS object that can enter it holds the store's token, and the
    // token holds the `Memory` (index.js), which is gone; the store may
    // linger until finalizers run, but nothing can run wasm in it.
    if let Some(live) = live.filter(|_| !self.bound) {
      let ty = live.ty();
      // Reusable only at its initial size: wasm memories never shrink.
      // SAFETY: unreachable, as above.
      // Not when address space is short: parked memories keep their
      // reservations.
      if !live.is_shared()
        && live.size() == ty.minimum()
        && !mapping::under_pressure()
        && unsafe { self.mapping.zero() }.is_ok()
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
    // SAFETY: unreachable, as above; a private store is gone, a bound one
    // can no longer run.
    unsafe { self.mapping.release() };
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

  fn bytes(&self) -> usize {
    self.accounted
  }
}

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
  let recycled = POOL.with(|p| p.borrow_mut().take(&Shape::of(&ty)));
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
    BOUND.with(|b| b.borrow_mut().insert(&tracked));
  }
  reclaim::track(env, tracked, bytes);
  Ok(instance)
}

/// Why `shared: true` fails on Node versions without the Node-API for it.
const SHARED_UNSUPPORTED: &str = "WebAssembly.Memory(): shared memories need a Node.js whose \
  Node-API can create a SharedArrayBuffer over native memory \
  (node_api_create_external_sharedarraybuffer: Node 22.23+, 24.21+); this one cannot";

/// Records the longest ArrayBuffer this Node can create
/// (`buffer.constants.MAX_LENGTH`): longer memories get a RangeError from
/// `buffer`, never a truncated buffer.
#[napi]
pub fn set_max_buffer_length(bytes: f64) {
  if bytes.is_finite() && bytes >= 0.0 {
    buffer::set_max_length(bytes as usize);
  }
}

/// The address-space budget: `[reserved, budget, mappings, mapping budget]`
/// (for tests and the benchmark).
#[napi]
pub fn budget_use() -> Vec<f64> {
  let (reserved, bytes, maps, max_maps) = mapping::budget_use();
  vec![reserved as f64, bytes as f64, maps as f64, max_maps as f64]
}

/// The memory layout of this process: `"guard"` or `"compact"` (engine.rs).
#[napi]
pub fn memory_layout() -> &'static str {
  crate::engine::memories().name()
}

/// Reads an inaccessible page: a real SIGSEGV in native code that is not
/// wasm, which the signal handlers must not swallow (signals.test.js).
#[napi]
pub fn fault_for_test() -> u8 {
  // SAFETY: a fresh anonymous PROT_NONE page, mapped only to be read.
  let page = unsafe {
    libc::mmap(
      std::ptr::null_mut(),
      mapping::host_page(),
      libc::PROT_NONE,
      libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
      -1,
      0,
    )
  };
  if page == libc::MAP_FAILED {
    return 0;
  }
  // SAFETY: the pointer is non-null, aligned and mapped; the read faults on
  // purpose and the process dies of SIGSEGV before it returns.
  unsafe { std::ptr::read_volatile(page.cast::<u8>()) }
}

/// True if this Node can give shared memories a SharedArrayBuffer.
#[napi]
pub fn shared_supported() -> bool {
  buffer::shared_supported()
}

/// A new memory of type `ty`: the one export of its memory module,
/// instantiated in a store of its own.
fn instantiate(env: &Env, ty: &MemoryType) -> napi::Result<(Live, Arc<Mapping>)> {
  // The engine of the namespace that asked (sandbox.rs).
  let engine = crate::sandbox::current_engine().map_err(|e| error(env, e))?;
  let module = crate::engine::memory_module(engine, ty).map_err(|e| error(env, e))?;
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
  ctx: &mut wasmtime::StoreContextMut<'_, crate::store::Data>,
  module: &wasmtime::Module,
  shared: bool,
) -> wasmtime::Result<Handle> {
  // A JSPI store instantiates asynchronously (jspi.rs).
  let instance = crate::jspi::instantiate(&mut *ctx, module, &[])?;
  let export = crate::engine::MEMORY_EXPORT;
  let memory = if shared {
    instance
      .get_shared_memory(&mut *ctx, export)
      .map(Handle::Shared)
  } else {
    instance.get_memory(&mut *ctx, export).map(Handle::Local)
  };
  memory.ok_or_else(|| wasmtime::Error::msg("memory module has no memory"))
}

thread_local! {
  /// Memories whose store is shared with instances: wasm may grow them, and
  /// their JS objects must then see new buffers.
  static BOUND: RefCell<Bound> = RefCell::new(Bound::default());
  /// `mapping::grow_count()` when `BOUND` was last synced.
  static SYNCED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Bound memories by base address (a live mapping's base is unique).
#[derive(Default)]
struct Bound {
  by_base: std::collections::HashMap<usize, std::rc::Weak<RefCell<Tracked>>>,
  /// Prune released entries when the map reaches this size (amortised).
  prune_at: usize,
}

impl Bound {
  fn insert(&mut self, tracked: &Rc<RefCell<Tracked>>) {
    if self.by_base.len() >= self.prune_at {
      self.by_base.retain(|_, w| live_tracked(w).is_some());
      self.prune_at = (self.by_base.len() * 2).max(64);
    }
    let base = tracked.borrow().mapping.base() as usize;
    self.by_base.insert(base, Rc::downgrade(tracked));
  }
}

fn live_tracked(weak: &std::rc::Weak<RefCell<Tracked>>) -> Option<Rc<RefCell<Tracked>>> {
  weak
    .upgrade()
    .filter(|t| t.try_borrow().map_or(true, |t| !t.released()))
}

/// Detaches the buffers of bound memories that wasm grew since (the spec's
/// "refresh the memory buffer"). Called when a wasm call returns and before
/// wasm calls out to JS; costs one counter read when nothing grew.
pub fn sync_grown(env: &Env) {
  let now = mapping::grow_count();
  if SYNCED.with(|s| s.replace(now)) == now {
    return;
  }
  let bound: Vec<_> = BOUND.with(|b| {
    b.borrow()
      .by_base
      .values()
      .filter_map(live_tracked)
      .collect()
  });
  for tracked in bound {
    let Ok(mut t) = tracked.try_borrow_mut() else {
      continue;
    };
    let shared = t.live.as_ref().is_some_and(Live::is_shared);
    if shared || t.mapping.accessible() == t.accounted {
      continue;
    }
    if let Some(old) = t.attached_buffer(env) {
      let _ = buffer::detach(env, old);
    }
    let grown = t.forget_buffer(env);
    drop(t);
    reclaim::note_growth(env, grown);
  }
}

/// The memories an instance defines but does not export: only wasm of its
/// store can reach them, so they can go (early, like unreachable
/// `Memory`s) once the store's token is collected.
struct Internal {
  /// The store's `NativeStore` token (weak).
  token: Ref,
  mappings: Vec<Arc<Mapping>>,
  done: bool,
}

impl Reclaimable for Internal {
  fn released(&self) -> bool {
    self.done
  }

  fn check(&mut self, env: &Env) -> Verdict {
    if self.token.get(env).is_some() {
      Verdict::Live
    } else {
      Verdict::Unreachable
    }
  }

  fn confirmed(&mut self, _env: &Env) -> bool {
    true
  }

  fn release(&mut self, env: &Env) {
    for mapping in &self.mappings {
      // SAFETY: every JS object that can enter the store holds its token,
      // which is collected: no wasm can run in the store again, and these
      // memories were never exposed to JS.
      unsafe { mapping.release() };
    }
    self.retire(env);
  }

  fn retire(&mut self, env: &Env) {
    self.token.clear(env);
    self.mappings.clear();
    self.done = true;
  }

  fn bytes(&self) -> usize {
    self.mappings.iter().map(|m| m.accessible()).sum()
  }
}

/// Hands the memories the last instantiation created and nobody claimed
/// (those its instance does not export) to the reclaimer, tied to `token`.
pub fn track_internal(env: &Env, token: sys::napi_value) {
  let mappings = mapping::take_unclaimed();
  if mappings.is_empty() {
    return;
  }
  let Ok(token) = Ref::new(env, token, false) else {
    return;
  };
  let bytes = mappings.iter().map(|m| m.accessible()).sum();
  let internal = Internal {
    token,
    mappings,
    done: false,
  };
  reclaim::track(env, Rc::new(RefCell::new(internal)), bytes);
}

/// The NativeMemory already made for the bound memory at `base`, if its JS
/// object is alive (one wasm memory, one JS object).
fn bound_object(env: &Env, base: *mut u8) -> Option<sys::napi_value> {
  let tracked = BOUND.with(|b| {
    b.borrow()
      .by_base
      .get(&(base as usize))
      .and_then(live_tracked)
  })?;
  let t = tracked.try_borrow().ok()?;
  if t.mapping.base() != base {
    return None;
  }
  t.handle.get(env)
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
  if let Some(existing) = bound_object(env, base) {
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
    let module = crate::engine::memory_module(&engine, &current).map_err(|e| error(env, e))?;
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
    BOUND.with(|b| b.borrow_mut().insert(&self.tracked));
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
    crate::instance::token_of(env, &cell)
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
