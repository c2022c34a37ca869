//! `WebAssembly.Instance`: linking imports (choosing and sharing stores) and
//! reflecting exports.

use std::rc::Rc;

use napi::bindgen_prelude::JsObjectValue;
use napi::bindgen_prelude::{JavaScriptClassExt, Object, TypeTag, Unknown};
use napi::{sys, Env, JsValue};
use napi_derive::napi;
use wasmtime::{Extern, ExternType, Global, GlobalType, Instance, Mutability};

use crate::api::global::NativeGlobal;
use crate::api::memory::NativeMemory;
use crate::api::module::{kind_name, NativeModule};
use crate::api::table::NativeTable;
use crate::api::tag::NativeTag;
use crate::js::{self, Hook, JsResult, Pending};
use crate::memory::reclaim::Ref;
use crate::runtime::func;
use crate::runtime::store::{self, StoreCell};
use crate::runtime::tiering;
use crate::runtime::timing::{time, Phase};
use crate::runtime::value;

/// The JS object that stands for a store: every JS object that can call
/// into the store (instances, exported functions, bound memories, tables
/// and globals) holds it, and its `keep` array holds the JS functions the
/// store's host functions call.
#[napi]
pub struct NativeStore {
  /// Held, never read: the store lives at least as long as its token.
  _cell: Rc<StoreCell>,
}

/// The token of `cell`'s store, if it has one (instance stores do).
pub fn token_of<'env>(env: &'env Env, cell: &Rc<StoreCell>) -> napi::Result<Option<Unknown<'env>>> {
  let token = cell
    .with(|ctx| ctx.data().token.get(env))
    .map_err(|e| crate::error::error(env, e))?;
  // SAFETY: a live handle of this call's scope.
  Ok(token.map(|t| unsafe { Unknown::from_raw_unchecked(env.raw(), t) }))
}

/// Gives `cell`'s store a token if it has none yet (instances, and the
/// private stores of globals and tables that hold externrefs).
pub(crate) fn ensure_token(env: &Env, cell: &Rc<StoreCell>) -> napi::Result<sys::napi_value> {
  if let Some(t) = cell
    .with(|ctx| ctx.data().token.get(env))
    .map_err(|e| crate::error::error(env, e))?
  {
    return Ok(t);
  }
  let token = NativeStore {
    _cell: cell.clone(),
  }
  .into_instance(env)?;
  let mut object: Object = token.as_object(env);
  let keep = env.create_array(0)?;
  object.set_named_property("keep", keep)?;
  // The JS values of the store's externrefs, by slot (value.rs): held by
  // the token, so a cycle through them is ordinary JS garbage.
  let values = env.create_array(0)?;
  object.set_named_property("values", values)?;
  let raw = token.value;
  let weak = Ref::new(env, raw, false)?;
  cell
    .with(|ctx| {
      let data = ctx.data_mut();
      let mut old = std::mem::replace(&mut data.token, weak);
      old.clear(env);
      // A former token's exported functions are gone with it (each holds
      // it: func.rs), and so is its `functions` array.
      data.functions.clear();
      data.function_list.clear(env);
    })
    .map_err(|e| crate::error::error(env, e))?;
  Ok(raw)
}

