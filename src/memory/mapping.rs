//! Linear-memory mappings that this library allocates and owns.
//!
//! wasmtime asks [`HostMemory`] (installed with `Config::with_host_memory`)
//! for every linear memory. Owning the mapping is what lets an `ArrayBuffer`
//! alias wasm memory safely:
//!
//! - the whole reservation (the memory's `maximum`, or the index type's
//!   limit) is made up front, so growth never moves the base;
//! - the mapping lives in an `Arc`: the wasmtime store and every external
//!   `ArrayBuffer` over it hold a clone, so no buffer outlives its bytes;
//! - [`Mapping::release`] unmaps early, once the reclaimer has proven that
//!   no JS object can reach the bytes any more (see `reclaim.rs`).
//!
//! The reservation is `PROT_NONE` beyond the accessible size; growth makes
//! more of it read-write with `mprotect`. In the guard layout (engine.rs)
//! the reservation is at least what the engine asks for (4 GiB) and is
//! followed by a `PROT_NONE` guard region that is never made accessible.

use std::cell::RefCell;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use wasmtime::{LinearMemory, MemoryCreator, MemoryType};

use crate::memory::budget::{budget_bytes, claim_budget, return_budget, MAPS_PER_MEMORY};

/// Bytes in one wasm page.
pub const WASM_PAGE: usize = 65536;

/// A reservation of address space holding one linear memory.
pub struct Mapping {
  base: NonNull<u8>,
  state: Mutex<State>,
}

struct State {
  /// Bytes reserved at `base` (a multiple of the host page size, never 0):
  /// the most the memory may grow to without moving.
  reserved: usize,
  /// Bytes of `PROT_NONE` guard mapped after `reserved` (a multiple of the
  /// host page size): compiled code may rely on them faulting.
  guard: usize,
  /// Bytes readable and writable from `base`.
  accessible: usize,
  /// Set once the reservation has been unmapped by [`Mapping::release`].
  released: bool,
  /// The memory lives in a slab slot (read-write throughout; see slab.rs)
  /// rather than in a reservation of its own.
  slot: bool,
}

// SAFETY: `base` is only an address; every access to the bytes is either
// through wasmtime (which synchronises per store) or through ArrayBuffers on
// the JS thread, and all bookkeeping sits behind the mutex.
unsafe impl Send for Mapping {}
// SAFETY: as above: shared references only read `base` or lock `state`.
unsafe impl Sync for Mapping {}

pub fn host_page() -> usize {
  // SAFETY: sysconf has no preconditions.
  let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
  usize::try_from(page).unwrap_or(4096).max(1)
}

fn round_up(bytes: usize, to: usize) -> Option<usize> {
  bytes.checked_add(to - 1).map(|b| b / to * to)
}

impl Mapping {
  /// Reserves `reserve` bytes (at least `accessible`) followed by `guard`
  /// bytes that stay inaccessible, the first `accessible` of them readable
  /// and writable and zero.
  ///
  /// # Errors
  /// Fails when the kernel refuses the reservation (address space or
  /// `vm.max_map_count` exhausted, `ulimit -v`); the message says which call.
  fn new(accessible: usize, reserve: usize, guard: usize) -> Result<Mapping, String> {
    let page = host_page();
    let reserved = round_up(reserve.max(accessible).max(1), page)
      .ok_or_else(|| format!("cannot reserve {reserve} bytes"))?;
    let guard = round_up(guard, page).ok_or_else(|| format!("cannot reserve {guard} bytes"))?;
    let total = reserved
      .checked_add(guard)
      .ok_or_else(|| format!("cannot reserve {reserved} + {guard} bytes"))?;
    claim_budget(total, MAPS_PER_MEMORY)?;
    // SAFETY: an anonymous private mapping at an address of the kernel's
    // choosing touches no existing memory.
    let ptr = unsafe {
      libc::mmap(
        std::ptr::null_mut(),
        total,
        libc::PROT_NONE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
        -1,
        0,
      )
    };
    if ptr == libc::MAP_FAILED {
      return_budget(total, MAPS_PER_MEMORY);
      return Err(format!(
        "cannot reserve {total} bytes of address space: {}",
        std::io::Error::last_os_error()
      ));
    }
    let base = NonNull::new(ptr.cast::<u8>()).ok_or("mmap returned null")?;
    let mapping = Mapping {
      base,
      state: Mutex::new(State {
        reserved,
        guard,
        accessible: 0,
        released: false,
        slot: false,
      }),
    };
    mapping.grow_to(accessible)?;
    Ok(mapping)
  }

