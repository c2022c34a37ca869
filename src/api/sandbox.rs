//! Sandboxes: stores that run under a time limit (epoch interruption), a
//! fuel limit, and caps on the memory, table elements and instances of the
//! whole sandbox (a resource limiter in each store).
//!
//! # Engines
//! Epoch interruption and fuel change the code Cranelift emits for every
//! module of an engine, so the main engine never has them: a sandbox with a
//! timeout or fuel uses a second engine (one per combination, made on first
//! use, process-wide) built from the main one's `Config`. A sandbox with
//! caps only uses the main engine. A module links only into stores of its
//! own engine: objects of the main namespace and of a sandbox with another
//! engine cannot be linked together (a `LinkError`, instance.rs).
//!
//! # Which sandbox
//! The JS shim of a sandbox's namespace calls the addon with the sandbox
//! entered ([`enter_sandbox`]): stores, modules and the JS hooks
//! (`setHooks`) made meanwhile are the sandbox's. A call into wasm enters
//! the sandbox of its store ([`Scope`]) and a call out to a JS import leaves
//! it, so that errors are the right namespace's classes.
//!
//! # Time and fuel
//! Each call from JS into a store (the outermost one: a re-entrant call
//! runs within what is left of it) gets the full timeout and fuel
//! ([`arm`]). One ticker thread for the process advances the epoch of the
//! sandbox engines every [`TICK`].

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

use napi::Env;
use napi_derive::napi;
use wasmtime::{Engine, ResourceLimiter, Store, StoreContextMut, Trap};

use crate::error::{range_error, type_error};
use crate::runtime::store::{Data, StoreCell};

/// How often the ticker advances the epoch: a timeout fires between its
/// value and its value plus one tick later (more on a loaded machine).
const TICK: Duration = Duration::from_millis(2);

/// The sandbox engines: epoch only, fuel only, both.
static ENGINES: [OnceLock<Result<Engine, String>>; 3] = [const { OnceLock::new() }; 3];

