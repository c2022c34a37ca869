//! The WASI descriptor table: guest fd numbers to host descriptors.
//!
//! Guest fds 0, 1 and 2 are the host descriptors the `stdin`/`stdout`/
//! `stderr` options name (borrowed: never closed by us). Preopened
//! directories follow from 3, in the order given; files and directories the
//! guest opens take the lowest free number from 3 up.

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::errno::{self, Result};

/// Every right preview1 defines (bits 0 to 29).
pub const ALL_RIGHTS: u64 = (1 << 30) - 1;

/// A host descriptor, owned (closed when the entry goes) or borrowed (stdio).
pub enum Host {
  Owned(OwnedFd),
  Borrowed(RawFd),
}

/// One directory entry as `fd_readdir` lists it.
pub struct Dirent {
  pub ino: u64,
  pub kind: u8,
  pub name: Vec<u8>,
}

/// An open guest descriptor.
pub struct Entry {
  pub host: Host,
  /// The guest path of a preopened directory (`fd_prestat_dir_name`).
  pub preopen: Option<Vec<u8>>,
  /// Rights as the guest last set them: reported, not enforced (as
  /// node:wasi; the preopen sandbox is enforced by path resolution).
  pub rights_base: u64,
  pub rights_inheriting: u64,
  /// The directory listing `fd_readdir` read at cookie 0.
  pub listing: Option<Vec<Dirent>>,
}

impl Entry {
  pub fn new(host: Host, preopen: Option<Vec<u8>>) -> Self {
    Self {
      host,
      preopen,
      rights_base: ALL_RIGHTS,
      rights_inheriting: ALL_RIGHTS,
      listing: None,
    }
  }

  pub fn raw(&self) -> RawFd {
    match &self.host {
      Host::Owned(fd) => fd.as_raw_fd(),
      Host::Borrowed(fd) => *fd,
    }
  }
}

/// The table itself.
#[derive(Default)]
pub struct Table {
  entries: BTreeMap<u32, Entry>,
}

impl Table {
  pub fn get(&self, fd: u32) -> Result<&Entry> {
    self.entries.get(&fd).ok_or(errno::BADF)
  }

  pub fn get_mut(&mut self, fd: u32) -> Result<&mut Entry> {
    self.entries.get_mut(&fd).ok_or(errno::BADF)
  }

  /// The host descriptor of guest `fd`.
  pub fn raw(&self, fd: u32) -> Result<RawFd> {
    self.get(fd).map(Entry::raw)
  }

  pub fn insert_at(&mut self, fd: u32, entry: Entry) {
    self.entries.insert(fd, entry);
  }

  /// Adds `entry` at the lowest free number from 3 up.
  pub fn push(&mut self, entry: Entry) -> Result<u32> {
    let mut fd = 3u32;
    for &used in self.entries.keys() {
      if used < fd {
        continue;
      }
      if used != fd {
        break;
      }
      fd = fd.checked_add(1).ok_or(errno::NOMEM)?;
    }
    self.entries.insert(fd, entry);
    Ok(fd)
  }

  pub fn remove(&mut self, fd: u32) -> Result<Entry> {
    self.entries.remove(&fd).ok_or(errno::BADF)
  }
}
