//! Paths resolved beneath a preopened directory: the WASI sandbox.
//!
//! Every guest path is relative to a directory descriptor and must stay
//! beneath it: an absolute path, a `..` that climbs out, or a symbolic link
//! whose target leads out (absolute or relative, directly or through a
//! chain) is refused with `ENOTCAPABLE`.
//!
//! On Linux the kernel does it: `openat2` with `RESOLVE_BENEATH |
//! RESOLVE_NO_MAGICLINKS` (Linux 5.6+) resolves the whole path, symlinks
//! included, and fails with `EXDEV` if it would leave the directory. Elsewhere
//! (macOS, or a kernel without `openat2`) [`walk`] opens one component at a
//! time with `O_NOFOLLOW`, keeping its own stack of directories for `..`
//! and splicing symlink targets in, never letting the stack underflow.
//! Operations on a final component (`mkdirat`, `unlinkat`, `renameat`, ...)
//! run on its parent, opened the same way ([`parent_beneath`]), with a
//! final name that is never `..` and never contains `/`.

use std::collections::VecDeque;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use libc::{c_int, mode_t};

use super::errno::{self, Result};

/// Flags to open a directory only to resolve paths in it.
#[cfg(target_os = "linux")]
pub const DIR_FLAGS: c_int = libc::O_PATH | libc::O_DIRECTORY;
#[cfg(not(target_os = "linux"))]
pub const DIR_FLAGS: c_int = libc::O_RDONLY | libc::O_DIRECTORY;

/// Flags to open anything only to look at it (`fstat`, `readlinkat`).
#[cfg(target_os = "linux")]
pub const PATH_FLAGS: c_int = libc::O_PATH;
#[cfg(not(target_os = "linux"))]
pub const PATH_FLAGS: c_int = libc::O_RDONLY;

/// How many symbolic links one resolution may follow (Linux's limit).
const MAX_LINKS: u32 = 40;

/// `bytes` as a C string (a guest path with a NUL in it is `EINVAL`).
pub fn c_string(bytes: &[u8]) -> Result<CString> {
  CString::new(bytes).map_err(|_| errno::INVAL)
}

/// Opens `path` beneath `dir` with `flags` (`O_*`; `O_CLOEXEC` is added),
/// following a final symbolic link only if `follow`.
///
/// # Errors
/// `ENOTCAPABLE` for a path that would leave `dir`; the host's error
/// otherwise.
pub fn open_beneath(
  dir: RawFd,
  path: &[u8],
  flags: c_int,
  mode: mode_t,
  follow: bool,
) -> Result<OwnedFd> {
  if path.is_empty() {
    return Err(errno::NOENT);
  }
  if path[0] == b'/' {
    return Err(errno::NOTCAPABLE);
  }
  #[cfg(target_os = "linux")]
  if !force_walk() {
    match openat2(dir, &c_string(path)?, flags, mode, follow) {
      Err(libc::ENOSYS) => {}
      Err(libc::EXDEV) => return Err(errno::NOTCAPABLE),
      Err(e) => return Err(errno::from_host(e)),
      Ok(fd) => return Ok(fd),
    }
  }
  walk(dir, path, flags, mode, follow)
}

/// Tests run the portable walk on Linux too: `WASM_MEMORY_RS_WASI_WALK=1`.
#[cfg(target_os = "linux")]
fn force_walk() -> bool {
  static FORCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
  *FORCE.get_or_init(|| std::env::var_os("WASM_MEMORY_RS_WASI_WALK").is_some_and(|v| v == "1"))
}