/// The engine for a sandbox with (or without) a timeout and fuel.
fn engine_for(epoch: bool, fuel: bool) -> Result<&'static Engine, String> {
  let slot = match (epoch, fuel) {
    (false, false) => return crate::runtime::engine::engine(),
    (true, false) => 0,
    (false, true) => 1,
    (true, true) => 2,
  };
  ENGINES[slot]
    .get_or_init(|| {
      let mut config = crate::runtime::engine::config(crate::runtime::engine::memories());
      config.epoch_interruption(epoch).consume_fuel(fuel);
      Engine::new(&config).map_err(|e| format!("{e:#}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Starts the one ticker thread (on the first sandbox with a timeout).
fn start_ticker() {
  static STARTED: Once = Once::new();
  STARTED.call_once(|| {
    let spawned = std::thread::Builder::new()
      .name("wasm-memory-rs epoch".into())
      .spawn(|| loop {
        std::thread::sleep(TICK);
        for slot in [0, 2] {
          if let Some(Ok(engine)) = ENGINES[slot].get() {
            engine.increment_epoch();
          }
        }
      });
    // Without a ticker a timeout would never fire; the sandbox's
    // constructor reports it (see `create_sandbox`).
    drop(spawned);
  });
}

/// One sandbox: its limits, and what its stores use of them now.
pub struct Ctx {
  id: u64,
  engine: &'static Engine,
  timeout_ms: Option<u64>,
  /// The timeout in epoch ticks (rounded up, plus the tick in progress).
  ticks: u64,
  fuel: Option<u64>,
  max_memory_bytes: Option<usize>,
  max_table_elements: Option<usize>,
  max_instances: Option<usize>,
  // Counters of the sandbox's stores (all on one thread: atomics only
  // because wasmtime's limiter must be `Send`).
  memory_bytes: AtomicUsize,
  table_elements: AtomicUsize,
  instances: AtomicUsize,
  /// A memory was refused by the cap since [`take_denied`] last looked.
  denied: AtomicBool,
}

impl Ctx {
  /// Takes `more` of a capped resource counted in `used`: false (and the
  /// refusal noted for [`take_denied`]) if that would pass `cap`.
  fn take(&self, used: &AtomicUsize, cap: Option<usize>, more: usize) -> bool {
    let total = used.load(Relaxed).saturating_add(more);
    if cap.is_some_and(|cap| total > cap) {
      self.denied.store(true, Relaxed);
      return false;
    }
    used.store(total, Relaxed);
    true
  }

  /// The engine of this sandbox's stores and modules.
  pub fn engine(&self) -> &'static Engine {
    self.engine
  }

  fn has_caps(&self) -> bool {
    self.max_memory_bytes.is_some() || self.max_table_elements.is_some()
  }
}

thread_local! {
  /// The sandbox entered on this thread (None: the main namespace).
  static CURRENT: RefCell<Option<Arc<Ctx>>> = const { RefCell::new(None) };
  /// What [`enter_sandbox`] replaced, for [`leave_sandbox`].
  static SAVED: RefCell<Vec<Option<Arc<Ctx>>>> = const { RefCell::new(Vec::new()) };
}

/// The sandbox entered now, if any.
pub fn current() -> Option<Arc<Ctx>> {
  CURRENT.with(|c| c.borrow().clone())
}

/// The id of the sandbox entered now (0: the main namespace), which keys
/// the JS hooks (js.rs, exception.rs).
pub fn current_id() -> u64 {
  CURRENT.with(|c| c.borrow().as_ref().map_or(0, |c| c.id))
}

/// The engine new modules and stores get now.
///
/// # Errors
/// As [`crate::runtime::engine::engine`].
pub fn current_engine() -> Result<&'static Engine, String> {
  match current() {
    Some(ctx) => Ok(ctx.engine),
    None => crate::runtime::engine::engine(),
  }
}

/// Enters a store's sandbox (or the main namespace) until dropped.
pub struct Scope(Option<Option<Arc<Ctx>>>);

impl Scope {
  /// Enters `sandbox`; costs one thread-local read when neither it nor
  /// the current one is a sandbox (the main namespace's calls).
  pub fn enter(sandbox: Option<&Arc<Ctx>>) -> Scope {
    CURRENT.with(|c| {
      let mut c = c.borrow_mut();
      if sandbox.is_none() && c.is_none() {
        return Scope(None);
      }
      Scope(Some(std::mem::replace(&mut *c, sandbox.cloned())))
    })
  }
}

impl Drop for Scope {
  fn drop(&mut self) {
    if let Some(saved) = self.0.take() {
      CURRENT.with(|c| *c.borrow_mut() = saved);
    }
  }
}

/// A sandbox as JS holds it (`lib/sandbox.js`).
#[napi]
pub struct NativeSandbox {
  ctx: Arc<Ctx>,
}

/// A limit from the shim (already validated there; checked again).
fn limit(env: &Env, what: &str, value: Option<f64>, max: f64) -> napi::Result<Option<u64>> {
  match value {
    None => Ok(None),
    Some(v) if !v.is_finite() || v.fract() != 0.0 || v < 0.0 => Err(type_error(
      env,
      format!("Sandbox: {what} must be a non-negative integer, got {v}"),
    )),
    Some(v) if v > max => Err(range_error(
      env,
      format!("Sandbox: {what} must be at most {max}, got {v}"),
    )),
    Some(v) => Ok(Some(v as u64)),
  }
}

/// Makes a sandbox: `[timeoutMs, fuel, maxMemoryBytes, maxTableElements,
/// maxInstances]`, each a whole number or undefined.
///
/// # Errors
/// `TypeError`/`RangeError` for a bad limit; `Error` if the engine or the
/// ticker thread cannot be made.
#[napi]
pub fn create_sandbox(
  env: Env,
  timeout_ms: Option<f64>,
  fuel: Option<f64>,
  max_memory_bytes: Option<f64>,
  max_table_elements: Option<f64>,
  max_instances: Option<f64>,
) -> napi::Result<NativeSandbox> {
  static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
  const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
  let timeout_ms = limit(&env, "timeout", timeout_ms, MAX_SAFE)?;
  let fuel = limit(&env, "fuel", fuel, MAX_SAFE)?;
  let as_usize = |v: Option<u64>| v.map(|v| usize::try_from(v).unwrap_or(usize::MAX));
  let max_memory_bytes = as_usize(limit(&env, "maxMemoryBytes", max_memory_bytes, MAX_SAFE)?);
  let max_table_elements = as_usize(limit(
    &env,
    "maxTableElements",
    max_table_elements,
    MAX_SAFE,
  )?);
  let max_instances = as_usize(limit(&env, "maxInstances", max_instances, MAX_SAFE)?);
  let engine =
    engine_for(timeout_ms.is_some(), fuel.is_some()).map_err(|e| crate::error::error(&env, e))?;
  if timeout_ms.is_some() {
    start_ticker();
  }
  let ticks = timeout_ms.map_or(0, |ms| {
    let tick = TICK.as_millis() as u64;
    ms.div_ceil(tick) + 1
  });
  Ok(NativeSandbox {
    ctx: Arc::new(Ctx {
      id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
      engine,
      timeout_ms,
      ticks,
      fuel,
      max_memory_bytes,
      max_table_elements,
      max_instances,
      memory_bytes: AtomicUsize::new(0),
      table_elements: AtomicUsize::new(0),
      instances: AtomicUsize::new(0),
      denied: AtomicBool::new(false),
    }),
  })
}

#[napi]
impl NativeSandbox {
  /// `[memoryBytes, tableElements, instances]` in use now (tests).
  #[napi]
  pub fn usage(&self) -> Vec<f64> {
    vec![
      self.ctx.memory_bytes.load(Relaxed) as f64,
      self.ctx.table_elements.load(Relaxed) as f64,
      self.ctx.instances.load(Relaxed) as f64,
    ]
  }
}

/// Enters `sandbox` (null: the main namespace) until [`leave_sandbox`]:
/// the sandbox's shim wraps each call into the addon in the two.
#[napi]
pub fn enter_sandbox(sandbox: Option<&NativeSandbox>) {
  let next = sandbox.map(|s| s.ctx.clone());
  let saved = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), next));
  SAVED.with(|s| s.borrow_mut().push(saved));
}

