//! JSPI (`WebAssembly.Suspending`, `WebAssembly.promising`): wasm that
//! waits for a JS promise without blocking the event loop, on wasmtime's
//! async support.
//!
//! # Stores
//! An instance that imports a `Suspending` function goes into a *JSPI
//! store*: every host function of it is async (`Func::new_async`), which
//! makes wasmtime run its wasm on a fiber (`call_async`,
//! `Instance::new_async`); every other store keeps the sync call path
//! untouched. The engine is the same (wasmtime 48's async support needs no
//! other `Config`), so modules are not compiled again.
//!
//! # JS never runs on a fiber
//! V8 checks its stack limit against the thread's own stack. So an import
//! of a JSPI store, polled on the fiber, converts its arguments (wasm to
//! [`Out`], no JS), leaves a [`Request`] in a slot and returns `Pending`;
//! the fiber suspends and the *driver*, back on the main stack, calls the
//! JS function, converts its result to [`Arg`]s (no store allocation) and
//! polls again; the import, resumed, makes the wasm values. A `Suspending`
//! import's result goes back to JS (lib/jspi.js awaits it) and the driver
//! returns; `jspiResume` polls again when it settles.
//!
//! # Nothing touches the store while a fiber is suspended
//! wasmtime's collector traces only the wasm frames of the running
//! activation, not those of a suspended fiber. So while a fiber waits,
//! nothing may allocate in the store's GC heap: results are turned into
//! wasm values on the fiber, and so is a JS exception (converted on the
//! main stack, made a wasm exception on the fiber, where wasm catches it as
//! in any store), and no other call may enter the store (an `Error` says
//! so) until the suspended call returns.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use napi::bindgen_prelude::Unknown;
use napi::{sys, Env, JsValue};
use napi_derive::napi;
use wasmtime::{
  AsContextMut, Caller, ExnRef, Extern, Func, FuncType, Instance, Module, OwnedRooted, RootScope,
  StoreContextMut, Val, ValType,
};

use crate::js::{self, Hook, JsResult, Pending};
use crate::memory::reclaim::Ref;
use crate::runtime::func::{self, Exported};
use crate::runtime::store::{Data, StoreCell};
use crate::runtime::value::{self, Arg, Out};

mod promising;

type Ctx = *mut StoreContextMut<'static, Data>;

/// What an import of a JSPI store asks the driver to do.
pub(super) struct Request {
  /// The JS callable, by its index in the store's `callables`.
  index: usize,
  pub(super) types: Arc<[ValType]>,
  params: Vec<Out>,
  pub(super) suspending: bool,
  /// The import's way into the store, and what was registered before it.
  pub(super) ctx: Ctx,
  pub(super) prev: Ctx,
}

pub(super) type Response = Result<Vec<Arg>, Failure>;

/// How an import of a JSPI store fails, as the driver tells it.
pub(super) enum Failure {
  /// Unwinds wasm uncaught, as a trap (the JS value stashed in the store).
  Error(wasmtime::Error),
  /// A JS exception to throw into wasm on the fiber (catchable).
  Throw(crate::runtime::exception::Prepared),
}

thread_local! {
  /// Left by an import before it returns `Pending`; taken by the driver.
  pub(super) static REQUEST: RefCell<Option<Request>> = const { RefCell::new(None) };
  /// Left by the driver before it polls again; taken by the import.
  pub(super) static RESPONSE: RefCell<Option<Response>> = const { RefCell::new(None) };
  /// How many `promising` drivers are running (their JS on the stack).
  pub(super) static PROMISING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
  /// `WebAssembly.SuspendError` of the main namespace (lib/jspi.js).
  static SUSPEND_ERROR: RefCell<Option<Ref>> = const { RefCell::new(None) };
}

/// Makes `cell` a JSPI store if an import is `Suspending` (`wanted`), or
/// if an import is an exported function of a JSPI store (`reaches`): a
/// `promising` call of this instance then suspends through it (promising.rs
/// runs that call on its own store's fiber). A store is one or the other
/// from its first instance on: its exported functions and host functions
/// are made for one kind.
///
/// # Errors
/// `LinkError` if an import is `Suspending` and the store already has
/// instances (imports are bound to instances without `Suspending`
/// imports). Reaching a JSPI store from such a store is no error: a
/// suspension through it is a `SuspendError`, as before.
pub fn choose_store(
  env: &Env,
  cell: &Rc<StoreCell>,
  wanted: bool,
  reaches: bool,
) -> napi::Result<()> {
  if !(wanted || reaches) || cell.is_jspi() {
    return Ok(());
  }
  // Instances give their store a token; a new store has none yet.
  let used = cell
    .with(|ctx| ctx.data().token.get(env).is_some())
    .map_err(|e| crate::error::error(env, e))?;
  if used && !wanted {
    return Ok(());
  }
  if used {
    let _ = js::throw_class(
      env,
      Hook::LinkError,
      "WebAssembly.Instance(): an import is a WebAssembly.Suspending function, but other imports \
       belong to instances without Suspending imports: wasmtime runs a store's wasm either on \
       fibers or not (see the README's known differences)",
    );
    return Err(napi::Error::new(
      napi::Status::PendingException,
      "pending exception",
    ));
  }
  cell.set_jspi();
  Ok(())
}

