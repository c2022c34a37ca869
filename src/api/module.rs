//! `WebAssembly.Module`: compiled code, and what the JS API reflects of it
//! (imports, exports, custom sections).

use napi::bindgen_prelude::{AsyncTask, Either, Uint8Array, Unknown};
use napi::Task;
use napi::{sys, Env};
use napi_derive::napi;
use wasmparser::{Parser, Payload, TypeRef};
use wasmtime::{ExternType, Module};

use std::sync::Arc;

use crate::js::{self, Hook};
use crate::runtime::tiering::{self, Tiers};
use crate::runtime::timing::{time, Phase};

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
  /// What wasm frames in `Error.stack` need of the bytes (backtrace.rs).
  pub(crate) frames: Arc<crate::runtime::backtrace::ModuleFrames>,
  /// The code in Winch's and Cranelift's tiers, for modules of the main
  /// engine (tiering.rs); `None`: `module` is the only code.
  pub(crate) tiers: Option<Arc<Tiers>>,
}

/// The JS API's limit on a module's size ("Limits": 1 GiB), which V8
/// enforces and wasmtime does not.
const MAX_MODULE_SIZE: usize = 1 << 30;

/// Compiles (or loads from the cache: cache.rs) and reads `bytes`; the
/// error is wasmtime's reason.
fn compile(engine: &wasmtime::Engine, bytes: &[u8]) -> Result<NativeModule, String> {
  if bytes.len() > MAX_MODULE_SIZE {
    return Err(format!(
      "buffer source exceeds maximum size of {MAX_MODULE_SIZE} (is {})",
      bytes.len()
    ));
  }
  if let Some(offset) = unsupported_shared_memory(bytes) {
    return Err(shared_memory_reason(offset));
  }
  let (module, tiers) = code(engine, bytes)?;
  let mut native = time(Phase::Read, || read(module, bytes));
  native.tiers = tiers;
  Ok(native)
}

/// The code of `bytes`: the cache's, Winch's while Cranelift works in the
/// background (tiering.rs), or Cranelift's compiled now; and the module's
/// tiers, where modules of `engine` have them.
fn code(engine: &wasmtime::Engine, bytes: &[u8]) -> Result<(Module, Option<Arc<Tiers>>), String> {
  use crate::runtime::cache::{self, Lookup};
  let tiered = tiering::applies(engine);
  let slot = match cache::lookup(engine, bytes) {
    Lookup::Hit(module) => {
      let tiers = tiered.then(|| Tiers::optimized(bytes, module.clone(), true));
      return Ok((module, tiers));
    }
    Lookup::Miss(slot) => slot,
  };
  if tiered && tiering::baseline_first(bytes.len(), slot.is_some()) {
    if let Some(baseline) = time(Phase::Compile, || tiering::compile_baseline(bytes)) {
      let tiers = Tiers::start(bytes, baseline.clone(), move |module, bytes| {
        if let Some(slot) = &slot {
          cache::fill(slot, module, bytes);
        }
      });
      return Ok((baseline, Some(tiers)));
    }
  }
  let module = time(Phase::Compile, || {
    crate::runtime::compile::compile(engine, bytes)
  })?;
  if let Some(slot) = &slot {
    cache::fill(slot, &module, bytes);
  }
  let tiers = tiered.then(|| Tiers::optimized(bytes, module.clone(), false));
  Ok((module, tiers))
}

