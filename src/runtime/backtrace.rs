//! Wasm frames in `Error.stack`, in V8's format, from wasmtime's
//! `WasmBacktrace`:
//! `    at <name> (wasm://wasm/<hash>:wasm-function[<index>]:0x<offset>)`,
//! or without ` (...)` around the location when the function has no name.
//!
//! - `<name>` is the name section's function name, prefixed with the
//!   module's name and a dot when the module has one (V8's
//!   `SerializeWasmStackFrame`); the URL is then `wasm://wasm/<module>-<hash>`.
//! - `<hash>` is V8's `GetWireBytesHash` up to V8 12 (Node 20 to 24): the
//!   string hash V8 gives the wire bytes read as a one-byte string (Jenkins'
//!   one-at-a-time with seed 0; for more than 16383 bytes, the length).
//!   Node 26's V8 hashes strings otherwise: there the hash differs.
//! - `<offset>` is the byte offset of the instruction in the module the
//!   user gave (for calls, of the call instruction). wasmtime's offsets are
//!   of the bytes it compiled, which data_init.rs and legacy.rs may have
//!   rewritten, so each frame is placed by its offset within its function
//!   from where that function's body starts in the original bytes.
//!
//! Traps get their frames from the backtrace wasmtime attaches to the
//! error; errors thrown by imports from one captured in the host call.
//! The shim (lib/frames.js) splices them into the JS stack where the
//! exported function's closure is.

use std::cell::RefCell;
use std::sync::Arc;

use napi::bindgen_prelude::Unknown;
use napi::{sys, Env, JsValue};
use napi_derive::napi;
use wasmparser::{Parser, Payload};
use wasmtime::{AsContext, Module, WasmBacktrace};

use crate::js::{self, JsResult};
use crate::memory::reclaim::Ref;
use crate::runtime::store::{Data, StoreCell};

/// What frames need of a module's original bytes.
#[derive(Debug, Default)]
pub struct ModuleFrames {
  /// V8's hash of the bytes (see the module docs).
  hash: u32,
  /// Where each defined function's body starts (after its size), by
  /// defined-function index.
  bodies: Box<[u32]>,
}

impl ModuleFrames {
  /// Reads `bytes` (already validated).
  pub fn new(bytes: &[u8]) -> Arc<Self> {
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
      match payload {
        Ok(Payload::CodeSectionEntry(body)) => bodies.push(body.range().start as u32),
        Ok(_) => {}
        Err(_) => break,
      }
    }
    Arc::new(Self {
      hash: wire_bytes_hash(bytes),
      bodies: bodies.into_boxed_slice(),
    })
  }
}

/// V8's `GetWireBytesHash` as Node 20 to 24 compute it: the hash field of
/// the bytes as a sequential one-byte string (`StringHasher`, seed 0).
fn wire_bytes_hash(bytes: &[u8]) -> u32 {
  /// `String::kMaxHashCalcLength`: longer strings hash to their length.
  const MAX_HASH_CALC_LENGTH: usize = 16383;
  let hash = if bytes.len() > MAX_HASH_CALC_LENGTH {
    bytes.len() as u32
  } else {
    let mut h: u32 = 0;
    for &b in bytes {
      h = h.wrapping_add(u32::from(b));
      h = h.wrapping_add(h << 10);
      h ^= h >> 6;
    }
    h = h.wrapping_add(h << 3);
    h ^= h >> 11;
    h = h.wrapping_add(h << 15);
    // 30 hash bits; a zero hash is `kZeroHash` (27).
    match h & 0x3fff_ffff {
      0 => 27,
      h => h,
    }
  };
  // The hash field: the hash over two flag bits ("not an integer index").
  (hash << 2) | 2
}

/// The modules instantiated in one store, for its frames.
#[derive(Default)]
pub struct Modules(Vec<(Module, Arc<ModuleFrames>)>);

/// Remembers `module`'s frame data in `data`'s store (before its start
/// function runs, whose traps have frames too).
pub fn register(data: &mut Data, module: &Module, frames: &Arc<ModuleFrames>) {
  let list = &mut data.modules.0;
  if !list.iter().any(|(m, _)| Module::same(m, module)) {
    list.push((module.clone(), frames.clone()));
  }
}

