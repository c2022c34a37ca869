//! Giving memory back without waiting for Node's finalizers.
//!
//! Node runs wrap and external-buffer finalizers only when the event loop
//! turns, so a synchronous loop that drops memories would otherwise keep every
//! one of them. A zero-count (weak) Node-API reference, however, is cleared by
//! the garbage collector itself. Each tracked object keeps weak references to
//! the JS objects that can reach its bytes; when all are cleared it can be
//! released at once. Sweeps run from allocations, amortised so that a sweep
//! costs O(1) per allocation.
//!
//! The registry is per thread: each Node environment (main thread, workers)
//! runs on its own thread and its references belong to it.

use std::cell::RefCell;
use std::ptr;
use std::rc::Rc;

use napi::sys;
use napi::Env;

/// What a sweep learned about one tracked object.
pub enum Verdict {
  /// JS can still reach it.
  Live,
  /// No JS object can reach it: release it now.
  Unreachable,
  /// Reachable only through an object we just stopped holding; a garbage
  /// collection right now (no user code in between) will tell.
  Confirm,
}

/// Something whose native resources may be released once JS cannot reach it.
pub trait Reclaimable {
  /// True once it has been released or retired.
  fn released(&self) -> bool;
  /// Looks at the weak references.
  fn check(&mut self, env: &Env) -> Verdict;
  /// After a forced collection: true if the object it waited on is gone.
  fn confirmed(&mut self, env: &Env) -> bool;
  /// Frees the resources now and forgets the references.
  fn release(&mut self, env: &Env);
  /// Forgets the references and lets the finalizers free the resources.
  fn retire(&mut self, env: &Env);
  /// Bytes of memory the object holds (for sweep pacing).
  fn bytes(&self) -> usize;
}

type Entry = Rc<RefCell<dyn Reclaimable>>;

/// Sweep at least every this many new objects...
const MIN_SWEEP_COUNT: usize = 64;
/// ...or every this many newly allocated bytes...
const MIN_SWEEP_BYTES: usize = 64 << 20;
/// ...or, when address space runs short, every this many new objects.
const PRESSURE_SWEEP_COUNT: usize = 8;

#[derive(Default)]
struct Registry {
  entries: Vec<Entry>,
  sweep_at_count: usize,
  bytes_since_sweep: usize,
  sweep_at_bytes: usize,
  /// Objects tracked since the last sweep.
  created_since_sweep: usize,
  /// Objects retired by their finalizers since the registry was pruned.
  retired_since_prune: usize,
  /// The process's `gc` function, when it was started with `--expose-gc`
  /// (set by index.js): cheaper than full_gc.rs.
  collector: Option<Ref>,
  /// A weak reference to an object nothing else holds: once it reads back
  /// empty, a garbage collection has run and a sweep may free something.
  sentinel: Ref,
}

thread_local! {
  static REGISTRY: RefCell<Registry> = RefCell::new(Registry {
    sweep_at_count: MIN_SWEEP_COUNT,
    sweep_at_bytes: MIN_SWEEP_BYTES,
    ..Registry::default()
  });
}

/// True if a garbage collection has cleared the sentinel since it was set
/// (and sets a new one).
fn collected_since_last_look(env: &Env) -> bool {
  let cleared = REGISTRY.with(|r| r.borrow().sentinel.get(env).is_none());
  if cleared {
    let mut object = ptr::null_mut();
    // SAFETY: `env` is live; the new object is only referenced weakly.
    let created =
      unsafe { sys::napi_create_object(env.raw(), &mut object) } == sys::Status::napi_ok;
    let fresh = if created {
      Ref::new(env, object, false).ok()
    } else {
      None
    };
    let mut old =
      REGISTRY.with(|r| std::mem::replace(&mut r.borrow_mut().sentinel, fresh.unwrap_or_default()));
    old.clear(env);
  }
  cleared
}

/// Sets the function sweeps call to collect garbage on demand.
///
/// # Errors
/// Fails if a reference cannot be made.
pub fn set_collector(env: &Env, collector: sys::napi_value) -> napi::Result<()> {
  let new = Ref::new(env, collector, true)?;
  let old = REGISTRY.with(|r| r.borrow_mut().collector.replace(new));
  if let Some(mut old) = old {
    old.clear(env);
  }
  Ok(())
}

