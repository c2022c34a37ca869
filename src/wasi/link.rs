//! WASI imports linked natively: when an instance of ours imports one of
//! `wasm-memory-rs/wasi`'s functions, wasm calls the implementation here
//! directly (no JS function, no `Uint8Array`), over the memory `start()`,
//! `initialize()` or `finalizeBindings()` bound (`wasiSetMemory`).
//!
//! Until a memory of ours is bound (not started yet, or bound to a memory of
//! the built-in), and in JSPI stores, the call goes to the JS import as
//! before, so node:wasi's errors (`ERR_WASI_NOT_STARTED`) stay the shim's.

use std::mem::MaybeUninit;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::Unknown;
use napi::{sys, Env, JsValue};
use napi_derive::napi;
use wasmtime::{Func, FuncType, ValRaw, ValType};

use super::errno::Errno;
use super::{Guest, CONTEXTS, FUNCTIONS};
use crate::api::memory::NativeMemory;
use crate::js::{self, JsResult};
use crate::memory::mapping::Mapping;
use crate::runtime::store::StoreCell;

/// Marks the JS functions of `wasiImport` (lib/wasi.js).
const TAG: sys::napi_type_tag = sys::napi_type_tag {
  lower: 0x7761_7369_2d69_6d70,
  upper: 0x6f72_742d_7761_736d,
};

thread_local! {
  /// Calls served natively on this thread (for tests: `wasiNativeCalls`).
  static NATIVE_CALLS: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// How many WASI calls this thread has served natively.
#[napi]
pub fn wasi_native_calls() -> f64 {
  NATIVE_CALLS.with(std::cell::Cell::get)
}

/// Which context and function a marked JS function stands for.
struct Import {
  id: u32,
  op: u32,
}

/// Marks `callable`, a function of `wasiImport`, as context `id`'s
/// function `op`, so that instances of ours link it natively.
///
/// # Errors
/// `TypeError` for a function that is not of `FUNCTIONS` or is marked already.
#[napi]
pub fn wasi_mark_import(env: Env, callable: Unknown, id: u32, op: u32) -> napi::Result<()> {
  if callable.get_type()? != napi::ValueType::Function || op as usize >= FUNCTIONS.len() {
    return Err(napi::Error::new(
      napi::Status::InvalidArg,
      "not a WASI function",
    ));
  }
  // SAFETY: `callable` is a live function handle; tagging fails (an error,
  // nothing else) on an object tagged already.
  let status = unsafe { sys::napi_type_tag_object(env.raw(), callable.raw(), &TAG) };
  js::into_napi(js::ok(&env, status, "napi_type_tag_object"))?;
  let data = Box::into_raw(Box::new(Import { id, op }));
  // SAFETY: `data` is a fresh leaked box, dropped when `callable` is collected.
  js::into_napi(unsafe { js::tie(&env, callable.raw(), data, sys::napi_wrap, "napi_wrap") })
}

/// Binds context `id` to `memory` (one of ours), or unbinds it (`null`: a
/// memory of the built-in, which only the JS path can reach).
#[napi]
pub fn wasi_set_memory(id: u32, memory: Option<&NativeMemory>) {
  let mapping = memory.map(|m| m.mapping());
  CONTEXTS.with(|c| {
    if let Some(Some(ctx)) = c.borrow_mut().get_mut(id as usize) {
      ctx.memory = mapping;
    }
  });
}

/// A host function of `cell`'s store for `callable` when it is a marked
/// WASI function whose import type is exactly its WASI type; else `None`
/// (the caller links it as any JS function).
pub fn host(
  env: &Env,
  cell: &Rc<StoreCell>,
  callable: sys::napi_value,
  ty: &FuncType,
) -> JsResult<Option<Func>> {
  if cell.is_jspi() {
    return Ok(None);
  }
  let Some(data) = js::unwrap_tagged(env, callable, sys::ValueType::napi_function, &TAG) else {
    return Ok(None);
  };
  // SAFETY: functions tagged with TAG were wrapped with a `Box<Import>`
  // (wasi_mark_import), which lives while `callable` does.
  let Import { id, op } = *unsafe { data.cast::<Import>().as_ref() };
  let sig = FUNCTIONS[op as usize].1.as_bytes();
  let params_match = ty.params().len() == sig.len()
    && ty.params().zip(sig).all(|(p, &c)| match c {
      b'i' => matches!(p, ValType::I32),
      _ => matches!(p, ValType::I64),
    });
  let results: Vec<ValType> = ty.results().collect();
  if !params_match || !matches!(results.as_slice(), [ValType::I32]) {
    return Ok(None);
  }
  // The JS import, for calls made while no memory of ours is bound.
  let fallback = crate::runtime::host::host(env, cell, callable, ty.clone())?;
  cell
    .with(|ctx| {
      let body = move |mut caller: wasmtime::Caller<'_, _>, raw: &mut [MaybeUninit<ValRaw>]| {
        let mut a = [0u64; 10];
        for ((slot, value), &c) in a.iter_mut().zip(raw.iter()).zip(sig) {
          // SAFETY: wasmtime initialised one slot per parameter, of the
          // types checked above.
          let value = unsafe { value.assume_init() };
          *slot = if c == b'i' {
            u64::from(value.get_u32())
          } else {
            value.get_u64()
          };
        }
        if let Some(errno) = call(id, op, &a) {
          raw[0] = MaybeUninit::new(ValRaw::u32(u32::from(errno)));
          return Ok(());
        }
        let raw: *mut [MaybeUninit<ValRaw>] = raw;
        // SAFETY: `raw` is this call's parameter-and-result space, typed by
        // `ty`, which is `fallback`'s type: wasmtime initialised the
        // parameters, and a slot past them (`sched_yield` has none) is only
        // written, with the result.
        unsafe { fallback.call_unchecked(&mut caller, raw as *mut [ValRaw]) }
      };
      // SAFETY: `body` reads the parameters as `ty` types them and writes
      // one i32 result, as `ty` says.
      unsafe { Func::new_unchecked(&mut *ctx, ty.clone(), body) }
    })
    .map(Some)
    .map_err(|e| js::throw(env, &e))
}

/// Runs context `id`'s function `op` over its bound memory: its errno, or
/// `None` when no memory of ours is bound (or the context is gone).
fn call(id: u32, op: u32, a: &[u64; 10]) -> Option<Errno> {
  CONTEXTS.with(|c| {
    let mut c = c.borrow_mut();
    let ctx = c.get_mut(id as usize)?.as_mut()?;
    let mapping: Arc<Mapping> = ctx.memory.clone()?;
    // SAFETY: the mapping is reserved while we hold its Arc, and its first
    // `accessible()` bytes are read-write (never shrunk; 0 once released).
    // No JS runs during the call, so nothing of this thread grows, frees or
    // detaches it meanwhile; other threads (a shared memory) only write
    // bytes, which `Guest` copies through raw pointers.
    let guest = unsafe { Guest::new(mapping.base(), mapping.accessible()) };
    NATIVE_CALLS.with(|n| n.set(n.get() + 1.0));
    Some(match ctx.dispatch(&guest, op, a) {
      Ok(()) => 0,
      Err(e) => e,
    })
  })
}
