//! `promising` calls (src/runtime/jspi.rs): the driver of a call that may suspend,
//! handed to JS while its `Suspending` import's promise is pending.

use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use napi::bindgen_prelude::Unknown;
use napi::{sys, Env, JsValue};
use napi_derive::napi;
use wasmtime::AsContextMut;

use super::{
  answer, args, call_callable, finish, run, threw, Outcome, Request, BUSY, PROMISING, REQUEST,
  RESPONSE,
};
use crate::js::{self, JsResult, Pending};
use crate::runtime::func::{self, Exported};
use crate::runtime::store::StoreCell;

/// A `promising` call in progress: a stack of calls, each on its store's
/// fiber. The first is the `promising` call; each one above answers an
/// import of the one below that is an exported function of another JSPI
/// store (its instance group), so a `Suspending` import reached through it
/// suspends them all, as V8 suspends the whole wasm stack.
struct Driver {
  frames: Vec<Frame>,
  /// The `Suspending` import (of the top frame) waiting for its promise.
  waiting: Option<Request>,
}

struct Frame {
  cell: Rc<StoreCell>,
  fut: Pin<Box<dyn Future<Output = Outcome>>>,
  /// The import of the frame below this call answers.
  answers: Option<Request>,
}

impl Driver {
  fn top(&mut self) -> &mut Frame {
    self
      .frames
      .last_mut()
      .expect("a driver has its first frame")
  }

  /// While the top frame waits for a promise, nothing may enter the stores
  /// below it either (their imports wait on it): or `false`, back in.
  fn set_entered(&self, entered: bool) {
    for pair in self.frames.windows(2) {
      if let Some(req) = &pair[1].answers {
        pair[0]
          .cell
          .swap_entered(if entered { req.ctx } else { req.prev });
      }
    }
  }
}

impl Drop for Driver {
  fn drop(&mut self) {
    // The newest call first: each future borrows its own store only.
    while self.frames.pop().is_some() {}
  }
}

/// The call of `exported` (of a JSPI store) with `args`, as a future that
/// borrows its store until it ends: the store stays borrowed while the
/// call is suspended, on purpose (nothing else may enter it until the fiber
/// returns: src/runtime/jspi.rs).
fn frame(
  exported: Rc<Exported>,
  args: Vec<crate::runtime::value::Arg>,
  answers: Option<Request>,
) -> Frame {
  let cell = exported.cell.clone();
  let store_cell = cell.clone();
  #[allow(clippy::await_holding_refcell_ref)]
  let fut = async move {
    let mut store = store_cell
      .try_store()
      .ok_or_else(|| wasmtime::Error::msg(BUSY))?;
    run(store.as_context_mut(), &exported, args).await
  };
  Frame {
    cell,
    fut: Box::pin(fut),
    answers,
  }
}

/// A frame for `req` (an import of `cell`'s store) if its callable is an
/// exported function of another JSPI store that is free; else `req` back.
fn nested(env: &Env, cell: &Rc<StoreCell>, req: Request) -> Result<Frame, Request> {
  let _scope = js::Scope::open(env);
  let callee = cell
    .with(|ctx| ctx.data().callables[req.index].get(env))
    .ok()
    .flatten()
    .and_then(|callee| func::unwrap(env, callee));
  let Some(callee) = callee else {
    return Err(req);
  };
  let free = !callee.cell.is_entered() && callee.cell.try_store().is_some();
  let simple = !callee.has_v128
    && !req
      .types
      .iter()
      .any(|t| matches!(t, wasmtime::ValType::V128));
  if !callee.cell.is_jspi() || crate::runtime::store::same(&callee.cell, cell) || !free || !simple {
    return Err(req);
  }
  // The arguments as the JS call would pass them: through JS values.
  let argv = req
    .params
    .iter()
    .map(|v| crate::runtime::value::to_js(env, cell, v))
    .collect::<JsResult<Vec<_>>>();
  let Ok(argv) = argv else {
    let _ = js::take_exception(env);
    return Err(req);
  };
  match args(env, &callee, &argv) {
    Ok(args) => Ok(frame(callee, args, Some(req))),
    Err(Pending) => {
      let _ = js::take_exception(env);
      Err(req)
    }
  }
}