/// `openat2(dir, path, flags, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`;
/// the host errno on failure.
#[cfg(target_os = "linux")]
fn openat2(
  dir: RawFd,
  path: &CString,
  flags: c_int,
  mode: mode_t,
  follow: bool,
) -> std::result::Result<OwnedFd, i32> {
  let mut flags = flags | libc::O_CLOEXEC;
  if !follow {
    flags |= libc::O_NOFOLLOW;
  }
  // SAFETY: `open_how` is plain integers; all-zero is a valid value.
  let mut how: libc::open_how = unsafe { std::mem::zeroed() };
  how.flags = flags as u32 as u64;
  // openat2 refuses a mode without O_CREAT or O_TMPFILE.
  if flags & (libc::O_CREAT | libc::O_TMPFILE) != 0 {
    how.mode = u64::from(mode);
  }
  how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
  // The kernel answers EAGAIN when a concurrent rename could have let a
  // `..` escape: try again a few times.
  for _ in 0..8 {
    // SAFETY: `path` is a NUL-terminated string and `how` a valid
    // `open_how` whose size we pass; the kernel writes nothing back.
    let r = unsafe {
      libc::syscall(
        libc::SYS_openat2,
        dir,
        path.as_ptr(),
        &how as *const libc::open_how,
        std::mem::size_of::<libc::open_how>(),
      )
    };
    if r >= 0 {
      // SAFETY: a descriptor the kernel just gave us and nobody else owns.
      return Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) });
    }
    let e = std::io::Error::last_os_error()
      .raw_os_error()
      .unwrap_or(libc::EIO);
    if e != libc::EAGAIN {
      return Err(e);
    }
  }
  Err(libc::EAGAIN)
}

/// `openat(dir, name, flags | O_CLOEXEC | O_NOFOLLOW, mode)`.
fn open_one(
  dir: RawFd,
  name: &CString,
  flags: c_int,
  mode: mode_t,
) -> std::result::Result<OwnedFd, i32> {
  // SAFETY: `name` is NUL-terminated; `openat` reads it and returns a new
  // descriptor or -1.
  let r = unsafe {
    libc::openat(
      dir,
      name.as_ptr(),
      flags | libc::O_CLOEXEC | libc::O_NOFOLLOW,
      libc::c_uint::from(mode),
    )
  };
  if r < 0 {
    Err(
      std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO),
    )
  } else {
    // SAFETY: a descriptor the kernel just gave us and nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
  }
}

