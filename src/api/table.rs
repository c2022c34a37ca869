//! `WebAssembly.Table` (of funcref or externref, 32- or 64-bit): a wasmtime
//! table, unbound (in a private store) until an instance imports it or it
//! holds a function.

use std::cell::RefCell;
use std::rc::Rc;

use napi::bindgen_prelude::{BigInt, Either, Unknown};
use napi::{Env, JsValue};
use napi_derive::napi;
use wasmtime::{Ref, RefType, Table, TableType, Val, ValType};

use crate::api::global::store_of;
use crate::error::{range_error, type_error, whole};
use crate::js::{self, JsResult};
use crate::runtime::store::StoreCell;
use crate::runtime::value::{self, Arg};

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

/// Creates a table of `element`s (funcref or externref), `initial` long (at
/// most `maximum`: a Number, or a BigInt for a 64-bit table), each `value`
/// (the type's default when absent); a 64-bit table (table64) if
/// `address64`.
///
/// # Errors
/// `TypeError` for another element type, bad sizes or a value of the wrong
/// type; `RangeError` for sizes past the limits.
#[napi]
pub fn create_table(
  env: Env,
  element: String,
  initial: f64,
  maximum: Option<Either<f64, BigInt>>,
  value: Unknown,
  address64: Option<bool>,
) -> napi::Result<NativeTable> {
  let address64 = address64 == Some(true);
  let element_type = match crate::api::global::val_type(&element) {
    Some(ValType::Ref(r)) => r,
    _ => {
      return Err(type_error(
        &env,
        format!("WebAssembly.Table(): element type '{element}' is not supported by this build"),
      ))
    }
  };
  let initial = whole(&env, "initial", initial, MAX_ELEMENTS)?;
  let maximum_limit = if address64 {
    u64::MAX
  } else {
    u64::from(u32::MAX)
  };
  let maximum = match maximum {
    Some(Either::A(m)) => Some(whole(&env, "maximum", m, maximum_limit)?),
    Some(Either::B(m)) => match m.get_u64() {
      (false, m, true) if m <= maximum_limit => Some(m),
      _ => {
        return Err(type_error(
          &env,
          "maximum must be an unsigned 64-bit integer",
        ))
      }
    },
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
  let init = js::into_napi(element_of(&env, &cell, value.as_ref(), &element_type))?;
  let ty = table_type(element_type, initial, maximum, address64);
  let table = cell
    .with(|ctx| {
      let init = as_ref(init.into_val(ctx)?)?;
      Table::new(&mut *ctx, ty, init)
    })
    .map_err(|e| crate::error::error(&env, e))?
    .map_err(|e| range_error(&env, format!("WebAssembly.Table(): {e:#}")))?;
  Ok(NativeTable {
    state: Rc::new(RefCell::new(TableState { cell, table, bound })),
  })
}

/// ToWebAssemblyValue(v, element type) as a table element; a missing
/// value is the type's default (null for funcref, undefined for externref).
fn element_of(
  env: &Env,
  cell: &Rc<StoreCell>,
  value: Option<&Unknown>,
  ty: &RefType,
) -> JsResult<Arg> {
  let ty = ValType::Ref(ty.clone());
  match value {
    Some(v) => value::to_wasm(env, cell, v.raw(), &ty),
    None => value::default(env, cell, &ty)?.ok_or_else(|| js::throw_type(env, "no default value")),
  }
}

/// A table type; sizes were checked against the address type's range.
fn table_type(element: RefType, minimum: u64, maximum: Option<u64>, address64: bool) -> TableType {
  if address64 {
    TableType::new64(element, minimum, maximum)
  } else {
    TableType::new(element, minimum as u32, maximum.map(|m| m as u32))
  }
}

/// A table element as a wasmtime `Ref`.
fn as_ref(val: Val) -> wasmtime::Result<Ref> {
  val
    .ref_()
    .ok_or_else(|| wasmtime::Error::msg("not a reference"))
}

/// The JS API name of a table's element type (for messages).
fn element_name(ty: &RefType) -> &'static str {
  crate::api::global::ref_type_name(ty.heap_type())
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
  /// Moves an unbound table into `target`'s store (its elements are null
  /// or externrefs: unbound tables hold no functions).
  pub(crate) fn adopt(&mut self, env: &Env, target: &Rc<StoreCell>) -> Result<(), String> {
    let (ty, outs) = self.cell.with(|ctx| {
      let ty = self.table.ty(&*ctx);
      let size = self.table.size(&*ctx);
      let outs = (0..size)
        .map(|i| {
          let element = self.table.get(&mut *ctx, i).unwrap_or(Ref::Func(None));
          value::out(ctx, &Val::from(element))
        })
        .collect::<wasmtime::Result<Vec<_>>>();
      (ty, outs)
    })?;
    let outs = outs.map_err(|e| format!("{e:#}"))?;
    let element = ty.element().clone();
    let content = ValType::Ref(element.clone());
    let args = outs
      .iter()
      .map(|o| value::carry(env, &self.cell, target, o, &content))
      .collect::<Result<Vec<_>, String>>()?;
    let ty = table_type(element.clone(), outs.len() as u64, ty.maximum(), ty.is_64());
    let null = match element.heap_type().top() {
      wasmtime::HeapType::Extern => Ref::Extern(None),
      wasmtime::HeapType::Any => Ref::Any(None),
      _ => Ref::Func(None),
    };
    let table = target
      .with(|ctx| {
        let table = Table::new(&mut *ctx, ty, null)?;
        for (i, arg) in args.into_iter().enumerate() {
          let element = as_ref(arg.into_val(ctx)?)?;
          table.set(&mut *ctx, i as u64, element)?;
        }
        Ok::<_, wasmtime::Error>(table)
      })?
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

  /// The maximum (a BigInt: a 64-bit table's may pass 2^53), or null.
  #[napi]
  pub fn maximum(&self) -> napi::Result<Option<BigInt>> {
    let s = self.state.borrow();
    let ty = s
      .cell
      .with(|ctx| s.table.ty(&*ctx))
      .map_err(napi::Error::from_reason)?;
    Ok(ty.maximum().map(BigInt::from))
  }

  /// True for a 64-bit table (table64).
  #[napi(js_name = "is64")]
  pub fn is_64(&self) -> napi::Result<bool> {
    let s = self.state.borrow();
    s.cell
      .with(|ctx| s.table.ty(&*ctx).is_64())
      .map_err(napi::Error::from_reason)
  }

  /// The element at `index` (an exported function or null).
  ///
  /// # Errors
  /// `RangeError` if `index` is out of bounds.
  #[napi]
  pub fn get<'env>(&self, env: &'env Env, index: f64) -> napi::Result<Unknown<'env>> {
    let index = whole(env, "index", index, u64::from(u32::MAX))?;
    let (cell, element, name, size) = {
      let s = self.state.borrow();
      let e = s
        .cell
        .with(|ctx| {
          let name = element_name(s.table.ty(&*ctx).element());
          let size = s.table.size(&*ctx);
          let out = s
            .table
            .get(&mut *ctx, index)
            .map(|r| value::out(ctx, &Val::from(r)));
          (out, name, size)
        })
        .map_err(|e| crate::error::error(env, e))?;
      (s.cell.clone(), e.0, e.1, e.2)
    };
    let Some(element) = element else {
      return Err(range_error(
        env,
        format!("WebAssembly.Table.get(): invalid address {index} in {name} table of size {size}"),
      ));
    };
    let element =
      element.map_err(|e| type_error(env, format!("WebAssembly.Table.get(): {e:#}")))?;
    let v = js::into_napi(value::to_js(env, &cell, &element))?;
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
    let (size, name) = {
      let s = self.state.borrow();
      s.cell
        .with(|ctx| {
          (
            s.table.size(&*ctx),
            element_name(s.table.ty(&*ctx).element()),
          )
        })
        .map_err(|e| crate::error::error(&env, e))?
    };
    if index >= size {
      return Err(range_error(
        &env,
        format!("WebAssembly.Table.set(): invalid address {index} in {name} table of size {size}"),
      ));
    }
    let element = js::into_napi(self.element(&env, value))?;
    let s = self.state.borrow();
    s.cell
      .with(|ctx| {
        let element = as_ref(element.into_val(ctx)?)?;
        s.table.set(&mut *ctx, index, element)
      })
      .map_err(|e| crate::error::error(&env, e))?
      .map_err(|_| {
        range_error(
          &env,
          format!("WebAssembly.Table.set(): invalid address {index} in {name} table"),
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
      .with(|ctx| {
        let element = as_ref(element.into_val(ctx)?)?;
        s.table.grow(&mut *ctx, delta, element)
      })
      .map_err(|e| crate::error::error(&env, e))?
      .map_err(|_| {
        range_error(
          &env,
          format!("WebAssembly.Table.grow(): failed to grow table by {delta}"),
        )
      })?;
    Ok(old as f64)
  }

  /// The element type's JS API name: `funcref` or `externref`.
  #[napi(js_name = "element")]
  pub fn element_type(&self) -> napi::Result<String> {
    let s = self.state.borrow();
    let name = s
      .cell
      .with(|ctx| element_name(s.table.ty(&*ctx).element()))
      .map_err(napi::Error::from_reason)?;
    Ok(name.to_owned())
  }

  /// The `NativeStore` token of the store this table is bound to.
  #[napi]
  pub fn token<'env>(&self, env: &'env Env) -> napi::Result<Option<Unknown<'env>>> {
    crate::api::instance::token_of(env, &self.state.borrow().cell)
  }
}

impl NativeTable {
  /// `value` as an element; a function of another store binds an unbound
  /// table to that store first.
  fn element(&self, env: &Env, value: Unknown) -> JsResult<Arg> {
    // Undefined is "missing" (napi-rs would turn null into None too, which
    // must not be: null converts, to 0 or to a null reference).
    let value = Some(value).filter(|v| v.get_type().ok() != Some(napi::ValueType::Undefined));
    if let Some(target) = value.as_ref().and_then(|v| store_of(env, v)) {
      let mut s = self.state.borrow_mut();
      if !s.bound {
        s.adopt(env, &target).map_err(|e| js::throw(env, &e))?;
      }
    }
    let (cell, ty) = {
      let s = self.state.borrow();
      let ty = s
        .cell
        .with(|ctx| s.table.ty(&*ctx).element().clone())
        .map_err(|e| js::throw(env, &e))?;
      (s.cell.clone(), ty)
    };
    element_of(env, &cell, value.as_ref(), &ty)
  }
}
