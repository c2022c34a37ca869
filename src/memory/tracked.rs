//! A memory's state, shared by its `NativeMemory` (api/memory.rs) and the
//! reclaimer: the store that holds it, its mapping, the buffer handed out
//! last and what was reported to V8; memories parked for reuse; and bound
//! memories (shared with instances), whose buffers follow growth by wasm.
//! Why the bytes outlive every buffer: api/memory.rs, "Memory and safety".

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use napi::{sys, Env};
use wasmtime::{MemoryType, SharedMemory};

use crate::memory::budget;
use crate::memory::buffer;
use crate::memory::mapping::{self, Mapping};
use crate::memory::pool::Pool;
use crate::memory::reclaim::{self, Reclaimable, Ref, Verdict};
use crate::runtime::store::StoreCell;

/// What a live memory owns.
pub(crate) struct Live {
  /// The store the memory lives in: a private one until an instance
  /// imports the memory; dropping the last `Rc` frees wasmtime's state.
  pub(crate) store: Rc<StoreCell>,
  pub(crate) memory: Handle,
}

/// wasmtime's handle on the memory: shared memories have their own type.
pub(crate) enum Handle {
  Local(wasmtime::Memory),
  Shared(SharedMemory),
}

impl Live {
  // A store is busy only while wasm of it runs, and then its memories are
  // reached through the running import (`StoreCell::with`): the fallbacks
  // below are never taken.
  pub(crate) fn ty(&self) -> MemoryType {
    match &self.memory {
      Handle::Local(m) => self
        .store
        .with(|ctx| m.ty(&*ctx))
        .unwrap_or_else(|_| MemoryType::new(0, None)),
      Handle::Shared(m) => m.ty(),
    }
  }

  /// The size in pages.
  pub(crate) fn size(&self) -> u64 {
    match &self.memory {
      Handle::Local(m) => self.store.with(|ctx| m.size(&*ctx)).unwrap_or(0),
      Handle::Shared(m) => m.size(),
    }
  }

  pub(crate) fn base(&self) -> *mut u8 {
    match &self.memory {
      Handle::Local(m) => self
        .store
        .with(|ctx| m.data_ptr(&*ctx))
        .unwrap_or(std::ptr::null_mut()),
      Handle::Shared(m) => m.data().as_ptr() as *mut u8,
    }
  }

  /// Grows by `delta` pages; returns the previous size in pages.
  pub(crate) fn grow(&mut self, delta: u64) -> wasmtime::Result<u64> {
    match &self.memory {
      Handle::Local(m) => self
        .store
        .with(|ctx| m.grow(&mut *ctx, delta))
        .map_err(wasmtime::Error::msg)?,
      Handle::Shared(m) => m.grow(delta),
    }
  }

  pub(crate) fn is_shared(&self) -> bool {
    matches!(self.memory, Handle::Shared(_))
  }
}

/// A memory type, as the recycling pool keys it.
#[derive(PartialEq)]
pub(crate) struct Shape {
  minimum: u64,
  maximum: Option<u64>,
  is_64: bool,
  /// Never true for a parked memory (shared ones are not recycled), so a
  /// shared request never takes a non-shared memory.
  shared: bool,
}

impl Shape {
  pub(crate) fn of(ty: &MemoryType) -> Shape {
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

/// A parked memory of type `ty`, if one waits (zeroed, at its initial size).
pub(crate) fn take_parked(ty: &MemoryType) -> Option<(Live, Arc<Mapping>)> {
  POOL.with(|p| p.borrow_mut().take(&Shape::of(ty)))
}

/// Frees what garbage holds (collection, sweep, parked memories): before
/// trying an allocation that failed once more.
pub(crate) fn free_garbage(env: &Env) {
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
pub(crate) struct Tracked {
  pub(crate) live: Option<Live>,
  pub(crate) mapping: Arc<Mapping>,
  /// The `NativeMemory` JS object (weak).
  pub(crate) handle: Ref,
  /// The buffer handed out last, unless we detached it since: strong while
  /// the `NativeMemory` lives, weak once a sweep has seen it orphaned.
  pub(crate) buffer: Ref,
  /// Some buffer was detached by someone else (a byte stream, or
  /// `ArrayBuffer.prototype.transfer`): its bytes may live on in a buffer we
  /// cannot see, so only the finalizers may free this memory.
  pub(crate) escaped: bool,
  /// Bytes reported to V8 with `napi_adjust_external_memory`.
  pub(crate) accounted: usize,
  /// Imported by (or defined in) an instance: its store is shared, so it is
  /// never recycled, and released early only once its `NativeMemory` (which
  /// the store's token keeps alive) is collected.
  pub(crate) bound: bool,
}

impl Tracked {
  /// The current buffer if it is still attached; notes a foreign detach.
  pub(crate) fn attached_buffer(&mut self, env: &Env) -> Option<sys::napi_value> {
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
  pub(crate) fn forget_buffer(&mut self, env: &Env) -> usize {
    self.buffer.clear(env);
    let before = self.accounted;
    self.account(env);
    self.accounted.saturating_sub(before)
  }

  pub(crate) fn account(&mut self, env: &Env) {
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
        && !budget::under_pressure()
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
pub(crate) fn sync_grown(env: &Env) {
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

/// Registers a bound memory, so that `sync_grown` and `bound_object` find it.
pub(crate) fn track_bound(tracked: &Rc<RefCell<Tracked>>) {
  BOUND.with(|b| b.borrow_mut().insert(tracked));
}

/// The NativeMemory already made for the bound memory at `base`, if its JS
/// object is alive (one wasm memory, one JS object).
pub(crate) fn bound_object(env: &Env, base: *mut u8) -> Option<sys::napi_value> {
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