  /// A memory of `accessible` bytes that may grow to `maximum` bytes, in a
  /// slab slot (for small maximums: see slab.rs).
  ///
  /// # Errors
  /// Fails when no slab can be mapped.
  fn in_slab(accessible: usize, maximum: usize) -> Result<Mapping, String> {
    let base = crate::memory::slab::alloc(maximum)?;
    Ok(Mapping {
      base,
      state: Mutex::new(State {
        reserved: crate::memory::slab::slot_size(maximum),
        guard: 0,
        accessible,
        released: false,
        slot: true,
      }),
    })
  }

  /// Reserves room for a memory of `minimum` bytes that may grow to
  /// `maximum` bytes, then `guard` bytes of guard. When the process is short
  /// of address space it falls back to smaller reservations, never below
  /// `floor` (what compiled code relies on) nor `minimum` (growth past the
  /// reservation then fails, as V8's does when it cannot reserve).
  ///
  /// # Errors
  /// Fails when not even that much can be reserved.
  pub fn reserve(
    minimum: usize,
    maximum: usize,
    floor: usize,
    guard: usize,
  ) -> Result<Mapping, String> {
    let least = minimum.max(floor);
    let mut reserve = maximum.max(least);
    let may_shrink = MAY_SHRINK.with(|m| m.get());
    loop {
      match Mapping::new(minimum, reserve, guard) {
        Ok(mapping) => return Ok(mapping),
        Err(e) if reserve <= least || !may_shrink => return Err(e),
        Err(_) => reserve = (reserve / 2).max(least),
      }
    }
  }

  /// The first byte of the memory; it never changes.
  pub fn base(&self) -> *mut u8 {
    self.base.as_ptr()
  }

  /// Bytes currently readable and writable (0 once released).
  pub fn accessible(&self) -> usize {
    let state = self.lock();
    if state.released {
      0
    } else {
      state.accessible
    }
  }

  /// Bytes reserved; growth up to this never moves the base.
  pub fn reserved(&self) -> usize {
    self.lock().reserved
  }

  fn lock(&self) -> std::sync::MutexGuard<'_, State> {
    // A poisoned lock only means a panic elsewhere; the state is still valid.
    self.state.lock().unwrap_or_else(|e| e.into_inner())
  }

  /// Makes the first `new_size` bytes accessible.
  ///
  /// # Errors
  /// Fails past the reservation, after release, or when `mprotect` fails
  /// (for example when the process has no mappings left).
  pub fn grow_to(&self, new_size: usize) -> Result<(), String> {
    let mut state = self.lock();
    if state.released {
      return Err("memory has been released".into());
    }
    if new_size > state.reserved {
      return Err(format!(
        "cannot grow to {new_size} bytes: only {} are reserved",
        state.reserved
      ));
    }
    if new_size <= state.accessible {
      return Ok(());
    }
    if state.slot {
      // Slots are read-write (and zero) throughout.
      state.accessible = new_size;
      return Ok(());
    }
    let page = host_page();
    let from = round_up(state.accessible, page).unwrap_or(state.reserved);
    let to = round_up(new_size, page).unwrap_or(state.reserved);
    if to > from {
      // SAFETY: [from, to) lies inside our own reservation (to <= reserved,
      // which is page-rounded) and nothing else is mapped there.
      let rc = unsafe {
        libc::mprotect(
          self.base.as_ptr().add(from).cast(),
          to - from,
          libc::PROT_READ | libc::PROT_WRITE,
        )
      };
      if rc != 0 {
        return Err(format!(
          "cannot make {} bytes accessible: {}",
          to - from,
          std::io::Error::last_os_error()
        ));
      }
    }
    state.accessible = new_size;
    Ok(())
  }

  /// Gives the accessible pages back to the kernel; they read as zero.
  ///
  /// # Safety
  /// No code may be using the bytes' contents: the caller has proven that
  /// no reachable ArrayBuffer or wasm instance can see them.
  pub unsafe fn zero(&self) -> Result<(), String> {
    let accessible = self.accessible();
    // SAFETY: the caller's contract.
    unsafe { self.zero_range(0, accessible) }
  }

  /// Gives the pages of `[offset, offset + len)` back to the kernel; they
  /// read as zero afterwards. Offsets are rounded out to host pages, which
  /// callers keep whole (wasm pages are multiples of them).
  ///
  /// # Safety
  /// The range must be accessible, and zeroing it must be what the memory's
  /// users are allowed to observe.
  pub unsafe fn zero_range(&self, offset: usize, len: usize) -> Result<(), String> {
    let state = self.lock();
    if state.released || len == 0 {
      return Ok(());
    }
    let end = offset.saturating_add(len).min(state.accessible);
    let page = host_page();
    let start = offset / page * page;
    let end = round_up(end, page)
      .unwrap_or(state.reserved)
      .min(state.reserved);
    if end <= start {
      return Ok(());
    }
    // SAFETY: [start, end) is inside our read-write reservation; for a
    // private anonymous mapping MADV_DONTNEED makes the pages read as zero.
    let rc = unsafe {
      libc::madvise(
        self.base.as_ptr().add(start).cast(),
        end - start,
        libc::MADV_DONTNEED,
      )
    };
    if rc != 0 {
      return Err(format!(
        "madvise failed: {}",
        std::io::Error::last_os_error()
      ));
    }
    Ok(())
  }

  /// Unmaps the reservation now, whoever still holds the `Arc`.
  ///
  /// # Safety
  /// No code may read or write the bytes afterwards: the caller has proven
  /// that no wasmtime store and no reachable ArrayBuffer uses them.
  pub unsafe fn release(&self) {
    let mut state = self.lock();
    if !state.released {
      state.released = true;
      if state.slot {
        // SAFETY: the slot came from the slab and nobody uses it any more.
        unsafe { crate::memory::slab::free(self.base.as_ptr(), state.accessible) };
        return;
      }
      let total = state.reserved + state.guard;
      // SAFETY: we mapped exactly `reserved + guard` bytes at `base`; the
      // caller guarantees nobody uses them any more.
      unsafe { libc::munmap(self.base.as_ptr().cast(), total) };
      return_budget(total, MAPS_PER_MEMORY);
    }
  }
}

