//! Two tiers for a big module's first start (README, "Tiering"): Winch,
//! wasmtime's baseline compiler, makes code now (4-6x faster than
//! Cranelift, code ~3x slower), while Cranelift compiles the same bytes on
//! a low-priority pool. Its code fills the compiled-code cache, so every
//! later start loads optimized code, and instances made once it is ready
//! use it (an instance keeps the code it was made with).
//!
//! Winch code and Cranelift code belong to two engines, and wasmtime links
//! a module only into stores of its own engine: [`Tiers`] gives a module's
//! code for a store of either (instance.rs), waiting for Cranelift or
//! compiling with Winch when a store of the other tier is already chosen by
//! the imports.
//!
//! A process that exits while Cranelift works waits for it at `exit` (so a
//! short program's next start is a warm one, not another Winch start).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use wasmtime::{Engine, Module, Strategy};

use crate::runtime::engine::{self, Memories};

/// `WASM_MEMORY_RS_TIERING`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Policy {
  /// `off` (also `0`, `false`): Cranelift only.
  Off,
  /// The default: Winch first for modules of at least [`MIN_BYTES`] on a
  /// cache miss when the cache can keep Cranelift's code.
  Auto,
  /// `always`: Winch first for every compile that is not a cache hit (for
  /// tests: the suite's modules are small).
  Always,
  /// `winch`: as `always`, without the background compile: Winch code for
  /// every instance that can have it, Cranelift's compiled only when a link
  /// needs it (for tests and measurements of Winch code).
  Winch,
}

/// Smaller modules take Cranelift tens of milliseconds: not worth running
/// slower code.
const MIN_BYTES: usize = 64 << 10;

fn policy() -> Policy {
  static POLICY: OnceLock<Policy> = OnceLock::new();
  *POLICY.get_or_init(|| {
    // Winch needs signals-based traps: the guard layout only.
    if engine::memories() != Memories::Guard {
      return Policy::Off;
    }
    match std::env::var("WASM_MEMORY_RS_TIERING") {
      Ok(v)
        if ["off", "0", "false"]
          .iter()
          .any(|o| v.eq_ignore_ascii_case(o)) =>
      {
        Policy::Off
      }
      Ok(v) if v.eq_ignore_ascii_case("always") => Policy::Always,
      Ok(v) if v.eq_ignore_ascii_case("winch") => Policy::Winch,
      _ => Policy::Auto,
    }
  })
}

/// True if modules of `engine` get [`Tiers`]: the main engine's (a
/// sandbox's engines count fuel or time, which Winch code would not).
pub fn applies(engine: &Engine) -> bool {
  policy() != Policy::Off && engine::engine().is_ok_and(|main| Engine::same(engine, main))
}

/// True if a compile of `len` bytes that missed the cache should make Winch
/// code first; `cached`: the cache will keep Cranelift's code.
pub fn baseline_first(len: usize, cached: bool) -> bool {
  match policy() {
    Policy::Off => false,
    Policy::Auto => cached && len >= MIN_BYTES,
    Policy::Always | Policy::Winch => true,
  }
}

/// The Winch engine, once made.
static BASELINE_ENGINE: OnceLock<Option<Engine>> = OnceLock::new();

/// The engine of Winch code: the main engine's settings, minus the
/// proposals wasmtime 48's Winch does not implement (their modules are
/// compiled by Cranelift only). `None` if wasmtime refuses it.
pub fn baseline_engine() -> Option<&'static Engine> {
  BASELINE_ENGINE
    .get_or_init(|| {
      let mut config = engine::config(engine::memories());
      config
        .strategy(Strategy::Winch)
        .wasm_exceptions(false)
        .wasm_gc(false)
        .wasm_function_references(false)
        .wasm_tail_call(false)
        .wasm_relaxed_simd(false);
      Engine::new(&config).ok()
    })
    .as_ref()
}

/// True if `engine` is the Winch engine (never makes it: a process without
/// Winch code does not pay for its engine).
pub fn is_baseline(engine: &Engine) -> bool {
  BASELINE_ENGINE
    .get()
    .and_then(Option::as_ref)
    .is_some_and(|b| Engine::same(b, engine))
}

static BASELINE: AtomicU64 = AtomicU64::new(0);
static REFUSED: AtomicU64 = AtomicU64::new(0);
static OPTIMIZED: AtomicU64 = AtomicU64::new(0);
static WAITED: AtomicU64 = AtomicU64::new(0);
static STORES: AtomicU64 = AtomicU64::new(0);

