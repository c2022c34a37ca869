//! Compiling wasm bytes into a wasmtime `Module` of an engine: the rewrites
//! we make before wasmtime sees them.

use wasmtime::{Engine, Module};

/// Compiles `bytes` for `engine`: data segments merged (data_init.rs)
/// where that pays, legacy exception handling rewritten (legacy.rs). An
/// invalid module is reported on its own bytes, not on a rewrite; the error
/// is wasmtime's reason.
pub fn compile(engine: &Engine, bytes: &[u8]) -> Result<Module, String> {
  let plain = |bytes: &[u8]| match crate::runtime::data_init::merge_data_segments(bytes) {
    Some(merged) => Module::new(engine, &merged).or_else(|_| Module::new(engine, bytes)),
    None => Module::new(engine, bytes),
  };
  match plain(bytes) {
    Ok(module) => Ok(module),
    Err(e) if crate::runtime::legacy::is_legacy_error(&format!("{e:#}")) => {
      let rewritten = crate::runtime::legacy::translate(bytes).map_err(|_| format!("{e:#}"))?;
      plain(&rewritten).map_err(|e| format!("{e:#}"))
    }
    Err(e) => Err(format!("{e:#}")),
  }
}
