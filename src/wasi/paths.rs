//! `path_*`: operations on paths beneath a directory descriptor (see
//! path.rs for how a path is kept beneath it).

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

use super::errno::{self, check, Result};
use super::fs::{filestat, fstat, times};
use super::guest::Guest;
use super::path::{self, c_string, open_beneath, parent_beneath};
use super::table::{Entry, Host};
use super::Ctx;

/// `lookupflags`: follow a final symbolic link.
const SYMLINK_FOLLOW: u32 = 1;
// oflags
const CREAT: u32 = 1;
const DIRECTORY: u32 = 2;
const EXCL: u32 = 4;
const TRUNC: u32 = 8;
// Rights that need a readable or a writable host descriptor (as uvwasi).
const READ_RIGHTS: u64 = (1 << 1) | (1 << 14);
const WRITE_RIGHTS: u64 = 1 | (1 << 6) | (1 << 8) | (1 << 22);

/// The parent directory and name of `path`'s final component, symbolic
/// links at the end followed (each hop resolved beneath `dir` again).
fn follow_final(dir: i32, path: &[u8]) -> Result<(OwnedFd, CString)> {
  let mut path = path.to_vec();
  for _ in 0..40 {
    let (parent, name) = parent_beneath(dir, &path)?;
    let Some(target) = path::read_link(parent.as_raw_fd(), &name)? else {
      return Ok((parent, name));
    };
    if target.first() == Some(&b'/') {
      return Err(errno::NOTCAPABLE);
    }
    // The target is relative to the link's directory: the guest path up
    // to its last `/`.
    let mut end = path.len();
    while end > 0 && path[end - 1] == b'/' {
      end -= 1;
    }
    let dir_part = match path[..end].iter().rposition(|&b| b == b'/') {
      Some(i) => path[..=i].to_vec(),
      None => Vec::new(),
    };
    path = [dir_part, target].concat();
  }
  Err(errno::LOOP)
}

impl Ctx {
  fn guest_path(&self, g: &Guest, ptr: u32, len: u32) -> Result<Vec<u8>> {
    g.read(ptr, len)
  }

  #[allow(clippy::too_many_arguments)]
  pub(super) fn path_open(
    &mut self,
    g: &Guest,
    dirfd: u32,
    lookup: u32,
    path_ptr: u32,
    path_len: u32,
    oflags: u32,
    rights_base: u64,
    rights_inheriting: u64,
    fdflags: u32,
    fd_ptr: u32,
  ) -> Result<()> {
    let dir = self.table.raw(dirfd)?;
    let path = self.guest_path(g, path_ptr, path_len)?;
    g.slice(fd_ptr, 4)?;
    if oflags > 0xf || fdflags > 0x1f {
      return Err(errno::INVAL);
    }
    let mut flags = 0;
    if oflags & CREAT != 0 {
      flags |= libc::O_CREAT;
    }
    if oflags & DIRECTORY != 0 {
      flags |= libc::O_DIRECTORY;
    }
    if oflags & EXCL != 0 {
      flags |= libc::O_EXCL;
    }
    if oflags & TRUNC != 0 {
      flags |= libc::O_TRUNC;
    }
    if fdflags & 1 != 0 {
      flags |= libc::O_APPEND;
    }
    if fdflags & 2 != 0 {
      flags |= libc::O_DSYNC;
    }
    if fdflags & 4 != 0 {
      flags |= libc::O_NONBLOCK;
    }
    if fdflags & (8 | 16) != 0 {
      flags |= libc::O_SYNC;
    }
    let read = rights_base & READ_RIGHTS != 0;
    let write = rights_base & WRITE_RIGHTS != 0 || oflags & TRUNC != 0;
    let access = match (read, write) {
      _ if oflags & DIRECTORY != 0 => libc::O_RDONLY,
      (_, false) => libc::O_RDONLY,
      (false, true) => libc::O_WRONLY,
      (true, true) => libc::O_RDWR,
    };
    let follow = lookup & SYMLINK_FOLLOW != 0;
    let fd = match open_beneath(dir, &path, flags | access, 0o666, follow) {
      // A directory asked for with write rights (wasi-libc asks for every
      // right it might use): open it for reading, as directories are.
      Err(errno::ISDIR)
        if access != libc::O_RDONLY && flags & (libc::O_CREAT | libc::O_TRUNC) == 0 =>
      {
        open_beneath(dir, &path, flags | libc::O_RDONLY, 0o666, follow)?
      }
      r => r?,
    };
    let mut entry = Entry::new(Host::Owned(fd), None);
    entry.rights_base = rights_base;
    entry.rights_inheriting = rights_inheriting;
    let new_fd = self.table.push(entry)?;
    g.write_u32(fd_ptr, new_fd)
  }

