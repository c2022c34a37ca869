//! The address-space budget of all mappings together (mapping.rs), so
//! that V8, which aborts when it cannot map memory, always keeps room.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// What all mappings together may take of the process, so that V8 (which
/// aborts when it cannot map memory) always keeps room: refusing a memory
/// with a RangeError is recoverable, V8 running out is not.
struct Budget {
  /// Bytes of address space we may reserve.
  bytes: usize,
  /// Memory mappings (VMAs) we may create: each memory takes up to two.
  maps: usize,
}

/// A memory with its own reservation takes two mappings (VMAs): its
/// read-write part and the reserved rest.
pub const MAPS_PER_MEMORY: usize = 2;

/// The process's address-space limit (`ulimit -v`), if it has one.
fn address_space_limit() -> Option<usize> {
  let mut limit = libc::rlimit {
    rlim_cur: 0,
    rlim_max: 0,
  };
  // SAFETY: getrlimit writes into the struct we pass.
  if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } == 0
    && limit.rlim_cur != libc::RLIM_INFINITY
  {
    return Some(usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX));
  }
  None
}

/// True when the process runs under an address-space limit (`ulimit -v`).
pub fn address_space_limited() -> bool {
  address_space_limit().is_some()
}

fn budget() -> &'static Budget {
  static BUDGET: OnceLock<Budget> = OnceLock::new();
  BUDGET.get_or_init(|| {
    // x86-64 and aarch64 user space: 47 bits (128 TiB).
    let mut bytes: usize = 1 << 47;
    if let Some(limit) = address_space_limit() {
      bytes = bytes.min(limit);
    }
    let max_map_count = std::fs::read_to_string("/proc/sys/vm/max_map_count")
      .ok()
      .and_then(|s| s.trim().parse::<usize>().ok())
      .unwrap_or(65530);
    // What the process already has mapped (Node, V8's reservations).
    let in_use = std::fs::read_to_string("/proc/self/status")
      .ok()
      .and_then(|status| {
        let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
        line.split_whitespace().nth(1)?.parse::<usize>().ok()
      })
      .map_or(1 << 30, |kib| kib.saturating_mul(1024));
    let left = bytes.saturating_sub(in_use);
    Budget {
      // Leave a quarter of what is left to V8 and the rest of Node.
      bytes: left - left / 4,
      // Leave a quarter of the mappings to everyone else.
      maps: max_map_count - max_map_count / 4,
    }
  })
}

/// Bytes of address space all our mappings together may take.
pub fn budget_bytes() -> usize {
  budget().bytes
}

/// What is claimed now and what may be: (bytes, budget bytes, mappings,
/// budget mappings).
pub fn budget_use() -> (usize, usize, usize, usize) {
  let budget = budget();
  (
    RESERVED.load(Ordering::Relaxed),
    budget.bytes,
    MAPPINGS.load(Ordering::Relaxed),
    budget.maps,
  )
}

/// True when more than half of the address-space budget is claimed: sweeps
/// then run more often, since garbage holds scarce reservations.
pub fn under_pressure() -> bool {
  let (reserved, bytes, maps, max_maps) = budget_use();
  reserved > bytes / 2 || maps > max_maps / 2
}

static RESERVED: AtomicUsize = AtomicUsize::new(0);
static MAPPINGS: AtomicUsize = AtomicUsize::new(0);

/// Claims `bytes` of address space and `maps` mappings from the budget.
///
/// # Errors
/// Fails, claiming nothing, when either would exceed the budget.
pub fn claim_budget(bytes: usize, maps: usize) -> Result<(), String> {
  let budget = budget();
  let claimed = RESERVED
    .fetch_add(bytes, Ordering::Relaxed)
    .saturating_add(bytes);
  let maps_now = MAPPINGS.fetch_add(maps, Ordering::Relaxed) + maps;
  if claimed > budget.bytes || maps_now > budget.maps {
    return_budget(bytes, maps);
    let maps = maps_now;
    return Err(format!(
      "the process's memory budget is exhausted (this memory would make {claimed} bytes of {} reserved, and {maps} of {} mappings)",
      budget.bytes, budget.maps
    ));
  }
  Ok(())
}

/// Gives back what `claim_budget` claimed.
pub fn return_budget(bytes: usize, maps: usize) {
  RESERVED.fetch_sub(bytes, Ordering::Relaxed);
  MAPPINGS.fetch_sub(maps, Ordering::Relaxed);
}
