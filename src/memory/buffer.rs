//! JS buffers over a linear memory: external `ArrayBuffer`s for ordinary
//! memories, external `SharedArrayBuffer`s for shared ones.
//!
//! Every buffer's finalizer holds an `Arc<Mapping>`, so the bytes outlive the
//! buffer whatever happens to the memory or its store.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use napi::{sys, Env};

use crate::error::{check, error, range_error};
use crate::memory::mapping::Mapping;

/// The longest buffer this Node can create (`buffer.constants.MAX_LENGTH`,
/// set by index.js; 4 GiB, Node 20's, until then). Past it Node fails, after
/// calling the finalizer itself, so we must never ask.
static MAX_LENGTH: AtomicUsize = AtomicUsize::new(1 << 32);

/// Records the longest buffer this Node can create.
pub fn set_max_length(bytes: usize) {
  MAX_LENGTH.store(bytes, Ordering::Relaxed);
}

/// A RangeError unless `len` bytes fit in one buffer on this Node.
fn check_length(env: &Env, len: usize) -> napi::Result<()> {
  let max = MAX_LENGTH.load(Ordering::Relaxed);
  if len > max {
    return Err(range_error(
      env,
      format!(
        "WebAssembly.Memory.buffer: the memory's {len} bytes exceed the largest \
         ArrayBuffer this Node.js can create ({max} bytes)"
      ),
    ));
  }
  Ok(())
}

/// Cleans up after a failed buffer creation. Node calls the finalizer itself
/// on some failures (a buffer too long) and not on others, so `hint` is
/// freed only where Node certainly did not take it, and leaked otherwise: a
/// small leak on a path `check_length` keeps us off, never a double free.
fn forget_hint(status: sys::napi_status, hint: *mut Arc<Mapping>) {
  if status == sys::Status::napi_no_external_buffers_allowed {
    // SAFETY: Node refused before creating anything and took no ownership.
    drop(unsafe { Box::from_raw(hint) });
  }
}

/// Makes an external buffer over the first `len` bytes of `mapping` with
/// `create(data, hint, result)`, a Node-API call whose finalizer drops the
/// `Box<Arc<Mapping>>` passed as `hint`.
fn external(
  env: &Env,
  mapping: &Arc<Mapping>,
  len: usize,
  call: &str,
  create: impl FnOnce(*mut c_void, *mut c_void, *mut sys::napi_value) -> sys::napi_status,
) -> napi::Result<sys::napi_value> {
  assert!(len <= mapping.accessible());
  check_length(env, len)?;
  let hint = Box::into_raw(Box::new(mapping.clone()));
  let mut value = ptr::null_mut();
  let status = create(mapping.base().cast(), hint.cast(), &mut value);
  if status != sys::Status::napi_ok {
    forget_hint(status, hint);
    if status == sys::Status::napi_no_external_buffers_allowed {
      return Err(error(
        env,
        "this runtime forbids external ArrayBuffers, so wasm memory cannot be \
         exposed without copying (and a copy would not alias the memory)",
      ));
    }
    check(env, status, call)?;
  }
  Ok(value)
}

/// Drops the `Box<Arc<Mapping>>` that `external` leaked as a finalizer hint.
///
/// # Safety
/// `hint` came from `external` and is dropped once.
unsafe fn drop_hint(hint: *mut c_void) {
  // SAFETY: the caller's contract.
  drop(unsafe { Box::from_raw(hint.cast::<Arc<Mapping>>()) });
}

/// Runs on the JS thread when V8 has freed an external ArrayBuffer.
unsafe extern "C" fn finalize_buffer(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
  // SAFETY: Node calls each finalizer exactly once, with our hint.
  unsafe { drop_hint(hint) };
}

