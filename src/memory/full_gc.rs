//! A full garbage collection asked of V8 directly, for sweeps that must
//! know at once whether a buffer is still reachable (see reclaim.rs), in
//! processes started without `--expose-gc`.
//!
//! Node-API has no call for it. The JS way (a `gc` function made in a new
//! context while `--expose-gc` is briefly set) flips a process-wide flag under
//! concurrent workers, and making that context in a worker being terminated
//! fails in V8's bootstrapper, which prints to stderr. Toggling the flag
//! natively around `RequestGarbageCollectionForTesting` is as fast, but two
//! copies of this addon in one process could race on the flag, and that
//! call aborts the process when it finds the flag off. Node exports V8's
//! API for addons, so the isolate's `LowMemoryNotification` (at least two
//! full collections, needing no flag) is found by name. It costs about 1.5x
//! what `gc()` does in a loop that drops memories as fast as it makes them,
//! so a process that has `gc` already (`--expose-gc`) uses that instead.

use std::ffi::{c_void, CStr};
use std::sync::OnceLock;

/// `v8::Isolate* v8::Isolate::GetCurrent()` (a static member function).
type GetCurrent = unsafe extern "C" fn() -> *mut c_void;
/// `void v8::Isolate::LowMemoryNotification()`: under the Itanium C++ ABI a
/// non-virtual member function takes `this` as its first argument.
type LowMemoryNotification = unsafe extern "C" fn(*mut c_void);

struct V8 {
  get_current: GetCurrent,
  low_memory_notification: LowMemoryNotification,
}

static V8_API: OnceLock<Option<V8>> = OnceLock::new();

#[cfg(unix)]
fn find(name: &CStr) -> *mut c_void {
  // SAFETY: `name` is a NUL-terminated string; RTLD_DEFAULT searches the
  // objects already loaded (the node executable among them) and has no other
  // precondition.
  unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
}

#[cfg(not(unix))]
fn find(_name: &CStr) -> *mut c_void {
  std::ptr::null_mut()
}

fn v8_api() -> Option<&'static V8> {
  V8_API
    .get_or_init(|| {
      let get_current = find(c"_ZN2v87Isolate10GetCurrentEv");
      let low_memory = find(c"_ZN2v87Isolate21LowMemoryNotificationEv");
      if get_current.is_null() || low_memory.is_null() {
        return None;
      }
      // SAFETY: both symbols are V8's functions of the signatures above
      // (their mangled names encode the parameter lists; the return types
      // are V8's documented API, unchanged from Node 20 to 26).
      Some(unsafe {
        V8 {
          get_current: std::mem::transmute::<*mut c_void, GetCurrent>(get_current),
          low_memory_notification: std::mem::transmute::<*mut c_void, LowMemoryNotification>(
            low_memory,
          ),
        }
      })
    })
    .as_ref()
}

/// Runs a full garbage collection of the calling thread's isolate; false if
/// V8's API is not reachable (the caller then falls back to JS).
///
/// Must be called from a Node-API call on a JS thread, like the JS `gc()`.
pub fn collect() -> bool {
  let Some(v8) = v8_api() else {
    return false;
  };
  // SAFETY: a pointer-returning function with no arguments; on a JS thread
  // inside a Node-API call the isolate is entered, so it is that isolate.
  let isolate = unsafe { (v8.get_current)() };
  if isolate.is_null() {
    return false;
  }
  // SAFETY: `isolate` is the live, entered isolate of this thread, with no
  // handle of ours pinned outside a scope, exactly as when JS calls `gc()`.
  unsafe { (v8.low_memory_notification)(isolate) };
  true
}
