//! Stores: the wasmtime `Store` that a group of instances (and the memories,
//! tables and globals they share) lives in, and how JS enters it.
//!
//! # Sharing and freeing
//! wasmtime frees nothing in a store before the store drops, and links only
//! objects of one store. So a store is made per group of instances that
//! share something: a standalone `Memory`, `Table` or `Global` starts in a
//! private store of its own (*unbound*) and is adopted by the first instance
//! that imports it (*bound*); a later instance importing it joins that
//! store. The Rust store lives while any JS object that can reach it does (a
//! `NativeStore` token, exported functions, bound memories, tables,
//! globals); V8's GC frees it by finalizing them.
//!
//! # Re-entrancy
//! A call into wasm borrows the store for its whole duration. When wasm
//! calls a JS import and that JS calls back into the same store, the
//! callback must use the `Caller` wasmtime handed to the import (the only
//! legitimate path to the store while it is borrowed): [`StoreCell::with`]
//! finds it in `entered`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::{Arc, Mutex};

use napi::{sys, Env};
use wasmtime::{
  AsContextMut, Caller, Engine, ExnRef, OwnedRooted, RootScope, Store, StoreContextMut, Tag,
};

use crate::memory::reclaim::Ref;

/// What each store carries for the JS side.
pub struct Data {
  env: sys::napi_env,
  /// The cell this store lives in (set once made).
  cell: Weak<StoreCell>,
  /// A JS exception thrown by an import, rethrown unchanged when the wasm
  /// call that led to it returns: a strong reference to a one-element array
  /// holding it (exceptions may be primitives, which Node 20 cannot
  /// reference).
  pub pending: Option<Ref>,
  /// The JS functions this store's host functions call (weak: the store's
  /// `NativeStore` token keeps them alive from JS, so that cycles through
  /// JS closures stay collectable).
  pub callables: Vec<Ref>,
  /// JS functions made for this store's wasm functions, by funcref address:
  /// their index in the token's `functions` array (which holds them), so
  /// that one wasm function is one JS function (func.rs).
  pub functions: HashMap<usize, u32>,
  /// The token's `functions` array (weak: the token holds it).
  pub function_list: Ref,
  /// Host functions standing for exported functions of other stores: by
  /// funcref address, the index in `callables` of the exported function
  /// (which is what exporting it again gives back) ...
  pub foreign: HashMap<usize, usize>,
  /// ... and by the address of its `Exported`, the host function already
  /// made for it (so that passing it again adds nothing to the store).
  pub wrappers: HashMap<
    usize,
    (
      std::rc::Weak<crate::runtime::func::Exported>,
      wasmtime::Func,
    ),
  >,
  /// This store's `NativeStore` token (weak).
  pub token: Ref,
  /// Indexes into the token's `values` array that externrefs released
  /// when wasmtime's collector dropped them (`value::Slot`), to be cleared
  /// from JS (a drop runs inside the collector, where JS cannot run).
  pub freed_slots: Arc<Mutex<Vec<u32>>>,
  /// Cleared indexes of `values`, ready for reuse.
  pub free_slots: Vec<u32>,
  /// The length of `values`.
  pub next_slot: u32,
  /// The token's `values` array (weak: the token holds it).
  pub values: Ref,
  /// The JS `Tag` object of each wasmtime tag of this store that JS has
  /// seen (strong: tag objects hold nothing of the store).
  pub tags: Vec<(Tag, Ref)>,
  /// This store's instance of `WebAssembly.JSTag` (type `[externref]`),
  /// which also carries JS values that are not `WebAssembly.Exception`s
  /// through wasm.
  pub js_tag: Option<Tag>,
  /// Wasm exceptions and the JS `Exception` objects they stand for, so
  /// that one exception crossing to JS again is the same object. Held
  /// until the outermost call into the store returns.
  pub exceptions: Vec<(OwnedRooted<ExnRef>, Ref)>,
  /// The modules instantiated here, for wasm frames in `Error.stack`.
  pub modules: crate::runtime::backtrace::Modules,
  /// Wasm GC objects JS has seen, and their JS objects (src/runtime/gc.rs).
  pub gc_objects: crate::runtime::gc::Objects,
  /// The store's share of its sandbox's caps (sandbox.rs; unused outside
  /// sandboxes).
  pub limiter: crate::api::sandbox::Limiter,
}

// SAFETY: wasmtime asks for `Send` store data only so that an async call's
// future may move between threads; ours never does. A store lives in an
// `Rc<StoreCell>` (not `Send`), so it stays on its JS thread, and the futures
// of JSPI calls (jspi.rs) are polled only there, by the driver that made them.
unsafe impl Send for Data {}

impl Data {
  /// The env this store's JS objects belong to.
  pub fn env(&self) -> Env {
    Env::from_raw(self.env)
  }

  /// The cell this store lives in.
  pub fn cell(&self) -> Option<Rc<StoreCell>> {
    self.cell.upgrade()
  }
}

