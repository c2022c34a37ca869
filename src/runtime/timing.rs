//! Where start-up time goes: the nanoseconds spent in each phase of
//! compiling (or loading from the cache) and instantiating, summed over the
//! process, for `npm run bench:startup -- --breakdown`. A clock read costs
//! ~20 ns, next to phases of tens of microseconds and more.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A phase of start-up (the order of `startupTimes()`).
#[derive(Clone, Copy)]
pub enum Phase {
  /// The first `current_engine()`: wasmtime's `Engine::new`.
  Engine,
  /// The cache key: a fast hash of the bytes, and the engine's settings.
  Key,
  /// Opening an entry and checking its trailer, wasm bytes and checksum.
  Check,
  /// `Module::deserialize_open_file`.
  Deserialize,
  /// Compiling with Cranelift (a cache miss, or the cache off).
  Compile,
  /// Serializing and writing an entry.
  Store,
  /// Reading what wasmtime does not expose (exports' indices, custom
  /// sections, function offsets for wasm frames).
  Read,
  /// All of `instantiateModule`: imports, store, wasmtime's instantiation
  /// (and the start function), and the exports (also counted below).
  Link,
  /// Making the JS objects of the exports.
  Exports,
  /// Of which the exported functions (func.rs: the batch's closures, tags
  /// and wraps).
  Functions,
}

const PHASES: usize = Phase::Functions as usize + 1;

static TOTALS: [AtomicU64; PHASES] = [const { AtomicU64::new(0) }; PHASES];

/// Runs `f`, adding its time to `phase`.
#[inline]
pub fn time<T>(phase: Phase, f: impl FnOnce() -> T) -> T {
  let start = Instant::now();
  let out = f();
  TOTALS[phase as usize].fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
  out
}

/// Milliseconds spent in each phase since the process started: engine, key,
/// check, deserialize, compile, store, read, link, exports, functions (all
/// threads).
#[napi_derive::napi]
pub fn startup_times() -> Vec<f64> {
  TOTALS
    .iter()
    .map(|t| t.load(Ordering::Relaxed) as f64 / 1e6)
    .collect()
}
