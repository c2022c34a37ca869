//! The guest's linear memory for the length of one WASI call.
//!
//! The shim hands each call a `Uint8Array` over the memory's current
//! `buffer` (re-read at every call: wasm may have grown the memory since the
//! last one). Nothing here keeps a pointer past the call, and no Rust
//! reference into the bytes is ever made: a shared memory's bytes can change
//! under us from another thread, so every access is a raw copy, and the
//! kernel reads and writes guest buffers through raw pointers. Every guest
//! pointer and length is bounds-checked, overflow included, and a bad one is
//! an errno ([`errno::OVERFLOW`], as node:wasi's uvwasi answers), never a
//! fault.

use super::errno::{self, Result};

/// A guest memory: `len` bytes at `base`, valid for the current call.
pub struct Guest {
  base: *mut u8,
  len: usize,
}

impl Guest {
  /// # Safety
  /// `base..base + len` must stay valid, readable and writable memory for
  /// the lifetime of the value (one WASI call: the typed array it comes
  /// from is held by the caller's frame, and no JS runs meanwhile).
  pub unsafe fn new(base: *mut u8, len: usize) -> Self {
    Self { base, len }
  }

  /// The host address of `len` guest bytes at `ptr`, bounds-checked.
  pub fn slice(&self, ptr: u32, len: u32) -> Result<*mut u8> {
    let end = (ptr as usize)
      .checked_add(len as usize)
      .ok_or(errno::OVERFLOW)?;
    if end > self.len {
      return Err(errno::OVERFLOW);
    }
    // SAFETY: `ptr + len <= self.len`, so the offset stays within the
    // allocation (or is zero on an empty memory).
    Ok(unsafe { self.base.add(ptr as usize) })
  }

  /// A copy of `len` guest bytes at `ptr`.
  pub fn read(&self, ptr: u32, len: u32) -> Result<Vec<u8>> {
    let src = self.slice(ptr, len)?;
    let mut out = vec![0u8; len as usize];
    // SAFETY: `src` is `len` in-bounds guest bytes (checked above); `out`
    // is a fresh buffer of that size, so they cannot overlap.
    unsafe { std::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), len as usize) };
    Ok(out)
  }

  /// Writes `bytes` at guest address `ptr`.
  pub fn write(&self, ptr: u32, bytes: &[u8]) -> Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| errno::OVERFLOW)?;
    let dst = self.slice(ptr, len)?;
    // SAFETY: `dst` is `len` in-bounds guest bytes; `bytes` is host memory
    // (never a view of the guest's), so they cannot overlap.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len()) };
    Ok(())
  }

  pub fn write_u32(&self, ptr: u32, v: u32) -> Result<()> {
    self.write(ptr, &v.to_le_bytes())
  }

  pub fn write_u64(&self, ptr: u32, v: u64) -> Result<()> {
    self.write(ptr, &v.to_le_bytes())
  }

  /// The `iovec`/`ciovec` array at `ptr` (`count` pairs of u32 buffer
  /// address and length) as host `iovec`s, each bounds-checked. At most
  /// `IOV_MAX` (1024) are taken: a longer list reads or writes less, as a
  /// short read or write may.
  pub fn iovecs(&self, ptr: u32, count: u32) -> Result<Vec<libc::iovec>> {
    let size = count.checked_mul(8).ok_or(errno::OVERFLOW)?;
    let raw = self.read(ptr, size)?;
    let mut out = Vec::with_capacity(count.min(1024) as usize);
    for pair in raw.chunks_exact(8).take(1024) {
      let buf = u32::from_le_bytes([pair[0], pair[1], pair[2], pair[3]]);
      let len = u32::from_le_bytes([pair[4], pair[5], pair[6], pair[7]]);
      let base = self.slice(buf, len)?;
      out.push(libc::iovec {
        iov_base: base.cast(),
        iov_len: len as usize,
      });
    }
    Ok(out)
  }
}