  pub(super) fn path_create_directory(
    &mut self,
    g: &Guest,
    dirfd: u32,
    ptr: u32,
    len: u32,
  ) -> Result<()> {
    let dir = self.table.raw(dirfd)?;
    let (parent, name) = parent_beneath(dir, &self.guest_path(g, ptr, len)?)?;
    // SAFETY: `name` is NUL-terminated; plain integers otherwise.
    check(unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), 0o777) })?;
    Ok(())
  }

  pub(super) fn path_filestat_get(
    &mut self,
    g: &Guest,
    dirfd: u32,
    lookup: u32,
    ptr: u32,
    len: u32,
    buf: u32,
  ) -> Result<()> {
    let dir = self.table.raw(dirfd)?;
    let path = self.guest_path(g, ptr, len)?;
    g.slice(buf, 64)?;
    let st = if lookup & SYMLINK_FOLLOW != 0 {
      // Opened only to be looked at (O_PATH on Linux).
      match open_beneath(dir, &path, path::PATH_FLAGS, 0, true) {
        Ok(fd) => fstat(fd.as_raw_fd())?,
        // Without O_PATH an unreadable file cannot be opened: stat it
        // through its parent instead.
        Err(errno::ACCES) => {
          let (parent, name) = follow_final(dir, &path)?;
          stat_at(&parent, &name)?
        }
        Err(e) => return Err(e),
      }
    } else {
      let (parent, name) = parent_beneath(dir, &path)?;
      stat_at(&parent, &name)?
    };
    g.write(buf, &filestat(&st))
  }

  #[allow(clippy::too_many_arguments)]
  pub(super) fn path_filestat_set_times(
    &mut self,
    g: &Guest,
    dirfd: u32,
    lookup: u32,
    ptr: u32,
    len: u32,
    atim: u64,
    mtim: u64,
    fst: u32,
  ) -> Result<()> {
    let dir = self.table.raw(dirfd)?;
    let path = self.guest_path(g, ptr, len)?;
    let ts = times(atim, mtim, u16::try_from(fst).map_err(|_| errno::INVAL)?)?;
    let (parent, name) = if lookup & SYMLINK_FOLLOW != 0 {
      follow_final(dir, &path)?
    } else {
      parent_beneath(dir, &path)?
    };
    // SAFETY: `name` is NUL-terminated, `ts` two valid timespecs.
    check(unsafe {
      libc::utimensat(
        parent.as_raw_fd(),
        name.as_ptr(),
        ts.as_ptr(),
        libc::AT_SYMLINK_NOFOLLOW,
      )
    })?;
    Ok(())
  }

  #[allow(clippy::too_many_arguments)]
  pub(super) fn path_link(
    &mut self,
    g: &Guest,
    old_fd: u32,
    lookup: u32,
    old_ptr: u32,
    old_len: u32,
    new_fd: u32,
    new_ptr: u32,
    new_len: u32,
  ) -> Result<()> {
    let old_dir = self.table.raw(old_fd)?;
    let new_dir = self.table.raw(new_fd)?;
    // linkat's AT_SYMLINK_FOLLOW would follow a link without the beneath
    // check: refused, as wasmtime's WASI does.
    if lookup & SYMLINK_FOLLOW != 0 {
      return Err(errno::INVAL);
    }
    let (op, on) = parent_beneath(old_dir, &self.guest_path(g, old_ptr, old_len)?)?;
    let (np, nn) = parent_beneath(new_dir, &self.guest_path(g, new_ptr, new_len)?)?;
    // SAFETY: both names are NUL-terminated.
    check(unsafe { libc::linkat(op.as_raw_fd(), on.as_ptr(), np.as_raw_fd(), nn.as_ptr(), 0) })?;
    Ok(())
  }

  #[allow(clippy::too_many_arguments)]
  pub(super) fn path_readlink(
    &mut self,
    g: &Guest,
    dirfd: u32,
    ptr: u32,
    len: u32,
    buf: u32,
    buf_len: u32,
    used_ptr: u32,
  ) -> Result<()> {
    let dir = self.table.raw(dirfd)?;
    let (parent, name) = parent_beneath(dir, &self.guest_path(g, ptr, len)?)?;
    g.slice(buf, buf_len)?;
    g.slice(used_ptr, 4)?;
    let target = path::read_link(parent.as_raw_fd(), &name)?.ok_or(errno::INVAL)?;
    let n = target.len().min(buf_len as usize);
    g.write(buf, &target[..n])?;
    g.write_u32(used_ptr, n as u32)
  }

  pub(super) fn path_remove(
    &mut self,
    g: &Guest,
    dirfd: u32,
    ptr: u32,
    len: u32,
    directory: bool,
  ) -> Result<()> {
    let dir = self.table.raw(dirfd)?;
    let (parent, name) = parent_beneath(dir, &self.guest_path(g, ptr, len)?)?;
    let flags = if directory { libc::AT_REMOVEDIR } else { 0 };
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::unlinkat(parent.as_raw_fd(), name.as_ptr(), flags) })?;
    Ok(())
  }

  #[allow(clippy::too_many_arguments)]
  pub(super) fn path_rename(
    &mut self,
    g: &Guest,
    old_fd: u32,
    old_ptr: u32,
    old_len: u32,
    new_fd: u32,
    new_ptr: u32,
    new_len: u32,
  ) -> Result<()> {
    let old_dir = self.table.raw(old_fd)?;
    let new_dir = self.table.raw(new_fd)?;
    let (op, on) = parent_beneath(old_dir, &self.guest_path(g, old_ptr, old_len)?)?;
    let (np, nn) = parent_beneath(new_dir, &self.guest_path(g, new_ptr, new_len)?)?;
    // SAFETY: both names are NUL-terminated.
    check(unsafe { libc::renameat(op.as_raw_fd(), on.as_ptr(), np.as_raw_fd(), nn.as_ptr()) })?;
    Ok(())
  }

  pub(super) fn path_symlink(
    &mut self,
    g: &Guest,
    old_ptr: u32,
    old_len: u32,
    dirfd: u32,
    new_ptr: u32,
    new_len: u32,
  ) -> Result<()> {
    let target = self.guest_path(g, old_ptr, old_len)?;
    let dir = self.table.raw(dirfd)?;
    let link = self.guest_path(g, new_ptr, new_len)?;
    // Following such a link is refused anyway; not making it keeps the
    // preopen free of links that lead out (wasmtime's WASI refuses too).
    if path::link_escapes(&link, &target) {
      return Err(errno::NOTCAPABLE);
    }
    let (parent, name) = parent_beneath(dir, &link)?;
    let target = c_string(&target)?;
    // SAFETY: both strings are NUL-terminated.
    check(unsafe { libc::symlinkat(target.as_ptr(), parent.as_raw_fd(), name.as_ptr()) })?;
    Ok(())
  }
}

/// `fstatat(parent, name, AT_SYMLINK_NOFOLLOW)`.
fn stat_at(parent: &OwnedFd, name: &CString) -> Result<libc::stat> {
  // SAFETY: `stat` is plain data.
  let mut st: libc::stat = unsafe { std::mem::zeroed() };
  // SAFETY: `name` is NUL-terminated and `st` writable.
  check(unsafe {
    libc::fstatat(
      parent.as_raw_fd(),
      name.as_ptr(),
      &mut st,
      libc::AT_SYMLINK_NOFOLLOW,
    )
  })?;
  Ok(st)
}
