//! Exported wasm functions as JS functions (the spec's "Exported
//! Function"); JS callables as host functions are `host.rs`.
//!
//! Exported functions are made in batches (an instance's exports at once,
//! or one function reaching JS another way): one native function serves
//! the batch, its data the batch's [`Exported`]s, and `makeFunctions`
//! (lib/functions.js) makes one small JS closure per function in one call
//! from here (it carries the spec's `name` and `length`, and calls the
//! native function with its position in the batch first). Each closure is
//! type-tagged and wrapped with its `Exported`, so a function passed back
//! in (an import, a table element, a funcref argument) is recognised; and
//! the store's token holds every closure (its `functions` array), so one
//! wasm function is one JS function for the store's life, as V8's instance
//! holds its exported functions. Per function that is one Node-API
//! reference (the wrap) where one function each cost four.

use std::ptr;
use std::rc::Rc;

use napi::{sys, Env};
use wasmtime::{Func, FuncType, StoreContextMut, Trap, Val, ValRaw, ValType};

use crate::js::{self, Hook, JsResult, Pending};
use crate::runtime::exception;
use crate::runtime::store::{self, Data, StoreCell};
use crate::runtime::timing::{time, Phase};
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

/// The functions one native function serves, by position.
type Batch = Vec<Rc<Exported>>;

/// Marks the closures made for exported functions.
const TAG: sys::napi_type_tag = sys::napi_type_tag {
  lower: 0x7761_736d_2d6d_656d,
  upper: 0x6f72_792d_7273_6675,
};

/// The JS function for `func` of `cell`'s store: the one made for it
/// before, or a new one. `index` is the function index for its `name`
/// when known (exports); otherwise the name is empty.
pub fn to_js(
  env: &Env,
  cell: &Rc<StoreCell>,
  func: Func,
  index: Option<u32>,
) -> JsResult<sys::napi_value> {
  Ok(to_js_all(env, cell, &[(func, index)])?[0])
}

/// [`to_js`] of each of `funcs`, the new ones made in one batch.
pub fn to_js_all(
  env: &Env,
  cell: &Rc<StoreCell>,
  funcs: &[(Func, Option<u32>)],
) -> JsResult<Vec<sys::napi_value>> {
  /// Where each result comes from.
  enum Found {
    Value(sys::napi_value),
    Slot(u32),
    New(usize),
  }
  // One store borrow: what is known, and the types of the rest (a function
  // exported twice is made once).
  let mut fresh: Vec<(usize, Func, Option<u32>, FuncType)> = Vec::new();
  let found = cell
    .with(|ctx| {
      let mut found = Vec::with_capacity(funcs.len());
      let mut batch = std::collections::HashMap::new();
      for &(func, index) in funcs {
        let raw = func.to_raw(&mut *ctx) as usize;
        // A host function made from a JS function is exported as a new
        // Exported Function, as the spec's export cache says; one standing
        // for another store's exported function gives that function back.
        let data = ctx.data();
        let known = match data.foreign.get(&raw) {
          Some(&i) => data.callables[i].get(env).map(Found::Value),
          None => data.functions.get(&raw).map(|&slot| Found::Slot(slot)),
        };
        found.push(match known {
          Some(known) => known,
          None => Found::New(*batch.entry(raw).or_insert_with(|| {
            fresh.push((raw, func, index, func.ty(&*ctx)));
            fresh.len() - 1
          })),
        });
      }
      found
    })
    .map_err(|e| js::throw(env, &e))?;
  let made = if fresh.is_empty() {
    Vec::new()
  } else {
    time(Phase::Functions, || make(env, cell, &fresh))?
  };
  let list = if found.iter().any(|f| matches!(f, Found::Slot(_))) {
    Some(function_list(env, cell)?)
  } else {
    None
  };
  found
    .into_iter()
    .map(|f| match (f, list) {
      (Found::Value(v), _) => Ok(v),
      (Found::New(i), _) => Ok(made[i]),
      (Found::Slot(slot), Some(list)) => element(env, list, slot),
      (Found::Slot(_), None) => Err(js::throw(env, "no function list")),
    })
    .collect()
}