/// Runs a full garbage collection: the process's `gc` where it has one,
/// else V8's own call (full_gc.rs); false if neither could.
fn collect(env: &Env) -> bool {
  let collector = REGISTRY.with(|r| r.borrow().collector.as_ref().and_then(|c| c.get(env)));
  let Some(collector) = collector else {
    return crate::memory::full_gc::collect();
  };
  let mut undefined = ptr::null_mut();
  let mut result = ptr::null_mut();
  // SAFETY: `collector` is a live function handle; no arguments are passed.
  let status = unsafe {
    sys::napi_get_undefined(env.raw(), &mut undefined);
    sys::napi_call_function(env.raw(), undefined, collector, 0, ptr::null(), &mut result)
  };
  if status != sys::Status::napi_ok {
    // Swallow the collector's exception: without it we just free later.
    let mut exception = ptr::null_mut();
    // SAFETY: `env` is live; clearing a pending exception has no precondition.
    unsafe { sys::napi_get_and_clear_last_exception(env.raw(), &mut exception) };
    return false;
  }
  true
}

/// Runs `f` in a Node-API handle scope of its own.
fn in_handle_scope<T>(env: &Env, f: impl FnOnce() -> T) -> T {
  let _scope = crate::js::Scope::open(env);
  f()
}

/// Starts tracking `entry`, sweeping first when enough has been allocated
/// since the last sweep.
pub fn track(env: &Env, entry: Entry, bytes: usize) {
  let due = REGISTRY.with(|r| {
    let mut r = r.borrow_mut();
    r.bytes_since_sweep = r.bytes_since_sweep.saturating_add(bytes);
    r.created_since_sweep += 1;
    r.entries.len() >= r.sweep_at_count
      || r.bytes_since_sweep >= r.sweep_at_bytes
      // Short of address space (ulimit -v): garbage holds reservations.
      || (r.created_since_sweep >= PRESSURE_SWEEP_COUNT && crate::memory::budget::under_pressure())
  });
  // Right after a collection is when a sweep finds the most to free (and
  // the recycling pool catches it before it piles up).
  if collected_since_last_look(env) || due {
    sweep(env);
  }
  REGISTRY.with(|r| r.borrow_mut().entries.push(entry));
}

/// Notes that a finalizer retired an object: once retired objects are half
/// the registry, it forgets them (amortised O(1)), so that what they hold
/// (a memory's mapping) goes now rather than at the next sweep.
pub fn note_retired() {
  let stale = REGISTRY.with(|r| {
    let Ok(mut r) = r.try_borrow_mut() else {
      return Vec::new();
    };
    r.retired_since_prune += 1;
    if r.retired_since_prune * 2 < r.entries.len() {
      return Vec::new();
    }
    r.retired_since_prune = 0;
    let (stale, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut r.entries)
      .into_iter()
      .partition(|e| e.try_borrow().is_ok_and(|e| e.released()));
    r.entries = kept;
    stale
  });
  // Dropped outside the registry's borrow.
  drop(stale);
}

/// Notes `bytes` more memory (a grow) for sweep pacing.
pub fn note_growth(env: &Env, bytes: usize) {
  let due = REGISTRY.with(|r| {
    let mut r = r.borrow_mut();
    r.bytes_since_sweep = r.bytes_since_sweep.saturating_add(bytes);
    r.bytes_since_sweep >= r.sweep_at_bytes
  });
  if due {
    sweep(env);
  }
}

/// Collects garbage, then sweeps: for when memory has run out.
pub fn collect_and_sweep(env: &Env) -> usize {
  collect(env);
  sweep(env)
}

