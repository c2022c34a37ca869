//! Exceptions across the boundary (the exception-handling JS API).
//!
//! - A JS exception thrown by an import becomes a wasm exception, so wasm
//!   can catch it: a `WebAssembly.Exception` with its tag and payload; any
//!   other value with the store's `JSTag` and the value as its externref
//!   payload (caught by `catch_all`, or by `catch` of an imported `JSTag`).
//! - A wasm exception leaving wasm for JS becomes the JS value again: a
//!   `JSTag` exception's payload as is; else the `WebAssembly.Exception` it
//!   was made from, or a new one.
//! - Traps are never catchable: their `RuntimeError`s are marked by the
//!   shim, and an import that throws one unwinds wasm as a trap (the error
//!   is stashed and rethrown unchanged).
//!
//! Identity: a wasm exception and its JS object are remembered together
//! (`Data::exceptions`) until the outermost call into the store returns.

use std::cell::RefCell;
use std::rc::Rc;

use napi::bindgen_prelude::Object;
use napi::{sys, Env};
use napi_derive::napi;
use wasmtime::{ExnRef, ExnRefPre, ExnType, Rooted, StoreContextMut, Tag, ThrownException, Val};

use crate::js::{self, JsResult, Pending};
use crate::memory::reclaim::Ref;
use crate::runtime::store::{Data, StoreCell};
use crate::runtime::value::{self, Arg, Out};

/// The shim's helpers for exceptions (strong references).
#[derive(Default)]
struct Hooks {
  make_tag: Ref,
  make_exception: Ref,
  exception_parts: Ref,
  is_uncatchable: Ref,
  trap_error: Ref,
}

thread_local! {
  static HOOKS: RefCell<Hooks> = RefCell::new(Hooks::default());
  /// Each sandbox namespace's own, by sandbox id (sandbox.rs).
  static SANDBOX_HOOKS: RefCell<std::collections::HashMap<u64, Hooks>> = RefCell::default();
}

/// A helper set by [`set_exception_hooks`].
#[derive(Clone, Copy)]
pub enum ExnHook {
  /// `(native) => Tag`: a `Tag` object for a tag a module defines.
  MakeTag,
  /// `(tag, payload) => Exception`: a `WebAssembly.Exception` of `tag`
  /// (a `Tag` object) with the payload's JS values.
  MakeException,
  /// `(v) => [tagNative, payload] | undefined`: what a thrown value is,
  /// if it is a `WebAssembly.Exception`.
  ExceptionParts,
  /// `(v) => boolean`: whether `v` is an error made for a trap.
  IsUncatchable,
  /// `(message, isRangeError, frames) => Error`: a trap's error, marked,
  /// with the wasm frames in its stack.
  TrapError,
}

/// Hands the native side the shim's exception helpers: `{ makeTag,
/// makeException, exceptionParts, isUncatchable, trapError }`.
///
/// # Errors
/// `TypeError` if one is missing or not a function.
#[napi]
pub fn set_exception_hooks(env: Env, hooks: Object) -> napi::Result<()> {
  let get = |name: &str| js::hook_function(&env, &hooks, "setExceptionHooks", name);
  let new = Hooks {
    make_tag: get("makeTag")?,
    make_exception: get("makeException")?,
    exception_parts: get("exceptionParts")?,
    is_uncatchable: get("isUncatchable")?,
    trap_error: get("trapError")?,
  };
  let mut old =
    HOOKS.with(|main| SANDBOX_HOOKS.with(|sandboxes| js::install_hooks(main, sandboxes, new)));
  for r in [
    &mut old.make_tag,
    &mut old.make_exception,
    &mut old.exception_parts,
    &mut old.is_uncatchable,
    &mut old.trap_error,
  ] {
    r.clear(&env);
  }
  Ok(())
}

/// Calls one of the shim's exception helpers.
pub fn call_hook(env: &Env, which: ExnHook, args: &[sys::napi_value]) -> JsResult<sys::napi_value> {
  let pick = |h: &Hooks| {
    match which {
      ExnHook::MakeTag => &h.make_tag,
      ExnHook::MakeException => &h.make_exception,
      ExnHook::ExceptionParts => &h.exception_parts,
      ExnHook::IsUncatchable => &h.is_uncatchable,
      ExnHook::TrapError => &h.trap_error,
    }
    .get(env)
  };
  // The hooks of the namespace entered now (sandbox.rs).
  let id = crate::api::sandbox::current_id();
  let f = if id == 0 {
    HOOKS.with(|h| pick(&h.borrow()))
  } else {
    SANDBOX_HOOKS.with(|h| h.borrow().get(&id).and_then(pick))
  };
  let f = f.ok_or_else(|| js::throw(env, "wasm-memory-rs: setExceptionHooks() was not called"))?;
  js::call(env, f, args)
}

