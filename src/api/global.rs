//! `WebAssembly.Global`: a wasmtime global, unbound (in a private store)
//! until an instance imports it or it holds a function of some store.

use std::cell::RefCell;
use std::rc::Rc;

use napi::bindgen_prelude::Unknown;
use napi::{Env, JsValue};
use napi_derive::napi;
use wasmtime::{Global, GlobalType, Mutability, ValType};

use crate::error::type_error;
use crate::js::{self, JsResult};
use crate::runtime::func;
use crate::runtime::store::StoreCell;
use crate::runtime::value;

pub(crate) struct GlobalState {
  pub cell: Rc<StoreCell>,
  pub global: Global,
  /// Shared with instances (or functions) of `cell`'s store.
  pub bound: bool,
}

/// The native side of one `WebAssembly.Global`.
#[napi]
pub struct NativeGlobal {
  pub(crate) state: Rc<RefCell<GlobalState>>,
}

/// A value type by its JS API name (`anyfunc` is the old `funcref`).
pub fn val_type(name: &str) -> Option<ValType> {
  Some(match name {
    "i32" => ValType::I32,
    "i64" => ValType::I64,
    "f32" => ValType::F32,
    "f64" => ValType::F64,
    "funcref" | "anyfunc" => ValType::FUNCREF,
    "externref" => ValType::EXTERNREF,
    // Wasm GC's abstract types, by the names V8 accepts.
    "anyref" => ValType::ANYREF,
    "eqref" => ValType::EQREF,
    "i31ref" => ValType::I31REF,
    "structref" => ValType::STRUCTREF,
    "arrayref" => ValType::ARRAYREF,
    _ => return None,
  })
}

/// The store a value binds a global or table to, if it is an exported
/// function or a Wasm GC object.
pub(crate) fn store_of(env: &Env, value: &Unknown) -> Option<Rc<StoreCell>> {
  func::unwrap(env, value.raw())
    .map(|e| e.cell.clone())
    .or_else(|| crate::runtime::gc::store_of(env, value.raw()))
}

/// Creates a global of type `value_type`, mutable or not, holding `value`
/// (converted with ToWebAssemblyValue) or the type's default.
///
/// # Errors
/// `TypeError` for an unknown or unsupported type (externref needs
/// wasmtime's `gc` feature, left out of this build) or a value that does not
/// convert.
#[napi]
pub fn create_global(
  env: Env,
  value_type: String,
  mutable: bool,
  value: Unknown,
) -> napi::Result<NativeGlobal> {
  let Some(ty) = val_type(&value_type) else {
    return Err(type_error(
      &env,
      format!("WebAssembly.Global(): value type '{value_type}' is not supported by this build"),
    ));
  };
  // Undefined is "missing" (napi-rs would turn null into None too, which
  // must not be: null converts, to 0 or to a null reference).
  let value = Some(value).filter(|v| v.get_type().ok() != Some(napi::ValueType::Undefined));
  let bound_to = value.as_ref().and_then(|v| store_of(&env, v));
  let bound = bound_to.is_some();
  let cell = match bound_to {
    Some(cell) => cell,
    None => StoreCell::new(&env).map_err(|e| crate::error::error(&env, e))?,
  };
  let val = match &value {
    Some(v) => js::into_napi(value::to_wasm(&env, &cell, v.raw(), &ty))?,
    None => js::into_napi(value::default(&env, &cell, &ty))?
      .ok_or_else(|| type_error(&env, "no default value"))?,
  };
  let mutability = if mutable {
    Mutability::Var
  } else {
    Mutability::Const
  };
  let global = cell
    .with(|ctx| {
      let val = val.into_val(ctx)?;
      Global::new(&mut *ctx, GlobalType::new(ty, mutability), val)
    })
    .map_err(|e| crate::error::error(&env, e))?
    .map_err(|e| type_error(&env, format!("WebAssembly.Global(): {e:#}")))?;
  Ok(NativeGlobal {
    state: Rc::new(RefCell::new(GlobalState {
      cell,
      global,
      bound,
    })),
  })
}

impl NativeGlobal {
  /// The native side of a global an instance exports.
  pub(crate) fn bound(cell: &Rc<StoreCell>, global: Global) -> NativeGlobal {
    NativeGlobal {
      state: Rc::new(RefCell::new(GlobalState {
        cell: cell.clone(),
        global,
        bound: true,
      })),
    }
  }
}