/// An import value, classified.
enum Import<'a> {
  Func(sys::napi_value),
  Memory(&'a NativeMemory),
  Table(&'a NativeTable),
  Global(&'a NativeGlobal),
  Tag(&'a NativeTag),
  /// A Number or BigInt for an immutable global.
  Value(sys::napi_value),
}

/// The native object behind `value` if it is an instance of class `T`.
/// (napi-rs's own `FromNapiRef` works only inside generated argument
/// conversion; the import values arrive inside an array.)
pub(crate) fn class<T: TypeTag>(env: &Env, value: sys::napi_value) -> Option<&'static T> {
  if js::type_of(env, value) != sys::ValueType::napi_object {
    return None;
  }
  let mut tagged = false;
  // SAFETY: `value` is a live object handle.
  unsafe { sys::napi_check_object_type_tag(env.raw(), value, &T::type_tag(), &mut tagged) };
  if !tagged {
    return None;
  }
  let mut wrapped = std::ptr::null_mut();
  // SAFETY: objects tagged with `T`'s tag are napi-rs instances of `T`,
  // which wrap a `T`; it lives while `value` does, and the reference is used
  // only during this call (the objects are held by the caller's arguments).
  let status = unsafe { sys::napi_unwrap(env.raw(), value, &mut wrapped) };
  if status != sys::Status::napi_ok || wrapped.is_null() {
    return None;
  }
  // SAFETY: as above.
  Some(unsafe { &*wrapped.cast::<T>() })
}

fn link_error(env: &Env, message: String) -> napi::Error {
  let _ = js::throw_class(env, Hook::LinkError, &message);
  pending()
}

fn pending() -> napi::Error {
  napi::Error::new(napi::Status::PendingException, "pending exception")
}

/// Instantiates `module` with `imports` (one value per import, in order, as
/// the JS shim read them from the import object).
///
/// Returns `[token, exports]` where `exports` holds `name, kind, alias,
/// value` per export, one after the other (one flat array): `alias` is the
/// position of the import it re-exports (the shim then returns that
/// import's object, as the spec's export cache does) or -1.
///
/// # Errors
/// `LinkError` naming the import for a value of the wrong kind or type, or
/// for imports bound to different stores; `RuntimeError` if the start
/// function traps; an import's exception unchanged.
#[napi]
pub fn instantiate_module<'env>(
  env: &'env Env,
  module: &NativeModule,
  imports: Vec<Unknown<'env>>,
  suspending: Option<Vec<u32>>,
) -> napi::Result<Unknown<'env>> {
  time(Phase::Link, || link(env, module, imports, suspending))
}

