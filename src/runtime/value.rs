//! Values across the boundary: the spec's ToWebAssemblyValue and ToJSValue.

use std::ptr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use napi::{sys, Env};
use wasmtime::{
  AnyRef, ExternRef, HeapType, OwnedRooted, StoreContextMut, Val, ValRaw, ValType, I31,
};

use crate::js::{self, Hook, JsResult, Pending};
use crate::runtime::func;
use crate::runtime::store::{Data, StoreCell};

/// A value converted from JS, ready to enter the store: numbers and
/// funcrefs as wasmtime values; an externref as the slot that holds its JS
/// value, turned into an `ExternRef` by [`Arg::into_val`] inside the store
/// (GC references live only within one `StoreCell::with`).
pub enum Arg {
  Val(Val),
  Extern(Option<Slot>),
  /// A Wasm GC object of this store (anyref and its subtypes), or as an
  /// externref when `extern` (`extern.convert_any`).
  Gc(OwnedRooted<AnyRef>, bool),
  /// An i31ref (a Number in the i31 range given for an anyref type).
  I31(i32),
  /// Any other JS value given for anyref: an externref made an anyref
  /// (`any.convert_extern`), as the spec's ToWebAssemblyValue does.
  Internalized(Slot),
}

impl Arg {
  /// The wasmtime value, allocating the externref in `ctx`'s store.
  ///
  /// # Errors
  /// Fails if wasmtime's GC heap cannot hold one more externref.
  pub fn into_val(self, ctx: &mut StoreContextMut<'_, Data>) -> wasmtime::Result<Val> {
    if matches!(self, Arg::Extern(Some(_)) | Arg::Internalized(_))
      && ctx.data().cell().is_some_and(|c| c.is_waiting())
    {
      // A GC here would not see the suspended fiber's frames (jspi.rs).
      return Err(wasmtime::Error::msg(WAITING));
    }
    Ok(match self {
      Arg::Val(v) => v,
      Arg::Extern(None) => Val::ExternRef(None),
      Arg::Extern(Some(slot)) => Val::ExternRef(Some(ExternRef::new(&mut *ctx, slot)?)),
      Arg::Gc(root, false) => Val::AnyRef(Some(root.to_rooted(&mut *ctx))),
      Arg::Gc(root, true) => {
        let any = root.to_rooted(&mut *ctx);
        Val::ExternRef(Some(ExternRef::convert_any(&mut *ctx, any)?))
      }
      Arg::I31(i) => Val::AnyRef(Some(AnyRef::from_i31(&mut *ctx, I31::wrapping_i32(i)))),
      Arg::Internalized(slot) => {
        let extern_ref = ExternRef::new(&mut *ctx, slot)?;
        Val::AnyRef(Some(AnyRef::convert_extern(&mut *ctx, extern_ref)?))
      }
    })
  }
}

/// Why a reference cannot be stored while a JSPI call's wasm waits.
pub const WAITING: &str =
  "WebAssembly: a reference cannot be stored in this instance group while its \
  JSPI call waits for an import (wasmtime's collector would not see the suspended wasm frames; see \
  the README's known differences)";

/// A value leaving the store, ready for ToJSValue: an externref by the
/// index of its JS value in the token's `values` array.
#[derive(Clone, Copy)]
pub enum Out {
  Val(Val),
  Extern(Option<u32>),
  /// A Wasm GC object, by its entry in the store's `gc_objects`.
  Gc(usize),
  /// A reference JS cannot see (exnref).
  Opaque,
}

/// `val` as an [`Out`] (inside the store, before `val`'s roots go).
///
/// # Errors
/// Fails if an externref's host data is not one of ours (it always is:
/// only `Arg::into_val` makes them).
pub fn out(ctx: &mut StoreContextMut<'_, Data>, val: &Val) -> wasmtime::Result<Out> {
  Ok(match val {
    Val::I32(_) | Val::I64(_) | Val::F32(_) | Val::F64(_) | Val::V128(_) | Val::FuncRef(_) => {
      Out::Val(*val)
    }
    Val::ExternRef(None) | Val::AnyRef(None) => Out::Extern(None),
    Val::ExternRef(Some(r)) => match r.data(&*ctx)? {
      Some(data) => {
        let slot = data
          .downcast_ref::<Slot>()
          .ok_or_else(|| wasmtime::Error::msg("an externref this library did not make"))?;
        Out::Extern(Some(slot.index))
      }
      // `extern.convert_any` of a GC object or an i31.
      None => {
        let any = AnyRef::convert_extern(&mut *ctx, *r)?;
        any_out(ctx, &any)?
      }
    },
    Val::AnyRef(Some(r)) => any_out(ctx, r)?,
    _ => Out::Opaque,
  })
}

