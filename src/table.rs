//! `WebAssembly.Table` (of funcref): a wasmtime table, unbound (in a
//! private store) until an instance imports it or it holds a function.

use std::cell::RefCell;
use std::rc::Rc;

use napi::bindgen_prelude::Unknown;
use napi::{Env, JsValue};
use napi_derive::napi;
use wasmtime::{Ref, RefType, Table, TableType, Val};

use crate::error::{range_error, type_error, whole};
use crate::global::store_of;
use crate::js::{self, JsResult};
use crate::store::StoreCell;
use crate::value;

/// The most elements a table may have (V8's limit, so that programs
/// behave alike).
pub const MAX_ELEMENTS: u64 = 10_000_000;

pub(crate) struct TableState {
  pub cell: Rc<StoreCell>,
  pub table: Table,
  pub bound: bool,
}

/// The native side of one `WebAssembly.Table`.
#[napi]
pub struct NativeTable {
  pub(crate) state: Rc<RefCell<TableState>>,
}

/// Creates a funcref table of `initial` elements (at most `maximum`), each
/// `value` (an exported function, or null when absent).
///
/// # Errors
/// `TypeError` for another element type (externref needs wasmtime's `gc`
/// feature, left out of this build), bad sizes or a value that is not a
/// function; `RangeError` for sizes past the limits.
#[napi]
pub fn create_table(
  env: Env,
  element: String,
  initial: f64,
  maximum: Option<f64>,
  value: Unknown,
) -> napi::Result<NativeTable> {
  if element != "funcref" && element != "anyfunc" {
    return Err(type_error(
      &env,
      format!("WebAssembly.Table(): element type '{element}' is not supported by this build"),
    ));
  }
  let initial = whole(&env, "initial", initial, MAX_ELEMENTS)?;
  let maximum = match maximum {
    Some(m) => Some(whole(&env, "maximum", m, u64::from(u32::MAX))?),
    None => None,
  };
  if maximum.is_some_and(|m| m < initial) {
    return Err(range_error(&env, "maximum must not be less than initial"));
  }
  // Undefined is "missing" (napi-rs would turn null into None too, which
  // must not be: null converts, to 0 or to a null reference).
  let value = Some(value).filter(|v| v.get_type().ok() != Some(napi::ValueType::Undefined));
  let bound_to = value.as_ref().and_then(|v| store_of(&env, v));
  let bound = bound_to.is_some();
  let cell = match bound_to {
    Some(cell) => cell,
    None => StoreCell::new(&env).map_err(|e| crate::error::error(&env, e))?,
  };
  let init = match &value {
    Some(v) => js::into_napi(element_of(&env, &cell, v))?,
    None => Ref::Func(None),
  };
  let ty = TableType::new(RefType::FUNCREF, initial as u32, maximum.map(|m| m as u32));
  let table = cell
    .with(|ctx| Table::new(&mut *ctx, ty, init))
    .map_err(|e| crate::error::error(&env, e))?
    .map_err(|e| range_error(&env, format!("WebAssembly.Table(): {e:#}")))?;
  Ok(NativeTable {
    state: Rc::new(RefCell::new(TableState { cell, table, bound })),
  })
}

/// ToWebAssemblyValue(v, funcref) as a table element.
fn element_of(env: &Env, cell: &Rc<StoreCell>, value: &Unknown) -> JsResult<Ref> {
  match value::to_wasm(env, cell, value.raw(), &wasmtime::ValType::FUNCREF)? {
    Val::FuncRef(f) => Ok(Ref::Func(f)),
    _ => Err(js::throw_type(env, "not a function")),
  }
}

impl NativeTable {
  /// The native side of a table an instance exports.
  pub(crate) fn bound(cell: &Rc<StoreCell>, table: Table) -> NativeTable {
    NativeTable {
      state: Rc::new(RefCell::new(TableState {
        cell: cell.clone(),
        table,
        bound: true,
      })),
    }
  }
}

impl TableState {
  /// Moves an unbound table (all null: unbound tables hold no functions)
  /// into `target`'s store.
  pub(crate) fn adopt(&mut self, target: &Rc<StoreCell>) -> Result<(), String> {
    let (ty, size) = self
      .cell
      .with(|ctx| (self.table.ty(&*ctx), self.table.size(&*ctx)))?;
    let ty = TableType::new(
      RefType::FUNCREF,
      size as u32,
      ty.maximum().map(|m| m as u32),
    );
    let table = target
      .with(|ctx| Table::new(&mut *ctx, ty, Ref::Func(None)))?
      .map_err(|e| format!("{e:#}"))?;
    self.cell = target.clone();
    self.table = table;
    self.bound = true;
    Ok(())
  }
}

#[napi]
impl NativeTable {
  /// The number of elements.
  #[napi]
  pub fn length(&self) -> napi::Result<f64> {
    let s = self.state.borrow();
    let size = s
      .cell
      .with(|ctx| s.table.size(&*ctx))
      .map_err(napi::Error::from_reason)?;
    Ok(size as f64)
  }