/// The frames of `trace`, innermost first, as V8 prints them.
fn lines(modules: &Modules, trace: &WasmBacktrace) -> Vec<String> {
  trace
    .frames()
    .iter()
    .map(|frame| {
      let module = frame.module();
      let info = modules
        .0
        .iter()
        .find(|(m, _)| Module::same(m, module))
        .map(|(_, f)| &**f);
      let hash = info.map_or(0, |f| f.hash);
      let index = frame.func_index();
      // Defined functions come after the imported ones.
      let imported = module
        .imports()
        .filter(|i| matches!(i.ty(), wasmtime::ExternType::Func(_)))
        .count() as u32;
      // A trap in a function's prologue (the stack-overflow check) has no
      // offset of its own: V8 names the function's start there.
      let offset = info
        .and_then(|f| f.bodies.get(index.checked_sub(imported)? as usize))
        .map(|&start| start as usize + frame.func_offset().unwrap_or(0))
        .or(frame.module_offset())
        .unwrap_or(0);
      let url = match module.name() {
        Some(m) => format!("wasm://wasm/{m}-{hash:08x}"),
        None => format!("wasm://wasm/{hash:08x}"),
      };
      let location = format!("{url}:wasm-function[{index}]:0x{offset:x}");
      let name = match (module.name(), frame.func_name()) {
        (Some(m), Some(f)) => Some(format!("{m}.{f}")),
        (Some(m), None) => Some(m.to_owned()),
        (None, Some(f)) => Some(f.to_owned()),
        (None, None) => None,
      };
      match name {
        Some(name) => format!("    at {name} ({location})"),
        None => format!("    at {location}"),
      }
    })
    .collect()
}

/// The frames a failed call's error carries (a trap's), as V8 prints them.
pub fn of_error(cell: &StoreCell, e: &wasmtime::Error) -> Vec<String> {
  let Some(trace) = e.downcast_ref::<WasmBacktrace>() else {
    return Vec::new();
  };
  cell
    .with(|ctx| lines(&ctx.data().modules, trace))
    .unwrap_or_default()
}

/// `frames` as a JS array of strings.
pub fn to_js(env: &Env, frames: &[String]) -> JsResult<sys::napi_value> {
  let items = frames
    .iter()
    .map(|s| js::string(env, s))
    .collect::<JsResult<Vec<_>>>()?;
  js::array(env, &items)
}

thread_local! {
  /// `(error, frames) => void`: splices an import's error's stack.
  static ANNOTATE: RefCell<Ref> = const { RefCell::new(Ref::none()) };
}

/// Hands the native side the shim's `(error, frames) => void`, which adds
/// the wasm frames to the stack of an error an import threw.
///
/// # Errors
/// `TypeError` if `annotate` is not a function.
#[napi]
pub fn set_frames_hook(env: Env, annotate: Unknown<'_>) -> napi::Result<()> {
  if annotate.get_type()? != napi::ValueType::Function {
    return Err(crate::error::type_error(
      &env,
      "setFramesHook: not a function",
    ));
  }
  let new = Ref::new(&env, annotate.raw(), true)?;
  let mut old = ANNOTATE.with(|h| h.replace(new));
  old.clear(&env);
  Ok(())
}

/// Adds the wasm frames on the stack now (an import of `cell`'s store is
/// running) to `thrown`, the value the import threw, if it is an object.
/// Best effort: nothing is thrown from here.
pub fn annotate(env: &Env, cell: &StoreCell, thrown: sys::napi_value) {
  if js::type_of(env, thrown) != sys::ValueType::napi_object {
    return;
  }
  let Some(hook) = ANNOTATE.with(|h| h.borrow().get(env)) else {
    return;
  };
  let frames = cell
    .with(|ctx| {
      let trace = WasmBacktrace::capture(ctx.as_context());
      lines(&ctx.data().modules, &trace)
    })
    .unwrap_or_default();
  if frames.is_empty() {
    return;
  }
  if to_js(env, &frames)
    .and_then(|list| js::call(env, hook, &[thrown, list]))
    .is_err()
  {
    js::take_exception(env);
  }
}