/// The target of the symbolic link `name` in `dir`, or None if it is not one.
pub fn read_link(dir: RawFd, name: &CString) -> Result<Option<Vec<u8>>> {
  let mut buf = vec![0u8; 4096];
  // SAFETY: `buf` has `buf.len()` writable bytes; `name` is NUL-terminated.
  let n = unsafe { libc::readlinkat(dir, name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
  if n < 0 {
    let e = std::io::Error::last_os_error()
      .raw_os_error()
      .unwrap_or(libc::EIO);
    return if e == libc::EINVAL || e == libc::ENOENT || e == libc::ENOTDIR {
      Ok(None)
    } else {
      Err(errno::from_host(e))
    };
  }
  buf.truncate(n as usize);
  Ok(Some(buf))
}

/// Pushes the components of `path` (relative) in front of `queue`, dropping
/// empty ones and `.`.
fn push_front(queue: &mut VecDeque<Vec<u8>>, path: &[u8]) {
  let parts: Vec<&[u8]> = path
    .split(|&b| b == b'/')
    .filter(|c| !c.is_empty() && *c != b".")
    .collect();
  for part in parts.into_iter().rev() {
    queue.push_front(part.to_vec());
  }
}

/// The portable resolution: one component at a time, `O_NOFOLLOW` each,
/// symlink targets spliced in (absolute ones refused), `..` popping our own
/// stack of opened directories (refused when it is empty: that would be
/// above `root`).
fn walk(root: RawFd, path: &[u8], flags: c_int, mode: mode_t, follow: bool) -> Result<OwnedFd> {
  let trailing_slash = path.ends_with(b"/");
  let mut queue = VecDeque::new();
  push_front(&mut queue, path);
  let mut stack: Vec<OwnedFd> = Vec::new();
  let mut links = 0u32;
  loop {
    let cur = stack.last().map_or(root, AsRawFd::as_raw_fd);
    let Some(name) = queue.pop_front() else {
      // Nothing left to resolve (".", "a/..", a link to "."): the
      // directory we are in.
      return open_one(cur, &c_string(b".")?, flags, mode).map_err(errno::from_host);
    };
    if name == b".." {
      if stack.pop().is_none() {
        return Err(errno::NOTCAPABLE);
      }
      continue;
    }
    let last = queue.is_empty();
    let cname = c_string(&name)?;
    // With O_PATH (Linux), O_NOFOLLOW opens a final symlink itself rather
    // than failing: look before opening a last component to be followed.
    if last && (follow || trailing_slash) {
      if let Some(target) = read_link(cur, &cname)? {
        links += 1;
        if links > MAX_LINKS {
          return Err(errno::LOOP);
        }
        if target.first() == Some(&b'/') {
          return Err(errno::NOTCAPABLE);
        }
        push_front(&mut queue, &target);
        continue;
      }
    }
    let opened = if last {
      let extra = if trailing_slash { libc::O_DIRECTORY } else { 0 };
      open_one(cur, &cname, flags | extra, mode)
    } else {
      open_one(cur, &cname, DIR_FLAGS, 0)
    };
    match opened {
      Ok(fd) if last => return Ok(fd),
      Ok(fd) => stack.push(fd),
      Err(e) => {
        // O_NOFOLLOW fails on a symbolic link (ELOOP on Linux and macOS,
        // EMLINK on FreeBSD; O_DIRECTORY may say ENOTDIR first): is it one?
        if last && !follow && !trailing_slash {
          return Err(errno::from_host(e));
        }
        let Some(target) = read_link(cur, &cname)? else {
          return Err(errno::from_host(e));
        };
        links += 1;
        if links > MAX_LINKS {
          return Err(errno::LOOP);
        }
        if target.first() == Some(&b'/') {
          return Err(errno::NOTCAPABLE);
        }
        push_front(&mut queue, &target);
      }
    }
  }
}

/// The directory holding `path`'s final component, opened beneath `dir`,
/// and that component's name. The name is never `..` and has no `/`: for a
/// path ending in `.` or `..` the directory is the whole path, and the name
/// `.`.
pub fn parent_beneath(dir: RawFd, path: &[u8]) -> Result<(OwnedFd, CString)> {
  if path.first() == Some(&b'/') {
    return Err(errno::NOTCAPABLE);
  }
  let mut end = path.len();
  while end > 0 && path[end - 1] == b'/' {
    end -= 1;
  }
  let trimmed = &path[..end];
  if trimmed.is_empty() {
    return Err(errno::NOENT);
  }
  let (parent, name) = match trimmed.iter().rposition(|&b| b == b'/') {
    Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
    None => (&b"."[..], trimmed),
  };
  if name == b"." || name == b".." {
    return Ok((
      open_beneath(dir, trimmed, DIR_FLAGS, 0, true)?,
      c_string(b".")?,
    ));
  }
  let parent = if parent.is_empty() { &b"."[..] } else { parent };
  Ok((
    open_beneath(dir, parent, DIR_FLAGS, 0, true)?,
    c_string(name)?,
  ))
}

/// Whether a symbolic link with `target`, made at `link` (both relative to
/// the same preopen), would point outside it: absolute targets, and `..`s
/// that climb above the preopen from the link's directory (counted
/// lexically; following a link is checked again anyway).
pub fn link_escapes(link: &[u8], target: &[u8]) -> bool {
  if target.first() == Some(&b'/') || target.is_empty() {
    return true;
  }
  let mut depth: i64 = 0;
  let parts: Vec<&[u8]> = link
    .split(|&b| b == b'/')
    .filter(|c| !c.is_empty())
    .collect();
  for part in parts.iter().take(parts.len().saturating_sub(1)) {
    match *part {
      b"." => {}
      b".." => depth -= 1,
      _ => depth += 1,
    }
  }
  for part in target.split(|&b| b == b'/') {
    match part {
      b"" | b"." => {}
      b".." => {
        depth -= 1;
        if depth < 0 {
          return true;
        }
      }
      _ => depth += 1,
    }
  }
  false
}