  /// `[element type, maximum or null]`.
  #[napi]
  pub fn maximum(&self) -> napi::Result<Option<f64>> {
    let s = self.state.borrow();
    let ty = s
      .cell
      .with(|ctx| s.table.ty(&*ctx))
      .map_err(napi::Error::from_reason)?;
    Ok(ty.maximum().map(|m| m as f64))
  }

  /// The element at `index` (an exported function or null).
  ///
  /// # Errors
  /// `RangeError` if `index` is out of bounds.
  #[napi]
  pub fn get<'env>(&self, env: &'env Env, index: f64) -> napi::Result<Unknown<'env>> {
    let index = whole(env, "index", index, u64::from(u32::MAX))?;
    let (cell, element) = {
      let s = self.state.borrow();
      let e = s
        .cell
        .with(|ctx| s.table.get(&mut *ctx, index))
        .map_err(|e| crate::error::error(env, e))?;
      (s.cell.clone(), e)
    };
    let Some(element) = element else {
      return Err(range_error(
        env,
        format!("WebAssembly.Table.get(): invalid address {index} in funcref table"),
      ));
    };
    let func = match element {
      Ref::Func(f) => f,
      _ => {
        return Err(type_error(
          env,
          "WebAssembly.Table.get(): unsupported element type",
        ))
      }
    };
    let v = js::into_napi(value::to_js(env, &cell, &Val::FuncRef(func)))?;
    // SAFETY: `v` is a live handle of this call's scope.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), v) })
  }

  /// Sets the element at `index` to `value` (null when absent).
  ///
  /// # Errors
  /// `RangeError` if `index` is out of bounds, `TypeError` if `value` is not
  /// an exported function or null.
  #[napi]
  pub fn set(&self, env: Env, index: f64, value: Unknown) -> napi::Result<()> {
    let index = whole(&env, "index", index, u64::from(u32::MAX))?;
    // The index is checked before the value is converted (as V8 does).
    let size = {
      let s = self.state.borrow();
      s.cell
        .with(|ctx| s.table.size(&*ctx))
        .map_err(|e| crate::error::error(&env, e))?
    };
    if index >= size {
      return Err(range_error(
        &env,
        format!("WebAssembly.Table.set(): invalid address {index} in funcref table of size {size}"),
      ));
    }
    let element = js::into_napi(self.element(&env, value))?;
    let s = self.state.borrow();
    s.cell
      .with(|ctx| s.table.set(&mut *ctx, index, element))
      .map_err(|e| crate::error::error(&env, e))?
      .map_err(|_| {
        range_error(
          &env,
          format!("WebAssembly.Table.set(): invalid address {index} in funcref table"),
        )
      })
  }

  /// Grows by `delta` elements set to `value`; returns the previous length.
  ///
  /// # Errors
  /// `RangeError` past the maximum or the limit, `TypeError` for a bad value.
  #[napi]
  pub fn grow(&self, env: Env, delta: f64, value: Unknown) -> napi::Result<f64> {
    let delta = whole(&env, "delta", delta, u64::from(u32::MAX))?;
    let element = js::into_napi(self.element(&env, value))?;
    let s = self.state.borrow();
    let size = s
      .cell
      .with(|ctx| s.table.size(&*ctx))
      .map_err(|e| crate::error::error(&env, e))?;
    if size + delta > MAX_ELEMENTS {
      return Err(range_error(
        &env,
        "WebAssembly.Table.grow(): failed to grow table",
      ));
    }
    let old = s
      .cell
      .with(|ctx| s.table.grow(&mut *ctx, delta, element))
      .map_err(|e| crate::error::error(&env, e))?
      .map_err(|_| {
        range_error(
          &env,
          format!("WebAssembly.Table.grow(): failed to grow table by {delta}"),
        )
      })?;
    Ok(old as f64)
  }

  /// The `NativeStore` token of the store this table is bound to.
  #[napi]
  pub fn token<'env>(&self, env: &'env Env) -> napi::Result<Option<Unknown<'env>>> {
    crate::instance::token_of(env, &self.state.borrow().cell)
  }
}

impl NativeTable {
  /// `value` as an element; a function of another store binds an unbound
  /// table to that store first.
  fn element(&self, env: &Env, value: Unknown) -> JsResult<Ref> {
    // Undefined is "missing" (napi-rs would turn null into None too, which
    // must not be: null converts, to 0 or to a null reference).
    let value = Some(value).filter(|v| v.get_type().ok() != Some(napi::ValueType::Undefined));
    let Some(value) = value else {
      return Ok(Ref::Func(None));
    };
    if let Some(target) = store_of(env, &value) {
      let mut s = self.state.borrow_mut();
      if !s.bound {
        s.adopt(&target).map_err(|e| js::throw(env, &e))?;
      }
    }
    let cell = self.state.borrow().cell.clone();
    element_of(env, &cell, &value)
  }
}
