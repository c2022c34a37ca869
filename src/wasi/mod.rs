//! WASI preview1 (`wasi_snapshot_preview1`, and `wasi_unstable` by the same
//! functions) for `wasm-memory-rs/wasi`, implemented here on `libc` and
//! `std` (no WASI crate: see the README's "WASI" section for why).
//!
//! `lib/wasi.js` makes one [`WasiContext`] per `WASI` object and a JS
//! function per WASI import, each of which calls [`wasi_call`] with the
//! context's id, the function's index ([`FUNCTIONS`]), a `Uint8Array` over the instance's
//! memory as it is at the time of the call, and the arguments as u64s;
//! instances of ours skip all that and call the functions natively once a
//! memory of ours is bound (`link.rs`). The
//! files: `errno.rs` (error numbers), `guest.rs` (checked access to guest
//! memory), `table.rs` (descriptors), `path.rs` (resolution beneath a
//! preopen: the sandbox), `fs.rs` (`fd_*`), `paths.rs` (`path_*`),
//! `misc.rs` (the rest).

mod errno;
mod fs;
mod guest;
pub(crate) mod link;
mod misc;
mod path;
mod paths;
mod table;

use std::cell::RefCell;
use std::os::fd::FromRawFd;

use napi::bindgen_prelude::{BigUint64ArraySlice, Uint8ArraySlice};
use napi_derive::napi;

use errno::Result;
use guest::Guest;
use table::{Entry, Host, Table};

/// The WASI functions in the order of node:wasi's `wasiImport`, each with
/// its parameter types (`i` i32, `I` i64; every one returns an errno).
/// `proc_exit` is the shim's alone (it unwinds or exits in JS).
const FUNCTIONS: &[(&str, &str)] = &[
  ("args_get", "ii"),
  ("args_sizes_get", "ii"),
  ("clock_res_get", "ii"),
  ("clock_time_get", "iIi"),
  ("environ_get", "ii"),
  ("environ_sizes_get", "ii"),
  ("fd_advise", "iIIi"),
  ("fd_allocate", "iII"),
  ("fd_close", "i"),
  ("fd_datasync", "i"),
  ("fd_fdstat_get", "ii"),
  ("fd_fdstat_set_flags", "ii"),
  ("fd_fdstat_set_rights", "iII"),
  ("fd_filestat_get", "ii"),
  ("fd_filestat_set_size", "iI"),
  ("fd_filestat_set_times", "iIIi"),
  ("fd_pread", "iiiIi"),
  ("fd_prestat_get", "ii"),
  ("fd_prestat_dir_name", "iii"),
  ("fd_pwrite", "iiiIi"),
  ("fd_read", "iiii"),
  ("fd_readdir", "iiiIi"),
  ("fd_renumber", "ii"),
  ("fd_seek", "iIii"),
  ("fd_sync", "i"),
  ("fd_tell", "ii"),
  ("fd_write", "iiii"),
  ("path_create_directory", "iii"),
  ("path_filestat_get", "iiiii"),
  ("path_filestat_set_times", "iiiiIIi"),
  ("path_link", "iiiiiii"),
  ("path_open", "iiiiiIIii"),
  ("path_readlink", "iiiiii"),
  ("path_remove_directory", "iii"),
  ("path_rename", "iiiiii"),
  ("path_symlink", "iiiii"),
  ("path_unlink_file", "iii"),
  ("poll_oneoff", "iiii"),
  ("proc_exit", "i"),
  ("proc_raise", "i"),
  ("random_get", "ii"),
  ("sched_yield", ""),
  ("sock_accept", "iii"),
  ("sock_recv", "iiiiii"),
  ("sock_send", "iiiii"),
  ("sock_shutdown", "ii"),
];

/// `name:signature` for each WASI function, in [`wasi_call`]'s
/// numbering.
#[napi]
pub fn wasi_functions() -> Vec<String> {
  FUNCTIONS
    .iter()
    .map(|(name, sig)| format!("{name}:{sig}"))
    .collect()
}

/// One WASI instance: arguments, environment and descriptors.
pub struct Ctx {
  table: Table,
  args: Vec<Vec<u8>>,
  env: Vec<Vec<u8>>,
  /// The memory of ours that `start()` bound, for natively linked calls.
  memory: Option<std::sync::Arc<crate::memory::mapping::Mapping>>,
}