/// The native module of `module`, compiled from `bytes`: what wasmtime does
/// not expose, read from the bytes.
fn read(module: Module, bytes: &[u8]) -> NativeModule {
  let mut export_indices = Vec::new();
  let mut custom_sections = Vec::new();
  // wasmtime validated the bytes; this pass reads what it does not expose.
  for payload in Parser::new(0).parse_all(bytes) {
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
  NativeModule {
    module,
    export_indices,
    custom_sections,
    frames: crate::runtime::backtrace::ModuleFrames::new(bytes),
    tiers: None,
  }
}

/// Compiles `bytes` (the caller's copy of the buffer source).
///
/// # Errors
/// `CompileError` with wasmtime's reason if the bytes are not a valid
/// module (or use a feature this build lacks).
#[napi]
pub fn compile_module(env: Env, bytes: Uint8Array) -> napi::Result<NativeModule> {
  let engine = time(Phase::Engine, crate::api::sandbox::current_engine)
    .map_err(|e| crate::error::error(&env, e))?;
  compile(engine, &bytes).map_err(|e| {
    let _ = js::throw_class(
      &env,
      Hook::CompileError,
      &format!("WebAssembly.Module(): {e}"),
    );
    pending()
  })
}

/// Compilation on a libuv worker thread, for `compile` and `instantiate`:
/// Cranelift may take long on big modules, and the event loop goes on.
pub struct CompileTask {
  bytes: Vec<u8>,
  /// The engine of the namespace that asked (sandbox.rs).
  engine: Result<&'static wasmtime::Engine, String>,
}

impl Task for CompileTask {
  type Output = Result<NativeModule, String>;
  /// The module, or wasmtime's reason (the shim throws the CompileError:
  /// this runs where no exception of ours can be made into a rejection).
  type JsValue = Either<NativeModule, String>;

  fn compute(&mut self) -> napi::Result<Self::Output> {
    Ok(
      self
        .engine
        .clone()
        .and_then(|engine| compile(engine, &self.bytes)),
    )
  }

  fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
    Ok(match output {
      Ok(module) => Either::A(module),
      Err(reason) => Either::B(reason),
    })
  }
}

/// Compiles `bytes` off the main thread; resolves to the module or to
/// wasmtime's reason for refusing it.
#[napi(ts_return_type = "Promise<NativeModule | string>")]
pub fn compile_module_async(bytes: Uint8Array) -> AsyncTask<CompileTask> {
  AsyncTask::new(CompileTask {
    bytes: bytes.to_vec(),
    engine: time(Phase::Engine, crate::api::sandbox::current_engine),
  })
}

fn pending() -> napi::Error {
  napi::Error::new(napi::Status::PendingException, "pending exception")
}

/// The offset of the first shared memory `bytes` define or import, where
/// this Node cannot give a shared memory its SharedArrayBuffer (Node-API
/// lacks `node_api_create_external_sharedarraybuffer`). Such a module could
/// never be linked or export its memory, so it is refused when compiled and
/// `validate` says no: feature detection (a `validate` probe) then picks a
/// build without threads, as it must.
fn unsupported_shared_memory(bytes: &[u8]) -> Option<usize> {
  if crate::memory::buffer::shared_supported() {
    return None;
  }
  for payload in Parser::new(0).parse_all(bytes) {
    match payload {
      Ok(Payload::ImportSection(reader)) => {
        for (offset, import) in reader.into_imports_with_offsets().flatten() {
          if matches!(import.ty, TypeRef::Memory(ty) if ty.shared) {
            return Some(offset);
          }
        }
      }
      Ok(Payload::MemorySection(reader)) => {
        for (offset, ty) in reader.into_iter_with_offsets().flatten() {
          if ty.shared {
            return Some(offset);
          }
        }
      }
      // Memories come before code: nothing further can declare one.
      Ok(Payload::CodeSectionStart { .. }) | Err(_) => return None,
      Ok(_) => {}
    }
  }
  None
}

/// Why a module with a shared memory is refused (V8's wording for a memory
/// it cannot make, with the position as V8 gives it).
fn shared_memory_reason(offset: usize) -> String {
  format!(
    "shared memory is not supported by this Node.js: it cannot make a SharedArrayBuffer over \
     wasm memory (node_api_create_external_sharedarraybuffer: Node 22.23+, 24.21+) @+{offset}"
  )
}

/// True if `bytes` are a valid module for this build.
#[napi]
pub fn validate_module(bytes: Uint8Array) -> bool {
  let Ok(engine) = crate::runtime::engine::engine() else {
    return false;
  };
  if bytes.len() > MAX_MODULE_SIZE || unsupported_shared_memory(&bytes).is_some() {
    return false;
  }
  match Module::validate(engine, &bytes) {
    Ok(()) => true,
    Err(e) if crate::runtime::legacy::is_legacy_error(&format!("{e:#}")) => {
      crate::runtime::legacy::translate(&bytes)
        .is_ok_and(|rewritten| Module::validate(engine, &rewritten).is_ok())
    }
    Err(_) => false,
  }
}

impl NativeModule {
  /// Another native module of the same compiled code (for transfer.rs:
  /// everything here may cross threads).
  pub(crate) fn duplicate(&self) -> NativeModule {
    NativeModule {
      module: self.module.clone(),
      export_indices: self.export_indices.clone(),
      custom_sections: self.custom_sections.clone(),
      frames: self.frames.clone(),
      tiers: self.tiers.clone(),
    }
  }
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
