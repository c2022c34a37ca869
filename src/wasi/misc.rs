//! Arguments, environment, clocks, randomness, `poll_oneoff` and the
//! functions with nothing behind them (signals, sockets).

use std::time::{Duration, Instant};

use super::errno::{self, check, Result};
use super::guest::Guest;
use super::Ctx;

/// The host clock of a WASI clock id.
fn clock(id: u32) -> Result<libc::clockid_t> {
  Ok(match id {
    0 => libc::CLOCK_REALTIME,
    1 => libc::CLOCK_MONOTONIC,
    2 => libc::CLOCK_PROCESS_CPUTIME_ID,
    3 => libc::CLOCK_THREAD_CPUTIME_ID,
    _ => return Err(errno::INVAL),
  })
}

fn nanos(ts: &libc::timespec) -> u64 {
  (ts.tv_sec as u64)
    .wrapping_mul(1_000_000_000)
    .wrapping_add(ts.tv_nsec as u64)
}

/// The time of WASI clock `id`, in nanoseconds.
fn now(id: u32) -> Result<u64> {
  let mut ts = libc::timespec {
    tv_sec: 0,
    tv_nsec: 0,
  };
  // SAFETY: `ts` is a valid, writable timespec.
  check(unsafe { libc::clock_gettime(clock(id)?, &mut ts) })?;
  Ok(nanos(&ts))
}

/// `strings` laid out as `args_get`/`environ_get` want them: a pointer per
/// string at `ptrs`, the NUL-terminated strings from `buf` on.
fn write_strings(g: &Guest, strings: &[Vec<u8>], ptrs: u32, buf: u32) -> Result<()> {
  let mut table = Vec::with_capacity(strings.len() * 4);
  let mut bytes = Vec::new();
  for s in strings {
    let at = u32::try_from(bytes.len())
      .ok()
      .and_then(|o| buf.checked_add(o))
      .ok_or(errno::OVERFLOW)?;
    table.extend_from_slice(&at.to_le_bytes());
    bytes.extend_from_slice(s);
    bytes.push(0);
  }
  g.slice(
    ptrs,
    u32::try_from(table.len()).map_err(|_| errno::OVERFLOW)?,
  )?;
  g.slice(
    buf,
    u32::try_from(bytes.len()).map_err(|_| errno::OVERFLOW)?,
  )?;
  g.write(ptrs, &table)?;
  g.write(buf, &bytes)
}

fn write_sizes(g: &Guest, strings: &[Vec<u8>], count_ptr: u32, size_ptr: u32) -> Result<()> {
  let size: usize = strings.iter().map(|s| s.len() + 1).sum();
  g.slice(count_ptr, 4)?;
  g.slice(size_ptr, 4)?;
  g.write_u32(count_ptr, strings.len() as u32)?;
  g.write_u32(size_ptr, u32::try_from(size).map_err(|_| errno::OVERFLOW)?)
}

/// Fills `out` from the system's random source.
fn fill_random(out: &mut [u8]) -> Result<()> {
  #[cfg(target_os = "linux")]
  {
    let mut done = 0;
    while done < out.len() {
      // SAFETY: the rest of `out` is writable.
      let n = unsafe { libc::getrandom(out[done..].as_mut_ptr().cast(), out.len() - done, 0) };
      match check(n) {
        Ok(n) => done += n as usize,
        Err(errno::AGAIN) => {}
        Err(27) => {} // EINTR
        Err(e) => return Err(e),
      }
    }
    Ok(())
  }
  #[cfg(not(target_os = "linux"))]
  {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
      .and_then(|mut f| f.read_exact(out))
      .map_err(|e| errno::from_host(e.raw_os_error().unwrap_or(libc::EIO)))
  }
}

/// One `poll_oneoff` subscription, parsed.
enum Sub {
  Clock { wait: Duration },
  Fd { fd: i32, write: bool },
  Failed(errno::Errno, u8),
}

impl Ctx {
  pub(super) fn args_sizes_get(&mut self, g: &Guest, count: u32, size: u32) -> Result<()> {
    write_sizes(g, &self.args, count, size)
  }

  pub(super) fn args_get(&mut self, g: &Guest, ptrs: u32, buf: u32) -> Result<()> {
    write_strings(g, &self.args, ptrs, buf)
  }

  pub(super) fn environ_sizes_get(&mut self, g: &Guest, count: u32, size: u32) -> Result<()> {
    write_sizes(g, &self.env, count, size)
  }

  pub(super) fn environ_get(&mut self, g: &Guest, ptrs: u32, buf: u32) -> Result<()> {
    write_strings(g, &self.env, ptrs, buf)
  }

