//! Small memories share large mappings.
//!
//! Linux caps a process at `vm.max_map_count` mappings (65,530 here), and a
//! memory with its own reservation takes two (its read-write part and the
//! reserved rest), so at most ~32k such memories can exist; past that, V8
//! itself cannot map memory and aborts the process. A memory whose maximum
//! is small instead gets a slot in a slab: one read-write mapping of 1 GiB
//! cut into equal slots (smaller slabs under an address-space limit). Nothing outside a memory's accessible size is ever
//! exposed (buffers are sized to it; wasm code bounds-checks explicitly,
//! with no guard pages), and slots are zeroed when they are freed.

use std::ptr::NonNull;
use std::sync::Mutex;

/// Memories that may grow to at most this many bytes live in slabs.
pub const SLOT_MAX: usize = 16 << 20;
/// The smallest slot: one wasm page.
const SLOT_MIN: usize = 64 << 10;
/// Bytes per slab: 1 GiB, or less where a process's address space is
/// limited (ulimit -v), so that slabs of several slot sizes fit.
fn slab_bytes() -> usize {
  let fair = (crate::memory::budget::budget_bytes() / 64).max(2 * SLOT_MAX);
  (1 << 30)
    .min(fair.next_power_of_two() / 2)
    .max(2 * SLOT_MAX)
}

struct Slab {
  base: usize,
  bytes: usize,
  slot_size: usize,
  /// Offsets of freed slots, zeroed.
  free: Vec<usize>,
  /// Slots below this offset have been handed out at least once.
  bump: usize,
  used: usize,
}

static SLABS: Mutex<Vec<Slab>> = Mutex::new(Vec::new());

/// The slot size for a memory that may grow to `maximum` bytes.
pub fn slot_size(maximum: usize) -> usize {
  maximum.max(SLOT_MIN).next_power_of_two()
}

/// Hands out a zeroed, read-write slot of `slot_size(maximum)` bytes.
///
/// # Errors
/// Fails when a new slab is needed and the budget or the kernel refuses it.
pub fn alloc(maximum: usize) -> Result<NonNull<u8>, String> {
  let size = slot_size(maximum);
  let slab_bytes = slab_bytes();
  let mut slabs = SLABS.lock().unwrap_or_else(|e| e.into_inner());
  for slab in slabs.iter_mut().filter(|s| s.slot_size == size) {
    let offset = match slab.free.pop() {
      Some(offset) => offset,
      None if slab.bump + size <= slab.bytes => {
        slab.bump += size;
        slab.bump - size
      }
      None => continue,
    };
    slab.used += 1;
    return NonNull::new((slab.base + offset) as *mut u8).ok_or_else(|| "null slot".into());
  }
  crate::memory::budget::claim_budget(slab_bytes, 1)?;
  // SAFETY: an anonymous private mapping at an address of the kernel's
  // choosing touches no existing memory. MAP_NORESERVE: untouched pages
  // cost nothing.
  let ptr = unsafe {
    libc::mmap(
      std::ptr::null_mut(),
      slab_bytes,
      libc::PROT_READ | libc::PROT_WRITE,
      libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
      -1,
      0,
    )
  };
  if ptr == libc::MAP_FAILED {
    crate::memory::budget::return_budget(slab_bytes, 1);
    return Err(format!(
      "cannot map a {slab_bytes}-byte slab: {}",
      std::io::Error::last_os_error()
    ));
  }
  slabs.push(Slab {
    base: ptr as usize,
    bytes: slab_bytes,
    slot_size: size,
    free: Vec::new(),
    bump: size,
    used: 1,
  });
  NonNull::new(ptr.cast()).ok_or_else(|| "null slab".into())
}

/// Zeroes the first `touched` bytes of the slot at `base` and takes it back.
/// An empty slab is unmapped when another slab of its size has room.
///
/// # Safety
/// `base` came from `alloc`, is freed once, and nothing uses its bytes.
pub unsafe fn free(base: *mut u8, touched: usize) {
  let mut slabs = SLABS.lock().unwrap_or_else(|e| e.into_inner());
  let address = base as usize;
  let Some(at) = slabs
    .iter()
    .position(|s| address >= s.base && address < s.base + s.bytes)
  else {
    return;
  };
  let page = crate::memory::mapping::host_page();
  let len = touched.div_ceil(page) * page;
  if len > 0 {
    // SAFETY: the slot's first `len` bytes lie inside the slab (slots are
    // page multiples); MADV_DONTNEED makes them read as zero.
    unsafe {
      libc::madvise(
        base.cast(),
        len.min(slabs[at].slot_size),
        libc::MADV_DONTNEED,
      )
    };
  }
  let slab = &mut slabs[at];
  slab.free.push(address - slab.base);
  slab.used -= 1;
  let size = slab.slot_size;
  let spare = slabs
    .iter()
    .enumerate()
    .any(|(i, s)| i != at && s.slot_size == size && (s.used < s.bytes / size));
  if slabs[at].used == 0 && spare {
    let slab = slabs.swap_remove(at);
    // SAFETY: the slab is ours and no slot in it is in use.
    unsafe { libc::munmap(slab.base as *mut libc::c_void, slab.bytes) };
    crate::memory::budget::return_budget(slab.bytes, 1);
  }
}
