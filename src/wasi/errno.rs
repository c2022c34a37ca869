//! WASI preview1 error numbers (`wasi_snapshot_preview1`'s `errno`), and the
//! host's `errno` values mapped onto them.

/// A WASI errno (`0` is success).
pub type Errno = u16;

pub const ACCES: Errno = 2;
pub const AGAIN: Errno = 6;
pub const BADF: Errno = 8;
pub const INVAL: Errno = 28;
pub const IO: Errno = 29;
pub const ISDIR: Errno = 31;
pub const LOOP: Errno = 32;
pub const NOENT: Errno = 44;
pub const NOMEM: Errno = 48;
pub const NOSYS: Errno = 52;
pub const NOTSOCK: Errno = 57;
pub const NOTSUP: Errno = 58;
/// What `uvwasi` (node:wasi) answers for a guest pointer or length outside
/// the memory: kept, so that programs see the same errno on both.
pub const OVERFLOW: Errno = 61;
/// A path that would leave its preopened directory.
pub const NOTCAPABLE: Errno = 76;

/// The WASI errno for a host `errno` value (POSIX names; the numbers differ
/// between Linux, macOS and the BSDs, so the table goes by `libc`'s names).
pub fn from_host(e: i32) -> Errno {
  use libc::*;
  // (host, wasi) pairs in WASI's order.
  let table: &[(i32, Errno)] = &[
    (E2BIG, 1),
    (EACCES, 2),
    (EADDRINUSE, 3),
    (EADDRNOTAVAIL, 4),
    (EAFNOSUPPORT, 5),
    (EAGAIN, 6),
    (EALREADY, 7),
    (EBADF, 8),
    (EBADMSG, 9),
    (EBUSY, 10),
    (ECANCELED, 11),
    (ECHILD, 12),
    (ECONNABORTED, 13),
    (ECONNREFUSED, 14),
    (ECONNRESET, 15),
    (EDEADLK, 16),
    (EDESTADDRREQ, 17),
    (EDOM, 18),
    (EDQUOT, 19),
    (EEXIST, 20),
    (EFAULT, 21),
    (EFBIG, 22),
    (EHOSTUNREACH, 23),
    (EIDRM, 24),
    (EILSEQ, 25),
    (EINPROGRESS, 26),
    (EINTR, 27),
    (EINVAL, 28),
    (EIO, 29),
    (EISCONN, 30),
    (EISDIR, 31),
    (ELOOP, 32),
    (EMFILE, 33),
    (EMLINK, 34),
    (EMSGSIZE, 35),
    (EMULTIHOP, 36),
    (ENAMETOOLONG, 37),
    (ENETDOWN, 38),
    (ENETRESET, 39),
    (ENETUNREACH, 40),
    (ENFILE, 41),
    (ENOBUFS, 42),
    (ENODEV, 43),
    (ENOENT, 44),
    (ENOEXEC, 45),
    (ENOLCK, 46),
    (ENOLINK, 47),
    (ENOMEM, 48),
    (ENOMSG, 49),
    (ENOPROTOOPT, 50),
    (ENOSPC, 51),
    (ENOSYS, 52),
    (ENOTCONN, 53),
    (ENOTDIR, 54),
    (ENOTEMPTY, 55),
    (ENOTRECOVERABLE, 56),
    (ENOTSOCK, 57),
    (ENOTSUP, 58),
    (EOPNOTSUPP, 58),
    (ENOTTY, 59),
    (ENXIO, 60),
    (EOVERFLOW, 61),
    (EOWNERDEAD, 62),
    (EPERM, 63),
    (EPIPE, 64),
    (EPROTO, 65),
    (EPROTONOSUPPORT, 66),
    (EPROTOTYPE, 67),
    (ERANGE, 68),
    (EROFS, 69),
    (ESPIPE, 70),
    (ESRCH, 71),
    (ESTALE, 72),
    (ETIMEDOUT, 73),
    (ETXTBSY, 74),
    (EXDEV, 75),
  ];
  table
    .iter()
    .find(|(host, _)| *host == e)
    .map_or(IO, |(_, wasi)| *wasi)
}

/// The WASI errno for the calling thread's last host error.
pub fn last() -> Errno {
  from_host(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}

/// The result of a WASI function body.
pub type Result<T> = std::result::Result<T, Errno>;

/// `Ok(value)` unless `value` is -1 (a failed libc call): then `errno`.
pub fn check<T: PartialEq + From<i8>>(value: T) -> Result<T> {
  if value == T::from(-1) {
    Err(last())
  } else {
    Ok(value)
  }
}

/// The WASI error name (`ENOENT`) of a host error, for messages.
pub fn host_name(e: i32) -> String {
  let text = std::io::Error::from_raw_os_error(e).to_string();
  let code = match e {
    libc::ENOENT => "ENOENT",
    libc::ENOTDIR => "ENOTDIR",
    libc::EACCES => "EACCES",
    libc::EMFILE => "EMFILE",
    libc::ELOOP => "ELOOP",
    _ => "EIO",
  };
  format!("{code}|{text}")
}
