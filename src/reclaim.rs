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

/// Something whose native resources may be released once JS cannot reach it.
pub trait Reclaimable {
    /// True once `release` has run (by a sweep or by a finalizer).
    fn released(&self) -> bool;
    /// True when no JS object can reach the resources any more.
    fn unreachable(&mut self, env: &Env) -> bool;
    /// Frees the resources now and forgets the weak references.
    fn release(&mut self, env: &Env);
    /// Bytes of memory the object holds (for sweep pacing).
    fn bytes(&self) -> usize;
}

type Entry = Rc<RefCell<dyn Reclaimable>>;

/// Sweep at least every this many new objects...
const MIN_SWEEP_COUNT: usize = 64;
/// ...or every this many newly allocated bytes.
const MIN_SWEEP_BYTES: usize = 64 << 20;

#[derive(Default)]
struct Registry {
    entries: Vec<Entry>,
    sweep_at_count: usize,
    bytes_since_sweep: usize,
    sweep_at_bytes: usize,
}

thread_local! {
  static REGISTRY: RefCell<Registry> = RefCell::new(Registry {
    sweep_at_count: MIN_SWEEP_COUNT,
    sweep_at_bytes: MIN_SWEEP_BYTES,
    ..Registry::default()
  });
}

/// Starts tracking `entry`, sweeping first when enough has been allocated
/// since the last sweep.
pub fn track(env: &Env, entry: Entry, bytes: usize) {
    let due = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.bytes_since_sweep = r.bytes_since_sweep.saturating_add(bytes);
        r.entries.len() >= r.sweep_at_count || r.bytes_since_sweep >= r.sweep_at_bytes
    });
    if due {
        sweep(env);
    }
    REGISTRY.with(|r| r.borrow_mut().entries.push(entry));
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

/// Releases every tracked object that JS can no longer reach. Returns the
/// number released.
pub fn sweep(env: &Env) -> usize {
    // Take the list out so that releasing (which may run arbitrary drops) never
    // re-enters the registry's borrow.
    let entries = REGISTRY.with(|r| std::mem::take(&mut r.borrow_mut().entries));
    let before = entries.len();
    let mut kept = Vec::with_capacity(before);
    let mut live_bytes = 0usize;
    for entry in entries {
        let mut e = entry.borrow_mut();
        if e.released() {
            continue;
        }
        if e.unreachable(env) {
            e.release(env);
            continue;
        }
        live_bytes = live_bytes.saturating_add(e.bytes());
        drop(e);
        kept.push(entry);
    }
    let released = before - kept.len();
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        // Objects tracked while we swept (none today) must not be lost.
        kept.append(&mut r.entries);
        r.sweep_at_count = (kept.len() * 2).max(MIN_SWEEP_COUNT);
        r.sweep_at_bytes = live_bytes.max(MIN_SWEEP_BYTES);
        r.bytes_since_sweep = 0;
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

    /// True while the reference keeps its object alive.
    pub fn is_strong(&self) -> bool {
        self.strong
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
