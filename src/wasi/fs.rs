//! `fd_*`: reading, writing and describing open descriptors.

use std::ffi::CStr;
use std::os::fd::RawFd;

use super::errno::{self, check, Result};
use super::guest::Guest;
use super::table::{Dirent, ALL_RIGHTS};
use super::Ctx;

// fdflags
const APPEND: u16 = 1;
const DSYNC: u16 = 2;
const NONBLOCK: u16 = 4;
const SYNC: u16 = 16;
// fstflags
const ATIM: u16 = 1;
const ATIM_NOW: u16 = 2;
const MTIM: u16 = 4;
const MTIM_NOW: u16 = 8;

/// What `fd_prestat_dir_name` answers for a buffer too small (uvwasi's).
const NOBUFS: u16 = 42;

/// WASI `filetype` of a `st_mode`.
pub fn filetype(mode: libc::mode_t) -> u8 {
  match mode & libc::S_IFMT {
    libc::S_IFBLK => 1,
    libc::S_IFCHR => 2,
    libc::S_IFDIR => 3,
    libc::S_IFREG => 4,
    libc::S_IFSOCK => 6,
    libc::S_IFLNK => 7,
    _ => 0,
  }
}

/// A WASI `filestat` (64 bytes) of a host `stat`.
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
pub fn filestat(st: &libc::stat) -> [u8; 64] {
  let ns = |s: i64, n: i64| {
    (s as u64)
      .wrapping_mul(1_000_000_000)
      .wrapping_add(n as u64)
  };
  let mut out = [0u8; 64];
  out[0..8].copy_from_slice(&(st.st_dev as u64).to_le_bytes());
  out[8..16].copy_from_slice(&(st.st_ino as u64).to_le_bytes());
  out[16] = filetype(st.st_mode);
  out[24..32].copy_from_slice(&(st.st_nlink as u64).to_le_bytes());
  out[32..40].copy_from_slice(&(st.st_size as u64).to_le_bytes());
  out[40..48].copy_from_slice(&ns(st.st_atime as i64, st.st_atime_nsec as i64).to_le_bytes());
  out[48..56].copy_from_slice(&ns(st.st_mtime as i64, st.st_mtime_nsec as i64).to_le_bytes());
  out[56..64].copy_from_slice(&ns(st.st_ctime as i64, st.st_ctime_nsec as i64).to_le_bytes());
  out
}

/// `fstat(fd)`.
pub fn fstat(fd: RawFd) -> Result<libc::stat> {
  // SAFETY: `stat` is plain data; `fstat` fills it or fails.
  let mut st: libc::stat = unsafe { std::mem::zeroed() };
  // SAFETY: `st` is a valid, writable `stat`.
  check(unsafe { libc::fstat(fd, &mut st) })?;
  Ok(st)
}

/// The two `timespec`s of `futimens`/`utimensat` for WASI times and flags.
pub fn times(atim: u64, mtim: u64, flags: u16) -> Result<[libc::timespec; 2]> {
  if flags & !0xf != 0
    || (flags & ATIM != 0 && flags & ATIM_NOW != 0)
    || (flags & MTIM != 0 && flags & MTIM_NOW != 0)
  {
    return Err(errno::INVAL);
  }
  let spec = |t: u64, set: bool, now: bool| libc::timespec {
    tv_sec: if set {
      (t / 1_000_000_000) as libc::time_t
    } else {
      0
    },
    tv_nsec: if now {
      libc::UTIME_NOW
    } else if set {
      (t % 1_000_000_000) as _
    } else {
      libc::UTIME_OMIT
    },
  };
  Ok([
    spec(atim, flags & ATIM != 0, flags & ATIM_NOW != 0),
    spec(mtim, flags & MTIM != 0, flags & MTIM_NOW != 0),
  ])
}

