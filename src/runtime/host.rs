//! JS callables as host functions (the spec's "create a host function" and
//! "run a host function"): wasm calls out to JS through these, with its
//! arguments as JS values; JS exceptions and traps unwind wasm.

use std::ptr;
use std::rc::Rc;

use napi::{sys, Env};
use std::mem::MaybeUninit;

use wasmtime::{Caller, Func, FuncType, Val, ValRaw, ValType};

use crate::js::{self, Hook, JsResult, Pending, Scope};
use crate::memory::reclaim::Ref;
use crate::runtime::exception;
use crate::runtime::func::{is_number, INLINE};
use crate::runtime::store::{Data, StoreCell};
use crate::runtime::value::{self, Arg, Out};

/// A host function of `cell`'s store with type `ty` that calls `callable`.
/// The store refers to `callable` weakly; its token keeps it alive.
pub fn host(
  env: &Env,
  cell: &Rc<StoreCell>,
  callable: sys::napi_value,
  ty: FuncType,
) -> JsResult<Func> {
  host_with(env, cell, callable, ty, false)
}

/// [`host`], for a `WebAssembly.Suspending` import when `suspending`: in a
/// JSPI store every host function is async (jspi.rs).
pub(crate) fn host_with(
  env: &Env,
  cell: &Rc<StoreCell>,
  callable: sys::napi_value,
  ty: FuncType,
  suspending: bool,
) -> JsResult<Func> {
  keep(env, cell, callable)?;
  let callee = Ref::new(env, callable, false).map_err(|_| Pending)?;
  let params: std::sync::Arc<[ValType]> = ty.params().collect();
  let results: std::sync::Arc<[ValType]> = ty.results().collect();
  let numeric = params.len() <= INLINE
    && results.len() <= 1
    && params
      .iter()
      .chain(results.iter())
      .all(value::is_number_type);
  cell
    .with(|ctx| {
      let index = ctx.data().callables.len();
      ctx.data_mut().callables.push(callee);
      if cell.is_jspi() {
        return crate::runtime::jspi::func(ctx, ty, index, results, suspending);
      }
      if !numeric {
        return Func::new(
          &mut *ctx,
          ty,
          move |mut caller: Caller<'_, Data>, params, out| {
            host_call(&mut caller, index, &results, params, out)
          },
        );
      }
      // Numbers only (the common case): wasmtime hands the raw values
      // over, with no `Val` vectors to allocate and no result type check
      // per call.
      let body = move |mut caller: Caller<'_, Data>, raw: &mut [MaybeUninit<ValRaw>]| {
        let mut args = [Val::I32(0); INLINE];
        for ((arg, slot), ty) in args.iter_mut().zip(raw.iter()).zip(params.iter()) {
          // SAFETY: wasmtime initialised one slot per parameter.
          *arg = raw_to_val(unsafe { slot.assume_init() }, ty);
        }
        let mut out = [Val::I32(0); 1];
        let out = &mut out[..results.len()];
        host_call(&mut caller, index, &results, &args[..params.len()], out)?;
        if let Some(v) = out.first() {
          raw[0] = MaybeUninit::new(val_to_raw(v));
        }
        Ok(())
      };
      // SAFETY: `body` reads each slot as the parameter type `ty` declares
      // (`params`) and writes one result of the declared type (`to_wasm`
      // converted it to exactly that type).
      unsafe { Func::new_unchecked(&mut *ctx, ty, body) }
    })
    .map_err(|e| js::throw(env, &e))
}

/// A raw number of type `ty` as a `Val` (only number types reach here).
fn raw_to_val(raw: ValRaw, ty: &ValType) -> Val {
  match ty {
    ValType::I64 => Val::I64(raw.get_i64()),
    ValType::F32 => Val::F32(raw.get_f32()),
    ValType::F64 => Val::F64(raw.get_f64()),
    _ => Val::I32(raw.get_i32()),
  }
}