/// A host function of a JSPI store (`cell.is_jspi()`) calling callable
/// `index`.
pub(crate) fn func(
  ctx: &mut StoreContextMut<'_, Data>,
  ty: FuncType,
  index: usize,
  types: Arc<[ValType]>,
  suspending: bool,
) -> Func {
  Func::new_async(&mut *ctx, ty, move |caller, params, results| {
    Box::new(AssertSend(import(
      caller,
      index,
      types.clone(),
      suspending,
      params,
      results,
    )))
  })
}

/// The body of every import of a JSPI store, polled on the fiber.
async fn import<'a>(
  mut caller: Caller<'a, Data>,
  index: usize,
  types: Arc<[ValType]>,
  suspending: bool,
  params: &'a [Val],
  results: &'a mut [Val],
) -> wasmtime::Result<()> {
  let cell = caller
    .data()
    .cell()
    .ok_or_else(|| wasmtime::Error::msg("the store is being dropped"))?;
  let mut ctx = caller.as_context_mut();
  let params = params
    .iter()
    .map(|v| value::out(&mut ctx, v))
    .collect::<wasmtime::Result<Vec<_>>>()?;
  let prev = {
    let ptr: Ctx = (&mut ctx as *mut StoreContextMut<'_, Data>).cast();
    let prev = cell.swap_entered(ptr);
    REQUEST.with(|r| {
      *r.borrow_mut() = Some(Request {
        index,
        types,
        params,
        suspending,
        ctx: ptr,
        prev,
      })
    });
    prev
  };
  // While the fiber is suspended, nothing may allocate in the GC heap.
  struct Waiting<'c>(&'c StoreCell);
  impl Drop for Waiting<'_> {
    fn drop(&mut self) {
      self.0.set_waiting(false);
    }
  }
  cell.set_waiting(true);
  let waiting = Waiting(&cell);
  YieldOnce(false).await;
  drop(waiting);
  // `ctx` must stay in this future's state (the driver used it through
  // the pointer) until here.
  std::hint::black_box(&mut ctx);
  cell.swap_entered(prev);
  let response = RESPONSE.with(|r| r.borrow_mut().take()).unwrap_or_else(|| {
    Err(Failure::Error(wasmtime::Error::msg(
      "JSPI: resumed without an answer",
    )))
  });
  // On the fiber: a GC these allocations start sees this call's frames.
  let response = match response {
    Ok(args) => args,
    Err(Failure::Error(e)) => return Err(e),
    Err(Failure::Throw(prepared)) => {
      let env = ctx.data().env();
      return Err(crate::runtime::exception::throw_prepared(
        &env, &mut ctx, prepared,
      )?);
    }
  };
  for (slot, arg) in results.iter_mut().zip(response) {
    *slot = arg.into_val(&mut ctx)?;
  }
  Ok(())
}

/// Returns `Pending` once: the fiber suspends, the driver takes over.
struct YieldOnce(bool);

impl Future for YieldOnce {
  type Output = ();
  fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
    if self.0 {
      Poll::Ready(())
    } else {
      self.0 = true;
      Poll::Pending
    }
  }
}

/// A future wasmtime may take for `Send`.
struct AssertSend<F>(F);

// SAFETY: the futures of JSPI imports are polled only on their store's JS
// thread (by the drivers below, through wasmtime's fiber), never moved to
// another: the store that owns them lives in an `Rc` (see `Data`'s `Send`).
unsafe impl<F> Send for AssertSend<F> {}

impl<F: Future> Future for AssertSend<F> {
  type Output = F::Output;
  fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
    // SAFETY: structural pinning: the inner future is never moved out.
    unsafe { self.map_unchecked_mut(|s| &mut s.0) }.poll(cx)
  }
}