/// Makes the JS functions of `fresh` (`[raw, func, index, type]`, none
/// known yet) in one batch and records them in the store.
fn make(
  env: &Env,
  cell: &Rc<StoreCell>,
  fresh: &[(usize, Func, Option<u32>, FuncType)],
) -> JsResult<Vec<sys::napi_value>> {
  let batch: Batch = fresh
    .iter()
    .map(|(_, func, _, ty)| Rc::new(exported(cell, *func, ty)))
    .collect();
  // `[name, arity]` per function: its index, or -1 for an empty name.
  let mut spec = Vec::with_capacity(fresh.len() * 2);
  for ((_, _, index, _), e) in fresh.iter().zip(&batch) {
    spec.push(index.map_or(-1, |i| i as i32));
    spec.push(e.params.len() as i32);
  }
  let spec = int32_array(env, &spec)?;
  let token = cell
    .with(|ctx| ctx.data().token.get(env))
    .map_err(|e| js::throw(env, &e))?
    .ok_or_else(|| js::throw(env, "the store's token was collected"))?;
  let native = native_function(env, cell.is_jspi(), batch.clone())?;
  js::call_hook(env, Hook::MakeFunctions, &[native, token, spec])?;
  // makeFunctions appended the closures to the token's `functions` array.
  let list = function_list(env, cell)?;
  let mut len = 0;
  // SAFETY: `list` is a live array handle.
  let status = unsafe { sys::napi_get_array_length(env.raw(), list, &mut len) };
  js::ok(env, status, "napi_get_array_length")?;
  let base = len
    .checked_sub(batch.len() as u32)
    .ok_or_else(|| js::throw(env, "makeFunctions made too few functions"))?;
  let mut closures = Vec::with_capacity(batch.len());
  for (k, exported) in batch.iter().enumerate() {
    let closure = element(env, list, base + k as u32)?;
    // SAFETY: `closure` is a live object handle; tagging fails on an
    // object that is already tagged, which a fresh closure is not.
    let status = unsafe { sys::napi_type_tag_object(env.raw(), closure, &TAG) };
    js::ok(env, status, "napi_type_tag_object")?;
    let data = Rc::into_raw(exported.clone());
    // SAFETY: `closure` is a live object, not wrapped yet; `drop_exported`
    // takes back the count `into_raw` leaked, once, when it is collected.
    let status = unsafe {
      sys::napi_wrap(
        env.raw(),
        closure,
        data as *mut std::ffi::c_void,
        Some(drop_exported),
        ptr::null_mut(),
        ptr::null_mut(),
      )
    };
    if status != sys::Status::napi_ok {
      // SAFETY: nothing took the count `into_raw` leaked.
      drop(unsafe { Rc::from_raw(data) });
      js::ok(env, status, "napi_wrap")?;
    }
    closures.push(closure);
  }
  cell
    .with(|ctx| {
      let functions = &mut ctx.data_mut().functions;
      for (k, (raw, ..)) in fresh.iter().enumerate() {
        functions.insert(*raw, base + k as u32);
      }
    })
    .map_err(|e| js::throw(env, &e))?;
  Ok(closures)
}

/// The [`Exported`] of `func` of type `ty`.
fn exported(cell: &Rc<StoreCell>, func: Func, ty: &FuncType) -> Exported {
  let numeric = ty.params().len() <= INLINE
    && ty.results().len() <= 1
    && ty
      .params()
      .chain(ty.results())
      .all(|t| value::is_number_type(&t));
  Exported {
    cell: cell.clone(),
    func,
    params: ty.params().collect(),
    results: ty.results().collect(),
    has_v128: ty
      .params()
      .chain(ty.results())
      .any(|t| matches!(t, ValType::V128)),
    numeric,
  }
}

unsafe extern "C" fn drop_exported(
  _env: sys::napi_env,
  data: *mut std::ffi::c_void,
  _hint: *mut std::ffi::c_void,
) {
  // SAFETY: `data` is the `Rc::into_raw` a closure was wrapped with (make),
  // finalized once.
  drop(unsafe { Rc::from_raw(data as *const Exported) });
}

