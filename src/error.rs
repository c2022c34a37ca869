//! Turning failures into the JS errors the spec names.
//!
//! napi-rs throws plain `Error`s; the spec wants `TypeError` and `RangeError`.
//! Each helper throws the right class on the env and returns the
//! `PendingException` error that tells napi-rs not to throw again.

use napi::{Env, Error, Status};

fn pending() -> Error {
  Error::new(Status::PendingException, "pending exception".to_owned())
}

/// Throws a `TypeError` with `msg`.
pub fn type_error(env: &Env, msg: impl AsRef<str>) -> Error {
  match env.throw_type_error(msg.as_ref(), None) {
    Ok(()) => pending(),
    Err(e) => e,
  }
}

/// Throws a `RangeError` with `msg`.
pub fn range_error(env: &Env, msg: impl AsRef<str>) -> Error {
  match env.throw_range_error(msg.as_ref(), None) {
    Ok(()) => pending(),
    Err(e) => e,
  }
}

/// Throws a plain `Error` with `msg` (a Node-API call failed unexpectedly).
pub fn error(env: &Env, msg: impl AsRef<str>) -> Error {
  match env.throw_error(msg.as_ref(), None) {
    Ok(()) => pending(),
    Err(e) => e,
  }
}

/// Checks a raw Node-API status, naming the call that failed.
pub fn check(env: &Env, status: napi::sys::napi_status, call: &str) -> napi::Result<()> {
  if status == napi::sys::Status::napi_ok {
    Ok(())
  } else {
    let mut pending = false;
    // SAFETY: `env` is the live env of the current call.
    unsafe { napi::sys::napi_is_exception_pending(env.raw(), &mut pending) };
    if pending {
      Err(self::pending())
    } else {
      Err(error(env, format!("{call} failed with status {status}")))
    }
  }
}
