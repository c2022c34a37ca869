//! The few JS helpers the native side calls (set once by `index.js`), and
//! thin raw Node-API wrappers for the hot paths (calls, values).
//!
//! Functions here return `Err(Pending)` when a JS exception is pending: the
//! caller returns to JS (which throws it) or stashes it (an import).

use std::cell::RefCell;
use std::ptr;

use napi::bindgen_prelude::JsObjectValue;
use napi::bindgen_prelude::{Object, Unknown};
use napi::{sys, Env, JsValue};
use napi_derive::napi;

use crate::error::type_error;
use crate::memory::reclaim::Ref;

/// A JS exception is pending on the env.
#[derive(Debug)]
pub struct Pending;

pub type JsResult<T> = Result<T, Pending>;

/// The helpers `index.js` hands over (strong references).
#[derive(Default)]
struct Hooks {
  make_functions: Ref,
  to_big_int64: Ref,
  to_list: Ref,
  compile_error: Ref,
  link_error: Ref,
  runtime_error: Ref,
}

thread_local! {
  static HOOKS: RefCell<Hooks> = RefCell::new(Hooks::default());
  /// Each sandbox namespace's own, by sandbox id (sandbox.rs).
  static SANDBOX_HOOKS: RefCell<std::collections::HashMap<u64, Hooks>> = RefCell::default();
}

/// A helper set by [`set_hooks`].
#[derive(Clone, Copy)]
pub enum Hook {
  /// `(call, store, spec) => void`: the JS functions of a batch of exported
  /// wasm functions (`spec`: name and arity of each), appended to the
  /// store token's `functions` array (func.rs).
  MakeFunctions,
  /// `(v) => BigInt.asIntN(64, v)`: ToBigInt64 for what is not a BigInt.
  ToBigInt64,
  /// `(v) => [...v]`: an import's multi-value result as a list.
  ToList,
  CompileError,
  LinkError,
  RuntimeError,
}

/// Function `name` of the object `hooks` handed to `setter`, held strongly.
///
/// # Errors
/// `TypeError` if it is missing or not a function.
pub fn hook_function(env: &Env, hooks: &Object, setter: &str, name: &str) -> napi::Result<Ref> {
  let value: Unknown = hooks.get_named_property(name)?;
  if value.get_type()? != napi::ValueType::Function {
    return Err(type_error(
      env,
      format!("{setter}: {name} must be a function"),
    ));
  }
  Ref::new(env, value.raw(), true)
}

/// Makes `new` the hooks of the namespace being made (the main one, or the
/// sandbox's whose shim runs: sandbox.rs) and returns those it replaces.
pub fn install_hooks<H: Default>(
  main: &RefCell<H>,
  sandboxes: &RefCell<std::collections::HashMap<u64, H>>,
  new: H,
) -> H {
  match crate::api::sandbox::current_id() {
    0 => main.replace(new),
    id => sandboxes.borrow_mut().insert(id, new).unwrap_or_default(),
  }
}

/// Hands the native side the helpers and error classes it needs:
/// `{ makeFunctions, toBigInt64, toList, CompileError, LinkError,
/// RuntimeError }` (all functions).
///
/// # Errors
/// `TypeError` if one is missing or not a function.
#[napi]
pub fn set_hooks(env: Env, hooks: Object) -> napi::Result<()> {
  let get = |name: &str| hook_function(&env, &hooks, "setHooks", name);
  let new = Hooks {
    make_functions: get("makeFunctions")?,
    to_big_int64: get("toBigInt64")?,
    to_list: get("toList")?,
    compile_error: get("CompileError")?,
    link_error: get("LinkError")?,
    runtime_error: get("RuntimeError")?,
  };
  let mut old =
    HOOKS.with(|main| SANDBOX_HOOKS.with(|sandboxes| install_hooks(main, sandboxes, new)));
  for r in [
    &mut old.make_functions,
    &mut old.to_big_int64,
    &mut old.to_list,
    &mut old.compile_error,
    &mut old.link_error,
    &mut old.runtime_error,
  ] {
    r.clear(&env);
  }
  Ok(())
}

fn hook(env: &Env, which: Hook) -> JsResult<sys::napi_value> {
  let pick = |h: &Hooks| {
    let r = match which {
      Hook::MakeFunctions => &h.make_functions,
      Hook::ToBigInt64 => &h.to_big_int64,
      Hook::ToList => &h.to_list,
      Hook::CompileError => &h.compile_error,
      Hook::LinkError => &h.link_error,
      Hook::RuntimeError => &h.runtime_error,
    };
    r.get(env)
  };
  // The hooks of the namespace entered now (sandbox.rs).
  let id = crate::api::sandbox::current_id();
  let value = if id == 0 {
    HOOKS.with(|h| pick(&h.borrow()))
  } else {
    SANDBOX_HOOKS.with(|h| h.borrow().get(&id).and_then(pick))
  };
  match value {
    Some(v) => Ok(v),
    None => Err(throw(env, "wasm-memory-rs: setHooks() was not called")),
  }
}

