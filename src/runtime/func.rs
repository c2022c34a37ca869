//! Exported wasm functions as JS functions (the spec's "Exported
//! Function"); JS callables as host functions are `host.rs`.
//!
//! An exported function is a small JS closure made by `index.js`
//! (`makeFunction`: it carries the spec's `name` and `length` and keeps the
//! store's `NativeStore` token alive) around a native function whose data
//! is the [`Exported`] it calls. The closure is type-tagged and wrapped with
//! the same `Exported`, so a function passed back in (an import, a table
//! element, a funcref argument) is recognised.

use std::ptr;
use std::rc::Rc;

use napi::{sys, Env};
use wasmtime::{Func, FuncType, StoreContextMut, Trap, Val, ValRaw, ValType};

use crate::js::{self, Hook, JsResult, Pending};
use crate::memory::reclaim::Ref;
use crate::runtime::exception;
use crate::runtime::store::{self, Data, StoreCell};
use crate::runtime::value::{self, Arg, Out};

/// What an exported function's JS objects call.
pub struct Exported {
  pub cell: Rc<StoreCell>,
  pub func: Func,
  pub(crate) params: Vec<ValType>,
  pub(crate) results: Vec<ValType>,
  /// A v128 among the params or results: every call is a TypeError before
  /// anything runs (JS API, "call an Exported Function", step 3).
  pub(crate) has_v128: bool,
  /// Numbers only, at most `INLINE` params and one result: calls take the
  /// short path (`call_numeric`).
  numeric: bool,
}

/// Marks the closures made for exported functions.
const TAG: sys::napi_type_tag = sys::napi_type_tag {
  lower: 0x7761_736d_2d6d_656d,
  upper: 0x6f72_792d_7273_6675,
};

/// The JS function for `func` of `cell`'s store: the one made for it
/// before, or a new one. `index` is the function
/// index for its `name` when known (exports); otherwise the name is empty.
pub fn to_js(
  env: &Env,
  cell: &Rc<StoreCell>,
  func: Func,
  index: Option<u32>,
) -> JsResult<sys::napi_value> {
  let (raw, known, ty) = cell
    .with(|ctx| {
      let raw = func.to_raw(&mut *ctx) as usize;
      // A host function made from a JS function is exported as a new
      // Exported Function, as the spec's export cache says; one standing
      // for another store's exported function gives that function back.
      let data = ctx.data();
      let known = match data.foreign.get(&raw) {
        Some(&i) => data.callables[i].get(env),
        None => data.functions.get(&raw).and_then(|r| r.get(env)),
      };
      let ty = known.is_none().then(|| func.ty(&*ctx));
      (raw, known, ty)
    })
    .map_err(|e| js::throw(env, &e))?;
  if let Some(value) = known {
    return Ok(value);
  }
  let ty = ty.ok_or_else(|| js::throw(env, "function type unavailable"))?;
  let numeric = ty.params().len() <= INLINE
    && ty.results().len() <= 1
    && ty
      .params()
      .chain(ty.results())
      .all(|t| value::is_number_type(&t));
  let exported = Rc::new(Exported {
    cell: cell.clone(),
    func,
    params: ty.params().collect(),
    results: ty.results().collect(),
    has_v128: ty
      .params()
      .chain(ty.results())
      .any(|t| matches!(t, ValType::V128)),
    numeric,
  });
  let native = native_function(env, &exported)?;
  let token = cell
    .with(|ctx| ctx.data().token.get(env))
    .map_err(|e| js::throw(env, &e))?
    .ok_or_else(|| js::throw(env, "the store's token was collected"))?;
  let name = js::string(env, &index.map(|i| i.to_string()).unwrap_or_default())?;
  let arity = js::number(env, exported.params.len() as f64)?;
  let closure = js::call_hook(env, Hook::MakeFunction, &[native, token, name, arity])?;
  // SAFETY: `closure` is a live object handle; tagging fails on an object
  // that is already tagged, which a fresh closure is not.
  let status = unsafe { sys::napi_type_tag_object(env.raw(), closure, &TAG) };
  js::ok(env, status, "napi_type_tag_object")?;
  let data = Box::into_raw(Box::new(exported.clone()));
  // SAFETY: `data` is a fresh leaked `Box<Rc<Exported>>`.
  unsafe { js::tie(env, closure, data, sys::napi_wrap, "napi_wrap") }?;
  let weak = Ref::new(env, closure, false).map_err(|_| Pending)?;
  cell
    .with(|ctx| {
      if let Some(mut old) = ctx.data_mut().functions.insert(raw, weak) {
        old.clear(env);
      }
    })
    .map_err(|e| js::throw(env, &e))?;
  Ok(closure)
}