/// Leaves the sandbox [`enter_sandbox`] entered last.
#[napi]
pub fn leave_sandbox() {
  if let Some(saved) = SAVED.with(|s| s.borrow_mut().pop()) {
    CURRENT.with(|c| *c.borrow_mut() = saved);
  }
}

/// Each store's share of its sandbox's caps (a store's `ResourceLimiter`);
/// what it used is given back when the store drops.
#[derive(Default)]
pub struct Limiter {
  ctx: Option<Arc<Ctx>>,
  memory_bytes: usize,
  table_elements: usize,
  instances: usize,
}

impl ResourceLimiter for Limiter {
  fn memory_growing(
    &mut self,
    current: usize,
    desired: usize,
    _maximum: Option<usize>,
  ) -> wasmtime::Result<bool> {
    let Some(ctx) = &self.ctx else {
      return Ok(true);
    };
    let more = desired.saturating_sub(current);
    let granted = ctx.take(&ctx.memory_bytes, ctx.max_memory_bytes, more);
    self.memory_bytes += if granted { more } else { 0 };
    Ok(granted)
  }

  fn table_growing(
    &mut self,
    current: usize,
    desired: usize,
    _maximum: Option<usize>,
  ) -> wasmtime::Result<bool> {
    let Some(ctx) = &self.ctx else {
      return Ok(true);
    };
    let more = desired.saturating_sub(current);
    let granted = ctx.take(&ctx.table_elements, ctx.max_table_elements, more);
    self.table_elements += if granted { more } else { 0 };
    Ok(granted)
  }
}

impl Drop for Limiter {
  fn drop(&mut self) {
    if let Some(ctx) = &self.ctx {
      ctx.memory_bytes.store(
        ctx
          .memory_bytes
          .load(Relaxed)
          .saturating_sub(self.memory_bytes),
        Relaxed,
      );
      ctx.table_elements.store(
        ctx
          .table_elements
          .load(Relaxed)
          .saturating_sub(self.table_elements),
        Relaxed,
      );
      ctx.instances.store(
        ctx.instances.load(Relaxed).saturating_sub(self.instances),
        Relaxed,
      );
    }
  }
}

