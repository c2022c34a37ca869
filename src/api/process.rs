//! Process-wide settings and probes for the shim, the tests and the
//! benchmarks: buffer limits, the address-space budget, the memory layout,
//! Node-API support for shared memories, and a real fault for the signal
//! tests.

use napi_derive::napi;

use crate::memory::{budget, buffer, mapping};

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
  let (reserved, bytes, maps, max_maps) = budget::budget_use();
  vec![reserved as f64, bytes as f64, maps as f64, max_maps as f64]
}

/// The memory layout of this process: `"guard"` or `"compact"` (engine.rs).
#[napi]
pub fn memory_layout() -> &'static str {
  crate::runtime::engine::memories().name()
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