/// The native function an exported function's closure calls.
fn native_function(env: &Env, exported: &Rc<Exported>) -> JsResult<sys::napi_value> {
  let data = Box::into_raw(Box::new(exported.clone()));
  let mut f = ptr::null_mut();
  // SAFETY: the name is empty; `call_export` reads `data` as the
  // `Rc<Exported>` that the finalizer below frees when `f` is collected.
  let status = unsafe {
    sys::napi_create_function(
      env.raw(),
      ptr::null(),
      0,
      // A JSPI store's exports run on fibers (jspi.rs): chosen here, once,
      // so that the synchronous call path checks nothing.
      if exported.cell.is_jspi() {
        Some(call_export_jspi)
      } else {
        Some(call_export)
      },
      data.cast(),
      &mut f,
    )
  };
  if status != sys::Status::napi_ok {
    // SAFETY: nothing took ownership of `data`.
    drop(unsafe { Box::from_raw(data) });
    js::ok(env, status, "napi_create_function")?;
  }
  // SAFETY: `data` is the leaked box `f` was made with, owned by nobody
  // else yet.
  unsafe { js::tie(env, f, data, sys::napi_add_finalizer, "napi_add_finalizer") }?;
  Ok(f)
}

/// The wasm function behind `value` if it is an exported function: as is
/// if it belongs to `cell`'s store, else wrapped as a host function of that
/// store which calls it. `None` if it is not one.
pub fn from_js(env: &Env, cell: &Rc<StoreCell>, value: sys::napi_value) -> JsResult<Option<Func>> {
  let Some(exported) = unwrap(env, value) else {
    return Ok(None);
  };
  if store::same(&exported.cell, cell) {
    return Ok(Some(exported.func));
  }
  let key = Rc::as_ptr(&exported) as usize;
  let made = cell
    .with(|ctx| {
      let wrappers = &mut ctx.data_mut().wrappers;
      match wrappers.get(&key) {
        Some((weak, func)) if weak.upgrade().is_some_and(|e| Rc::ptr_eq(&e, &exported)) => {
          Some(*func)
        }
        Some(_) => {
          wrappers.remove(&key);
          None
        }
        None => None,
      }
    })
    .map_err(|e| js::throw(env, &e))?;
  if let Some(func) = made {
    return Ok(Some(func));
  }
  // The type in the store's engine (a sandbox's may not be the main one).
  let engine = cell
    .with(|ctx| ctx.engine().clone())
    .map_err(|e| js::throw(env, &e))?;
  let ty = FuncType::new(
    &engine,
    exported.params.iter().cloned(),
    exported.results.iter().cloned(),
  );
  let func = crate::runtime::host::host(env, cell, value, ty)?;
  cell
    .with(|ctx| {
      let raw = func.to_raw(&mut *ctx) as usize;
      let data = ctx.data_mut();
      let index = data.callables.len() - 1;
      data.foreign.insert(raw, index);
      data.wrappers.insert(key, (Rc::downgrade(&exported), func));
    })
    .map_err(|e| js::throw(env, &e))?;
  Ok(Some(func))
}

/// The `Exported` behind an exported function's closure.
pub fn unwrap(env: &Env, value: sys::napi_value) -> Option<Rc<Exported>> {
  let data = js::unwrap_tagged(env, value, sys::ValueType::napi_function, &TAG)?;
  // SAFETY: closures tagged with TAG are wrapped with a `Box<Rc<Exported>>`
  // (to_js), which lives while `value` does.
  Some(unsafe { data.cast::<Rc<Exported>>().as_ref() }.clone())
}