/// Throws a plain `Error` (internal failures only).
pub fn throw(env: &Env, msg: &str) -> Pending {
  let _ = crate::error::error(env, msg);
  Pending
}

/// Checks a Node-API status; a failure leaves an exception pending.
pub fn ok(env: &Env, status: sys::napi_status, call: &str) -> JsResult<()> {
  crate::error::check(env, status, call).map_err(|_| Pending)
}

/// Calls `f` with `this` undefined.
pub fn call(env: &Env, f: sys::napi_value, args: &[sys::napi_value]) -> JsResult<sys::napi_value> {
  let recv = undefined(env);
  let mut out = ptr::null_mut();
  // SAFETY: all handles are live in the current scope; `args` has
  // `args.len()` elements.
  let status =
    unsafe { sys::napi_call_function(env.raw(), recv, f, args.len(), args.as_ptr(), &mut out) };
  ok(env, status, "napi_call_function")?;
  Ok(out)
}

/// Calls a hook.
pub fn call_hook(env: &Env, which: Hook, args: &[sys::napi_value]) -> JsResult<sys::napi_value> {
  let f = hook(env, which)?;
  call(env, f, args)
}

/// Throws `new Class(message)` for one of the spec's error classes.
pub fn throw_class(env: &Env, which: Hook, message: &str) -> Pending {
  let result = (|| {
    let class = hook(env, which)?;
    let msg = string(env, message)?;
    let mut error = ptr::null_mut();
    // SAFETY: `class` is a live constructor handle, `msg` a live string.
    let status = unsafe { sys::napi_new_instance(env.raw(), class, 1, &msg, &mut error) };
    ok(env, status, "napi_new_instance")?;
    // SAFETY: `error` is a live handle.
    unsafe { sys::napi_throw(env.raw(), error) };
    Ok::<(), Pending>(())
  })();
  let _ = result;
  Pending
}

/// Converts `Err(Pending)` into the napi-rs error that tells it an
/// exception is already pending.
pub fn into_napi<T>(result: JsResult<T>) -> napi::Result<T> {
  result.map_err(|_| napi::Error::new(napi::Status::PendingException, "pending exception"))
}

pub fn undefined(env: &Env) -> sys::napi_value {
  let mut v = ptr::null_mut();
  // SAFETY: `env` is live.
  unsafe { sys::napi_get_undefined(env.raw(), &mut v) };
  v
}

pub fn null(env: &Env) -> sys::napi_value {
  let mut v = ptr::null_mut();
  // SAFETY: `env` is live.
  unsafe { sys::napi_get_null(env.raw(), &mut v) };
  v
}

pub fn string(env: &Env, s: &str) -> JsResult<sys::napi_value> {
  let mut v = ptr::null_mut();
  // SAFETY: `s` is valid UTF-8 of the given length.
  let status =
    unsafe { sys::napi_create_string_utf8(env.raw(), s.as_ptr().cast(), s.len() as isize, &mut v) };
  ok(env, status, "napi_create_string_utf8")?;
  Ok(v)
}

pub fn number(env: &Env, n: f64) -> JsResult<sys::napi_value> {
  let mut v = ptr::null_mut();
  // SAFETY: `env` is live.
  let status = unsafe { sys::napi_create_double(env.raw(), n, &mut v) };
  ok(env, status, "napi_create_double")?;
  Ok(v)
}

pub fn array(env: &Env, items: &[sys::napi_value]) -> JsResult<sys::napi_value> {
  let mut v = ptr::null_mut();
  // SAFETY: `env` is live.
  let status = unsafe { sys::napi_create_array_with_length(env.raw(), items.len(), &mut v) };
  ok(env, status, "napi_create_array_with_length")?;
  for (i, &item) in items.iter().enumerate() {
    // SAFETY: `v` and `item` are live handles.
    let status = unsafe { sys::napi_set_element(env.raw(), v, i as u32, item) };
    ok(env, status, "napi_set_element")?;
  }
  Ok(v)
}

/// The data pointer `value` was wrapped with, if it is a `kind` (object
/// or function) type-tagged with `tag`: only our own objects are, and each
/// is wrapped once, when made.
pub fn unwrap_tagged(
  env: &Env,
  value: sys::napi_value,
  kind: sys::napi_valuetype,
  tag: &sys::napi_type_tag,
) -> Option<std::ptr::NonNull<std::ffi::c_void>> {
  if type_of(env, value) != kind {
    return None;
  }
  let mut tagged = false;
  // SAFETY: `value` is a live object handle.
  unsafe { sys::napi_check_object_type_tag(env.raw(), value, tag, &mut tagged) };
  if !tagged {
    return None;
  }
  let mut data = ptr::null_mut();
  // SAFETY: as above; a tagged object was wrapped when it was tagged.
  let status = unsafe { sys::napi_unwrap(env.raw(), value, &mut data) };
  if status != sys::Status::napi_ok {
    return None;
  }
  std::ptr::NonNull::new(data)
}