/// A number `Val` in its raw form.
fn val_to_raw(v: &Val) -> ValRaw {
  match *v {
    Val::I64(i) => ValRaw::i64(i),
    Val::F32(bits) => ValRaw::f32(bits),
    Val::F64(bits) => ValRaw::f64(bits),
    Val::I32(i) => ValRaw::i32(i),
    _ => ValRaw::i32(0),
  }
}

/// Keeps `value` alive as long as `cell`'s store token: pushes it on the
/// token's `keep` array.
fn keep(env: &Env, cell: &Rc<StoreCell>, value: sys::napi_value) -> JsResult<()> {
  let token = cell
    .with(|ctx| ctx.data().token.get(env))
    .map_err(|e| js::throw(env, &e))?
    .ok_or_else(|| js::throw(env, "the store's token was collected"))?;
  let mut list = ptr::null_mut();
  // SAFETY: `token` is a live object; the key is a NUL-terminated string.
  let status =
    unsafe { sys::napi_get_named_property(env.raw(), token, c"keep".as_ptr(), &mut list) };
  js::ok(env, status, "napi_get_named_property")?;
  let mut len = 0;
  // SAFETY: `list` is a live handle; Node-API checks it is an array.
  let status = unsafe { sys::napi_get_array_length(env.raw(), list, &mut len) };
  js::ok(env, status, "napi_get_array_length")?;
  // SAFETY: `list` is a live array handle.
  let status = unsafe { sys::napi_set_element(env.raw(), list, len, value) };
  js::ok(env, status, "napi_set_element")
}

/// The body of every host function: calls the JS callable with the
/// arguments as JS values and converts what it returns. A JS exception
/// becomes a wasm exception (`exception.rs`); a trap's error (and one that
/// cannot be carried) is stashed in the store and rethrown unchanged when
/// the wasm call returns, wasm unwinding as from a trap.
fn host_call(
  caller: &mut Caller<'_, Data>,
  index: usize,
  types: &[ValType],
  params: &[Val],
  results: &mut [Val],
) -> wasmtime::Result<()> {
  let env = caller.data().env();
  let Some(cell) = caller.data().cell() else {
    return Err(wasmtime::Error::msg("the store is being dropped"));
  };
  StoreCell::enter(&cell, caller, || {
    // JS may read `buffer` of a memory that wasm just grew.
    crate::memory::tracked::sync_grown(&env);
    let scope = Scope::open(&env);
    match call_js(&env, &cell, index, types, params, results) {
      Ok(()) => Ok(()),
      Err(Pending) => {
        let mut thrown = js::take_exception(&env);
        if let Some(value) = thrown {
          crate::runtime::backtrace::annotate(&env, &cell, value);
          // Without exception handling (Winch code) wasm cannot catch it.
          if cell.exceptions && !exception::is_uncatchable(&env, value) {
            match exception::throw_into(&env, &cell, value) {
              Ok(error) => {
                drop(scope);
                return Err(error);
              }
              Err(Pending) => thrown = js::take_exception(&env),
            }
          }
        }
        let error = stash(&env, &cell, thrown);
        drop(scope);
        Err(error)
      }
    }
  })
}

/// Keeps `thrown` (a JS exception an import threw, if any) in the store, to
/// be rethrown unchanged when the wasm call returns, and returns the error
/// that unwinds wasm to there (as from a trap: wasm cannot catch it).
pub(crate) fn stash(
  env: &Env,
  cell: &Rc<StoreCell>,
  thrown: Option<sys::napi_value>,
) -> wasmtime::Error {
  let held = thrown.and_then(|e| js::array(env, &[e]).ok());
  if let Some(holder) = held {
    if let Ok(r) = Ref::new(env, holder, true) {
      let _ = cell.with(|ctx| {
        if let Some(mut old) = ctx.data_mut().pending.replace(r) {
          old.clear(env);
        }
      });
    }
  }
  wasmtime::Error::msg("a JavaScript import threw")
}