/// Starts a `promising` call of the exported function `f` (lib/jspi.js).
/// Returns `[true, result]` when it ran to its end, or `[false, driver,
/// value]` when a `Suspending` import returned `value`: the call goes on
/// in `jspiResume(driver, ...)` once `value` settles. Throws what the call
/// throws.
#[napi(js_name = "jspiCall")]
pub fn jspi_call<'env>(
  env: &'env Env,
  f: Unknown<'env>,
  argv: Vec<Unknown<'env>>,
) -> napi::Result<Unknown<'env>> {
  let result = (|| {
    let exported =
      func::unwrap(env, f.raw()).ok_or_else(|| js::throw_type(env, "not an exported function"))?;
    // Missing arguments are `undefined`, as for a direct call.
    let mut argv: Vec<sys::napi_value> = argv.iter().map(|a| a.raw()).collect();
    if argv.len() < exported.params.len() {
      argv.resize(exported.params.len(), js::undefined(env));
    }
    if !exported.cell.is_jspi() {
      // No Suspending import can be reached: it just runs.
      let value = func::call(env, &exported, &argv)?;
      return js::array(env, &[boolean(env, true)?, value]);
    }
    let args = args(env, &exported, &argv)?;
    let cell = exported.cell.clone();
    if cell.is_entered() || cell.try_store().is_none() {
      return Err(js::throw(env, BUSY));
    }
    let driver = Box::new(Driver {
      frames: vec![frame(exported, args, None)],
      waiting: None,
    });
    step(env, driver)
  })();
  js::into_napi(result).map(|v| {
    // SAFETY: a live handle of this call's scope.
    unsafe { Unknown::from_raw_unchecked(env.raw(), v) }
  })
}

/// Goes on with a suspended `promising` call: its `Suspending` import's
/// promise fulfilled with `value` (`fulfilled`) or rejected with it.
#[napi(js_name = "jspiResume")]
pub fn jspi_resume<'env>(
  env: &'env Env,
  driver: Unknown<'env>,
  fulfilled: bool,
  value: Unknown<'env>,
) -> napi::Result<Unknown<'env>> {
  let result = (|| {
    let mut tagged = false;
    // SAFETY: `driver` is a live handle; Node-API checks it is an object.
    let status =
      unsafe { sys::napi_check_object_type_tag(env.raw(), driver.raw(), &TAG, &mut tagged) };
    if status != sys::Status::napi_ok || !tagged {
      return Err(js::throw_type(env, "JSPI: not a suspended call"));
    }
    let mut data = ptr::null_mut();
    // SAFETY: `driver` is a live handle; Node-API checks it is an external.
    let status = unsafe { sys::napi_get_value_external(env.raw(), driver.raw(), &mut data) };
    js::ok(env, status, "napi_get_value_external")?;
    // SAFETY: externals tagged with TAG are made by `external` and hold a
    // `Box<Option<Box<Driver>>>`, alive while the external is.
    let slot = unsafe { &mut *data.cast::<Option<Box<Driver>>>() };
    let mut driver = slot
      .take()
      .ok_or_else(|| js::throw(env, "JSPI: this call is not suspended"))?;
    let req = driver
      .waiting
      .take()
      .ok_or_else(|| js::throw(env, "JSPI: this call is not suspended"))?;
    let cell = driver.top().cell.clone();
    // The stores are reachable through the suspended imports again.
    cell.swap_entered(req.ctx);
    driver.set_entered(true);
    let response = {
      let _scope = js::Scope::open(env);
      if fulfilled {
        crate::runtime::host::import_args(env, &cell, value.raw(), &req.types)
          .map_err(|Pending| threw(env, &cell))
      } else {
        let _ = js::rethrow(env, value.raw());
        Err(threw(env, &cell))
      }
    };
    RESPONSE.with(|r| *r.borrow_mut() = Some(response));
    step(env, driver)
  })();
  js::into_napi(result).map(|v| {
    // SAFETY: a live handle of this call's scope.
    unsafe { Unknown::from_raw_unchecked(env.raw(), v) }
  })
}