/// Answers a request of a plain (not `Suspending`) import: calls the JS
/// function here, on the main stack.
pub(super) fn answer(env: &Env, cell: &Rc<StoreCell>, req: &Request) -> Response {
  let _scope = js::Scope::open(env);
  crate::memory::tracked::sync_grown(env);
  let called = (|| {
    let ret = call_callable(env, cell, req)?;
    crate::runtime::host::import_args(env, cell, ret, &req.types)
  })();
  called.map_err(|Pending| threw(env, cell))
}

/// The pending JS exception of an import, as a [`Failure`].
pub(super) fn threw(env: &Env, cell: &Rc<StoreCell>) -> Failure {
  let thrown = js::take_exception(env);
  failure(env, cell, thrown)
}

/// What an import throws (`thrown`), made ready to be thrown into wasm on
/// the fiber, as the host functions of other stores throw it at once
/// (src/runtime/host.rs); a trap's error, or a value that cannot be
/// carried, is kept to be rethrown unchanged when the call returns.
fn failure(env: &Env, cell: &Rc<StoreCell>, mut thrown: Option<sys::napi_value>) -> Failure {
  use crate::runtime::exception;
  if let Some(value) = thrown {
    if !exception::is_uncatchable(env, value) {
      match exception::prepare(env, cell, value) {
        Ok(prepared) => return Failure::Throw(prepared),
        Err(Pending) => thrown = js::take_exception(env),
      }
    }
  }
  Failure::Error(crate::runtime::host::stash(env, cell, thrown))
}

/// Calls the import's JS callable with its arguments.
pub(super) fn call_callable(
  env: &Env,
  cell: &Rc<StoreCell>,
  req: &Request,
) -> JsResult<sys::napi_value> {
  if req.types.iter().any(|t| matches!(t, ValType::V128)) {
    return Err(js::throw_type(
      env,
      "type incompatibility when transforming from/to JS",
    ));
  }
  let callee = cell
    .with(|ctx| ctx.data().callables[req.index].get(env))
    .map_err(|e| js::throw(env, &e))?
    .ok_or_else(|| js::throw(env, "an imported function was collected"))?;
  let args = req
    .params
    .iter()
    .map(|v| value::to_js(env, cell, v))
    .collect::<JsResult<Vec<_>>>()?;
  js::call(env, callee, &args)
}

/// Throws a new `WebAssembly.SuspendError` into wasm (catchable through
/// `JSTag`, as V8's).
fn suspend_error(env: &Env, cell: &Rc<StoreCell>, message: &str) -> Failure {
  let _scope = js::Scope::open(env);
  let class = SUSPEND_ERROR.with(|c| c.borrow().as_ref().and_then(|r| r.get(env)));
  let made = (|| {
    let class = class.ok_or_else(|| js::throw(env, message))?;
    let msg = js::string(env, message)?;
    let mut error = ptr::null_mut();
    // SAFETY: `class` is a live constructor handle, `msg` a live string.
    let status = unsafe { sys::napi_new_instance(env.raw(), class, 1, &msg, &mut error) };
    js::ok(env, status, "napi_new_instance")?;
    Ok::<_, Pending>(error)
  })();
  let thrown = match made {
    Ok(error) => Some(error),
    Err(Pending) => js::take_exception(env),
  };
  failure(env, cell, thrown)
}

