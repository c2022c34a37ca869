//! Recycling released memories.
//!
//! A memory that JS can no longer reach is zeroed and parked here, keyed by
//! its type, for the next memory of the same type: that one then costs no
//! store, no instantiation and no system call. The pool is small and per
//! thread (per Node environment).

use std::collections::VecDeque;

/// At most this many memories are parked...
const MAX_PARKED: usize = 1024;
/// ...holding at most this many accessible (zeroed) bytes.
const MAX_PARKED_BYTES: usize = 256 << 20;

/// Parked values of type `V`, keyed by `K`.
pub struct Pool<K, V> {
  parked: VecDeque<(K, V, usize)>,
  bytes: usize,
}

impl<K: PartialEq, V> Pool<K, V> {
  pub const fn new() -> Self {
    Pool {
      parked: VecDeque::new(),
      bytes: 0,
    }
  }

  /// Parks `value` (holding `bytes`); gives it back when the pool is full.
  pub fn put(&mut self, key: K, value: V, bytes: usize) -> Option<V> {
    if self.parked.len() >= MAX_PARKED || self.bytes + bytes > MAX_PARKED_BYTES {
      return Some(value);
    }
    self.bytes += bytes;
    self.parked.push_back((key, value, bytes));
    None
  }

  /// Takes the most recently parked value for `key`.
  pub fn take(&mut self, key: &K) -> Option<V> {
    let at = self.parked.iter().rposition(|(k, _, _)| k == key)?;
    let (_, value, bytes) = self.parked.remove(at)?;
    self.bytes -= bytes;
    Some(value)
  }

  /// Empties the pool.
  pub fn drain(&mut self) -> Vec<V> {
    self.bytes = 0;
    self.parked.drain(..).map(|(_, v, _)| v).collect()
  }
}