/// Every entry of the directory `fd` but `.` and `..`, read through a
/// descriptor of its own.
fn list_dir(fd: RawFd) -> Result<Vec<Dirent>> {
  // SAFETY: a NUL-terminated literal; `openat` returns a new descriptor.
  let own = check(unsafe {
    libc::openat(
      fd,
      c".".as_ptr(),
      libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
    )
  })?;
  // SAFETY: `own` is a directory descriptor we own; on success `fdopendir`
  // takes it over (closed by `closedir`), on failure we close it.
  let dir = unsafe { libc::fdopendir(own) };
  if dir.is_null() {
    let e = errno::last();
    // SAFETY: `own` is still ours after a failed `fdopendir`.
    unsafe { libc::close(own) };
    return Err(e);
  }
  let mut out = Vec::new();
  loop {
    // SAFETY: `dir` is an open stream; `readdir` returns an entry valid
    // until the next call, or null at the end.
    let ent = unsafe { libc::readdir(dir) };
    if ent.is_null() {
      break;
    }
    // SAFETY: `ent` is the non-null entry just returned; `d_name` is
    // NUL-terminated.
    let (ino, kind, name) = unsafe {
      let e = &*ent;
      (
        e.d_ino,
        e.d_type,
        CStr::from_ptr(e.d_name.as_ptr()).to_bytes().to_vec(),
      )
    };
    // node:wasi (uvwasi) lists neither `.` nor `..`: nor do we.
    if name == b"." || name == b".." {
      continue;
    }
    let kind = match kind {
      libc::DT_BLK => 1,
      libc::DT_CHR => 2,
      libc::DT_DIR => 3,
      libc::DT_REG => 4,
      libc::DT_SOCK => 6,
      libc::DT_LNK => 7,
      _ => 0,
    };
    #[allow(clippy::useless_conversion)]
    out.push(Dirent {
      ino: u64::from(ino),
      kind,
      name,
    });
  }
  // SAFETY: `dir` came from `fdopendir` and is closed once.
  unsafe { libc::closedir(dir) };
  Ok(out)
}

