//! `WebAssembly.Module`: compiled code, and what the JS API reflects of it
//! (imports, exports, custom sections).

use napi::bindgen_prelude::{Uint8Array, Unknown};
use napi::{sys, Env};
use napi_derive::napi;
use wasmparser::{Parser, Payload};
use wasmtime::{ExternType, Module};

use crate::js::{self, Hook};

/// The spec's kind string of an import or export.
pub fn kind_name(ty: &ExternType) -> &'static str {
  match ty {
    ExternType::Func(_) => "function",
    ExternType::Table(_) => "table",
    ExternType::Memory(_) => "memory",
    ExternType::Global(_) => "global",
    ExternType::Tag(_) => "tag",
  }
}

/// The native side of one `WebAssembly.Module`.
#[napi]
pub struct NativeModule {
  pub(crate) module: Module,
  /// Each export's index in its kind's index space, in export order.
  pub(crate) export_indices: Vec<u32>,
  custom_sections: Vec<(String, Vec<u8>)>,
}

/// Compiles `bytes` (the caller's copy of the buffer source).
///
/// # Errors
/// `CompileError` with wasmtime's reason if the bytes are not a valid
/// module (or use a feature this build lacks).
#[napi]
pub fn compile_module(env: Env, bytes: Uint8Array) -> napi::Result<NativeModule> {
  let engine = crate::engine::engine().map_err(|e| crate::error::error(&env, e))?;
  let module = Module::new(engine, &*bytes).map_err(|e| {
    let _ = js::throw_class(
      &env,
      Hook::CompileError,
      &format!("WebAssembly.Module(): {e:#}"),
    );
    pending()
  })?;
  let mut export_indices = Vec::new();
  let mut custom_sections = Vec::new();
  // wasmtime validated the bytes; this pass reads what it does not expose.
  for payload in Parser::new(0).parse_all(&bytes) {
    match payload {
      Ok(Payload::ExportSection(reader)) => {
        for export in reader.into_iter().flatten() {
          export_indices.push(export.index);
        }
      }
      Ok(Payload::CustomSection(reader)) => {
        custom_sections.push((reader.name().to_owned(), reader.data().to_vec()));
      }
      Ok(_) => {}
      Err(_) => break,
    }
  }
  Ok(NativeModule {
    module,
    export_indices,
    custom_sections,
  })
}

fn pending() -> napi::Error {
  napi::Error::new(napi::Status::PendingException, "pending exception")
}

/// True if `bytes` are a valid module for this build.
#[napi]
pub fn validate_module(bytes: Uint8Array) -> bool {
  crate::engine::engine().is_ok_and(|engine| Module::validate(engine, &bytes).is_ok())
}

#[napi]
impl NativeModule {
  /// `[module, name, kind]` for each import, in order.
  #[napi]
  pub fn imports(&self) -> Vec<Vec<String>> {
    self
      .module
      .imports()
      .map(|i| {
        vec![
          i.module().to_owned(),
          i.name().to_owned(),
          kind_name(&i.ty()).to_owned(),
        ]
      })
      .collect()
  }

  /// `[name, kind]` for each export, in order.
  #[napi]
  pub fn exports(&self) -> Vec<Vec<String>> {
    self
      .module
      .exports()
      .map(|e| vec![e.name().to_owned(), kind_name(&e.ty()).to_owned()])
      .collect()
  }

  /// New ArrayBuffers holding copies of the custom sections named `name`.
  #[napi]
  pub fn custom_sections<'env>(&self, env: &'env Env, name: String) -> napi::Result<Unknown<'env>> {
    let buffers = self
      .custom_sections
      .iter()
      .filter(|(n, _)| *n == name)
      .map(|(_, data)| {
        let mut out = std::ptr::null_mut();
        let mut bytes = std::ptr::null_mut();
        // SAFETY: Node-API allocates `data.len()` bytes at `bytes`.
        let status =
          unsafe { sys::napi_create_arraybuffer(env.raw(), data.len(), &mut bytes, &mut out) };
        js::ok(env, status, "napi_create_arraybuffer")?;
        if !data.is_empty() {
          // SAFETY: `bytes` has room for `data.len()` bytes; no overlap.
          unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), bytes.cast::<u8>(), data.len()) };
        }
        Ok(out)
      })
      .collect::<js::JsResult<Vec<_>>>();
    let list = js::into_napi(buffers.and_then(|b| js::array(env, &b)))?;
    // SAFETY: `list` is a live handle of this call's scope.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), list) })
  }
}