/// An anyref as an [`Out`]: an i31 as its Number, an internalized externref
/// as its JS value, a struct or array as its entry in `gc_objects`.
fn any_out(
  ctx: &mut StoreContextMut<'_, Data>,
  any: &wasmtime::Rooted<AnyRef>,
) -> wasmtime::Result<Out> {
  if let Some(i31) = any.as_i31(&*ctx)? {
    return Ok(Out::Val(Val::I32(i31.get_i32())));
  }
  if !any.is_struct(&*ctx)? && !any.is_array(&*ctx)? {
    // `any.convert_extern` of an externref of ours.
    let extern_ref = ExternRef::convert_any(&mut *ctx, *any)?;
    if let Some(slot) = extern_ref
      .data(&*ctx)?
      .and_then(|d| d.downcast_ref::<Slot>())
    {
      return Ok(Out::Extern(Some(slot.index)));
    }
  }
  Ok(Out::Gc(crate::runtime::gc::entry(ctx, any)?))
}

/// The host data of each externref: the index of its JS value in the
/// store token's `values` array. Dropped by wasmtime's collector when wasm
/// can no longer reach the externref; the index is then freed.
pub struct Slot {
  index: u32,
  freed: Arc<Mutex<Vec<u32>>>,
}

impl Drop for Slot {
  fn drop(&mut self) {
    self
      .freed
      .lock()
      .unwrap_or_else(|e| e.into_inner())
      .push(self.index);
  }
}

/// The token's `values` array (the JS side of externrefs).
fn values(env: &Env, cell: &Rc<StoreCell>) -> JsResult<sys::napi_value> {
  let token = || crate::api::instance::ensure_token(env, cell).map_err(|_| Pending);
  crate::runtime::store::token_array(env, cell, token, c"values", |d| &mut d.values)
}

/// Puts `v` in a slot of `cell`'s store token (reusing freed ones).
fn put(env: &Env, cell: &Rc<StoreCell>, v: sys::napi_value) -> JsResult<Slot> {
  let list = values(env, cell)?;
  let (freed, cleared, index) = cell
    .with(|ctx| {
      let data = ctx.data_mut();
      let cleared =
        std::mem::take(&mut *data.freed_slots.lock().unwrap_or_else(|e| e.into_inner()));
      data.free_slots.extend(&cleared);
      let index = data.free_slots.pop().unwrap_or_else(|| {
        data.next_slot += 1;
        data.next_slot - 1
      });
      (data.freed_slots.clone(), cleared, index)
    })
    .map_err(|e| js::throw(env, &e))?;
  // Let go of the values of freed slots (before one of them is reused).
  if !cleared.is_empty() {
    let undefined = js::undefined(env);
    for &i in &cleared {
      // SAFETY: `list` is a live array; `i` is an index it holds.
      let status = unsafe { sys::napi_set_element(env.raw(), list, i, undefined) };
      js::ok(env, status, "napi_set_element")?;
    }
  }
  // SAFETY: `list` is a live array and `v` a live handle.
  let status = unsafe { sys::napi_set_element(env.raw(), list, index, v) };
  js::ok(env, status, "napi_set_element")?;
  Ok(Slot { index, freed })
}

/// The JS value in slot `index` of `cell`'s store.
fn slot_value(env: &Env, cell: &Rc<StoreCell>, index: u32) -> JsResult<sys::napi_value> {
  let list = values(env, cell)?;
  let mut out = ptr::null_mut();
  // SAFETY: `list` is a live array.
  let status = unsafe { sys::napi_get_element(env.raw(), list, index, &mut out) };
  js::ok(env, status, "napi_get_element")?;
  Ok(out)
}