impl Drop for Mapping {
  fn drop(&mut self) {
    // SAFETY: the last `Arc` is gone, so nothing can reach the bytes.
    unsafe { self.release() }
  }
}

/// The `LinearMemory` wasmtime drives: a handle on a shared [`Mapping`].
struct Linear(Arc<Mapping>);

// SAFETY: `as_ptr` is stable for the mapping's life (we never move it),
// `byte_capacity` bytes are reserved from it, and `grow_to` only ever makes
// more of that reservation accessible, zero-filled by the kernel.
unsafe impl LinearMemory for Linear {
  fn byte_size(&self) -> usize {
    self.0.accessible()
  }

  fn byte_capacity(&self) -> usize {
    self.0.reserved()
  }

  fn grow_to(&mut self, new_size: usize) -> wasmtime::Result<()> {
    self.0.grow_to(new_size).map_err(wasmtime::Error::msg)?;
    GROWS.with(|g| g.set(g.get().wrapping_add(1)));
    Ok(())
  }

  fn as_ptr(&self) -> *mut u8 {
    self.0.base()
  }
}

/// The engine's memory creator: every linear memory becomes a [`Mapping`].
pub struct HostMemory;

thread_local! {
  /// Whether a reservation may fall back to less than the maximum.
  static MAY_SHRINK: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
  /// Mappings created on this thread and not yet claimed by their caller.
  static CREATED: RefCell<Vec<Arc<Mapping>>> = const { RefCell::new(Vec::new()) };
  /// The mapping the next memory created on this thread must be (`adopting`).
  static ADOPT: RefCell<Option<Arc<Mapping>>> = const { RefCell::new(None) };
  /// A memory could not be allocated since `take_create_failed` last looked.
  static CREATE_FAILED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
  /// Successful grows on this thread (`grow_count`).
  static GROWS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Runs `f` with the next memory wasmtime creates on this thread being
/// `mapping` itself (adoption: the same bytes, base and reservation).
///
/// # Errors
/// Fails if wasmtime did not ask for a memory (the mapping is not used).
pub fn adopting<T>(mapping: Arc<Mapping>, f: impl FnOnce() -> T) -> Result<T, String> {
  ADOPT.with(|a| *a.borrow_mut() = Some(mapping));
  let result = f();
  let unused = ADOPT.with(|a| a.borrow_mut().take());
  match unused {
    None => Ok(result),
    Some(_) => Err("wasmtime did not create the adopted memory".into()),
  }
}

/// True if a memory could not be allocated on this thread since the last
/// call (tells an instantiation that failed for want of memory).
pub fn take_create_failed() -> bool {
  CREATE_FAILED.with(|f| f.replace(false))
}

/// How many times any memory of this thread grew (wasm-side growth is seen
/// by comparing it before and after a call).
pub fn grow_count() -> u64 {
  GROWS.with(std::cell::Cell::get)
}

/// Takes the mapping that wasmtime just created on this thread at `base`.
pub fn claim(base: *mut u8) -> Option<Arc<Mapping>> {
  CREATED.with(|created| {
    let mut created = created.borrow_mut();
    let at = created.iter().position(|m| m.base() == base)?;
    Some(created.swap_remove(at))
  })
}

/// Runs `f` with reservations that must cover the whole maximum or fail
/// (the caller frees garbage and retries before settling for less).
pub fn without_shrinking<T>(f: impl FnOnce() -> T) -> T {
  let before = MAY_SHRINK.with(|m| m.replace(false));
  let result = f();
  MAY_SHRINK.with(|m| m.set(before));
  result
}

/// Takes the mappings created on this thread and not claimed.
pub fn take_unclaimed() -> Vec<Arc<Mapping>> {
  CREATED.with(|created| std::mem::take(&mut *created.borrow_mut()))
}

/// Forgets mappings whose creation was abandoned (a failed instantiation).
pub fn forget_unclaimed() {
  CREATED.with(|created| created.borrow_mut().clear());
}

/// The most pages a 32-bit memory may have (the JS API's and wasm's limit).
pub const MAX_PAGES_32: u64 = 65536;
/// The most pages a 64-bit memory may have under the JS API.
pub const MAX_PAGES_64: u64 = 262144;

/// The largest byte size a memory of `ty` may reach when it has no maximum.
fn type_limit(ty: &MemoryType) -> u64 {
  let pages = if ty.is_64() {
    MAX_PAGES_64
  } else {
    MAX_PAGES_32
  };
  pages * WASM_PAGE as u64
}

// SAFETY: every memory returned (but an adopted one, made by this same
// creator for the same engine) is a fresh zeroed reservation of at least
// `reserved_size_in_bytes`, followed by `guard_size_in_bytes` of PROT_NONE.
unsafe impl MemoryCreator for HostMemory {
  fn new_memory(
    &self,
    ty: MemoryType,
    minimum: usize,
    maximum: Option<usize>,
    reserved_size_in_bytes: Option<usize>,
    guard_size_in_bytes: usize,
  ) -> Result<Box<dyn LinearMemory>, String> {
    if let Some(mapping) = ADOPT.with(|a| a.borrow_mut().take()) {
      // Adoption (`adopting`): the type was made from this mapping's
      // current size and maximum. (Growth stays capped at the reservation,
      // as it was.)
      if mapping.accessible() != minimum {
        return Err("the adopted memory does not fit its type".into());
      }
      return Ok(Box::new(Linear(mapping)));
    }
    // Non-zero in the guard layout (engine.rs): compiled code then relies
    // on `reserved` bytes being addressable without moving and the guard
    // after them faulting, so neither may be given up.
    let reserved = reserved_size_in_bytes.unwrap_or(0);
    let guard = guard_size_in_bytes;
    let limit = usize::try_from(type_limit(&ty)).unwrap_or(usize::MAX);
    // Without a maximum a memory may grow to the type's limit (4 GiB for
    // 32-bit). Reserve that where address space is plentiful; under a limit
    // (ulimit -v) reserve a 128th of our budget, so that many such memories
    // fit (growth past the reservation is then a RangeError, as it is for
    // V8 when it cannot reserve).
    // (wasmtime passes the type's limit as `maximum` when none is declared.)
    let maximum = match ty.maximum() {
      Some(_) => maximum.unwrap_or(limit).min(limit),
      None => limit.min((budget_bytes() / 128).max(minimum)),
    };
    // Shared memories keep reservations of their own: their buffers' last
    // finalizer may run on any thread, and slabs are simpler without that.
    // Slots have no guard, so only the compact layout uses them.
    let mapping =
      if maximum <= crate::memory::slab::SLOT_MAX && !ty.is_shared() && reserved == 0 && guard == 0
      {
        Mapping::in_slab(minimum, maximum)
      } else {
        Mapping::reserve(minimum, maximum, reserved, guard)
      };
    let mapping = mapping.inspect_err(|_| CREATE_FAILED.with(|f| f.set(true)))?;
    let mapping = Arc::new(mapping);
    CREATED.with(|created| created.borrow_mut().push(mapping.clone()));
    Ok(Box::new(Linear(mapping)))
  }
}