/// Whether `value` must unwind wasm uncaught (a trap's error).
pub fn is_uncatchable(env: &Env, value: sys::napi_value) -> bool {
  let Ok(answer) = call_hook(env, ExnHook::IsUncatchable, &[value]) else {
    js::take_exception(env);
    return true;
  };
  let mut b = false;
  // SAFETY: `answer` is a live handle; a non-boolean leaves `b` false.
  unsafe { sys::napi_get_value_bool(env.raw(), answer, &mut b) };
  b
}

/// Throws a trap's error (marked uncatchable): a `RangeError` for a stack
/// overflow, else a `RuntimeError`; `frames` are the wasm frames for its
/// stack (backtrace.rs).
pub fn throw_trap(env: &Env, message: &str, range: bool, frames: &[String]) -> Pending {
  let made = (|| {
    let msg = js::string(env, message)?;
    let mut flag = std::ptr::null_mut();
    // SAFETY: `env` is live.
    let status = unsafe { sys::napi_get_boolean(env.raw(), range, &mut flag) };
    js::ok(env, status, "napi_get_boolean")?;
    let frames = crate::runtime::backtrace::to_js(env, frames)?;
    call_hook(env, ExnHook::TrapError, &[msg, flag, frames])
  })();
  match made {
    Ok(error) => js::rethrow(env, error),
    // Without the shim's hooks (a bare binding): the plain classes.
    Err(Pending) => {
      js::take_exception(env);
      if range {
        js::throw_range(env, message)
      } else {
        js::throw_class(env, js::Hook::RuntimeError, message)
      }
    }
  }
}

/// A JS exception (thrown by an import) made ready to be thrown into wasm:
/// its tag and payload converted, nothing allocated in the store's GC heap
/// yet. JSPI stores make it on the main stack and throw it on the fiber
/// (src/runtime/jspi.rs), where a GC the allocation starts sees the call's
/// frames.
pub struct Prepared {
  tag: Tag,
  args: Vec<Arg>,
  /// The `WebAssembly.Exception` itself, to give it back if the exception
  /// leaves wasm again.
  held: Option<Ref>,
}

/// Converts the JS exception `value` for [`throw_prepared`]: a
/// `WebAssembly.Exception` by its tag and payload, any other value with
/// the store's `JSTag` and the value as payload.
///
/// # Errors
/// `Err(Pending)` with a new JS exception if the value cannot be carried
/// (its payload no longer converts).
pub fn prepare(env: &Env, cell: &Rc<StoreCell>, value: sys::napi_value) -> JsResult<Prepared> {
  let parts = call_hook(env, ExnHook::ExceptionParts, &[value])?;
  let (tag, args, is_exception) = if js::type_of(env, parts) == sys::ValueType::napi_undefined {
    // Any other JS value: JSTag, the value as payload.
    let tag = crate::api::tag::js_tag(env, cell)?;
    let arg = value::to_wasm(env, cell, value, &wasmtime::ValType::EXTERNREF)?;
    (tag, vec![arg], false)
  } else {
    let items = js::elements(env, parts)?;
    let native = items
      .first()
      .and_then(|&n| crate::api::tag::unwrap(env, n))
      .ok_or_else(|| js::throw(env, "exceptionParts: not a tag"))?;
    let payload = js::elements(env, items.get(1).copied().unwrap_or(parts))?;
    let tag = native.tag_in(env, cell)?;
    let args = native
      .params()
      .iter()
      .zip(payload)
      .map(|(ty, v)| value::to_wasm(env, cell, v, ty))
      .collect::<JsResult<Vec<Arg>>>()?;
    (tag, args, true)
  };
  let held = if is_exception {
    Some(Ref::new(env, value, true).map_err(|_| Pending)?)
  } else {
    None
  };
  Ok(Prepared { tag, args, held })
}

/// Allocates the prepared exception in `ctx`'s store; returns the error the
/// host function returns to throw it into wasm.
///
/// # Errors
/// Fails if the GC heap cannot hold the exception.
pub fn throw_prepared(
  env: &Env,
  ctx: &mut StoreContextMut<'_, Data>,
  prepared: Prepared,
) -> wasmtime::Result<wasmtime::Error> {
  let Prepared { tag, args, held } = prepared;
  let fields = args
    .into_iter()
    .map(|a| a.into_val(ctx))
    .collect::<wasmtime::Result<Vec<Val>>>()?;
  let ty = ExnType::from_tag_type(&tag.ty(&*ctx))?;
  let pre = ExnRefPre::new(&mut *ctx, ty);
  let exn = ExnRef::new(&mut *ctx, &pre, &tag, &fields)?;
  if let Some(held) = held {
    let owned = exn.to_owned_rooted(&mut *ctx)?;
    remember(env, &mut ctx.data_mut().exceptions, owned, held);
  }
  Ok(ctx.throw::<()>(exn).unwrap_err())
}