thread_local! {
  /// The live contexts of this thread, by [`WasiContext::id`]: calls go
  /// through the free function [`wasi_call`] with the id, because a
  /// napi-rs method costs ~300 ns more per call than a free function.
  static CONTEXTS: RefCell<Vec<Option<Ctx>>> = const { RefCell::new(Vec::new()) };
}

/// A `WASI` object's native half (`lib/wasi.js`): owns its context's slot
/// (freed, and its descriptors closed, when the JS object is collected).
#[napi]
pub struct WasiContext {
  id: u32,
}

impl Drop for WasiContext {
  fn drop(&mut self) {
    CONTEXTS.with(|c| {
      if let Some(slot) = c.borrow_mut().get_mut(self.id as usize) {
        *slot = None;
      }
    });
  }
}

#[napi]
impl WasiContext {
  /// `preopens` alternates guest path and host path; `stdio` holds the
  /// host descriptors of guest fds 0, 1 and 2.
  ///
  /// # Errors
  /// A preopen that cannot be opened as a directory: an `Error` whose
  /// message is `CODE|description|host path` (the shim words it as
  /// node:wasi does).
  #[napi(constructor)]
  pub fn new(
    args: Vec<String>,
    env: Vec<String>,
    preopens: Vec<String>,
    stdio: Vec<u32>,
  ) -> napi::Result<Self> {
    let mut table = Table::default();
    for (i, &fd) in stdio.iter().take(3).enumerate() {
      let fd =
        i32::try_from(fd).map_err(|_| napi::Error::from_reason("EBADF|bad stdio descriptor|"))?;
      table.insert_at(i as u32, Entry::new(Host::Borrowed(fd), None));
    }
    for pair in preopens.chunks(2) {
      let [guest, host] = pair else { break };
      let c_host = std::ffi::CString::new(host.as_bytes())
        .map_err(|_| napi::Error::from_reason(format!("EINVAL|path contains a NUL byte|{host}")))?;
      // SAFETY: `c_host` is NUL-terminated; `open` returns a new
      // descriptor or -1.
      let fd = unsafe {
        libc::open(
          c_host.as_ptr(),
          libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
      };
      if fd < 0 {
        let e = std::io::Error::last_os_error()
          .raw_os_error()
          .unwrap_or(libc::EIO);
        return Err(napi::Error::from_reason(format!(
          "{}|{host}",
          errno::host_name(e)
        )));
      }
      // SAFETY: a descriptor just opened, owned by nobody else.
      let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
      table
        .push(Entry::new(
          Host::Owned(owned),
          Some(guest.as_bytes().to_vec()),
        ))
        .map_err(|_| napi::Error::from_reason("EMFILE|too many preopens|"))?;
    }
    let ctx = Ctx {
      table,
      args: args.into_iter().map(String::into_bytes).collect(),
      env: env.into_iter().map(String::into_bytes).collect(),
      memory: None,
    };
    let id = CONTEXTS.with(|c| {
      let mut c = c.borrow_mut();
      match c.iter().position(Option::is_none) {
        Some(free) => {
          c[free] = Some(ctx);
          free
        }
        None => {
          c.push(Some(ctx));
          c.len() - 1
        }
      }
    });
    Ok(Self { id: id as u32 })
  }

  /// The context's number for [`wasi_call`].
  #[napi(getter)]
  pub fn id(&self) -> u32 {
    self.id
  }
}

/// Runs WASI function `op` of context `id` over `memory` with arguments
/// `argv`; returns its errno (EBADF for a context that is gone). No JS runs
/// meanwhile, so `memory` stays attached and unmoved for the call.
#[napi]
pub fn wasi_call(id: u32, op: u32, mut memory: Uint8ArraySlice, argv: BigUint64ArraySlice) -> u32 {
  // SAFETY: the typed array is a live JS value for the whole call (an
  // argument of this frame) and no JS runs until we return, so its bytes
  // stay valid and in place; `Guest` copies through raw pointers only.
  let guest = unsafe {
    let bytes = memory.as_mut();
    Guest::new(bytes.as_mut_ptr(), bytes.len())
  };
  let mut a = [0u64; 10];
  for (slot, v) in a.iter_mut().zip(argv.iter()) {
    *slot = *v;
  }
  CONTEXTS.with(|c| {
    let mut c = c.borrow_mut();
    let Some(Some(ctx)) = c.get_mut(id as usize) else {
      return u32::from(errno::BADF);
    };
    match ctx.dispatch(&guest, op, &a) {
      Ok(()) => 0,
      Err(e) => u32::from(e),
    }
  })
}

impl Ctx {
  fn dispatch(&mut self, g: &Guest, op: u32, a: &[u64; 10]) -> Result<()> {
    let i = |n: usize| a[n] as u32;
    let name = FUNCTIONS.get(op as usize).map_or("", |f| f.0);
    match name {
      "args_get" => self.args_get(g, i(0), i(1)),
      "args_sizes_get" => self.args_sizes_get(g, i(0), i(1)),
      "clock_res_get" => self.clock_res_get(g, i(0), i(1)),
      "clock_time_get" => self.clock_time_get(g, i(0), i(2)),
      "environ_get" => self.environ_get(g, i(0), i(1)),
      "environ_sizes_get" => self.environ_sizes_get(g, i(0), i(1)),
      "fd_advise" => self.fd_advise(i(0), a[1], a[2], i(3)),
      "fd_allocate" => self.fd_allocate(i(0), a[1], a[2]),
      "fd_close" => self.fd_close(i(0)),
      "fd_datasync" => self.fd_sync(i(0), true),
      "fd_fdstat_get" => self.fd_fdstat_get(g, i(0), i(1)),
      "fd_fdstat_set_flags" => self.fd_fdstat_set_flags(i(0), i(1)),
      "fd_fdstat_set_rights" => self.fd_fdstat_set_rights(i(0), a[1], a[2]),
      "fd_filestat_get" => self.fd_filestat_get(g, i(0), i(1)),
      "fd_filestat_set_size" => self.fd_filestat_set_size(i(0), a[1]),
      "fd_filestat_set_times" => self.fd_filestat_set_times(i(0), a[1], a[2], i(3)),
      "fd_pread" => self.fd_io(g, i(0), i(1), i(2), Some(a[3]), false, i(4)),
      "fd_prestat_get" => self.fd_prestat_get(g, i(0), i(1)),
      "fd_prestat_dir_name" => self.fd_prestat_dir_name(g, i(0), i(1), i(2)),
      "fd_pwrite" => self.fd_io(g, i(0), i(1), i(2), Some(a[3]), true, i(4)),
      "fd_read" => self.fd_io(g, i(0), i(1), i(2), None, false, i(3)),
      "fd_readdir" => self.fd_readdir(g, i(0), i(1), i(2), a[3], i(4)),
      "fd_renumber" => self.fd_renumber(i(0), i(1)),
      "fd_seek" => self.fd_seek(g, i(0), a[1], i(2), i(3)),
      "fd_sync" => self.fd_sync(i(0), false),
      "fd_tell" => self.fd_seek(g, i(0), 0, 1, i(1)),
      "fd_write" => self.fd_io(g, i(0), i(1), i(2), None, true, i(3)),
      "path_create_directory" => self.path_create_directory(g, i(0), i(1), i(2)),
      "path_filestat_get" => self.path_filestat_get(g, i(0), i(1), i(2), i(3), i(4)),
      "path_filestat_set_times" => {
        self.path_filestat_set_times(g, i(0), i(1), i(2), i(3), a[4], a[5], i(6))
      }
      "path_link" => self.path_link(g, i(0), i(1), i(2), i(3), i(4), i(5), i(6)),
      "path_open" => self.path_open(g, i(0), i(1), i(2), i(3), i(4), a[5], a[6], i(7), i(8)),
      "path_readlink" => self.path_readlink(g, i(0), i(1), i(2), i(3), i(4), i(5)),
      "path_remove_directory" => self.path_remove(g, i(0), i(1), i(2), true),
      "path_rename" => self.path_rename(g, i(0), i(1), i(2), i(3), i(4), i(5)),
      "path_symlink" => self.path_symlink(g, i(0), i(1), i(2), i(3), i(4)),
      "path_unlink_file" => self.path_remove(g, i(0), i(1), i(2), false),
      "poll_oneoff" => self.poll_oneoff(g, i(0), i(1), i(2), i(3)),
      "proc_raise" => Err(errno::NOSYS),
      "random_get" => self.random_get(g, i(0), i(1)),
      "sched_yield" => {
        // SAFETY: no arguments; cannot fail in a way that matters.
        unsafe { libc::sched_yield() };
        Ok(())
      }
      "sock_accept" | "sock_recv" | "sock_send" | "sock_shutdown" => {
        // No sockets are ever handed to the guest.
        self.table.get(i(0))?;
        Err(errno::NOTSOCK)
      }
      _ => Err(errno::NOSYS),
    }
  }
}