/// How an exported function is called from JS. A panic must not unwind
/// into V8 (it would abort the process): it becomes a JS `Error`.
unsafe extern "C" fn call_export(
  raw_env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: forwarded from Node-API's call of this callback.
  unsafe { guarded(raw_env, info, call) }
}

/// [`call_export`] for the exported functions of a JSPI store.
unsafe extern "C" fn call_export_jspi(
  raw_env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: forwarded from Node-API's call of this callback.
  unsafe { guarded(raw_env, info, crate::runtime::jspi::call) }
}

/// Runs `run` on an exported function's call, turning a panic into a JS
/// `Error`.
///
/// # Safety
/// `raw_env` and `info` are those of a Node-API call of a function made by
/// `native_function`.
#[inline(always)]
unsafe fn guarded(
  raw_env: sys::napi_env,
  info: sys::napi_callback_info,
  run: fn(&Env, &Exported, &[sys::napi_value]) -> JsResult<sys::napi_value>,
) -> sys::napi_value {
  let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    // SAFETY: forwarded from Node-API's call of this callback.
    unsafe { call_export_inner(raw_env, info, run) }
  }));
  outcome.unwrap_or_else(|_| {
    let _ = js::throw(
      &Env::from_raw(raw_env),
      "wasm-memory-rs: internal error (panic) in a wasm call",
    );
    ptr::null_mut()
  })
}

#[inline(always)]
unsafe fn call_export_inner(
  raw_env: sys::napi_env,
  info: sys::napi_callback_info,
  run: fn(&Env, &Exported, &[sys::napi_value]) -> JsResult<sys::napi_value>,
) -> sys::napi_value {
  let env = Env::from_raw(raw_env);
  let mut data = ptr::null_mut();
  let mut stack = [ptr::null_mut(); INLINE];
  let mut argc = INLINE;
  // SAFETY: `info` is this callback's; `stack` has room for `argc`
  // handles (missing arguments are filled with `undefined`).
  unsafe {
    sys::napi_get_cb_info(
      raw_env,
      info,
      &mut argc,
      stack.as_mut_ptr(),
      ptr::null_mut(),
      &mut data,
    )
  };
  // SAFETY: `data` is the `Box<Rc<Exported>>` of `native_function`, alive
  // while this function object is (it is running).
  let exported: &Exported = unsafe { &*data.cast::<Rc<Exported>>() };
  let wanted = exported.params.len();
  let mut heap = Vec::new();
  let argv: &[sys::napi_value] = if wanted <= INLINE {
    &stack[..wanted]
  } else {
    heap.resize(wanted, ptr::null_mut());
    let mut argc = wanted;
    // SAFETY: as above, with room for `wanted` handles.
    unsafe {
      sys::napi_get_cb_info(
        raw_env,
        info,
        &mut argc,
        heap.as_mut_ptr(),
        ptr::null_mut(),
        ptr::null_mut(),
      )
    };
    &heap
  };
  run(&env, exported, argv).unwrap_or(ptr::null_mut())
}

/// Arguments and results held on the stack up to this many.
pub(crate) const INLINE: usize = 8;

