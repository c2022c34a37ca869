//! The WebAssembly text format, for tests and examples: `.wat` sources are
//! turned into binaries by the `wat` crate, never shipped as opaque bytes.

use napi::bindgen_prelude::Uint8Array;
use napi::Env;
use napi_derive::napi;

/// The binary of the module written in `text`.
///
/// # Errors
/// `SyntaxError`-like plain `Error` with the parser's message and position.
#[napi]
pub fn parse_wat(env: Env, text: String) -> napi::Result<Uint8Array> {
  wat::parse_str(&text)
    .map(Uint8Array::from)
    .map_err(|e| crate::error::error(&env, format!("parseWat: {e}")))
}