impl GlobalState {
  /// Moves an unbound global into `target`'s store (its value is a number,
  /// null or an externref: unbound globals hold no functions).
  pub(crate) fn adopt(&mut self, env: &Env, target: &Rc<StoreCell>) -> Result<(), String> {
    let (ty, out) = self.cell.with(|ctx| {
      let ty = self.global.ty(&*ctx);
      let val = self.global.get(&mut *ctx);
      (ty, value::out(ctx, &val))
    })?;
    let out = out.map_err(|e| format!("{e:#}"))?;
    let arg = value::carry(env, &self.cell, target, &out, ty.content())?;
    let global = target
      .with(|ctx| {
        let val = arg.into_val(ctx)?;
        Global::new(&mut *ctx, ty, val)
      })?
      .map_err(|e| format!("{e:#}"))?;
    self.cell = target.clone();
    self.global = global;
    self.bound = true;
    Ok(())
  }
}

#[napi]
impl NativeGlobal {
  /// The value, converted with ToJSValue.
  ///
  /// # Errors
  /// Fails only if the value cannot be represented in JS.
  #[napi]
  pub fn get<'env>(&self, env: &'env Env) -> napi::Result<Unknown<'env>> {
    let (cell, val) = {
      let s = self.state.borrow();
      let val = s
        .cell
        .with(|ctx| {
          let val = s.global.get(&mut *ctx);
          value::out(ctx, &val)
        })
        .map_err(|e| crate::error::error(env, e))?
        .map_err(|e| crate::error::error(env, format!("{e:#}")))?;
      (s.cell.clone(), val)
    };
    let v = js::into_napi(value::to_js(env, &cell, &val))?;
    // SAFETY: `v` is a live handle of this call's scope.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), v) })
  }

  /// Sets the value (ToWebAssemblyValue).
  ///
  /// # Errors
  /// `TypeError` if the global is immutable or the value does not convert.
  #[napi]
  pub fn set(&self, env: Env, value: Unknown) -> napi::Result<()> {
    js::into_napi(self.set_value(&env, value))
  }

  /// The `NativeStore` token of the store this global is bound to.
  #[napi]
  pub fn token<'env>(&self, env: &'env Env) -> napi::Result<Option<Unknown<'env>>> {
    crate::api::instance::token_of(env, &self.state.borrow().cell)
  }

  /// `[value type, mutable]`.
  #[napi]
  pub fn kind(&self) -> napi::Result<(String, bool)> {
    let s = self.state.borrow();
    let ty = s
      .cell
      .with(|ctx| s.global.ty(&*ctx))
      .map_err(napi::Error::from_reason)?;
    Ok((type_name(ty.content()), ty.mutability() == Mutability::Var))
  }
}

impl NativeGlobal {
  fn set_value(&self, env: &Env, value: Unknown) -> JsResult<()> {
    let ty = {
      let s = self.state.borrow();
      s.cell
        .with(|ctx| s.global.ty(&*ctx))
        .map_err(|e| js::throw(env, &e))?
    };
    if ty.mutability() != Mutability::Var {
      return Err(js::throw_type(
        env,
        "Can't set the value of an immutable global.",
      ));
    }
    let content = ty.content().clone();
    // A function of another store binds an unbound global to that store.
    if let Some(target) = store_of(env, &value) {
      let mut s = self.state.borrow_mut();
      if !s.bound {
        s.adopt(env, &target).map_err(|e| js::throw(env, &e))?;
      }
    }
    // Not borrowed across the conversion: it may run user code.
    let cell = self.state.borrow().cell.clone();
    let val = value::to_wasm(env, &cell, value.raw(), &content)?;
    let s = self.state.borrow();
    s.cell
      .with(|ctx| {
        let val = val.into_val(ctx)?;
        s.global.set(&mut *ctx, val)
      })
      .map_err(|e| js::throw(env, &e))?
      .map_err(|e| js::throw_type(env, &format!("{e:#}")))
  }
}

/// A value type's JS API name.
pub fn type_name(ty: &ValType) -> String {
  match ty {
    ValType::I32 => "i32".into(),
    ValType::I64 => "i64".into(),
    ValType::F32 => "f32".into(),
    ValType::F64 => "f64".into(),
    ValType::V128 => "v128".into(),
    ValType::Ref(r) => ref_type_name(r.heap_type()).into(),
  }
}

/// A reference type's JS API name, by its heap type (typed references by
/// their abstract supertype).
pub fn ref_type_name(heap: &wasmtime::HeapType) -> &'static str {
  use wasmtime::HeapType as H;
  match heap {
    H::Func | H::ConcreteFunc(_) | H::NoFunc => "funcref",
    H::Extern | H::NoExtern => "externref",
    H::Exn | H::ConcreteExn(_) | H::NoExn => "exnref",
    H::Eq => "eqref",
    H::I31 => "i31ref",
    H::Struct | H::ConcreteStruct(_) => "structref",
    H::Array | H::ConcreteArray(_) => "arrayref",
    _ => "anyref",
  }
}