/// Makes the JS exception `value` (thrown by an import) a wasm exception
/// pending in `cell`'s store; returns the error the host function returns.
///
/// # Errors
/// `Err(Pending)` with a new JS exception if the value cannot be carried
/// (its payload no longer converts, the GC heap is full).
pub fn throw_into(
  env: &Env,
  cell: &Rc<StoreCell>,
  value: sys::napi_value,
) -> JsResult<wasmtime::Error> {
  let prepared = prepare(env, cell, value)?;
  cell
    .with(|ctx| throw_prepared(env, ctx, prepared))
    .map_err(|e| js::throw(env, &e))?
    .map_err(|e| js::throw(env, &format!("{e:#}")))
}

/// What a wasm exception is, read inside the store.
enum Escaped {
  /// A JSTag exception: its payload is the JS value.
  Carried(Out),
  /// Seen before: its JS object.
  Known(sys::napi_value),
  /// New: its tag, payload, and a root to remember it by.
  New(Tag, Vec<Out>, wasmtime::OwnedRooted<ExnRef>),
}

/// Throws the wasm exception pending in `cell`'s store as its JS value.
pub fn escape(env: &Env, cell: &Rc<StoreCell>) -> Pending {
  match escaped(env, cell) {
    Ok(value) => js::rethrow(env, value),
    Err(p) => p,
  }
}

fn escaped(env: &Env, cell: &Rc<StoreCell>) -> JsResult<sys::napi_value> {
  let what = cell
    .with(|ctx| -> wasmtime::Result<Escaped> {
      let exn: Rooted<ExnRef> = ctx
        .take_pending_exception()
        .ok_or_else(|| wasmtime::Error::msg("no pending wasm exception"))?;
      let tag = exn.tag(&mut *ctx)?;
      if ctx.data().js_tag.is_some_and(|j| Tag::eq(&j, &tag, &*ctx)) {
        let field = exn.field(&mut *ctx, 0)?;
        return Ok(Escaped::Carried(value::out(ctx, &field)?));
      }
      let mut known = None;
      for (owned, r) in &ctx.data().exceptions {
        if Rooted::ref_eq(&*ctx, &exn, owned)? {
          known = r.get(env);
          break;
        }
      }
      if let Some(v) = known {
        return Ok(Escaped::Known(v));
      }
      let n = tag.ty(&*ctx).ty().params().len();
      let mut payload = Vec::with_capacity(n);
      for i in 0..n {
        let field = exn.field(&mut *ctx, i)?;
        payload.push(value::out(ctx, &field)?);
      }
      let owned = exn.to_owned_rooted(&mut *ctx)?;
      Ok(Escaped::New(tag, payload, owned))
    })
    .map_err(|e| js::throw(env, &e))?
    .map_err(|e| js::throw(env, &format!("{e:#}")))?;
  match what {
    Escaped::Carried(out) => value::to_js(env, cell, &out),
    Escaped::Known(v) => Ok(v),
    Escaped::New(tag, payload, owned) => {
      let tag = crate::api::tag::to_js(env, cell, tag)?;
      let values = payload
        .iter()
        .map(|o| value::to_js(env, cell, o))
        .collect::<JsResult<Vec<_>>>()?;
      let payload = js::array(env, &values)?;
      let exception = call_hook(env, ExnHook::MakeException, &[tag, payload])?;
      let held = Ref::new(env, exception, true).map_err(|_| Pending)?;
      cell
        .with(|ctx| remember(env, &mut ctx.data_mut().exceptions, owned, held))
        .map_err(|e| js::throw(env, &e))?;
      Ok(exception)
    }
  }
}

/// Pairs remembered at most: a long call that throws through JS again and
/// again keeps the newest (an older exception crossing once more would get
/// a new `Exception` object).
const REMEMBERED: usize = 1024;

/// Remembers that `exn` is the JS exception `held`.
fn remember(
  env: &Env,
  list: &mut Vec<(wasmtime::OwnedRooted<ExnRef>, Ref)>,
  exn: wasmtime::OwnedRooted<ExnRef>,
  held: Ref,
) {
  if list.len() >= REMEMBERED {
    let (_, mut oldest) = list.remove(0);
    oldest.clear(env);
  }
  list.push((exn, held));
}

/// Forgets the exceptions remembered for identity once no wasm of the
/// store is running (the outermost call returned).
pub fn settle(env: &Env, cell: &StoreCell) {
  if cell.is_entered() {
    return;
  }
  let taken = cell
    .with(|ctx| std::mem::take(&mut ctx.data_mut().exceptions))
    .unwrap_or_default();
  for (_, mut r) in taken {
    r.clear(env);
  }
}

/// Whether a failed call's error is a wasm exception.
pub fn is_thrown(e: &wasmtime::Error) -> bool {
  e.is::<ThrownException>()
}