/// ToWebAssemblyValue(`v`, `ty`) for `cell`'s store. May run user code
/// (`valueOf`, `toString`), so it never runs inside `StoreCell::with`.
pub fn to_wasm(env: &Env, cell: &Rc<StoreCell>, v: sys::napi_value, ty: &ValType) -> JsResult<Arg> {
  Ok(Arg::Val(match ty {
    // 1. If type is i32: Let i32 be ? ToInt32(v).
    ValType::I32 => Val::I32(int32(env, v)?),
    // 2. If type is i64: Let i64 be ? ToBigInt64(v).
    ValType::I64 => Val::I64(big_int64(env, v)?),
    // 3. If type is f32: Let number be ? ToNumber(v) (rounded to f32).
    ValType::F32 => Val::F32((number(env, v)? as f32).to_bits()),
    // 4. If type is f64: Let number be ? ToNumber(v).
    ValType::F64 => Val::F64(number(env, v)?.to_bits()),
    ValType::Ref(r) if r.heap_type().top().is_func() => {
      // funcref: null, or an Exported Function (else TypeError); of a
      // typed function reference, one of that type.
      if js::type_of(env, v) == sys::ValueType::napi_null {
        if !r.is_nullable() {
          return Err(js::throw_type(
            env,
            "a non-nullable reference cannot be null",
          ));
        }
        return Ok(Arg::Val(Val::FuncRef(None)));
      }
      let not_function = || {
        js::throw_type(
          env,
          "function-typed object must be null (if nullable) or a Wasm function object",
        )
      };
      let f = func::from_js(env, cell, v)?.ok_or_else(not_function)?;
      let heap = r.heap_type().clone();
      let fits = match &heap {
        HeapType::Func => true,
        HeapType::ConcreteFunc(ty) => cell
          .with(|ctx| f.matches_ty(&*ctx, ty))
          .map_err(|e| js::throw(env, &e))?,
        _ => false,
      };
      if !fits {
        return Err(js::throw_type(
          env,
          "type incompatibility when transforming from/to JS",
        ));
      }
      Val::FuncRef(Some(f))
    }
    // externref: null is ref.null extern; any other value (undefined
    // included) is held as is.
    ValType::Ref(r) if r.heap_type().top().is_extern() => {
      if js::type_of(env, v) == sys::ValueType::napi_null {
        if !r.is_nullable() {
          return Err(js::throw_type(
            env,
            "a non-nullable reference cannot be null",
          ));
        }
        return Ok(Arg::Extern(None));
      }
      if !r.heap_type().is_extern() {
        // noextern: only null.
        return Err(js::throw_type(
          env,
          "type incompatibility when transforming from/to JS",
        ));
      }
      // A GC object of this store goes in as itself (`extern.convert_any`),
      // so that `any.convert_extern` gives it back to wasm; one of another
      // store as any JS value would (it comes back out as itself).
      if let Some((owner, root)) = crate::runtime::gc::object_of(env, v) {
        if Rc::ptr_eq(&owner, cell) {
          return Ok(Arg::Gc(root, true));
        }
      }
      return Ok(Arg::Extern(Some(put(env, cell, v)?)));
    }
    ValType::Ref(r) if r.heap_type().top().is_any() => return any_to_wasm(env, cell, v, r),
    // v128, exnref and GC types: no JS value converts (the spec's TypeError).
    _ => {
      return Err(js::throw_type(
        env,
        "type incompatibility when transforming from/to JS",
      ))
    }
  }))
}

/// ToWebAssemblyValue for anyref and its subtypes (eqref, i31ref,
/// structref, arrayref, concrete struct and array types, nullref): null, a
/// GC object of this store, a Number in the i31 range as an i31, and for
/// anyref any other value as an internalized externref; then the value
/// must match the type (else a `TypeError`, as V8's).
fn any_to_wasm(
  env: &Env,
  cell: &Rc<StoreCell>,
  v: sys::napi_value,
  r: &wasmtime::RefType,
) -> JsResult<Arg> {
  let mismatch = || js::throw_type(env, "type incompatibility when transforming from/to JS");
  let heap = r.heap_type();
  let kind = js::type_of(env, v);
  if kind == sys::ValueType::napi_null {
    if !r.is_nullable() {
      return Err(js::throw_type(
        env,
        "a non-nullable reference cannot be null",
      ));
    }
    return Ok(Arg::Val(Val::AnyRef(None)));
  }
  if let Some(root) = crate::runtime::gc::from_js(env, cell, v)? {
    let fits = cell
      .with(|ctx| root.matches_ty(&*ctx, heap))
      .map_err(|e| js::throw(env, &e))?
      .map_err(|e| js::throw(env, &format!("{e:#}")))?;
    return if fits {
      Ok(Arg::Gc(root, false))
    } else {
      Err(mismatch())
    };
  }
  if kind == sys::ValueType::napi_number {
    let n = number(env, v)?;
    let i31 = n.fract() == 0.0
      && (-1_073_741_824.0..=1_073_741_823.0).contains(&n)
      && !(n == 0.0 && n.is_sign_negative());
    if i31 && HeapType::I31.matches(heap) {
      return Ok(Arg::I31(n as i32));
    }
  }
  if heap.is_any() {
    return Ok(Arg::Internalized(put(env, cell, v)?));
  }
  Err(mismatch())
}

