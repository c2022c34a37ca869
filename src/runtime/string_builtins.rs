//! JS string builtins (`wasm:js-string`, the JS String Builtins proposal):
//! the import types a module compiled with `builtins: ['js-string']` must
//! use (and `importedStringConstants`' globals), checked when it is
//! compiled, and the `(array (mut i16))` access that `fromCharCodeArray`
//! and `intoCharCodeArray` need. The builtins themselves are JS functions
//! (lib/string-builtins.js) linked in place of the imports: wasmtime 48
//! has no native JS strings.

use napi::bindgen_prelude::Unknown;
use napi::{Env, JsValue};
use napi_derive::napi;
use wasmtime::{
  ArrayType, Engine, ExternType, FieldType, FuncType, HeapType, Mutability, RefType, StorageType,
  Val, ValType,
};

use crate::api::module::NativeModule;

/// The module name of the JS string builtins.
const JS_STRING: &str = "wasm:js-string";

/// The type of builtin `name` of `wasm:js-string`, if there is one.
fn builtin_type(engine: &Engine, name: &str) -> Option<FuncType> {
  let ext = || ValType::EXTERNREF;
  let string = || ValType::Ref(RefType::new(false, HeapType::Extern));
  let i32 = || ValType::I32;
  let array = || {
    let ty = ArrayType::new(engine, FieldType::new(Mutability::Var, StorageType::I16));
    ValType::Ref(RefType::new(true, HeapType::ConcreteArray(ty)))
  };
  let (params, results): (Vec<ValType>, Vec<ValType>) = match name {
    "cast" => (vec![ext()], vec![string()]),
    "test" => (vec![ext()], vec![i32()]),
    "fromCharCodeArray" => (vec![array(), i32(), i32()], vec![string()]),
    "intoCharCodeArray" => (vec![ext(), array(), i32()], vec![i32()]),
    "fromCharCode" => (vec![i32()], vec![string()]),
    "fromCodePoint" => (vec![i32()], vec![string()]),
    "charCodeAt" => (vec![ext(), i32()], vec![i32()]),
    "codePointAt" => (vec![ext(), i32()], vec![i32()]),
    "length" => (vec![ext()], vec![i32()]),
    "concat" => (vec![ext(), ext()], vec![string()]),
    "substring" => (vec![ext(), i32(), i32()], vec![string()]),
    "equals" => (vec![ext(), ext()], vec![i32()]),
    "compare" => (vec![ext(), ext()], vec![i32()]),
    _ => return None,
  };
  Some(FuncType::new(engine, params, results))
}

/// Checks `module`'s builtin imports ("validate builtins and imported
/// strings"): each `wasm:js-string` import that names a builtin must be a
/// function of the builtin's type, and each import of module `constants`
/// an immutable global of an externref type. Returns V8's
/// message for the first that is not (a `CompileError`), else null; also
/// the indexes of the imports these options provide (hidden from
/// `Module.imports`), as `[message, indexes]`. With `exact` (Node 26's V8)
/// a builtin's type must be the builtin's very type, recursion group
/// included (wasmtime's canonical type); else parameters and results are
/// compared one by one (Node 22's and 24's).
#[napi]
pub fn check_builtin_imports(
  module: &NativeModule,
  js_string: bool,
  constants: Option<String>,
  exact: Option<bool>,
) -> (Option<String>, Vec<u32>) {
  let exact = exact.unwrap_or(false);
  let engine = module.module.engine();
  let mut provided = Vec::new();
  for (index, import) in module.module.imports().enumerate() {
    if js_string && import.module() == JS_STRING {
      // (V8 leaves imports of other kinds, and other names, to the user.)
      let builtin = builtin_type(engine, import.name());
      if let (Some(builtin), ExternType::Func(ty)) = (builtin, import.ty()) {
        // V8 wants the builtin's very type (not a supertype of it).
        let fits = if exact {
          FuncType::eq(&builtin, &ty)
        } else {
          same_type(&builtin, &ty)
        };
        if !fits {
          let message = format!(
            "Imported builtin function \"{JS_STRING}\" \"{}\" has incorrect signature",
            import.name()
          );
          return (Some(message), Vec::new());
        }
        provided.push(index as u32);
        continue;
      }
    }
    if constants.as_deref() == Some(import.module()) {
      let fits = matches!(import.ty(), ExternType::Global(ty)
        if ty.mutability() == Mutability::Const
          && matches!(ty.content(), ValType::Ref(r) if r.heap_type().is_extern()));
      if !fits {
        let message = format!(
          "String constant import #{index} \"{}\" must be an immutable global subtyping externref",
          import.name()
        );
        return (Some(message), Vec::new());
      }
      provided.push(index as u32);
    }
  }
  (None, provided)
}

/// The char codes of `array` (an `(array (mut i16))` reaching JS as a GC
/// object) from `start` to `end`, or null where `fromCharCodeArray` traps
/// (not such an array, or the range not inside it).
#[napi]
pub fn char_codes_of(env: Env, array: Unknown, start: u32, end: u32) -> Option<Vec<u32>> {
  let (cell, root) = crate::runtime::gc::object_of(&env, array.raw())?;
  cell
    .with(|ctx| -> Option<Vec<u32>> {
      let any = root.to_rooted(&mut *ctx);
      let array = any.as_array(&*ctx).ok()??;
      let ty = array.ty(&*ctx).ok()?;
      if !matches!(ty.field_type().element_type(), StorageType::I16) {
        return None;
      }
      let len = array.len(&*ctx).ok()?;
      if start > end || end > len {
        return None;
      }
      (start..end)
        .map(|i| match array.get(&mut *ctx, i) {
          Ok(Val::I32(code)) => Some(code as u32 & 0xffff),
          _ => None,
        })
        .collect()
    })
    .ok()?
}

/// Writes `codes` into `array` from `start` (`intoCharCodeArray`); false
/// where it traps (not an `(array (mut i16))`, or the codes do not fit).
#[napi]
pub fn set_char_codes(env: Env, array: Unknown, start: u32, codes: Vec<u32>) -> bool {
  let Some((cell, root)) = crate::runtime::gc::object_of(&env, array.raw()) else {
    return false;
  };
  cell
    .with(|ctx| -> Option<()> {
      let any = root.to_rooted(&mut *ctx);
      let array = any.as_array(&*ctx).ok()??;
      let ty = array.ty(&*ctx).ok()?;
      if !matches!(ty.field_type().element_type(), StorageType::I16) {
        return None;
      }
      let len = u64::from(array.len(&*ctx).ok()?);
      if u64::from(start) + codes.len() as u64 > len {
        return None;
      }
      for (i, &code) in codes.iter().enumerate() {
        array
          .set(&mut *ctx, start + i as u32, Val::I32(code as i32))
          .ok()?;
      }
      Some(())
    })
    .ok()
    .flatten()
    .is_some()
}

/// Whether two function types are the same (parameter for parameter).
fn same_type(a: &FuncType, b: &FuncType) -> bool {
  a.params().len() == b.params().len()
    && a.results().len() == b.results().len()
    && a.params().zip(b.params()).all(|(x, y)| ValType::eq(&x, &y))
    && a
      .results()
      .zip(b.results())
      .all(|(x, y)| ValType::eq(&x, &y))
}