impl Drop for Data {
  fn drop(&mut self) {
    let env = self.env();
    if let Some(mut pending) = self.pending.take() {
      pending.clear(&env);
    }
    for r in self.callables.iter_mut() {
      r.clear(&env);
    }
    for (_, r) in self.tags.iter_mut() {
      r.clear(&env);
    }
    for (_, r) in self.exceptions.iter_mut() {
      r.clear(&env);
    }
    self.token.clear(&env);
    self.values.clear(&env);
    self.function_list.clear(&env);
    self.gc_objects.clear(&env);
  }
}

/// A store, and where a call that is running in it left its `Caller`.
pub struct StoreCell {
  store: RefCell<Store<Data>>,
  /// The `StoreContextMut` of the innermost import running in this store,
  /// or null when no wasm of this store is on the stack.
  entered: Cell<*mut StoreContextMut<'static, Data>>,
  /// The sandbox this store runs under (sandbox.rs), if any.
  pub sandbox: Option<Arc<crate::api::sandbox::Ctx>>,
  /// Whether this store's host functions are async (JSPI, jspi.rs).
  jspi: Cell<bool>,
  /// Whether its engine has exception handling (Winch's has not:
  /// tiering.rs), so that a JS exception can enter its wasm as one.
  pub exceptions: bool,
  /// Whether a JSPI import's fiber is suspended in this store (its JS runs
  /// on the main stack, or its promise is pending): wasmtime's collector
  /// would not see that fiber's frames, so nothing may allocate in the GC
  /// heap meanwhile (`Arg::into_val` refuses).
  waiting: Cell<bool>,
}

impl StoreCell {
  /// A new, empty store.
  ///
  /// # Errors
  /// Fails only if the engine cannot be made (see `engine.rs`).
  pub fn new(env: &Env) -> Result<Rc<StoreCell>, String> {
    StoreCell::new_in(env, None)
  }

  /// A new, empty store of `engine` (the Winch engine's: tiering.rs), or,
  /// when `None` or in a sandbox, of the namespace's engine.
  ///
  /// # Errors
  /// As [`StoreCell::new`].
  pub fn new_in(env: &Env, engine: Option<&'static Engine>) -> Result<Rc<StoreCell>, String> {
    // In the sandbox entered now, if any (sandbox.rs).
    let sandbox = crate::api::sandbox::current();
    let engine = match (&sandbox, engine) {
      (Some(s), _) => s.engine(),
      (None, Some(engine)) => engine,
      (None, None) => crate::runtime::engine::engine()?,
    };
    Ok(Rc::new_cyclic(|cell| {
      let mut store = Store::new(
        engine,
        Data {
          env: env.raw(),
          cell: cell.clone(),
          pending: None,
          callables: Vec::new(),
          functions: HashMap::new(),
          function_list: Ref::none(),
          foreign: HashMap::new(),
          wrappers: HashMap::new(),
          token: Ref::none(),
          freed_slots: Arc::default(),
          free_slots: Vec::new(),
          next_slot: 0,
          values: Ref::none(),
          tags: Vec::new(),
          js_tag: None,
          exceptions: Vec::new(),
          modules: Default::default(),
          gc_objects: crate::runtime::gc::Objects::default(),
          limiter: crate::api::sandbox::limiter(sandbox.as_ref()),
        },
      );
      crate::api::sandbox::prepare(&mut store, sandbox.as_ref());
      StoreCell {
        store: RefCell::new(store),
        entered: Cell::new(std::ptr::null_mut()),
        sandbox,
        jspi: Cell::new(false),
        exceptions: !crate::runtime::tiering::is_baseline(engine),
        waiting: Cell::new(false),
      }
    }))
  }