/// [`instantiate_module`].
fn link<'env>(
  env: &'env Env,
  module: &NativeModule,
  imports: Vec<Unknown<'env>>,
  suspending: Option<Vec<u32>>,
) -> napi::Result<Unknown<'env>> {
  // The positions of `WebAssembly.Suspending` imports (JSPI: jspi.rs).
  let suspending = suspending.unwrap_or_default();
  let wanted: Vec<_> = module.module.imports().collect();
  if imports.len() != wanted.len() {
    return Err(link_error(
      env,
      format!(
        "WebAssembly.Instance(): expected {} imports, got {}",
        wanted.len(),
        imports.len()
      ),
    ));
  }
  // Classify, and find the one store that bound imports belong to.
  let mut values = Vec::with_capacity(imports.len());
  let mut home: Option<Rc<StoreCell>> = None;
  for (import, value) in wanted.iter().zip(&imports) {
    let raw = value.raw();
    let name = format!("{}.{}", import.module(), import.name());
    let classified: Result<Import, ()> = match import.ty() {
      ExternType::Func(_) if js::type_of(env, raw) == sys::ValueType::napi_function => Ok(Import::Func(raw)),
      ExternType::Memory(_) => class::<NativeMemory>(env, raw).map(Import::Memory).ok_or(()),
      ExternType::Table(_) => class::<NativeTable>(env, raw).map(Import::Table).ok_or(()),
      ExternType::Tag(_) => crate::api::tag::unwrap(env, raw).map(Import::Tag).ok_or(()),
      ExternType::Global(ty) => match class::<NativeGlobal>(env, raw) {
        Some(g) => Ok(Import::Global(g)),
        // Any JS value is an externref (or an anyref: Wasm GC).
        None if is_js_value_type(ty.content()) => Ok(Import::Value(raw)),
        None => match js::type_of(env, raw) {
          sys::ValueType::napi_number
          | sys::ValueType::napi_bigint
          | sys::ValueType::napi_null
          | sys::ValueType::napi_function => Ok(Import::Value(raw)),
          _ => return Err(link_error(env, format!("WebAssembly.Instance(): Import {name}: global import must be a number, valid Wasm reference, or WebAssembly.Global object"))),
        },
      },
      _ => Err(()),
    };
    let classified = classified.into_ok_or_link(env, &name, &import.ty())?;
    let bound = match &classified {
      Import::Memory(m) => m.bound_store(),
      Import::Table(t) => {
        let s = t.state.borrow();
        s.bound.then(|| s.cell.clone())
      }
      Import::Global(g) => {
        let s = g.state.borrow();
        s.bound.then(|| s.cell.clone())
      }
      _ => None,
    };
    if let Some(cell) = bound {
      match &home {
        Some(h) if !store::same(h, &cell) => {
          return Err(link_error(
            env,
            format!(
              "WebAssembly.Instance(): Import {name}: it belongs to another instance group than the \
               other imports; wasmtime cannot link objects of two stores (see the README's known differences)"
            ),
          ))
        }
        _ => home = Some(cell),
      }
    }
    values.push(classified);
  }
  // An exported function of a JSPI store among the imports: a promising
  // call of this instance may suspend through it (jspi.rs).
  let reaches = values.iter().any(
    |v| matches!(v, Import::Func(f) if func::unwrap(env, *f).is_some_and(|e| e.cell.is_jspi())),
  );
  let (cell, code) = choose_code(env, module, home, !suspending.is_empty() || reaches)?;
  // The import types in the code's engine (the same list unless tiering
  // chose the module's other tier).
  let wanted = if wasmtime::Module::same(&code, &module.module) {
    wanted
  } else {
    code.imports().collect()
  };
  crate::runtime::jspi::choose_store(env, &cell, !suspending.is_empty(), reaches)?;
  // A module links only into stores of its engine: the main namespace's
  // and a sandbox's with a timeout or fuel differ (sandbox.rs).
  let same_engine = cell
    .with(|ctx| wasmtime::Engine::same(ctx.engine(), code.engine()))
    .map_err(|e| crate::error::error(env, e))?;
  if !same_engine {
    return Err(link_error(
      env,
      "WebAssembly.Instance(): the module was compiled by another namespace (the main one or a \
       sandbox with a timeout or fuel): wasmtime links a module only into stores of its engine"
        .to_owned(),
    ));
  }
  // Imports already bound to another namespace's instances would run this
  // instance outside this namespace's limits (or theirs outside theirs).
  if !crate::api::sandbox::is_current(&cell) {
    return Err(link_error(
      env,
      "WebAssembly.Instance(): an import belongs to instances of another namespace (the main \
       one or another sandbox); only objects not yet used by an instance can move between them"
        .to_owned(),
    ));
  }
  crate::api::sandbox::instance_allowed(&cell).map_err(|e| crate::error::range_error(env, e))?;
  let token = ensure_token(env, &cell)?;
  // Build the externs: adopt unbound objects, wrap JS functions.
  let mut externs = Vec::with_capacity(values.len());
  for (import, value) in wanted.iter().zip(&values) {
    let name = format!("{}.{}", import.module(), import.name());
    let ext = match (value, import.ty()) {
      (Import::Func(f), ExternType::Func(ty)) => {
        // An exported function keeps its own type (a mismatch is a
        // LinkError); any other callable takes the import's.
        let at = externs.len() as u32;
        let func = if suspending.contains(&at) {
          js::into_napi(crate::runtime::host::host_with(env, &cell, *f, ty, true))?
        } else if let Some(func) = js::into_napi(crate::wasi::link::host(env, &cell, *f, &ty))? {
          func
        } else {
          match js::into_napi(func::from_js(env, &cell, *f))? {
            Some(func) => func,
            None => js::into_napi(crate::runtime::host::host(env, &cell, *f, ty))?,
          }
        };
        Extern::Func(func)
      }
      (Import::Memory(m), _) => m.extern_in(env, &cell)?,
      (Import::Table(t), _) => {
        let mut s = t.state.borrow_mut();
        if !s.bound {
          s.adopt(env, &cell)
            .map_err(|e| link_error(env, format!("WebAssembly.Instance(): Import {name}: {e}")))?;
        }
        Extern::Table(s.table)
      }
      (Import::Global(g), _) => {
        let mut s = g.state.borrow_mut();
        if !s.bound {
          s.adopt(env, &cell)
            .map_err(|e| link_error(env, format!("WebAssembly.Instance(): Import {name}: {e}")))?;
        }
        Extern::Global(s.global)
      }
      (Import::Tag(t), ExternType::Tag(ty)) => {
        let tag = js::into_napi(t.tag_in(env, &cell))?;
        let given: Vec<_> = t.params().to_vec();
        let wanted: Vec<_> = ty.ty().params().collect();
        let same = given.len() == wanted.len()
          && given
            .iter()
            .zip(&wanted)
            .all(|(a, b)| wasmtime::ValType::eq(a, b));
        if !same {
          return Err(link_error(env, format!("WebAssembly.Instance(): Import {name}: imported tag does not match the expected type")));
        }
        Extern::Tag(tag)
      }
      (Import::Value(v), ExternType::Global(ty)) => {
        if ty.mutability() == Mutability::Var {
          return Err(link_error(env, format!("WebAssembly.Instance(): Import {name}: imported mutable global must be a WebAssembly.Global object")));
        }
        let content = ty.content().clone();
        // A Number for i32/f32/f64, a BigInt for i64, null or an exported
        // function for funcref (V8: a LinkError for anything else).
        let given = js::type_of(env, *v);
        let fits = match &content {
          wasmtime::ValType::I32 | wasmtime::ValType::F32 | wasmtime::ValType::F64 => {
            given == sys::ValueType::napi_number
          }
          wasmtime::ValType::I64 => given == sys::ValueType::napi_bigint,
          wasmtime::ValType::Ref(r) if r.heap_type().is_func() => {
            given == sys::ValueType::napi_null || func::unwrap(env, *v).is_some()
          }
          wasmtime::ValType::Ref(r) if r.heap_type().is_extern() => true,
          // Converted (and checked) as ToWebAssemblyValue says.
          wasmtime::ValType::Ref(r) if r.heap_type().top().is_any() => true,
          _ => false,
        };
        if !fits {
          return Err(link_error(env, format!("WebAssembly.Instance(): Import {name}: global import must be a number, valid Wasm reference, or WebAssembly.Global object")));
        }
        let val = js::into_napi(value::to_wasm(env, &cell, *v, &content))?;
        let global = cell
          .with(|ctx| {
            let val = val.into_val(ctx)?;
            Global::new(&mut *ctx, GlobalType::new(content, Mutability::Const), val)
          })
          .map_err(|e| crate::error::error(env, e))?
          .map_err(|e| link_error(env, format!("WebAssembly.Instance(): Import {name}: {e:#}")))?;
        Extern::Global(global)
      }
      _ => {
        return Err(link_error(
          env,
          format!("WebAssembly.Instance(): Import {name}: wrong kind"),
        ))
      }
    };
    externs.push(ext);
  }
  // Before the start function runs: its traps have frames too.
  cell
    .with(|ctx| crate::runtime::backtrace::register(ctx.data_mut(), &code, &module.frames))
    .map_err(|e| crate::error::error(env, e))?;
  let attempt = || {
    crate::memory::mapping::take_create_failed();
    crate::memory::mapping::without_shrinking(|| {
      cell.with(|ctx| {
        crate::api::sandbox::arm_outermost(&cell, ctx);
        crate::runtime::jspi::instantiate(ctx, &code, &externs)
      })
    })
  };
  let mut outcome = attempt().map_err(|e| crate::error::error(env, e))?;
  if outcome.is_err() && crate::memory::mapping::take_create_failed() {
    // Out of address space or mappings: free what is garbage and retry (a
    // memory then may settle for a smaller reservation, as V8's does).
    crate::memory::tracked::free_garbage(env);
    crate::memory::mapping::take_create_failed();
    outcome = cell
      .with(|ctx| {
        crate::api::sandbox::arm_outermost(&cell, ctx);
        crate::runtime::jspi::instantiate(ctx, &code, &externs)
      })
      .map_err(|e| crate::error::error(env, e))?;
  }
  crate::memory::tracked::sync_grown(env);
  if outcome.is_ok() {
    crate::runtime::exception::settle(env, &cell);
  }
  let instance = match outcome {
    Ok(instance) => {
      let _ = cell.with(|ctx| crate::api::sandbox::instance_made(&cell, ctx));
      instance
    }
    Err(e) => {
      // Memories a failed instantiation made stay in the store.
      crate::memory::internal::track_internal(env, token);
      let is_trap = e.downcast_ref::<wasmtime::Trap>().is_some();
      let has_pending = cell
        .with(|ctx| ctx.data().pending.is_some())
        .unwrap_or(false);
      if is_trap || has_pending || crate::runtime::exception::is_thrown(&e) {
        let thrown = func::failure(env, &cell, &e);
        crate::runtime::exception::settle(env, &cell);
        return Err(js::into_napi::<()>(Err(thrown)).unwrap_err());
      }
      // A sandbox's cap refused a memory or table (sandbox.rs).
      if crate::memory::mapping::take_create_failed() | crate::api::sandbox::take_denied(&cell) {
        // V8's class and words for running out of memory here.
        return Err(crate::error::range_error(
          env,
          format!("WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory for new instance ({e:#})"),
        ));
      }
      return Err(link_error(env, format!("WebAssembly.Instance(): {e:#}")));
    }
  };
  // Only imports that are objects of the JS API come back as themselves
  // when re-exported: a global imported from a Number becomes a new
  // Global, a JS function a new Exported Function.
  let aliasable: Vec<bool> = values
    .iter()
    .map(|v| match v {
      Import::Value(_) => false,
      Import::Func(f) => func::unwrap(env, *f).is_some(),
      _ => true,
    })
    .collect();
  let exports = time(Phase::Exports, || {
    exports(env, module, &cell, instance, &wanted, &aliasable)
  });
  crate::memory::internal::track_internal(env, token);
  let exports = js::into_napi(exports)?;
  let result = js::into_napi(js::array(env, &[token, exports]))?;
  // SAFETY: a live handle of this call's scope.
  Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), result) })
}

