//! Values across the boundary: the spec's ToWebAssemblyValue and ToJSValue.

use std::ptr;
use std::rc::Rc;

use napi::{sys, Env};
use wasmtime::{Val, ValType};

use crate::func;
use crate::js::{self, Hook, JsResult, Pending};
use crate::store::StoreCell;

/// ToWebAssemblyValue(`v`, `ty`) in the store of `cell`. May run user code
/// (`valueOf`, `toString`), so it never runs inside `StoreCell::with`.
pub fn to_wasm(env: &Env, cell: &Rc<StoreCell>, v: sys::napi_value, ty: &ValType) -> JsResult<Val> {
  match ty {
    // 1. If type is i32: Let i32 be ? ToInt32(v).
    ValType::I32 => Ok(Val::I32(int32(env, v)?)),
    // 2. If type is i64: Let i64 be ? ToBigInt64(v).
    ValType::I64 => Ok(Val::I64(big_int64(env, v)?)),
    // 3. If type is f32: Let number be ? ToNumber(v) (rounded to f32).
    ValType::F32 => Ok(Val::F32((number(env, v)? as f32).to_bits())),
    // 4. If type is f64: Let number be ? ToNumber(v).
    ValType::F64 => Ok(Val::F64(number(env, v)?.to_bits())),
    ValType::Ref(r) if r.heap_type().is_func() => {
      // funcref: null, or an Exported Function (else TypeError).
      if js::type_of(env, v) == sys::ValueType::napi_null {
        if !r.is_nullable() {
          return Err(js::throw_type(
            env,
            "a non-nullable reference cannot be null",
          ));
        }
        return Ok(Val::FuncRef(None));
      }
      match func::from_js(env, cell, v)? {
        Some(f) => Ok(Val::FuncRef(Some(f))),
        None => Err(js::throw_type(
          env,
          "function-typed object must be null (if nullable) or a Wasm function object",
        )),
      }
    }
    // v128 and what this build cannot represent (externref and GC types
    // need wasmtime's `gc` feature, which this build leaves out).
    _ => Err(js::throw_type(
      env,
      "type incompatibility when transforming from/to JS",
    )),
  }
}

/// ToJSValue(`val`).
pub fn to_js(env: &Env, cell: &Rc<StoreCell>, val: &Val) -> JsResult<sys::napi_value> {
  let mut out = ptr::null_mut();
  // SAFETY (each call below): `env` is live and `out` is a valid slot.
  let status = match *val {
    Val::I32(i) => unsafe { sys::napi_create_int32(env.raw(), i, &mut out) },
    Val::I64(i) => unsafe { sys::napi_create_bigint_int64(env.raw(), i, &mut out) },
    Val::F32(bits) => unsafe {
      sys::napi_create_double(env.raw(), f64::from(f32::from_bits(bits)), &mut out)
    },
    Val::F64(bits) => unsafe { sys::napi_create_double(env.raw(), f64::from_bits(bits), &mut out) },
    Val::FuncRef(None) => return Ok(js::null(env)),
    Val::FuncRef(Some(f)) => return func::to_js(env, cell, f, None),
    _ => {
      return Err(js::throw_type(
        env,
        "type incompatibility when transforming from/to JS",
      ))
    }
  };
  js::ok(env, status, "create value")?;
  Ok(out)
}

/// The default value of `ty` (for `Global` and `Table` without a value).
pub fn default(ty: &ValType) -> Option<Val> {
  match ty {
    ValType::I32 => Some(Val::I32(0)),
    ValType::I64 => Some(Val::I64(0)),
    ValType::F32 => Some(Val::F32(0)),
    ValType::F64 => Some(Val::F64(0)),
    ValType::Ref(r) if r.heap_type().is_func() && r.is_nullable() => Some(Val::FuncRef(None)),
    _ => None,
  }
}

/// ToInt32(v): Numbers directly, everything else through ToNumber.
fn int32(env: &Env, v: sys::napi_value) -> JsResult<i32> {
  let mut i = 0;
  // SAFETY: `v` is a live handle; a non-Number is refused with a status
  // (no exception). For Numbers, Node-API truncates modulo 2^32 and maps
  // NaN and the infinities to 0, which is ToInt32.
  let status = unsafe { sys::napi_get_value_int32(env.raw(), v, &mut i) };
  if status == sys::Status::napi_ok {
    return Ok(i);
  }
  let v = coerce_number(env, v)?;
  // SAFETY: as above; `v` is now a Number.
  let status = unsafe { sys::napi_get_value_int32(env.raw(), v, &mut i) };
  js::ok(env, status, "napi_get_value_int32")?;
  Ok(i)
}

/// ToNumber(v): throws `TypeError` for BigInts and Symbols.
pub fn number(env: &Env, v: sys::napi_value) -> JsResult<f64> {
  let mut n = 0.0;
  // SAFETY: `v` is a live handle; a non-Number is refused with a status.
  let status = unsafe { sys::napi_get_value_double(env.raw(), v, &mut n) };
  if status == sys::Status::napi_ok {
    return Ok(n);
  }
  let v = coerce_number(env, v)?;
  // SAFETY: as above; `v` is now a Number.
  let status = unsafe { sys::napi_get_value_double(env.raw(), v, &mut n) };
  js::ok(env, status, "napi_get_value_double")?;
  Ok(n)
}

fn coerce_number(env: &Env, v: sys::napi_value) -> JsResult<sys::napi_value> {
  let mut out = ptr::null_mut();
  // SAFETY: `v` is a live handle; ToNumber may run user code or throw.
  let status = unsafe { sys::napi_coerce_to_number(env.raw(), v, &mut out) };
  js::ok(env, status, "napi_coerce_to_number")?;
  Ok(out)
}

/// ToBigInt64(v): BigInts directly (modulo 2^64), everything else through
/// `BigInt.asIntN(64, v)`, which is ToBigInt (TypeError for Numbers).
fn big_int64(env: &Env, v: sys::napi_value) -> JsResult<i64> {
  let v = if js::type_of(env, v) == sys::ValueType::napi_bigint {
    v
  } else {
    js::call_hook(env, Hook::ToBigInt64, &[v])?
  };
  let mut i = 0;
  let mut lossless = false;
  // SAFETY: `v` is a live BigInt handle.
  let status = unsafe { sys::napi_get_value_bigint_int64(env.raw(), v, &mut i, &mut lossless) };
  js::ok(env, status, "napi_get_value_bigint_int64").map_err(|_: Pending| Pending)?;
  Ok(i)
}