/// `typeof value` as Node-API sees it.
pub fn type_of(env: &Env, value: sys::napi_value) -> sys::napi_valuetype {
  let mut t = sys::ValueType::napi_undefined;
  // SAFETY: `value` is a live handle.
  unsafe { sys::napi_typeof(env.raw(), value, &mut t) };
  t
}

/// The elements of a JS array.
pub fn elements(env: &Env, list: sys::napi_value) -> JsResult<Vec<sys::napi_value>> {
  let mut len = 0;
  // SAFETY: `list` is a live handle; Node-API checks that it is an array.
  let status = unsafe { sys::napi_get_array_length(env.raw(), list, &mut len) };
  ok(env, status, "napi_get_array_length")?;
  (0..len)
    .map(|i| {
      let mut v = ptr::null_mut();
      // SAFETY: `list` is a live array handle.
      let status = unsafe { sys::napi_get_element(env.raw(), list, i, &mut v) };
      ok(env, status, "napi_get_element").map(|()| v)
    })
    .collect()
}

/// Takes the pending exception (if any) off the env.
pub fn take_exception(env: &Env) -> Option<sys::napi_value> {
  let mut pending = false;
  // SAFETY: `env` is live.
  unsafe { sys::napi_is_exception_pending(env.raw(), &mut pending) };
  if !pending {
    return None;
  }
  let mut e = ptr::null_mut();
  // SAFETY: an exception is pending.
  unsafe { sys::napi_get_and_clear_last_exception(env.raw(), &mut e) };
  Some(e)
}

/// Throws `value` as is.
pub fn rethrow(env: &Env, value: sys::napi_value) -> Pending {
  // SAFETY: `value` is a live handle.
  unsafe { sys::napi_throw(env.raw(), value) };
  Pending
}

/// An RAII Node-API handle scope: host functions may run millions of times
/// inside one JS call, and each must free its handles.
pub struct Scope {
  env: sys::napi_env,
  scope: sys::napi_handle_scope,
}

impl Scope {
  pub fn open(env: &Env) -> Scope {
    let mut scope = ptr::null_mut();
    // SAFETY: `env` is live; the scope is closed in `drop`, in LIFO order.
    unsafe { sys::napi_open_handle_scope(env.raw(), &mut scope) };
    Scope {
      env: env.raw(),
      scope,
    }
  }
}

impl Drop for Scope {
  fn drop(&mut self) {
    if !self.scope.is_null() {
      // SAFETY: opened by `open` on this env and not yet closed.
      unsafe { sys::napi_close_handle_scope(self.env, self.scope) };
    }
  }
}

/// Throws a `TypeError`.
pub fn throw_type(env: &Env, msg: &str) -> Pending {
  let _ = type_error(env, msg);
  Pending
}

/// Throws a `RangeError`.
pub fn throw_range(env: &Env, msg: &str) -> Pending {
  let _ = crate::error::range_error(env, msg);
  Pending
}

/// The shape of `napi_wrap` and `napi_add_finalizer`.
pub type Attach = unsafe extern "C" fn(
  sys::napi_env,
  sys::napi_value,
  *mut std::ffi::c_void,
  sys::napi_finalize,
  *mut std::ffi::c_void,
  *mut sys::napi_ref,
) -> sys::napi_status;

/// Hands `data` to `object` with `attach`, to be dropped when `object` is
/// collected; drops it now if that fails.
///
/// # Safety
/// `data` must come from `Box::into_raw` and be owned by the caller.
pub unsafe fn tie<T>(
  env: &Env,
  object: sys::napi_value,
  data: *mut T,
  attach: Attach,
  call: &str,
) -> JsResult<()> {
  // SAFETY: `object` is a live handle; on success `drop_box::<T>` reclaims
  // `data` exactly once, when `object` is collected.
  let status = unsafe {
    attach(
      env.raw(),
      object,
      data.cast(),
      Some(drop_box::<T>),
      ptr::null_mut(),
      ptr::null_mut(),
    )
  };
  if status != sys::Status::napi_ok {
    // SAFETY: nothing took `data`: it is still ours (the caller's promise).
    drop(unsafe { Box::from_raw(data) });
    ok(env, status, call)?;
  }
  Ok(())
}

unsafe extern "C" fn drop_box<T>(
  _env: sys::napi_env,
  data: *mut std::ffi::c_void,
  _hint: *mut std::ffi::c_void,
) {
  // SAFETY: `data` came from `Box::into_raw(Box<T>)` (`tie`) and each
  // finalizer runs once.
  drop(unsafe { Box::from_raw(data.cast::<T>()) });
}
