//! `WebAssembly.Tag`: an exception tag. A wasmtime tag belongs to one store,
//! but a tag holds no state, so one JS `Tag` stands for one wasmtime tag in
//! each store that uses it (made when first needed): the same `Tag` object
//! links into, and catches exceptions in, instances of any store.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use napi::bindgen_prelude::{JavaScriptClassExt, Unknown};
use napi::{sys, Env, JsValue};
use napi_derive::napi;
use wasmtime::{FuncType, Tag, TagType, ValType};

use crate::error::type_error;
use crate::js::{self, JsResult, Pending};
use crate::memory::reclaim::Ref;
use crate::runtime::store::StoreCell;

/// The native side of one `WebAssembly.Tag`.
#[napi]
pub struct NativeTag {
  params: Vec<ValType>,
  /// `WebAssembly.JSTag`: each store's own `js_tag`.
  is_js: bool,
  /// This tag in each store that has used it.
  stores: RefCell<Vec<(Weak<StoreCell>, Tag)>>,
  /// The JS `Tag` object (weak: it owns this).
  object: RefCell<Ref>,
}

/// A tag type's parameter by its JS API name.
fn param_type(name: &str) -> Option<ValType> {
  Some(match name {
    "exnref" => ValType::EXNREF,
    "externref" => ValType::EXTERNREF,
    other => crate::api::global::val_type(other)?,
  })
}

/// A new tag with `parameters` (value type names, checked by the shim).
///
/// # Errors
/// `TypeError` for a name this build does not know.
#[napi]
pub fn create_tag(env: Env, parameters: Vec<String>) -> napi::Result<NativeTag> {
  let params = parameters
    .iter()
    .map(|p| param_type(p))
    .collect::<Option<Vec<_>>>()
    .ok_or_else(|| type_error(&env, "WebAssembly.Tag(): unsupported parameter type"))?;
  Ok(NativeTag::new(params, false))
}

/// The native side of `WebAssembly.JSTag` (one parameter, externref).
#[napi]
pub fn create_js_tag() -> NativeTag {
  NativeTag::new(vec![ValType::EXTERNREF], true)
}

impl NativeTag {
  fn new(params: Vec<ValType>, is_js: bool) -> NativeTag {
    NativeTag {
      params,
      is_js,
      stores: RefCell::new(Vec::new()),
      object: RefCell::new(Ref::none()),
    }
  }

  /// The parameter types.
  pub fn params(&self) -> &[ValType] {
    &self.params
  }

  /// This tag in `cell`'s store, made (and registered with its JS object)
  /// on first use.
  ///
  /// # Errors
  /// Fails (an exception pending) if the store is busy or wasmtime refuses.
  pub fn tag_in(&self, env: &Env, cell: &Rc<StoreCell>) -> JsResult<Tag> {
    if self.is_js {
      return js_tag(env, cell);
    }
    let mut stores = self.stores.borrow_mut();
    stores.retain(|(w, _)| w.strong_count() > 0);
    if let Some((_, tag)) = stores
      .iter()
      .find(|(w, _)| w.upgrade().is_some_and(|c| Rc::ptr_eq(&c, cell)))
    {
      return Ok(*tag);
    }
    let object = self
      .object
      .borrow()
      .get(env)
      .ok_or_else(|| js::throw(env, "the Tag object was collected"))?;
    let held = Ref::new(env, object, true).map_err(|_| Pending)?;
    // The store's engine (a sandbox's may not be the main one).
    let engine = cell
      .with(|ctx| ctx.engine().clone())
      .map_err(|e| js::throw(env, &e))?;
    let ty = TagType::new(FuncType::new(&engine, self.params.iter().cloned(), []));
    let tag = cell
      .with(|ctx| {
        let tag = Tag::new(&mut *ctx, &ty)?;
        ctx.data_mut().tags.push((tag, held));
        Ok::<_, wasmtime::Error>(tag)
      })
      .map_err(|e| js::throw(env, &e))?
      .map_err(|e| js::throw(env, &format!("{e:#}")))?;
    stores.push((Rc::downgrade(cell), tag));
    Ok(tag)
  }
}

#[napi]
impl NativeTag {
  /// Ties this native to its JS `Tag` object (called once by the shim).
  #[napi]
  pub fn set_object(&self, env: Env, object: Unknown) -> napi::Result<()> {
    let weak = Ref::new(&env, object.raw(), false)?;
    let mut old = self.object.replace(weak);
    old.clear(&env);
    Ok(())
  }

  /// The parameter types' JS API names.
  #[napi]
  pub fn parameters(&self) -> Vec<String> {
    self
      .params
      .iter()
      .map(|t| match t {
        ValType::Ref(r) if r.heap_type().is_exn() => "exnref".to_owned(),
        other => crate::api::global::type_name(other),
      })
      .collect()
  }
}

/// The store's instance of `JSTag` (made on first use).
pub fn js_tag(env: &Env, cell: &Rc<StoreCell>) -> JsResult<Tag> {
  cell
    .with(|ctx| {
      if let Some(tag) = ctx.data().js_tag {
        return Ok(tag);
      }
      let ty = TagType::new(FuncType::new(ctx.engine(), [ValType::EXTERNREF], []));
      let tag = Tag::new(&mut *ctx, &ty)?;
      ctx.data_mut().js_tag = Some(tag);
      Ok::<_, wasmtime::Error>(tag)
    })
    .map_err(|e| js::throw(env, &e))?
    .map_err(|e| js::throw(env, &format!("{e:#}")))
}

/// The JS `Tag` object for `tag` of `cell`'s store: the registered one, or
/// a new one made by the shim's `makeTag` hook (a tag the module defines).
pub fn to_js(env: &Env, cell: &Rc<StoreCell>, tag: Tag) -> JsResult<sys::napi_value> {
  let known = cell
    .with(|ctx| {
      let found = ctx
        .data()
        .tags
        .iter()
        .find(|(t, _)| Tag::eq(t, &tag, &*ctx))
        .and_then(|(_, r)| r.get(env));
      let params: Vec<ValType> = tag.ty(&*ctx).ty().params().collect();
      (found, params)
    })
    .map_err(|e| js::throw(env, &e))?;
  let (found, params) = known;
  if let Some(object) = found {
    return Ok(object);
  }
  let native = NativeTag::new(params, false);
  native.stores.borrow_mut().push((Rc::downgrade(cell), tag));
  let native = native.into_instance(env).map_err(|_| Pending)?.value;
  let object = crate::runtime::exception::call_hook(
    env,
    crate::runtime::exception::ExnHook::MakeTag,
    &[native],
  )?;
  // The shim's Tag calls `setObject` on the native; the store remembers
  // the object.
  let held = Ref::new(env, object, true).map_err(|_| Pending)?;
  cell
    .with(|ctx| ctx.data_mut().tags.push((tag, held)))
    .map_err(|e| js::throw(env, &e))?;
  Ok(object)
}

/// The native tag behind a JS value, if it is the native of a `Tag`.
pub fn unwrap(env: &Env, value: sys::napi_value) -> Option<&'static NativeTag> {
  crate::api::instance::class::<NativeTag>(env, value)
}