  pub(super) fn clock_res_get(&mut self, g: &Guest, id: u32, ptr: u32) -> Result<()> {
    let mut ts = libc::timespec {
      tv_sec: 0,
      tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    check(unsafe { libc::clock_getres(clock(id)?, &mut ts) })?;
    g.write_u64(ptr, nanos(&ts))
  }

  pub(super) fn clock_time_get(&mut self, g: &Guest, id: u32, ptr: u32) -> Result<()> {
    g.write_u64(ptr, now(id)?)
  }

  pub(super) fn random_get(&mut self, g: &Guest, ptr: u32, len: u32) -> Result<()> {
    g.slice(ptr, len)?;
    let mut bytes = vec![0u8; len as usize];
    fill_random(&mut bytes)?;
    g.write(ptr, &bytes)
  }

  /// Clock subscriptions wait (the thread sleeps, as in node:wasi); fd
  /// subscriptions go through the host's `poll`.
  pub(super) fn poll_oneoff(
    &mut self,
    g: &Guest,
    input: u32,
    output: u32,
    count: u32,
    nevents_ptr: u32,
  ) -> Result<()> {
    if count == 0 {
      return Err(errno::INVAL);
    }
    let raw = g.read(input, count.checked_mul(48).ok_or(errno::OVERFLOW)?)?;
    g.slice(output, count.checked_mul(32).ok_or(errno::OVERFLOW)?)?;
    g.slice(nevents_ptr, 4)?;
    let u64_at =
      |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]));
    let mut subs = Vec::with_capacity(count as usize);
    for s in raw.chunks_exact(48) {
      let userdata = u64_at(s, 0);
      let tag = s[8];
      let sub = match tag {
        0 => {
          let id = u32::from_le_bytes([s[16], s[17], s[18], s[19]]);
          let timeout = u64_at(s, 24);
          let abstime = s[40] & 1 != 0;
          match now(id) {
            Err(e) => Sub::Failed(e, 0),
            Ok(t) => Sub::Clock {
              wait: Duration::from_nanos(if abstime {
                timeout.saturating_sub(t)
              } else {
                timeout
              }),
            },
          }
        }
        1 | 2 => {
          let fd = u32::from_le_bytes([s[16], s[17], s[18], s[19]]);
          match self.table.raw(fd) {
            Ok(fd) => Sub::Fd {
              fd,
              write: tag == 2,
            },
            Err(e) => Sub::Failed(e, tag),
          }
        }
        _ => return Err(errno::INVAL),
      };
      subs.push((userdata, sub));
    }
    let start = Instant::now();
    let failed = subs.iter().any(|(_, s)| matches!(s, Sub::Failed(..)));
    let first_clock = subs
      .iter()
      .filter_map(|(_, s)| match s {
        Sub::Clock { wait } => Some(*wait),
        _ => None,
      })
      .min();
    let mut pollfds: Vec<libc::pollfd> = subs
      .iter()
      .filter_map(|(_, s)| match s {
        Sub::Fd { fd, write } => Some(libc::pollfd {
          fd: *fd,
          events: if *write { libc::POLLOUT } else { libc::POLLIN },
          revents: 0,
        }),
        _ => None,
      })
      .collect();
    let wait = if failed {
      Some(Duration::ZERO)
    } else {
      first_clock
    };
    loop {
      let left = wait.map(|w| w.saturating_sub(start.elapsed()));
      if pollfds.is_empty() {
        if let Some(left) = left {
          std::thread::sleep(left);
        }
        break;
      }
      let ms = left.map_or(-1, |l| {
        i32::try_from(l.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX)
      });
      // SAFETY: `pollfds` is a valid array of its length.
      let r = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, ms) };
      if r >= 0 || errno::last() != 27 {
        break;
      }
    }
    let elapsed = start.elapsed();
    let mut events = Vec::new();
    let mut next_fd = 0;
    for (userdata, sub) in &subs {
      let mut ev = [0u8; 32];
      ev[0..8].copy_from_slice(&userdata.to_le_bytes());
      match sub {
        Sub::Failed(e, kind) => {
          ev[8..10].copy_from_slice(&e.to_le_bytes());
          ev[10] = *kind;
        }
        Sub::Clock { wait } => {
          if *wait > elapsed {
            continue;
          }
        }
        Sub::Fd { write, .. } => {
          let p = pollfds[next_fd];
          next_fd += 1;
          if p.revents == 0 {
            continue;
          }
          ev[10] = if *write { 2 } else { 1 };
          if p.revents & libc::POLLNVAL != 0 {
            ev[8..10].copy_from_slice(&errno::BADF.to_le_bytes());
          }
          if p.revents & libc::POLLHUP != 0 {
            ev[24] = 1; // fd_readwrite_hangup
          }
        }
      }
      events.extend_from_slice(&ev);
    }
    g.write(output, &events)?;
    g.write_u32(nevents_ptr, (events.len() / 32) as u32)
  }
}