impl Ctx {
  pub(super) fn fd_advise(&mut self, fd: u32, offset: u64, len: u64, advice: u32) -> Result<()> {
    let raw = self.table.raw(fd)?;
    if advice > 5 {
      return Err(errno::INVAL);
    }
    #[cfg(target_os = "linux")]
    {
      let advice = [
        libc::POSIX_FADV_NORMAL,
        libc::POSIX_FADV_SEQUENTIAL,
        libc::POSIX_FADV_RANDOM,
        libc::POSIX_FADV_WILLNEED,
        libc::POSIX_FADV_DONTNEED,
        libc::POSIX_FADV_NOREUSE,
      ][advice as usize];
      // SAFETY: plain integers; returns an error number.
      let r = unsafe { libc::posix_fadvise(raw, offset as i64, len as i64, advice) };
      if r != 0 {
        return Err(errno::from_host(r));
      }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (raw, offset, len);
    Ok(())
  }

  pub(super) fn fd_allocate(&mut self, fd: u32, offset: u64, len: u64) -> Result<()> {
    let raw = self.table.raw(fd)?;
    let end = offset
      .checked_add(len)
      .filter(|&e| e <= i64::MAX as u64)
      .ok_or(errno::INVAL)?;
    let st = fstat(raw)?;
    if (st.st_size as u64) < end {
      // SAFETY: plain integers.
      check(unsafe { libc::ftruncate(raw, end as libc::off_t) })?;
    }
    Ok(())
  }

  pub(super) fn fd_close(&mut self, fd: u32) -> Result<()> {
    // Dropping the entry closes an owned descriptor; stdio stays open.
    self.table.remove(fd).map(drop)
  }

  pub(super) fn fd_sync(&mut self, fd: u32, data_only: bool) -> Result<()> {
    let raw = self.table.raw(fd)?;
    #[cfg(target_os = "linux")]
    if data_only {
      // SAFETY: plain integer.
      check(unsafe { libc::fdatasync(raw) })?;
      return Ok(());
    }
    let _ = data_only;
    // SAFETY: plain integer.
    check(unsafe { libc::fsync(raw) })?;
    Ok(())
  }

  pub(super) fn fd_fdstat_get(&mut self, g: &Guest, fd: u32, ptr: u32) -> Result<()> {
    let entry = self.table.get(fd)?;
    let st = fstat(entry.raw())?;
    // SAFETY: plain integers.
    let fl = check(unsafe { libc::fcntl(entry.raw(), libc::F_GETFL) })?;
    let mut flags = 0u16;
    if fl & libc::O_APPEND != 0 {
      flags |= APPEND;
    }
    if fl & libc::O_NONBLOCK != 0 {
      flags |= NONBLOCK;
    }
    if fl & libc::O_DSYNC != 0 {
      flags |= DSYNC;
    }
    if fl & libc::O_SYNC == libc::O_SYNC {
      flags |= SYNC;
    }
    let mut out = [0u8; 24];
    out[0] = filetype(st.st_mode);
    out[2..4].copy_from_slice(&flags.to_le_bytes());
    out[8..16].copy_from_slice(&entry.rights_base.to_le_bytes());
    out[16..24].copy_from_slice(&entry.rights_inheriting.to_le_bytes());
    g.write(ptr, &out)
  }

  pub(super) fn fd_fdstat_set_flags(&mut self, fd: u32, flags: u32) -> Result<()> {
    let raw = self.table.raw(fd)?;
    if flags > 0x1f {
      return Err(errno::INVAL);
    }
    // Only O_APPEND and O_NONBLOCK can change on an open file (POSIX).
    if flags as u16 & !(APPEND | NONBLOCK) != 0 {
      return Err(errno::NOTSUP);
    }
    // SAFETY: plain integers.
    let mut fl = check(unsafe { libc::fcntl(raw, libc::F_GETFL) })?;
    fl &= !(libc::O_APPEND | libc::O_NONBLOCK);
    if flags as u16 & APPEND != 0 {
      fl |= libc::O_APPEND;
    }
    if flags as u16 & NONBLOCK != 0 {
      fl |= libc::O_NONBLOCK;
    }
    // SAFETY: plain integers.
    check(unsafe { libc::fcntl(raw, libc::F_SETFL, fl) })?;
    Ok(())
  }

  pub(super) fn fd_fdstat_set_rights(&mut self, fd: u32, base: u64, inheriting: u64) -> Result<()> {
    let entry = self.table.get_mut(fd)?;
    // Rights may only shrink.
    if base & !entry.rights_base != 0
      || inheriting & !entry.rights_inheriting != 0
      || (base | inheriting) & !ALL_RIGHTS != 0
    {
      return Err(errno::NOTCAPABLE);
    }
    entry.rights_base = base;
    entry.rights_inheriting = inheriting;
    Ok(())
  }

  pub(super) fn fd_filestat_get(&mut self, g: &Guest, fd: u32, ptr: u32) -> Result<()> {
    let st = fstat(self.table.raw(fd)?)?;
    g.write(ptr, &filestat(&st))
  }

  pub(super) fn fd_filestat_set_size(&mut self, fd: u32, size: u64) -> Result<()> {
    let raw = self.table.raw(fd)?;
    let size = libc::off_t::try_from(size).map_err(|_| errno::INVAL)?;
    // SAFETY: plain integers.
    check(unsafe { libc::ftruncate(raw, size) })?;
    Ok(())
  }

  pub(super) fn fd_filestat_set_times(
    &mut self,
    fd: u32,
    atim: u64,
    mtim: u64,
    flags: u32,
  ) -> Result<()> {
    let raw = self.table.raw(fd)?;
    let ts = times(atim, mtim, u16::try_from(flags).map_err(|_| errno::INVAL)?)?;
    // SAFETY: `ts` is two valid timespecs.
    check(unsafe { libc::futimens(raw, ts.as_ptr()) })?;
    Ok(())
  }

  /// `fd_read`/`fd_write` (no offset) and `fd_pread`/`fd_pwrite`.
  #[allow(clippy::too_many_arguments)]
  pub(super) fn fd_io(
    &mut self,
    g: &Guest,
    fd: u32,
    iovs: u32,
    count: u32,
    offset: Option<u64>,
    write: bool,
    done_ptr: u32,
  ) -> Result<()> {
    let raw = self.table.raw(fd)?;
    let iov = g.iovecs(iovs, count)?;
    g.slice(done_ptr, 4)?;
    let done: usize = match offset {
      None => {
        let n = iov.len() as libc::c_int;
        // SAFETY: every iovec points at in-bounds guest memory (checked by
        // `iovecs`), valid for this call; the kernel reads or fills it.
        let r = unsafe {
          if write {
            libc::writev(raw, iov.as_ptr(), n)
          } else {
            libc::readv(raw, iov.as_ptr(), n)
          }
        };
        check(r)? as usize
      }
      Some(offset) => {
        let mut offset = libc::off_t::try_from(offset).map_err(|_| errno::INVAL)?;
        let mut total = 0usize;
        for v in &iov {
          if v.iov_len == 0 {
            continue;
          }
          // SAFETY: as above, for one in-bounds guest buffer.
          let r = unsafe {
            if write {
              libc::pwrite(raw, v.iov_base, v.iov_len, offset)
            } else {
              libc::pread(raw, v.iov_base, v.iov_len, offset)
            }
          };
          let n = match check(r) {
            Ok(n) => n as usize,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
          };
          total += n;
          offset += n as libc::off_t;
          if n < v.iov_len {
            break;
          }
        }
        total
      }
    };
    g.write_u32(done_ptr, done as u32)
  }

  pub(super) fn fd_prestat_get(&mut self, g: &Guest, fd: u32, ptr: u32) -> Result<()> {
    // An open fd that is not a preopen: EINVAL, as uvwasi (wasi-libc
    // stops its preopen scan at the first EBADF).
    let name = self.table.get(fd)?.preopen.as_ref().ok_or(errno::INVAL)?;
    let mut out = [0u8; 8];
    out[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
    g.write(ptr, &out)
  }

  pub(super) fn fd_prestat_dir_name(
    &mut self,
    g: &Guest,
    fd: u32,
    ptr: u32,
    len: u32,
  ) -> Result<()> {
    let name = self.table.get(fd)?.preopen.as_ref().ok_or(errno::INVAL)?;
    if (len as usize) < name.len() {
      return Err(NOBUFS);
    }
    g.write(ptr, name)
  }

  pub(super) fn fd_readdir(
    &mut self,
    g: &Guest,
    fd: u32,
    buf: u32,
    len: u32,
    cookie: u64,
    used_ptr: u32,
  ) -> Result<()> {
    g.slice(buf, len)?;
    g.slice(used_ptr, 4)?;
    let entry = self.table.get_mut(fd)?;
    if cookie == 0 || entry.listing.is_none() {
      entry.listing = Some(list_dir(entry.raw())?);
    }
    let list = entry.listing.as_deref().unwrap_or(&[]);
    let mut out = Vec::new();
    for (i, d) in list
      .iter()
      .enumerate()
      .skip(usize::try_from(cookie).unwrap_or(usize::MAX))
    {
      if out.len() >= len as usize {
        break;
      }
      out.extend_from_slice(&(i as u64 + 1).to_le_bytes());
      out.extend_from_slice(&d.ino.to_le_bytes());
      out.extend_from_slice(&(d.name.len() as u32).to_le_bytes());
      out.extend_from_slice(&[d.kind, 0, 0, 0]);
      out.extend_from_slice(&d.name);
    }
    // A last entry that does not fit is cut: the guest sees a full buffer
    // and asks again from that entry's cookie (the spec's protocol).
    out.truncate(len as usize);
    g.write(buf, &out)?;
    g.write_u32(used_ptr, out.len() as u32)
  }

  pub(super) fn fd_renumber(&mut self, from: u32, to: u32) -> Result<()> {
    self.table.get(to)?;
    let entry = self.table.remove(from)?;
    // The entry at `to` is replaced (and closed, if it was ours).
    self.table.insert_at(to, entry);
    Ok(())
  }

  pub(super) fn fd_seek(
    &mut self,
    g: &Guest,
    fd: u32,
    offset: u64,
    whence: u32,
    ptr: u32,
  ) -> Result<()> {
    let raw = self.table.raw(fd)?;
    let whence = match whence {
      0 => libc::SEEK_SET,
      1 => libc::SEEK_CUR,
      2 => libc::SEEK_END,
      _ => return Err(errno::INVAL),
    };
    g.slice(ptr, 8)?;
    // SAFETY: plain integers.
    let pos = check(unsafe { libc::lseek(raw, offset as i64 as libc::off_t, whence) })?;
    g.write_u64(ptr, pos as u64)
  }
}