/// An `Int32Array` of `values`.
fn int32_array(env: &Env, values: &[i32]) -> JsResult<sys::napi_value> {
  let mut data = ptr::null_mut();
  let mut buffer = ptr::null_mut();
  let bytes = std::mem::size_of_val(values);
  // SAFETY: `env` is live; Node allocates `bytes` bytes at `data`.
  let status = unsafe { sys::napi_create_arraybuffer(env.raw(), bytes, &mut data, &mut buffer) };
  js::ok(env, status, "napi_create_arraybuffer")?;
  if bytes > 0 {
    // SAFETY: `data` holds `bytes` fresh bytes that nothing else uses yet;
    // the regions cannot overlap.
    unsafe { ptr::copy_nonoverlapping(values.as_ptr().cast::<u8>(), data.cast::<u8>(), bytes) };
  }
  let mut array = ptr::null_mut();
  // SAFETY: `buffer` is a live ArrayBuffer of exactly `values.len()` i32s.
  let status = unsafe {
    sys::napi_create_typedarray(
      env.raw(),
      sys::TypedarrayType::int32_array,
      values.len(),
      buffer,
      0,
      &mut array,
    )
  };
  js::ok(env, status, "napi_create_typedarray")?;
  Ok(array)
}

/// Element `i` of the JS array `list`.
fn element(env: &Env, list: sys::napi_value, i: u32) -> JsResult<sys::napi_value> {
  let mut out = ptr::null_mut();
  // SAFETY: `list` is a live array handle.
  let status = unsafe { sys::napi_get_element(env.raw(), list, i, &mut out) };
  js::ok(env, status, "napi_get_element")?;
  Ok(out)
}

/// The token's `functions` array (made by `makeFunctions` on its first
/// call for the store).
fn function_list(env: &Env, cell: &Rc<StoreCell>) -> JsResult<sys::napi_value> {
  let token = || {
    cell
      .with(|ctx| ctx.data().token.get(env))
      .map_err(|e| js::throw(env, &e))?
      .ok_or_else(|| js::throw(env, "the store's token was collected"))
  };
  store::token_array(env, cell, token, c"functions", |d| &mut d.function_list)
}

/// The native function a batch's closures call, with their position first.
fn native_function(env: &Env, jspi: bool, batch: Batch) -> JsResult<sys::napi_value> {
  let data = Box::into_raw(Box::new(batch));
  let mut f = ptr::null_mut();
  // SAFETY: the name is empty; `call_export` reads `data` as the `Batch`
  // that the finalizer below frees when `f` is collected.
  let status = unsafe {
    sys::napi_create_function(
      env.raw(),
      ptr::null(),
      0,
      // A JSPI store's exports run on fibers (jspi.rs): chosen here, once,
      // so that the synchronous call path checks nothing.
      if jspi {
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
  let data = data.as_ptr() as *const Exported;
  // SAFETY: closures tagged with TAG are wrapped with an `Rc::into_raw`
  // (make), whose count is held while `value` lives: adding one and taking
  // it back as an `Rc` leaves that count in place.
  unsafe {
    Rc::increment_strong_count(data);
    Some(Rc::from_raw(data))
  }
}

/// Whether `value` is an exported function (of any store of this thread).
#[napi_derive::napi]
pub fn is_exported_function(env: Env, value: napi::bindgen_prelude::Unknown) -> bool {
  use napi::JsValue;
  js::unwrap_tagged(&env, value.raw(), sys::ValueType::napi_function, &TAG).is_some()
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
  // The closure's position in the batch, then the arguments.
  let mut stack = [ptr::null_mut(); INLINE + 1];
  let mut argc = INLINE + 1;
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
  // SAFETY: `data` is the `Box<Batch>` of `native_function`, alive while
  // this function object is (it is running).
  let batch: &Batch = unsafe { &*data.cast::<Batch>() };
  let mut position = u32::MAX;
  // SAFETY: `stack[0]` is a live handle (`undefined` if missing).
  unsafe { sys::napi_get_value_uint32(raw_env, stack[0], &mut position) };
  // Only our closures call this function, with their own position.
  let Some(exported) = batch.get(position as usize) else {
    let _ = js::throw_type(&env, "not an exported function's call");
    return ptr::null_mut();
  };
  let wanted = exported.params.len();
  let mut heap = Vec::new();
  let argv: &[sys::napi_value] = if wanted <= INLINE {
    &stack[1..=wanted]
  } else {
    heap.resize(wanted + 1, ptr::null_mut());
    let mut argc = wanted + 1;
    // SAFETY: as above, with room for `wanted + 1` handles.
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
    &heap[1..]
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
