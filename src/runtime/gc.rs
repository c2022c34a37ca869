//! Wasm GC objects (structs and arrays) as JS sees them: opaque, frozen,
//! null-prototype objects (as V8's), one JS object per GC object for as
//! long as JS holds it, and the same GC object when it goes back in.
//!
//! Each store keeps the GC objects JS has seen in [`Objects`]: a root and a
//! weak reference to the JS object, found by the hash of the GC reference
//! (wasmtime's DRC collector does not move objects). The JS object holds a
//! root of its own, so the GC object lives while JS can reach it; entries
//! whose JS object was collected are swept as the table grows.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::Hasher;
use std::ptr;
use std::rc::{Rc, Weak};

use napi::{sys, Env};
use wasmtime::{AnyRef, OwnedRooted, StoreContextMut};

use crate::js::{self, JsResult, Pending};
use crate::memory::reclaim::Ref;
use crate::runtime::store::{Data, StoreCell};

/// Whether the engine takes Wasm GC and typed function references: set by
/// the shim before anything compiles, from the running Node's built-in
/// (Node 20's has neither), so that `validate` answers as it does.
static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// True if the engine is (or will be) made with Wasm GC.
pub fn enabled() -> bool {
  ENABLED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Turns Wasm GC on or off for the engine this process will make (no
/// effect once it is made: the first call of each process decides).
#[napi_derive::napi]
pub fn set_wasm_gc(enabled: bool) {
  ENABLED.store(enabled, std::sync::atomic::Ordering::Relaxed);
}

/// Marks the JS objects of GC objects.
const TAG: sys::napi_type_tag = sys::napi_type_tag {
  lower: 0x7761_736d_2d67_636f,
  upper: 0x626a_6563_742d_7273,
};

/// One GC object JS has seen.
struct Entry {
  root: OwnedRooted<AnyRef>,
  /// Its JS object (weak); unset until [`to_js`] makes it.
  object: Ref,
}

/// The GC objects of one store that JS has seen.
#[derive(Default)]
pub struct Objects {
  entries: Vec<Option<Entry>>,
  free: Vec<usize>,
  by_hash: HashMap<u64, Vec<usize>>,
  /// Live entries; a sweep runs when this reaches `sweep_at`.
  live: usize,
  sweep_at: usize,
}

impl Objects {
  /// Deletes every JS reference (the store is dropping).
  pub fn clear(&mut self, env: &Env) {
    for entry in self.entries.iter_mut().flatten() {
      entry.object.clear(env);
    }
    self.entries.clear();
    self.by_hash.clear();
  }

  /// Drops the entries whose JS object was collected.
  fn sweep(&mut self, env: &Env) {
    for index in 0..self.entries.len() {
      let dead = self.entries[index]
        .as_ref()
        .is_some_and(|e| !e.object.is_unset() && e.object.get(env).is_none());
      if dead {
        let mut entry = self.entries[index].take().expect("checked above");
        entry.object.clear(env);
        self.free.push(index);
        self.live -= 1;
      }
    }
    let entries = &self.entries;
    self.by_hash.retain(|_, list| {
      list.retain(|&i| entries[i].is_some());
      !list.is_empty()
    });
    self.sweep_at = (self.live * 2).max(64);
  }
}

/// The hash of the GC reference `root` stands for.
fn hash(ctx: &StoreContextMut<'_, Data>, root: &OwnedRooted<AnyRef>) -> u64 {
  let mut hasher = DefaultHasher::new();
  root.ref_hash(ctx, &mut hasher);
  hasher.finish()
}

/// The entry of GC object `any` (a struct or array), made if new: its index
/// is what [`to_js`] takes.
///
/// # Errors
/// Fails if wasmtime cannot root the object.
pub fn entry(
  ctx: &mut StoreContextMut<'_, Data>,
  any: &wasmtime::Rooted<AnyRef>,
) -> wasmtime::Result<usize> {
  let root = any.to_owned_rooted(&mut *ctx)?;
  let key = hash(ctx, &root);
  let env = ctx.data().env();
  let candidates = ctx
    .data()
    .gc_objects
    .by_hash
    .get(&key)
    .cloned()
    .unwrap_or_default();
  for index in candidates {
    let same = match &ctx.data().gc_objects.entries[index] {
      Some(entry) => OwnedRooted::ref_eq(&*ctx, &entry.root, &root)?,
      None => false,
    };
    if same {
      if let Some(entry) = ctx.data_mut().gc_objects.entries[index].as_mut() {
        // Its JS object was collected: pending again (a sweep before
        // `to_js` makes a new one must not take the entry away).
        if entry.object.get(&env).is_none() {
          entry.object.clear(&env);
        }
      }
      return Ok(index);
    }
  }
  let objects = &mut ctx.data_mut().gc_objects;
  if objects.live >= objects.sweep_at {
    objects.sweep(&env);
  }
  let entry = Entry {
    root,
    object: Ref::none(),
  };
  let index = match objects.free.pop() {
    Some(i) => {
      objects.entries[i] = Some(entry);
      i
    }
    None => {
      objects.entries.push(Some(entry));
      objects.entries.len() - 1
    }
  };
  objects.live += 1;
  objects.by_hash.entry(key).or_default().push(index);
  Ok(index)
}

/// What a GC object's JS object holds natively: a root of it, and its
/// store. (The store's token is held from JS, by the shim's factory, as
/// exported functions hold theirs: so a cycle through JS values stays
/// collectable.)
struct Handle {
  cell: Weak<StoreCell>,
  root: OwnedRooted<AnyRef>,
}

/// The JS object of entry `index` of `cell`'s store: the one made before,
/// or a new frozen, null-prototype object.
pub fn to_js(env: &Env, cell: &Rc<StoreCell>, index: usize) -> JsResult<sys::napi_value> {
  // Entries made by `entry` stay until swept, which only happens once
  // their JS object is made and then collected.
  let (known, root) = cell
    .with(|ctx| {
      let entry = ctx.data().gc_objects.entries.get(index)?.as_ref()?;
      Some((entry.object.get(env), entry.root.clone()))
    })
    .map_err(|e| js::throw(env, &e))?
    .ok_or_else(|| js::throw(env, "a Wasm GC object's entry is gone"))?;
  if let Some(object) = known {
    return Ok(object);
  }
  let token = crate::api::instance::ensure_token(env, cell).map_err(|_| Pending)?;
  let object = opaque_object(env, token)?;
  // SAFETY: `object` is a fresh object handle, not tagged yet.
  let status = unsafe { sys::napi_type_tag_object(env.raw(), object, &TAG) };
  js::ok(env, status, "napi_type_tag_object")?;
  let data = Box::into_raw(Box::new(Handle {
    cell: Rc::downgrade(cell),
    root,
  }));
  // SAFETY: `data` is a fresh leaked box, ours until `tie` takes it.
  unsafe { js::tie(env, object, data, sys::napi_wrap, "napi_wrap") }?;
  // Not frozen here: the shim's object is a Proxy over a frozen target,
  // whose [[PreventExtensions]] throws (lib/functions.js), as V8's.
  let weak = Ref::new(env, object, false).map_err(|_| Pending)?;
  cell
    .with(|ctx| {
      if let Some(entry) = ctx.data_mut().gc_objects.entries[index].as_mut() {
        entry.object.clear(env);
        entry.object = weak;
      }
    })
    .map_err(|e| js::throw(env, &e))?;
  Ok(object)
}

thread_local! {
  /// The shim's maker of GC objects' JS objects (`setGcObjectFactory`).
  static FACTORY: std::cell::RefCell<Ref> = const { std::cell::RefCell::new(Ref::none()) };
}

/// Sets the function that makes a new JS object for a GC object, given
/// the store's token (the shim's makes V8's opaque objects, a Proxy that
/// throws on every change, and keeps the token for the object's life).
///
/// # Errors
/// Fails if Node-API cannot reference `factory`.
#[napi_derive::napi]
pub fn set_gc_object_factory(
  env: Env,
  factory: napi::bindgen_prelude::Unknown,
) -> napi::Result<()> {
  use napi::JsValue;
  if factory.get_type()? != napi::ValueType::Function {
    return Err(crate::error::type_error(
      &env,
      "setGcObjectFactory: a function is needed",
    ));
  }
  let new = Ref::new(&env, factory.raw(), true)?;
  let mut old = FACTORY.with(|f| f.replace(new));
  old.clear(&env);
  Ok(())
}

/// A new opaque object for a GC object of the store of `token`: the
/// shim's factory's (which holds the token), else a bare
/// `Object.create(null)` (the shim always sets a factory).
fn opaque_object(env: &Env, token: sys::napi_value) -> JsResult<sys::napi_value> {
  if let Some(factory) = FACTORY.with(|f| f.borrow().get(env)) {
    return js::call(env, factory, &[token]);
  }
  let mut global = ptr::null_mut();
  // SAFETY: `env` is live.
  let status = unsafe { sys::napi_get_global(env.raw(), &mut global) };
  js::ok(env, status, "napi_get_global")?;
  let object = get_named(env, global, c"Object")?;
  let create = get_named(env, object, c"create")?;
  js::call(env, create, &[js::null(env)])
}

fn get_named(
  env: &Env,
  object: sys::napi_value,
  key: &std::ffi::CStr,
) -> JsResult<sys::napi_value> {
  let mut out = ptr::null_mut();
  // SAFETY: `object` is a live handle; `key` is NUL-terminated.
  let status = unsafe { sys::napi_get_named_property(env.raw(), object, key.as_ptr(), &mut out) };
  js::ok(env, status, "napi_get_named_property")?;
  Ok(out)
}

/// The store of the GC object behind `value`, if it is the JS object of one.
pub fn store_of(env: &Env, value: sys::napi_value) -> Option<Rc<StoreCell>> {
  handle(env, value).and_then(|h| h.cell.upgrade())
}

/// The store and a root of the GC object behind `value`, if it is the JS
/// object of one whose store is alive.
pub fn object_of(
  env: &Env,
  value: sys::napi_value,
) -> Option<(Rc<StoreCell>, OwnedRooted<AnyRef>)> {
  let handle = handle(env, value)?;
  Some((handle.cell.upgrade()?, handle.root.clone()))
}

/// The `Handle` behind a JS object of a GC object.
fn handle<'a>(env: &Env, value: sys::napi_value) -> Option<&'a Handle> {
  let data = js::unwrap_tagged(env, value, sys::ValueType::napi_object, &TAG)?;
  // SAFETY: objects tagged with TAG are wrapped with a `Box<Handle>`
  // (to_js), which lives while `value` does; callers use the reference
  // only while they hold `value`'s handle.
  Some(unsafe { data.cast::<Handle>().as_ref() })
}

/// The root of the GC object behind `value`, if `value` is the JS object of
/// one: `Ok(None)` for any other value, a `TypeError` for one of another
/// store (wasmtime links no references across stores).
pub fn from_js(
  env: &Env,
  cell: &Rc<StoreCell>,
  value: sys::napi_value,
) -> JsResult<Option<OwnedRooted<AnyRef>>> {
  let Some(handle) = handle(env, value) else {
    return Ok(None);
  };
  // (The object's store lives while the object does: the shim holds the
  // token for it.)
  if !handle.cell.upgrade().is_some_and(|c| Rc::ptr_eq(&c, cell)) {
    return Err(js::throw_type(
      env,
      "a Wasm GC object cannot enter another instance group (wasmtime links no references across stores)",
    ));
  }
  Ok(Some(handle.root.clone()))
}