fn call_js(
  env: &Env,
  cell: &Rc<StoreCell>,
  index: usize,
  types: &[ValType],
  params: &[Val],
  results: &mut [Val],
) -> JsResult<()> {
  // A v128 result: a TypeError before the JS function runs ("run a host
  // function", step 2; a v128 parameter fails in its conversion below,
  // before the call too).
  if types.iter().any(|t| matches!(t, ValType::V128)) {
    return Err(js::throw_type(
      env,
      "type incompatibility when transforming from/to JS",
    ));
  }
  let callee = cell
    .with(|ctx| ctx.data().callables[index].get(env))
    .map_err(|e| js::throw(env, &e))?
    .ok_or_else(|| js::throw(env, "an imported function was collected"))?;
  // Numbers need no store and no allocation (the common case).
  let mut inline = [ptr::null_mut(); INLINE];
  let args: Vec<sys::napi_value>;
  let args: &[sys::napi_value] = if params.len() <= INLINE && params.iter().all(is_number) {
    for (slot, v) in inline.iter_mut().zip(params) {
      *slot = value::to_js(env, cell, &Out::Val(*v))?;
    }
    &inline[..params.len()]
  } else {
    let outs = cell
      .with(|ctx| {
        params
          .iter()
          .map(|v| value::out(ctx, v))
          .collect::<wasmtime::Result<Vec<_>>>()
      })
      .map_err(|e| js::throw(env, &e))?
      .map_err(|e| js::throw(env, &format!("{e:#}")))?;
    args = outs
      .iter()
      .map(|v| value::to_js(env, cell, v))
      .collect::<JsResult<Vec<_>>>()?;
    &args
  };
  let ret = {
    // The import runs outside any sandbox (a sandbox's shim enters its
    // own); its arguments were made and its results are read in this one.
    let _main = crate::api::sandbox::Scope::enter(None);
    js::call(env, callee, args)?
  };
  if let ([slot], [ty]) = (&mut *results, types) {
    if value::is_number_type(ty) {
      // A number needs no store (and no `Arg` in between).
      *slot = value::number_to_val(env, ret, ty)?;
      return Ok(());
    }
  }
  let converted = import_args(env, cell, ret, types)?;
  // Externrefs are allocated in the import's own root scope (wasmtime's,
  // around this host function), so that they outlive `with` until wasm
  // has them.
  let vals = cell
    .with_unscoped(|ctx| {
      converted
        .into_iter()
        .map(|a| a.into_val(ctx))
        .collect::<wasmtime::Result<Vec<_>>>()
    })
    .map_err(|e| js::throw(env, &e))?
    .map_err(|e| js::throw(env, &format!("{e:#}")))?;
  for (slot, v) in results.iter_mut().zip(vals) {
    *slot = v;
  }
  Ok(())
}

/// What a JS import returned (`ret`) as values of its result `types`, not
/// yet in the store (ToWebAssemblyValue; a multi-value result is iterated).
pub(crate) fn import_args(
  env: &Env,
  cell: &Rc<StoreCell>,
  ret: sys::napi_value,
  types: &[ValType],
) -> JsResult<Vec<Arg>> {
  let mut converted = Vec::with_capacity(types.len());
  match types.len() {
    0 => {}
    1 => converted.push(value::to_wasm(env, cell, ret, &types[0])?),
    n => {
      let list = js::call_hook(env, Hook::ToList, &[ret])?;
      let items = js::elements(env, list)?;
      if items.len() != n {
        return Err(js::throw_type(
          env,
          &format!(
            "multi-return length mismatch: expected {n} values, got {}",
            items.len()
          ),
        ));
      }
      for (ty, item) in types.iter().zip(items) {
        converted.push(value::to_wasm(env, cell, item, ty)?);
      }
    }
  }
  Ok(converted)
}