/// `out`, read from `from`'s store, as a value for `to`'s store (an
/// externref's JS value moves to `to`'s token).
///
/// # Errors
/// A message if the value cannot move (exnref, GC references).
pub fn carry(
  env: &Env,
  from: &Rc<StoreCell>,
  to: &Rc<StoreCell>,
  out: &Out,
  ty: &ValType,
) -> Result<Arg, String> {
  // i31s and internalized externrefs are made again in `to`'s store.
  let any = matches!(ty, ValType::Ref(r) if r.heap_type().top().is_any());
  if any && !matches!(out, Out::Gc(_) | Out::Opaque) {
    let moved = to_js(env, from, out).and_then(|v| to_wasm(env, to, v, ty));
    return moved.map_err(|Pending| {
      js::take_exception(env);
      "a reference could not move to the instance's store".to_owned()
    });
  }
  match out {
    Out::Val(v) => Ok(Arg::Val(*v)),
    Out::Extern(None) => Ok(Arg::Extern(None)),
    Out::Extern(Some(_)) => {
      let moved = to_js(env, from, out).and_then(|v| to_wasm(env, to, v, ty));
      moved.map_err(|Pending| {
        js::take_exception(env);
        "an externref could not move to the instance's store".to_owned()
      })
    }
    Out::Gc(_) | Out::Opaque => Err("a reference that cannot move between stores".to_owned()),
  }
}

/// ToJSValue(`val`) for a value of `cell`'s store.
pub fn to_js(env: &Env, cell: &Rc<StoreCell>, val: &Out) -> JsResult<sys::napi_value> {
  let val = match val {
    Out::Val(v) => v,
    Out::Extern(None) => return Ok(js::null(env)),
    Out::Extern(Some(index)) => return slot_value(env, cell, *index),
    Out::Gc(index) => return crate::runtime::gc::to_js(env, cell, *index),
    Out::Opaque => {
      return Err(js::throw_type(
        env,
        "type incompatibility when transforming from/to JS",
      ))
    }
  };
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

/// The default value of `ty` (for `Global` and `Table` without a value):
/// zero, null for funcref, and for externref `undefined` (the spec's
/// DefaultValue, which V8 follows from Node 22 on).
pub fn default(env: &Env, cell: &Rc<StoreCell>, ty: &ValType) -> JsResult<Option<Arg>> {
  Ok(match ty {
    ValType::I32 => Some(Arg::Val(Val::I32(0))),
    ValType::I64 => Some(Arg::Val(Val::I64(0))),
    ValType::F32 => Some(Arg::Val(Val::F32(0))),
    ValType::F64 => Some(Arg::Val(Val::F64(0))),
    ValType::Ref(r) if r.heap_type().top().is_func() && r.is_nullable() => {
      Some(Arg::Val(Val::FuncRef(None)))
    }
    ValType::Ref(r) if r.heap_type().is_extern() => {
      Some(to_wasm(env, cell, js::undefined(env), ty)?)
    }
    ValType::Ref(r) if r.heap_type().top().is_any() && r.is_nullable() => {
      Some(Arg::Val(Val::AnyRef(None)))
    }
    _ => None,
  })
}

/// ToWebAssemblyValue(v, type) for a number type, straight to the raw
/// form a call takes (steps 1-4 of `to_wasm`, with no `Val` in between).
pub fn number_to_raw(env: &Env, v: sys::napi_value, ty: &ValType) -> JsResult<ValRaw> {
  Ok(match ty {
    ValType::I32 => ValRaw::i32(int32(env, v)?),
    ValType::I64 => ValRaw::i64(big_int64(env, v)?),
    ValType::F32 => ValRaw::f32((number(env, v)? as f32).to_bits()),
    ValType::F64 => ValRaw::f64(number(env, v)?.to_bits()),
    _ => return Err(js::throw(env, "not a number type")),
  })
}

/// ToWebAssemblyValue(v, type) for a number type, as a `Val`.
pub fn number_to_val(env: &Env, v: sys::napi_value, ty: &ValType) -> JsResult<Val> {
  Ok(match ty {
    ValType::I32 => Val::I32(int32(env, v)?),
    ValType::I64 => Val::I64(big_int64(env, v)?),
    ValType::F32 => Val::F32((number(env, v)? as f32).to_bits()),
    ValType::F64 => Val::F64(number(env, v)?.to_bits()),
    _ => return Err(js::throw(env, "not a number type")),
  })
}

/// ToJSValue of a raw number of type `ty` (a call's result).
pub fn raw_number_to_js(
  env: &Env,
  cell: &Rc<StoreCell>,
  raw: ValRaw,
  ty: &ValType,
) -> JsResult<sys::napi_value> {
  let val = match ty {
    ValType::I32 => Val::I32(raw.get_i32()),
    ValType::I64 => Val::I64(raw.get_i64()),
    ValType::F32 => Val::F32(raw.get_f32()),
    ValType::F64 => Val::F64(raw.get_f64()),
    _ => return Err(js::throw(env, "not a number type")),
  };
  to_js(env, cell, &Out::Val(val))
}

/// Whether `ty` is a number type (carried without the store).
pub fn is_number_type(ty: &ValType) -> bool {
  matches!(
    ty,
    ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64
  )
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
