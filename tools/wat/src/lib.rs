//! `parseWat(text)`: the binary of a module written in the WebAssembly text
//! format, by the `wat` crate. For tests and benchmarks only.

use napi::bindgen_prelude::Uint8Array;
use napi_derive::napi;

/// The binary of the module written in `text`.
///
/// # Errors
/// A plain `Error` with the parser's message and position.
#[napi]
pub fn parse_wat(text: String) -> napi::Result<Uint8Array> {
  wat::parse_str(&text)
    .map(Uint8Array::from)
    .map_err(|e| napi::Error::from_reason(format!("parseWat: {e}")))
}