/// Polls a `promising` call until it ends or a `Suspending` import returns.
fn step(env: &Env, mut driver: Box<Driver>) -> JsResult<sys::napi_value> {
  struct Running;
  impl Drop for Running {
    fn drop(&mut self) {
      PROMISING.with(|p| p.set(p.get() - 1));
    }
  }
  PROMISING.with(|p| p.set(p.get() + 1));
  let _running = Running;
  let mut cx = Context::from_waker(Waker::noop());
  loop {
    let top = driver.top();
    if let Poll::Ready(outcome) = top.fut.as_mut().poll(&mut cx) {
      let done = driver.frames.pop().expect("the top frame");
      let Some(req) = done.answers else {
        let value = finish(env, &done.cell, outcome)?;
        return js::array(env, &[boolean(env, true)?, value]);
      };
      // A nested call ended: its result (or exception) answers the import
      // below, as the JS call of the exported function would.
      let below = driver.top().cell.clone();
      let response = {
        let _scope = js::Scope::open(env);
        finish(env, &done.cell, outcome)
          .and_then(|value| crate::runtime::host::import_args(env, &below, value, &req.types))
          .map_err(|Pending| threw(env, &below))
      };
      RESPONSE.with(|r| *r.borrow_mut() = Some(response));
      continue;
    }
    let Some(req) = REQUEST.with(|r| r.borrow_mut().take()) else {
      continue;
    };
    let cell = driver.top().cell.clone();
    if !req.suspending {
      match nested(env, &cell, req) {
        Ok(frame) => driver.frames.push(frame),
        Err(req) => {
          let response = answer(env, &cell, &req);
          RESPONSE.with(|r| *r.borrow_mut() = Some(response));
        }
      }
      continue;
    }
    // The Suspending import is called now, on the main stack.
    let called = {
      crate::memory::tracked::sync_grown(env);
      call_callable(env, &cell, &req)
    };
    match called {
      Ok(value) => {
        // The fiber waits for `value`: nothing may enter the store meanwhile.
        cell.swap_entered(req.prev);
        driver.set_entered(false);
        driver.waiting = Some(req);
        let handle = external(env, driver)?;
        return js::array(env, &[boolean(env, false)?, handle, value]);
      }
      Err(Pending) => {
        let response = Err(threw(env, &cell));
        RESPONSE.with(|r| *r.borrow_mut() = Some(response));
      }
    }
  }
}

/// A JS external owning `driver` (dropped, with its fiber, when collected).
fn external(env: &Env, driver: Box<Driver>) -> JsResult<sys::napi_value> {
  unsafe extern "C" fn finalize(
    _env: sys::napi_env,
    data: *mut std::ffi::c_void,
    _hint: *mut std::ffi::c_void,
  ) {
    // SAFETY: `data` is the box leaked below, finalized once.
    drop(unsafe { Box::from_raw(data.cast::<Option<Box<Driver>>>()) });
  }
  let data = Box::into_raw(Box::new(Some(driver)));
  let mut out = ptr::null_mut();
  // SAFETY: `data` is a fresh leaked box that `finalize` frees.
  let status = unsafe {
    sys::napi_create_external(
      env.raw(),
      data.cast(),
      Some(finalize),
      ptr::null_mut(),
      &mut out,
    )
  };
  if status != sys::Status::napi_ok {
    // SAFETY: nothing took ownership of `data`.
    drop(unsafe { Box::from_raw(data) });
    js::ok(env, status, "napi_create_external")?;
  }
  // SAFETY: `out` is a fresh external, not tagged yet.
  let status = unsafe { sys::napi_type_tag_object(env.raw(), out, &TAG) };
  js::ok(env, status, "napi_type_tag_object")?;
  Ok(out)
}

/// Marks the externals that hold a suspended `promising` call.
const TAG: sys::napi_type_tag = sys::napi_type_tag {
  lower: 0x6a73_7069_2d64_7269,
  upper: 0x7665_722d_7761_736d,
};

fn boolean(env: &Env, b: bool) -> JsResult<sys::napi_value> {
  let mut out = ptr::null_mut();
  // SAFETY: `env` is live.
  let status = unsafe { sys::napi_get_boolean(env.raw(), b, &mut out) };
  js::ok(env, status, "napi_get_boolean")?;
  Ok(out)
}
