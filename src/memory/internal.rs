//! Memories an instance defines but does not export, handed to the
//! reclaimer with the store's token.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use napi::{sys, Env};

use crate::memory::mapping::{self, Mapping};
use crate::memory::reclaim::{self, Reclaimable, Ref, Verdict};

/// The memories an instance defines but does not export: only wasm of its
/// store can reach them, so they can go (early, like unreachable
/// `Memory`s) once the store's token is collected.
struct Internal {
  /// The store's `NativeStore` token (weak).
  token: Ref,
  mappings: Vec<Arc<Mapping>>,
  done: bool,
}

impl Reclaimable for Internal {
  fn released(&self) -> bool {
    self.done
  }

  fn check(&mut self, env: &Env) -> Verdict {
    if self.token.get(env).is_some() {
      Verdict::Live
    } else {
      Verdict::Unreachable
    }
  }

  fn confirmed(&mut self, _env: &Env) -> bool {
    true
  }

  fn release(&mut self, env: &Env) {
    for mapping in &self.mappings {
      // SAFETY: every JS object that can enter the store holds its token,
      // which is collected: no wasm can run in the store again, and these
      // memories were never exposed to JS.
      unsafe { mapping.release() };
    }
    self.retire(env);
  }

  fn retire(&mut self, env: &Env) {
    self.token.clear(env);
    self.mappings.clear();
    self.done = true;
  }

  fn bytes(&self) -> usize {
    self.mappings.iter().map(|m| m.accessible()).sum()
  }
}

/// Hands the memories the last instantiation created and nobody claimed
/// (those its instance does not export) to the reclaimer, tied to `token`.
pub(crate) fn track_internal(env: &Env, token: sys::napi_value) {
  let mappings = mapping::take_unclaimed();
  if mappings.is_empty() {
    return;
  }
  let Ok(token) = Ref::new(env, token, false) else {
    return;
  };
  let bytes = mappings.iter().map(|m| m.accessible()).sum();
  let internal = Internal {
    token,
    mappings,
    done: false,
  };
  reclaim::track(env, Rc::new(RefCell::new(internal)), bytes);
}