/// The limiter for a new store of `sandbox`.
pub fn limiter(sandbox: Option<&Arc<Ctx>>) -> Limiter {
  Limiter {
    ctx: sandbox.cloned(),
    ..Limiter::default()
  }
}

/// Sets a new store of `sandbox` up: its limiter, and time and fuel for
/// what runs before the first call (a start function).
pub fn prepare(store: &mut Store<Data>, sandbox: Option<&Arc<Ctx>>) {
  let Some(ctx) = sandbox else {
    return;
  };
  if ctx.has_caps() {
    store.limiter(|data| &mut data.limiter);
  }
  arm(&mut store.as_context_mut(), ctx);
}

use wasmtime::AsContextMut;

/// Gives a call from JS the sandbox's full timeout and fuel.
pub fn arm(ctx: &mut StoreContextMut<'_, Data>, sandbox: &Ctx) {
  if sandbox.timeout_ms.is_some() {
    ctx.set_epoch_deadline(sandbox.ticks);
  }
  if let Some(fuel) = sandbox.fuel {
    // Fails only if the engine does not consume fuel: it does.
    let _ = ctx.set_fuel(fuel);
  }
}

/// Arms `cell`'s sandbox for a call from JS, unless wasm of it is already
/// running (a re-entrant call runs within what is left).
pub fn arm_outermost(cell: &StoreCell, ctx: &mut StoreContextMut<'_, Data>) {
  if let Some(sandbox) = &cell.sandbox {
    if !cell.is_entered() {
      arm(ctx, sandbox);
    }
  }
}

/// The message of a trap that a sandbox limit caused.
pub fn limit_message(cell: &StoreCell, trap: Trap) -> String {
  let sandbox = cell.sandbox.as_deref();
  match trap {
    Trap::Interrupt => match sandbox.and_then(|s| s.timeout_ms) {
      Some(ms) => format!("sandbox timeout: the call ran longer than {ms} ms (timeout)"),
      None => "interrupted".to_owned(),
    },
    Trap::OutOfFuel => match sandbox.and_then(|s| s.fuel) {
      Some(fuel) => format!("sandbox fuel: the call used all its fuel ({fuel}) (fuel)"),
      None => "all fuel consumed by WebAssembly".to_owned(),
    },
    _ => "wasm trap".to_owned(),
  }
}

/// True if `cell`'s sandbox refused memory or table space since the last
/// call (an instantiation that failed for a cap: V8's RangeError).
pub fn take_denied(cell: &StoreCell) -> bool {
  cell
    .sandbox
    .as_ref()
    .is_some_and(|s| s.denied.swap(false, Relaxed))
}

/// Checks the sandbox's instance cap before an instantiation in `cell`.
///
/// # Errors
/// The message of the `RangeError` to throw.
pub fn instance_allowed(cell: &StoreCell) -> Result<(), String> {
  let Some(sandbox) = &cell.sandbox else {
    return Ok(());
  };
  if let Some(max) = sandbox.max_instances {
    if sandbox.instances.load(Relaxed) >= max {
      return Err(format!(
        "WebAssembly.Instance(): the sandbox's maxInstances ({max}) is reached"
      ));
    }
  }
  Ok(())
}

/// Counts an instance made in `cell` against its sandbox's cap.
pub fn instance_made(cell: &StoreCell, ctx: &mut StoreContextMut<'_, Data>) {
  if let Some(sandbox) = &cell.sandbox {
    sandbox
      .instances
      .store(sandbox.instances.load(Relaxed) + 1, Relaxed);
    ctx.data_mut().limiter.instances += 1;
  }
}

/// Whether `cell` belongs to the namespace entered now.
pub fn is_current(cell: &StoreCell) -> bool {
  CURRENT.with(|c| match (&cell.sandbox, &*c.borrow()) {
    (None, None) => true,
    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
    _ => false,
  })
}