/// Polls `fut` to its end here, answering its imports' requests; a
/// `Suspending` import is a `SuspendError` (no `promising` call to suspend).
fn drive<R>(
  env: &Env,
  cell: &Rc<StoreCell>,
  mut fut: Pin<&mut (dyn Future<Output = R> + '_)>,
) -> R {
  let mut cx = Context::from_waker(Waker::noop());
  loop {
    if let Poll::Ready(r) = fut.as_mut().poll(&mut cx) {
      return r;
    }
    // No request: wasmtime yielded on its own (its collector does); poll on.
    let Some(req) = REQUEST.with(|r| r.borrow_mut().take()) else {
      continue;
    };
    let response = if req.suspending {
      // V8's words: with a promising call further out, JS frames are
      // between it and this import.
      let message = if PROMISING.with(|p| p.get()) > 0 {
        "trying to suspend JS frames"
      } else {
        "trying to suspend without WebAssembly.promising"
      };
      Err(suspend_error(env, cell, message))
    } else {
      answer(env, cell, &req)
    };
    RESPONSE.with(|r| *r.borrow_mut() = Some(response));
  }
}

/// `Instance::new`, or in a JSPI store `Instance::new_async` driven here
/// (a start function's imports are answered; it cannot suspend).
pub fn instantiate(
  ctx: &mut StoreContextMut<'_, Data>,
  module: &Module,
  externs: &[Extern],
) -> wasmtime::Result<Instance> {
  let Some(cell) = ctx.data().cell().filter(|c| c.is_jspi()) else {
    return Instance::new(&mut *ctx, module, externs);
  };
  let env = ctx.data().env();
  let fut = Instance::new_async(&mut *ctx, module, externs);
  let fut = std::pin::pin!(fut);
  drive(&env, &cell, fut)
}

pub(super) const BUSY: &str =
  "WebAssembly: this instance is running or suspended in a JSPI call (its store \
  runs on a fiber): it cannot be entered again until that call returns (see the README's known \
  differences)";

/// The wasm results and the wasm exceptions met, as `func::call` keeps them.
pub(super) type Outcome = wasmtime::Result<(Vec<Out>, Vec<(OwnedRooted<ExnRef>, Ref)>)>;

/// Arguments converted from JS (before the store is entered).
pub(super) fn args(env: &Env, exported: &Exported, argv: &[sys::napi_value]) -> JsResult<Vec<Arg>> {
  let undefined = js::undefined(env);
  exported
    .params
    .iter()
    .enumerate()
    .map(|(i, ty)| {
      value::to_wasm(
        env,
        &exported.cell,
        argv.get(i).copied().unwrap_or(undefined),
        ty,
      )
    })
    .collect()
}

/// Calls an exported function of a JSPI store without `promising`: run to
/// its end (a `Suspending` import is a `SuspendError`).
pub(crate) fn call(
  env: &Env,
  exported: &Exported,
  argv: &[sys::napi_value],
) -> JsResult<sys::napi_value> {
  // Before the arguments are converted, as `func::call` does.
  if exported.has_v128 {
    return Err(js::throw_type(
      env,
      "type incompatibility when transforming from/to JS",
    ));
  }
  let args = args(env, exported, argv)?;
  let cell = &exported.cell;
  let Some(mut store) = cell.try_store().filter(|_| !cell.is_entered()) else {
    return Err(js::throw(env, BUSY));
  };
  let run = run(store.as_context_mut(), exported, args);
  let outcome = drive(env, cell, std::pin::pin!(run));
  drop(store);
  finish(env, cell, outcome)
}

/// One call of `exported` in `store`, as a future (driven here to its end,
/// or suspended by `promising`): the arguments converted, the call on
/// wasmtime's fiber, its results and the exceptions it met.
pub(super) async fn run(
  store: StoreContextMut<'_, Data>,
  exported: &Exported,
  args: Vec<Arg>,
) -> Outcome {
  let mut scope = RootScope::new(store);
  let mut ctx = scope.as_context_mut();
  let params = args
    .into_iter()
    .map(|a| a.into_val(&mut ctx))
    .collect::<wasmtime::Result<Vec<_>>>()?;
  let mut results = vec![Val::I32(0); exported.results.len()];
  exported
    .func
    .call_async(&mut ctx, &params, &mut results)
    .await?;
  let outs = results
    .iter()
    .map(|v| value::out(&mut ctx, v))
    .collect::<wasmtime::Result<Vec<_>>>()?;
  let met = std::mem::take(&mut ctx.data_mut().exceptions);
  Ok((outs, met))
}

/// The JS result of a finished call, or its exception thrown.
pub(super) fn finish(
  env: &Env,
  cell: &Rc<StoreCell>,
  outcome: Outcome,
) -> JsResult<sys::napi_value> {
  crate::memory::tracked::sync_grown(env);
  let (outs, met) = match outcome {
    Ok(done) => done,
    Err(e) => {
      let thrown = func::failure(env, cell, &e);
      crate::runtime::exception::settle(env, cell);
      return Err(thrown);
    }
  };
  for (_, mut r) in met {
    r.clear(env);
  }
  match outs.len() {
    0 => Ok(js::undefined(env)),
    1 => value::to_js(env, cell, &outs[0]),
    _ => {
      let values = outs
        .iter()
        .map(|v| value::to_js(env, cell, v))
        .collect::<JsResult<Vec<_>>>()?;
      js::array(env, &values)
    }
  }
}

/// Gives the native side the namespace's `WebAssembly.SuspendError`: the
/// main namespace's, which this thread makes first (a sandbox's namespace,
/// made later, throws the main one's).
#[napi(js_name = "setJspiHooks")]
pub fn set_jspi_hooks(env: Env, suspend_error: Unknown) -> napi::Result<()> {
  if SUSPEND_ERROR.with(|c| c.borrow().is_some()) {
    return Ok(());
  }
  let r = Ref::new(&env, suspend_error.raw(), true)?;
  SUSPEND_ERROR.with(|c| *c.borrow_mut() = Some(r));
  Ok(())
}