/// Makes an external ArrayBuffer over the first `len` bytes of `mapping`.
///
/// # Errors
/// Fails (with a plain `Error`) where the runtime forbids external buffers:
/// a copy would not alias the memory, so we do not fall back to one.
pub fn new_array_buffer(
  env: &Env,
  mapping: &Arc<Mapping>,
  len: usize,
) -> napi::Result<sys::napi_value> {
  external(
    env,
    mapping,
    len,
    "napi_create_external_arraybuffer",
    |data, hint, result| {
      // SAFETY: `data` is valid for `len` bytes (len <= accessible) for as
      // long as the Arc in `hint` lives, which the finalizer drops only when V8
      // has freed the buffer. `data` is never null, so Node does not detach
      // the buffer at once.
      unsafe {
        sys::napi_create_external_arraybuffer(
          env.raw(),
          data,
          len,
          Some(finalize_buffer),
          hint,
          result,
        )
      }
    },
  )
}

/// True if `value` (an ArrayBuffer) has been detached.
pub fn is_detached(env: &Env, value: sys::napi_value) -> bool {
  let mut detached = false;
  // SAFETY: `value` is a live ArrayBuffer handle of the current scope.
  unsafe { sys::napi_is_detached_arraybuffer(env.raw(), value, &mut detached) };
  detached
}

/// Detaches `value`, an external ArrayBuffer we made.
///
/// # Errors
/// Fails if Node-API refuses.
pub fn detach(env: &Env, value: sys::napi_value) -> napi::Result<()> {
  // SAFETY: `value` is a live ArrayBuffer handle of the current scope.
  let status = unsafe { sys::napi_detach_arraybuffer(env.raw(), value) };
  check(env, status, "napi_detach_arraybuffer")
}

/// `node_api_create_external_sharedarraybuffer` (experimental Node-API,
/// exported by Node 22.23+ and 24.21+; not declared by napi-sys).
type CreateExternalSab = unsafe extern "C" fn(
  env: sys::napi_env,
  data: *mut c_void,
  byte_length: usize,
  finalize_cb: Option<unsafe extern "C" fn(data: *mut c_void, hint: *mut c_void)>,
  finalize_hint: *mut c_void,
  result: *mut sys::napi_value,
) -> sys::napi_status;

fn create_external_sab() -> Option<CreateExternalSab> {
  static FUNCTION: OnceLock<Option<CreateExternalSab>> = OnceLock::new();
  *FUNCTION.get_or_init(|| {
    // SAFETY: the name is NUL-terminated; RTLD_DEFAULT searches the global
    // symbols of the process, where node exports its Node-API.
    let symbol = unsafe {
      libc::dlsym(
        libc::RTLD_DEFAULT,
        c"node_api_create_external_sharedarraybuffer".as_ptr(),
      )
    };
    // SAFETY: this symbol has exactly the signature of `CreateExternalSab`
    // (node_api.h, NAPI_EXPERIMENTAL).
    (!symbol.is_null())
      .then(|| unsafe { std::mem::transmute::<*mut c_void, CreateExternalSab>(symbol) })
  })
}

/// True if this Node can make a SharedArrayBuffer over native memory.
pub fn shared_supported() -> bool {
  create_external_sab().is_some()
}

/// Runs on whatever thread drops the last reference to a SharedArrayBuffer's
/// bytes (workers may hold them): it only drops an `Arc`.
unsafe extern "C" fn finalize_shared(_data: *mut c_void, hint: *mut c_void) {
  // SAFETY: V8 calls the deleter exactly once, with our hint; an
  // `Arc<Mapping>` may be dropped on any thread.
  unsafe { drop_hint(hint) };
}

/// Makes an external SharedArrayBuffer over the first `len` bytes of
/// `mapping`.
///
/// # Errors
/// `Error` if this Node has no such Node-API, or it fails.
pub fn new_shared_array_buffer(
  env: &Env,
  mapping: &Arc<Mapping>,
  len: usize,
) -> napi::Result<sys::napi_value> {
  let Some(create) = create_external_sab() else {
    return Err(error(
      env,
      "this Node cannot create a SharedArrayBuffer over native memory",
    ));
  };
  external(
    env,
    mapping,
    len,
    "node_api_create_external_sharedarraybuffer",
    |data, hint, result| {
      // SAFETY: as for `new_array_buffer`.
      unsafe { create(env.raw(), data, len, Some(finalize_shared), hint, result) }
    },
  )
}