/// Calls an exported function: the spec's "call an Exported Function".
pub(crate) fn call(
  env: &Env,
  exported: &Exported,
  argv: &[sys::napi_value],
) -> JsResult<sys::napi_value> {
  if exported.numeric {
    return call_numeric(env, exported, argv);
  }
  // Before the arguments are converted and before wasm runs, as V8 does.
  if exported.has_v128 {
    return Err(js::throw_type(
      env,
      "type incompatibility when transforming from/to JS",
    ));
  }
  // 1-5. ToWebAssemblyValue of each argument (may run user code: outside
  // the store).
  let mut inline: [Option<Arg>; INLINE] = Default::default();
  let mut heap = Vec::new();
  let params: &mut [Option<Arg>] = if exported.params.len() <= INLINE {
    &mut inline[..exported.params.len()]
  } else {
    heap.resize_with(exported.params.len(), || None);
    &mut heap
  };
  for ((slot, ty), &arg) in params.iter_mut().zip(&exported.params).zip(argv) {
    *slot = Some(value::to_wasm(env, &exported.cell, arg, ty)?);
  }
  let slots = exported.params.len().max(exported.results.len());
  let mut raw_inline = [ValRaw::i32(0); INLINE];
  let mut raw_heap = Vec::new();
  let raw: &mut [ValRaw] = if slots <= INLINE {
    &mut raw_inline[..slots]
  } else {
    raw_heap.resize(slots, ValRaw::i32(0));
    &mut raw_heap
  };
  let mut results = [Out::Val(Val::I32(0)); INLINE];
  let mut results_heap = Vec::new();
  // In the store's sandbox, if any, until the error is thrown (sandbox.rs).
  let _sandbox = crate::api::sandbox::Scope::enter(exported.cell.sandbox.as_ref());
  in_store(env, exported, |ctx| {
    for (slot, v) in raw.iter_mut().zip(params.iter_mut()) {
      *slot = match v.take() {
        // Numbers need no store (the common case, kept cheap).
        Some(Arg::Val(Val::I32(i))) => ValRaw::i32(i),
        Some(Arg::Val(Val::I64(i))) => ValRaw::i64(i),
        Some(Arg::Val(Val::F32(bits))) => ValRaw::f32(bits),
        Some(Arg::Val(Val::F64(bits))) => ValRaw::f64(bits),
        Some(other) => other.into_val(ctx)?.to_raw(&mut *ctx)?,
        None => ValRaw::i32(0),
      };
    }
    // SAFETY: `raw` holds one value per parameter, each converted to
    // the parameter's type (funcrefs of this store: `value::to_wasm`
    // wraps others; externrefs rooted in this `with`'s scope), and has
    // room for every result.
    unsafe {
      exported
        .func
        .call_unchecked(&mut *ctx, &mut *raw as *mut [ValRaw])
    }?;
    let out: &mut [Out] = if exported.results.len() <= INLINE {
      &mut results[..exported.results.len()]
    } else {
      results_heap.resize(exported.results.len(), Out::Val(Val::I32(0)));
      &mut results_heap
    };
    for ((slot, r), ty) in out.iter_mut().zip(raw.iter()).zip(&exported.results) {
      *slot = match ty {
        ValType::I32 => Out::Val(Val::I32(r.get_i32())),
        ValType::I64 => Out::Val(Val::I64(r.get_i64())),
        ValType::F32 => Out::Val(Val::F32(r.get_f32())),
        ValType::F64 => Out::Val(Val::F64(r.get_f64())),
        _ => {
          // SAFETY: the call wrote a value of type `ty` into `r`.
          let val = unsafe { Val::from_raw(&mut *ctx, *r, ty.clone()) };
          value::out(ctx, &val)?
        }
      };
    }
    Ok(())
  })?;
  let results: &[Out] = if exported.results.len() <= INLINE {
    &results[..exported.results.len()]
  } else {
    &results_heap
  };
  match results.len() {
    0 => Ok(js::undefined(env)),
    1 => value::to_js(env, &exported.cell, &results[0]),
    _ => {
      let values = results
        .iter()
        .map(|v| value::to_js(env, &exported.cell, v))
        .collect::<JsResult<Vec<_>>>()?;
      js::array(env, &values)
    }
  }
}