/// Counts a new store of Winch code (instance.rs).
pub fn count_store() {
  STORES.fetch_add(1, Ordering::Relaxed);
}

/// Winch's code for `bytes`, or `None` if Winch cannot compile them (a
/// proposal it lacks, a SIMD instruction it does not implement, an invalid
/// module: Cranelift then compiles and reports).
pub fn compile_baseline(bytes: &[u8]) -> Option<Module> {
  let module = crate::runtime::compile::compile(baseline_engine()?, bytes).ok();
  let counter = if module.is_some() {
    &BASELINE
  } else {
    &REFUSED
  };
  counter.fetch_add(1, Ordering::Relaxed);
  module
}

/// Cranelift's code of a module, as far as it is.
enum Optimized {
  /// Not started (`WASM_MEMORY_RS_TIERING=winch`): the first link that
  /// needs it compiles it.
  Idle,
  Compiling,
  Ready(Module),
  Failed(String),
}

/// A module's code in both tiers, made when asked.
pub struct Tiers {
  /// The wasm bytes, for the tier not made yet (`None`: a cache hit before
  /// this process made any Winch code; see [`Tiers::optimized`]).
  bytes: Option<Arc<[u8]>>,
  /// The code the module was made with (Winch's or Cranelift's).
  first: Module,
  /// Winch's code, if made (first, or for a store of Winch code).
  baseline: OnceLock<Result<Module, String>>,
  optimized: Mutex<Optimized>,
  ready: Condvar,
}

impl Tiers {
  /// The tiers of a module whose Cranelift code is `module`. A copy of
  /// `bytes` is kept for Winch code unless `hit` (loaded from the cache)
  /// and no Winch code was made yet: a warm start then copies nothing
  /// (~0.5 ms for brotli-wasm), and a module loaded before any Winch code
  /// cannot join a store of Winch code later (a LinkError).
  pub fn optimized(bytes: &[u8], module: Module, hit: bool) -> Arc<Tiers> {
    let keep = !hit || BASELINE_ENGINE.get().is_some();
    Arc::new(Tiers {
      bytes: keep.then(|| bytes.into()),
      first: module.clone(),
      baseline: OnceLock::new(),
      optimized: Mutex::new(Optimized::Ready(module)),
      ready: Condvar::new(),
    })
  }

  /// The tiers of a module whose Winch code is `baseline`; Cranelift starts
  /// on the background pool, and `then` runs with its code (the cache
  /// stores it).
  pub fn start(
    bytes: &[u8],
    baseline: Module,
    then: impl FnOnce(&Module, &[u8]) + Send + 'static,
  ) -> Arc<Tiers> {
    let background = policy() != Policy::Winch;
    let tiers = Arc::new(Tiers {
      bytes: Some(bytes.into()),
      first: baseline.clone(),
      baseline: OnceLock::from(Ok(baseline)),
      optimized: Mutex::new(if background {
        Optimized::Compiling
      } else {
        Optimized::Idle
      }),
      ready: Condvar::new(),
    });
    if background {
      let job = tiers.clone();
      self::background(move || {
        // A panic (a compiler bug) must neither abort the process (rayon's
        // default) nor leave a link or `exit` waiting for this compile.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
          let outcome = job.compile_optimized();
          if let (Ok(module), Some(bytes)) = (&outcome, &job.bytes) {
            then(module, bytes);
            OPTIMIZED.fetch_add(1, Ordering::Relaxed);
          }
          outcome
        }))
        .unwrap_or_else(|_| Err("Cranelift's background compile failed".into()));
        job.settle(outcome);
      });
    }
    tiers
  }

  /// Cranelift's code, compiled now.
  fn compile_optimized(&self) -> Result<Module, String> {
    let bytes = self.bytes.as_deref().ok_or("its bytes were not kept")?;
    crate::runtime::compile::compile(engine::engine()?, bytes)
  }

  /// Publishes Cranelift's outcome to the waiting links.
  fn settle(&self, outcome: Result<Module, String>) {
    let mut state = self.optimized.lock().unwrap_or_else(|e| e.into_inner());
    *state = match outcome {
      Ok(module) => Optimized::Ready(module),
      Err(e) => Optimized::Failed(e),
    };
    self.ready.notify_all();
  }

  /// The best code ready now: Cranelift's once it is, else the first.
  pub fn latest(&self) -> Module {
    match &*self.optimized.lock().unwrap_or_else(|e| e.into_inner()) {
      Optimized::Ready(module) => module.clone(),
      _ => self.first.clone(),
    }
  }

  /// The code for a store of `engine` (the main one: Cranelift's, waited
  /// for; Winch's: compiled now if it was not); `None` for another engine.
  ///
  /// # Errors
  /// Why the tier cannot be had: Winch cannot compile this module, or (never
  /// seen) Cranelift failed where Winch did not.
  pub fn code_for(&self, engine: &Engine) -> Option<Result<Module, String>> {
    if is_baseline(engine) {
      return Some(
        self
          .baseline
          .get_or_init(|| match &self.bytes {
            Some(bytes) => compile_baseline(bytes).ok_or_else(|| "Winch cannot compile it".into()),
            None => Err(
              "it was loaded from the compiled-code cache before this process made any Winch \
               code, and its bytes were not kept"
                .into(),
            ),
          })
          .clone(),
      );
    }
    if !engine::engine().is_ok_and(|main| Engine::same(main, engine)) {
      return None;
    }
    let mut state = self.optimized.lock().unwrap_or_else(|e| e.into_inner());
    match *state {
      Optimized::Compiling => {
        WAITED.fetch_add(1, Ordering::Relaxed);
      }
      Optimized::Idle => {
        *state = Optimized::Compiling;
        drop(state);
        let outcome = self.compile_optimized();
        self.settle(outcome);
        state = self.optimized.lock().unwrap_or_else(|e| e.into_inner());
      }
      _ => {}
    }
    loop {
      match &*state {
        // (Never Idle again once settled above.)
        Optimized::Idle | Optimized::Compiling => {
          state = self.ready.wait(state).unwrap_or_else(|e| e.into_inner())
        }
        Optimized::Ready(module) => return Some(Ok(module.clone())),
        Optimized::Failed(e) => return Some(Err(e.clone())),
      }
    }
  }
}