trait IntoOkOrLink<T> {
  fn into_ok_or_link(self, env: &Env, name: &str, ty: &ExternType) -> napi::Result<T>;
}

impl<T> IntoOkOrLink<T> for Result<T, ()> {
  fn into_ok_or_link(self, env: &Env, name: &str, ty: &ExternType) -> napi::Result<T> {
    self.map_err(|()| {
      let what = match ty {
        ExternType::Func(_) => "function import requires a callable".to_owned(),
        ExternType::Memory(_) => "memory import must be a WebAssembly.Memory object".to_owned(),
        ExternType::Table(_) => "table import requires a WebAssembly.Table".to_owned(),
        ExternType::Tag(_) => "tag import requires a WebAssembly.Tag".to_owned(),
        other => format!("{} imports are not supported", kind_name(other)),
      };
      link_error(
        env,
        format!("WebAssembly.Instance(): Import {name}: {what}"),
      )
    })
  }
}

/// `name, kind, alias, value` for each export, in one flat array. The
/// functions are made in one batch (func.rs), after the store's other
/// exports are read.
fn exports(
  env: &Env,
  module: &NativeModule,
  cell: &Rc<StoreCell>,
  instance: Instance,
  imports: &[wasmtime::ImportType<'_>],
  aliasable: &[bool],
) -> JsResult<sys::napi_value> {
  // The position of the import each export re-exports, if any.
  let aliases: Vec<Option<usize>> = module
    .module
    .exports()
    .zip(&module.export_indices)
    .map(|(export, &index)| {
      let kind = kind_name(&export.ty());
      imports
        .iter()
        .enumerate()
        .filter(|(_, i)| kind_name(&i.ty()) == kind)
        .nth(index as usize)
        .map(|(at, _)| at)
        .filter(|&at| aliasable[at])
    })
    .collect();
  // Every extern that is not an alias, in one store borrow.
  let externs: Vec<Option<Extern>> = cell
    .with(|ctx| {
      module
        .module
        .exports()
        .zip(&aliases)
        .map(|(export, alias)| match alias {
          Some(_) => None,
          None => instance.get_export(&mut *ctx, export.name()),
        })
        .collect()
    })
    .map_err(|e| js::throw(env, &e))?;
  let funcs: Vec<(wasmtime::Func, Option<u32>)> = externs
    .iter()
    .zip(&module.export_indices)
    .filter_map(|(ext, &index)| match ext {
      Some(Extern::Func(f)) => Some((*f, Some(index))),
      _ => None,
    })
    .collect();
  let mut functions = func::to_js_all(env, cell, &funcs)?.into_iter();
  // Kind names and "no alias" are the same few values for every export.
  let mut kinds: Vec<(&str, sys::napi_value)> = Vec::new();
  let no_alias = js::number(env, -1.0)?;
  let mut entries = Vec::with_capacity(externs.len() * 4);
  for ((export, alias), ext) in module.module.exports().zip(&aliases).zip(externs) {
    let kind_str = kind_name(&export.ty());
    let kind = match kinds.iter().find(|(k, _)| *k == kind_str) {
      Some(&(_, v)) => v,
      None => {
        let v = js::string(env, kind_str)?;
        kinds.push((kind_str, v));
        v
      }
    };
    let value = match (alias, ext) {
      (Some(_), _) => js::null(env),
      (None, None) => return Err(js::throw(env, "export vanished")),
      (None, Some(ext)) => match ext {
        Extern::Func(_) => functions
          .next()
          .ok_or_else(|| js::throw(env, "export vanished"))?,
        Extern::Memory(m) => crate::api::memory::exported(env, cell, m)?,
        Extern::SharedMemory(m) => crate::api::memory::exported_shared(env, m)?,
        Extern::Table(table) => into_raw(env, NativeTable::bound(cell, table))?,
        Extern::Global(global) => into_raw(env, NativeGlobal::bound(cell, global))?,
        Extern::Tag(tag) => crate::api::tag::to_js(env, cell, tag)?,
      },
    };
    let alias = match alias {
      Some(a) => js::number(env, *a as f64)?,
      None => no_alias,
    };
    entries.extend([js::string(env, export.name())?, kind, alias, value]);
  }
  js::array(env, &entries)
}

/// The store to instantiate `module` in and the code to link: the store the
/// imports are bound to (with the module's code in that store's tier) or a
/// new one, of the tier of the best code ready (tiering.rs); Cranelift's
/// code for `jspi`, shared memories (only the main engine runs them here)
/// and in a sandbox.
fn choose_code(
  env: &Env,
  module: &NativeModule,
  home: Option<Rc<StoreCell>>,
  jspi: bool,
) -> napi::Result<(Rc<StoreCell>, wasmtime::Module)> {
  let new_store = |engine| StoreCell::new_in(env, engine).map_err(|e| crate::error::error(env, e));
  let Some(tiers) = &module.tiers else {
    let cell = match home {
      Some(cell) => cell,
      None => new_store(None)?,
    };
    return Ok((cell, module.module.clone()));
  };
  let cell = match home {
    Some(cell) => cell,
    None => {
      let optimized_only =
        jspi || crate::api::sandbox::current().is_some() || shares_memory(&module.module);
      let code = if optimized_only {
        None
      } else {
        Some(tiers.latest())
      };
      match code {
        Some(code) if tiering::is_baseline(code.engine()) => {
          tiering::count_store();
          return Ok((new_store(tiering::baseline_engine())?, code));
        }
        Some(code) => return Ok((new_store(None)?, code)),
        // The main engine's store (a sandbox's engine's, in one).
        None => new_store(None)?,
      }
    }
  };
  let engine = cell
    .with(|ctx| ctx.engine().clone())
    .map_err(|e| crate::error::error(env, e))?;
  match tiers.code_for(&engine) {
    Some(Ok(code)) => Ok((cell, code)),
    // Another namespace's store: refused by the caller.
    None => Ok((cell, module.module.clone())),
    Some(Err(reason)) => Err(link_error(
      env,
      format!(
        "WebAssembly.Instance(): an import belongs to an instance running {} code, and this \
         module cannot have code of that tier: {reason} (see the README's known differences: \
         WASM_MEMORY_RS_TIERING=off compiles every module with Cranelift)",
        if tiering::is_baseline(&engine) {
          "Winch's (first-start)"
        } else {
          "Cranelift's"
        }
      ),
    )),
  }
}

/// True if `module` imports or exports a shared memory: a shared memory is
/// of one engine, and only the main engine's cross between instances.
fn shares_memory(module: &wasmtime::Module) -> bool {
  let shared = |ty: ExternType| matches!(ty, ExternType::Memory(m) if m.is_shared());
  module.imports().any(|i| shared(i.ty())) || module.exports().any(|e| shared(e.ty()))
}

fn into_raw<T: JavaScriptClassExt>(env: &Env, native: T) -> JsResult<sys::napi_value> {
  native
    .into_instance(env)
    .map(|i| i.value)
    .map_err(|_| Pending)
}

/// Whether any JS value may be given for a global of type `ty` (converted
/// then): externref (string constants: `(ref extern)` too), anyref and its
/// subtypes (Wasm GC).
fn is_js_value_type(ty: &wasmtime::ValType) -> bool {
  matches!(ty, wasmtime::ValType::Ref(r)
    if r.heap_type().top().is_any() || r.heap_type().top().is_extern())
}