/// Runs `call` (arguments in, the call, results out) in the exported
/// function's store, arming its sandbox's limits for an outermost call (the
/// caller has entered the sandbox); then buffers follow growth, a failure
/// becomes the JS error to throw, and an outermost call forgets the wasm
/// exceptions met on the way (`exception::settle`): taken inside this one
/// `with` when the call succeeds, so a call costs one store borrow.
fn in_store(
  env: &Env,
  exported: &Exported,
  call: impl FnOnce(&mut StoreContextMut<'_, Data>) -> wasmtime::Result<()>,
) -> JsResult<()> {
  let outermost = !exported.cell.is_entered();
  let mut met = Vec::new();
  let outcome = exported
    .cell
    .with(|ctx| -> wasmtime::Result<()> {
      crate::api::sandbox::arm_outermost(&exported.cell, ctx);
      call(ctx)?;
      if outermost && !ctx.data().exceptions.is_empty() {
        met = std::mem::take(&mut ctx.data_mut().exceptions);
      }
      Ok(())
    })
    .map_err(|e| js::throw(env, &e))?;
  crate::memory::tracked::sync_grown(env);
  if let Err(e) = outcome {
    let thrown = failure(env, &exported.cell, &e);
    exception::settle(env, &exported.cell);
    return Err(thrown);
  }
  for (_, mut r) in met {
    r.clear(env);
  }
  Ok(())
}

/// `call` for functions of numbers only (the common case): arguments go
/// straight to their raw form before the store is entered (ToNumber and
/// ToBigInt may run user code), and no conversion needs the store.
fn call_numeric(
  env: &Env,
  exported: &Exported,
  argv: &[sys::napi_value],
) -> JsResult<sys::napi_value> {
  let mut raw = [ValRaw::i32(0); INLINE];
  for ((slot, ty), &arg) in raw.iter_mut().zip(&exported.params).zip(argv) {
    *slot = value::number_to_raw(env, arg, ty)?;
  }
  let slots = exported.params.len().max(exported.results.len());
  // In the store's sandbox, if any, until the error is thrown (sandbox.rs).
  let _sandbox = crate::api::sandbox::Scope::enter(exported.cell.sandbox.as_ref());
  in_store(env, exported, |ctx| {
    // SAFETY: `raw` holds one value per parameter, each of the parameter's
    // number type, and has room for the result.
    unsafe {
      exported
        .func
        .call_unchecked(&mut *ctx, &mut raw[..slots] as *mut [ValRaw])
    }
  })?;
  match exported.results.first() {
    None => Ok(js::undefined(env)),
    Some(ty) => value::raw_number_to_js(env, &exported.cell, raw[0], ty),
  }
}

/// A number (no store needed to carry it to JS).
pub(crate) fn is_number(v: &Val) -> bool {
  matches!(v, Val::I32(_) | Val::I64(_) | Val::F32(_) | Val::F64(_))
}

/// Throws what a failed wasm call (or instantiation) should: the JS
/// exception an import threw, unchanged; `RangeError` for a stack overflow
/// (as V8 does); `RuntimeError` for any other trap.
pub fn failure(env: &Env, cell: &Rc<StoreCell>, e: &wasmtime::Error) -> Pending {
  let pending = cell
    .with(|ctx| ctx.data_mut().pending.take())
    .ok()
    .flatten();
  if let Some(mut r) = pending {
    let holder = r.get(env);
    r.clear(env);
    let value = holder
      .and_then(|h| js::elements(env, h).ok())
      .and_then(|v| v.first().copied());
    if let Some(value) = value {
      return js::rethrow(env, value);
    }
  }
  if exception::is_thrown(e) {
    return exception::escape(env, cell);
  }
  // Trap errors are marked so that wasm never catches them, even after
  // they pass through JS.
  let frames = crate::runtime::backtrace::of_error(cell, e);
  match e.downcast_ref::<Trap>() {
    Some(Trap::StackOverflow) => {
      exception::throw_trap(env, "Maximum call stack size exceeded", true, &frames)
    }
    // A sandbox's time or fuel ran out (sandbox.rs).
    Some(trap @ (Trap::Interrupt | Trap::OutOfFuel)) => exception::throw_trap(
      env,
      &crate::api::sandbox::limit_message(cell, *trap),
      false,
      &frames,
    ),
    Some(trap) => exception::throw_trap(env, trap_message(*trap), false, &frames),
    None => exception::throw_trap(env, &format!("{e:#}"), false, &frames),
  }
}

/// V8's words for the traps both engines know (tests and logs written for
/// V8 keep working); wasmtime's for the rest.
fn trap_message(trap: Trap) -> &'static str {
  match trap {
    Trap::UnreachableCodeReached => "unreachable",
    Trap::MemoryOutOfBounds => "memory access out of bounds",
    Trap::HeapMisaligned => "operation does not support unaligned accesses",
    Trap::TableOutOfBounds => "table index is out of bounds",
    Trap::IndirectCallToNull | Trap::BadSignature => "null function or function signature mismatch",
    Trap::IntegerOverflow => "divide result unrepresentable",
    Trap::IntegerDivisionByZero => "divide by zero",
    Trap::BadConversionToInteger => "float unrepresentable in integer range",
    Trap::NullReference => "dereferencing a null pointer",
    _ => "wasm trap",
  }
}