/// Background compiles not yet finished; `exit` waits for none to be left.
static PENDING: Mutex<usize> = Mutex::new(0);
static SETTLED: Condvar = Condvar::new();

/// Runs `job` on the low-priority pool (wasmtime's parallel compilation in
/// it stays in that pool), counted in [`PENDING`].
fn background(job: impl FnOnce() + Send + 'static) {
  static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
  let pool = POOL.get_or_init(|| {
    rayon::ThreadPoolBuilder::new()
      .thread_name(|i| format!("wasm-tier-{i}"))
      .start_handler(|_| lower_priority())
      .build()
      .ok()
  });
  *PENDING.lock().unwrap_or_else(|e| e.into_inner()) += 1;
  static AT_EXIT: OnceLock<()> = OnceLock::new();
  AT_EXIT.get_or_init(|| {
    // SAFETY: registers a plain `extern "C"` function with no arguments,
    // defined in this library, which Node never unloads (glibc would run
    // it at unload too: it registers through `__cxa_atexit` with this
    // library's handle).
    unsafe { libc::atexit(wait_at_exit) };
  });
  let counted = move || {
    job();
    let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    *pending -= 1;
    SETTLED.notify_all();
  };
  match pool {
    Some(pool) => pool.spawn(counted),
    // No threads to be had: compile now, on the caller's thread.
    None => counted(),
  }
}

/// Nice 10 for the calling thread, so that the program's own threads keep
/// the cores (on Linux the nice value is per thread).
fn lower_priority() {
  #[cfg(target_os = "linux")]
  // SAFETY: gettid has no preconditions; setpriority on our own thread id
  // changes only this thread's scheduling priority (errors are ignored: it
  // then runs at normal priority).
  unsafe {
    libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
  }
}

/// Waits, at `exit`, for the background compiles to end (and fill the
/// cache).
extern "C" fn wait_at_exit() {
  let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
  while *pending > 0 {
    pending = SETTLED.wait(pending).unwrap_or_else(|e| e.into_inner());
  }
}

/// `[baseline, refused, optimized, waited, stores]`: modules Winch compiled,
/// modules it refused, background Cranelift compiles finished, links that
/// waited for one, stores of Winch code made.
#[napi_derive::napi]
pub fn tiering_stats() -> Vec<f64> {
  [&BASELINE, &REFUSED, &OPTIMIZED, &WAITED, &STORES]
    .iter()
    .map(|c| c.load(Ordering::Relaxed) as f64)
    .collect()
}
