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

/// Checks that `value` (a Number from the JS shim, which converted it
/// already; never trusted) is a whole number in `0..=limit`: `TypeError`
/// otherwise, `RangeError` above the limit.
pub fn whole(env: &Env, what: &str, value: f64, limit: u64) -> napi::Result<u64> {
  if !value.is_finite() || value.fract() != 0.0 || value < 0.0 {
    return Err(type_error(
      env,
      format!("{what} must be a non-negative integer, got {value}"),
    ));
  }
  if value > limit as f64 {
    return Err(range_error(
      env,
      format!("{what}: value {value} is above the upper bound {limit}"),
    ));
  }
  Ok(value as u64)
}