/// Releases every tracked object that JS can no longer reach. Returns the
/// number released early (not counting those left to their finalizers).
pub fn sweep(env: &Env) -> usize {
  // Take the list out so that releasing (which may run arbitrary drops, and
  // the collector) never re-enters the registry's borrow.
  let entries = REGISTRY.with(|r| std::mem::take(&mut r.borrow_mut().entries));
  let mut kept = Vec::with_capacity(entries.len());
  let mut confirm = Vec::new();
  let mut released = 0;
  for entry in entries {
    let verdict = {
      let mut e = entry.borrow_mut();
      if e.released() {
        continue;
      }
      // A scope of its own, so that no handle `check` makes keeps an object
      // alive through the collection below.
      in_handle_scope(env, || e.check(env))
    };
    match verdict {
      Verdict::Live => kept.push(entry),
      Verdict::Unreachable => {
        entry.borrow_mut().release(env);
        released += 1;
      }
      Verdict::Confirm => confirm.push(entry),
    }
  }
  if !confirm.is_empty() {
    // Nothing has run since `check` let go of these objects: if a full
    // collection now frees them, no user code can have touched them since.
    let collected = collect(env);
    for entry in confirm {
      let mut e = entry.borrow_mut();
      if collected && in_handle_scope(env, || e.confirmed(env)) {
        e.release(env);
        released += 1;
      } else {
        // Still reachable (or we could not tell): the finalizers will free it.
        e.retire(env);
      }
    }
  }
  let live_bytes = kept
    .iter()
    .map(|e| e.borrow().bytes())
    .fold(0usize, usize::saturating_add);
  REGISTRY.with(|r| {
    let mut r = r.borrow_mut();
    // Objects tracked while we swept (the collector can allocate) stay.
    kept.append(&mut r.entries);
    r.sweep_at_count = (kept.len() * 2).max(MIN_SWEEP_COUNT);
    r.sweep_at_bytes = live_bytes.max(MIN_SWEEP_BYTES);
    r.bytes_since_sweep = 0;
    r.created_since_sweep = 0;
    r.entries = kept;
  });
  released
}

/// A Node-API reference that is either strong (keeps its object alive) or
/// weak (read back as `None` once the garbage collector has collected it).
pub struct Ref {
  raw: sys::napi_ref,
  strong: bool,
}

impl Default for Ref {
  fn default() -> Ref {
    Ref::none()
  }
}

impl Ref {
  /// A reference that refers to nothing.
  pub const fn none() -> Ref {
    Ref {
      raw: ptr::null_mut(),
      strong: false,
    }
  }

  /// Makes a reference to `value`, strong or weak.
  ///
  /// # Errors
  /// Fails if Node-API refuses (an exception is then pending).
  pub fn new(env: &Env, value: sys::napi_value, strong: bool) -> napi::Result<Ref> {
    let mut raw = ptr::null_mut();
    // SAFETY: `value` is a live handle of the current scope of `env`.
    let status =
      unsafe { sys::napi_create_reference(env.raw(), value, u32::from(strong), &mut raw) };
    crate::error::check(env, status, "napi_create_reference")?;
    Ok(Ref { raw, strong })
  }

  /// True if the reference refers to nothing (never set, or cleared).
  pub fn is_unset(&self) -> bool {
    self.raw.is_null()
  }

  /// The object, if the reference is set and the object is alive.
  pub fn get(&self, env: &Env) -> Option<sys::napi_value> {
    if self.raw.is_null() {
      return None;
    }
    let mut value = ptr::null_mut();
    // SAFETY: `raw` was created on this env and not yet deleted.
    let status = unsafe { sys::napi_get_reference_value(env.raw(), self.raw, &mut value) };
    (status == sys::Status::napi_ok && !value.is_null()).then_some(value)
  }

  /// Stops keeping the object alive.
  pub fn weaken(&mut self, env: &Env) {
    if self.strong && !self.raw.is_null() {
      let mut count = 0;
      // SAFETY: `raw` is live and its count is 1 (strong), so this is legal.
      unsafe { sys::napi_reference_unref(env.raw(), self.raw, &mut count) };
    }
    self.strong = false;
  }

  /// Deletes the reference (it then refers to nothing).
  pub fn clear(&mut self, env: &Env) {
    if !self.raw.is_null() {
      // SAFETY: created on this env, deleted exactly once (we null it).
      unsafe { sys::napi_delete_reference(env.raw(), self.raw) };
      self.raw = ptr::null_mut();
    }
    self.strong = false;
  }
}

/// Tells V8 about memory it cannot see, so that it collects garbage when a
/// program holds much wasm memory and little JS heap.
pub fn adjust_external_memory(env: &Env, change: i64) {
  let mut total = 0;
  // SAFETY: `env` is live; the call has no other precondition.
  unsafe { sys::napi_adjust_external_memory(env.raw(), change, &mut total) };
}