  /// Runs `f` with the store: through the running import's `Caller` if
  /// wasm of this store is on the stack, else by borrowing it. `f` must not
  /// call JS except by calling wasm (whose imports re-enter through
  /// [`StoreCell::enter`]). GC references `f` roots are unrooted when it
  /// returns (a root scope): none may escape it.
  ///
  /// # Errors
  /// Fails if the store is borrowed with no import running: a bug, reported
  /// rather than a panic across the Node-API boundary.
  pub fn with<R>(&self, f: impl FnOnce(&mut StoreContextMut<'_, Data>) -> R) -> Result<R, String> {
    let entered = self.entered.get();
    if !entered.is_null() {
      // SAFETY: `entered` is set by `enter` for exactly the duration of an
      // import's host function on this thread, to the context made from the
      // `Caller` wasmtime gave it; we are inside that function (nested,
      // through JS), and each `with` makes the only live reference to it.
      // A JSPI import (jspi.rs) sets it while its fiber is suspended inside
      // the import, which holds the context and is not running meanwhile.
      // It is reset before the fiber resumes or is dropped.
      let mut scope = RootScope::new(unsafe { &mut *entered });
      return Ok(f(&mut scope.as_context_mut()));
    }
    let mut store = self.store.try_borrow_mut().map_err(|_| {
      if self.is_jspi() {
        // A suspended JSPI call holds the store (a Global or Table of its
        // instance group read meanwhile): a known difference, said so.
        crate::runtime::jspi::BUSY.to_owned()
      } else {
        "the wasm store is busy (re-entered without an import)".to_owned()
      }
    })?;
    let mut scope = RootScope::new(store.as_context_mut());
    Ok(f(&mut scope.as_context_mut()))
  }

  /// Like [`StoreCell::with`], without a root scope: for an import's
  /// results, which must stay rooted until wasmtime has taken them (its own
  /// scope around the host function unroots them).
  ///
  /// # Errors
  /// As [`StoreCell::with`].
  pub fn with_unscoped<R>(
    &self,
    f: impl FnOnce(&mut StoreContextMut<'_, Data>) -> R,
  ) -> Result<R, String> {
    let entered = self.entered.get();
    if entered.is_null() {
      return self.with(f);
    }
    // SAFETY: as in `with`.
    Ok(f(unsafe { &mut *entered }))
  }

  /// Whether this store runs its wasm on fibers (an import is
  /// `WebAssembly.Suspending`: jspi.rs).
  pub fn is_jspi(&self) -> bool {
    self.jspi.get()
  }

  /// Whether a JSPI import's fiber is suspended in this store (see `waiting`).
  pub fn is_waiting(&self) -> bool {
    self.waiting.get()
  }

  pub(crate) fn set_waiting(&self, waiting: bool) {
    self.waiting.set(waiting);
  }

  /// Makes this (new, empty) store a JSPI store.
  pub(crate) fn set_jspi(&self) {
    self.jspi.set(true);
  }

  /// Registers `ctx` as the way into this store (see `enter`) and returns
  /// what was registered before: for jspi.rs, whose imports hand the store
  /// to the driver on the main stack while their fiber waits.
  pub(crate) fn swap_entered(
    &self,
    ctx: *mut StoreContextMut<'static, Data>,
  ) -> *mut StoreContextMut<'static, Data> {
    self.entered.replace(ctx)
  }

  /// The store itself, unless it is borrowed (a call is running or a JSPI
  /// call is suspended).
  pub(crate) fn try_store(&self) -> Option<std::cell::RefMut<'_, Store<Data>>> {
    self.store.try_borrow_mut().ok()
  }

  /// Whether wasm of this store is on the stack (a call is running).
  pub fn is_entered(&self) -> bool {
    !self.entered.get().is_null()
  }

  /// Runs `f` (an import's body) with `caller` registered as the way into
  /// this store: `f` reaches the store only through [`StoreCell::with`].
  pub fn enter<R>(cell: &StoreCell, caller: &mut Caller<'_, Data>, f: impl FnOnce() -> R) -> R {
    let mut ctx = caller.as_context_mut();
    let ptr = (&mut ctx as *mut StoreContextMut<'_, Data>).cast::<StoreContextMut<'static, Data>>();
    struct Restore<'a>(&'a StoreCell, *mut StoreContextMut<'static, Data>);
    impl Drop for Restore<'_> {
      fn drop(&mut self) {
        self.0.entered.set(self.1);
      }
    }
    let _restore = Restore(cell, cell.entered.replace(ptr));
    // `ctx` outlives `f`, and `_restore` unregisters it before it goes.
    f()
  }
}

/// Two `Rc<StoreCell>`s are the same store.
pub fn same(a: &Rc<StoreCell>, b: &Rc<StoreCell>) -> bool {
  Rc::ptr_eq(a, b)
}

/// The array `token` (the store's token) holds under `key`, cached in the
/// field `cached` of the store's data as a weak reference (the token holds
/// the array): the `functions` of exported functions (func.rs), the
/// `values` of externrefs (value.rs).
pub(crate) fn token_array(
  env: &Env,
  cell: &StoreCell,
  token: impl FnOnce() -> crate::js::JsResult<sys::napi_value>,
  key: &std::ffi::CStr,
  cached: fn(&mut Data) -> &mut Ref,
) -> crate::js::JsResult<sys::napi_value> {
  use crate::js::{self, Pending};
  let known = cell
    .with(|ctx| cached(ctx.data_mut()).get(env))
    .map_err(|e| js::throw(env, &e))?;
  if let Some(list) = known {
    return Ok(list);
  }
  let token = token()?;
  let mut list = std::ptr::null_mut();
  // SAFETY: `token` is a live object; `key` is a NUL-terminated string.
  let status = unsafe { sys::napi_get_named_property(env.raw(), token, key.as_ptr(), &mut list) };
  js::ok(env, status, "napi_get_named_property")?;
  if js::type_of(env, list) != sys::ValueType::napi_object {
    return Err(js::throw(
      env,
      &format!("the store's token has no {} array", key.to_string_lossy()),
    ));
  }
  let weak = Ref::new(env, list, false).map_err(|_| Pending)?;
  cell
    .with(|ctx| {
      let mut old = std::mem::replace(cached(ctx.data_mut()), weak);
      old.clear(env);
    })
    .map_err(|e| js::throw(env, &e))?;
  Ok(list)
}
