//! The checksum of compiled-code cache entries (cache.rs, js_cache.rs): it
//! has to catch accidental corruption at memory speed, not forgery.

/// A 64-bit checksum of the payload (xxHash64's mixing, 4 lanes): it has to
/// catch accidental corruption at memory speed (a warm esbuild start reads
/// 65 MB). Forgery is not its job: only this user can write the directory,
/// and such a writer could forge a SHA-256 as easily.
pub struct Checksum {
  lanes: [u64; 4],
  pending: Vec<u8>,
  total: u64,
}

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;

fn round(acc: u64, word: u64) -> u64 {
  acc
    .wrapping_add(word.wrapping_mul(P2))
    .rotate_left(31)
    .wrapping_mul(P1)
}

impl Checksum {
  pub fn new() -> Self {
    Checksum {
      lanes: [P1.wrapping_add(P2), P2, 0, 0u64.wrapping_sub(P1)],
      pending: Vec::with_capacity(32),
      total: 0,
    }
  }

  pub fn update(&mut self, mut data: &[u8]) {
    self.total += data.len() as u64;
    if !self.pending.is_empty() {
      let take = (32 - self.pending.len()).min(data.len());
      self.pending.extend_from_slice(&data[..take]);
      data = &data[take..];
      if self.pending.len() < 32 {
        return;
      }
      let stripe: [u8; 32] = self.pending[..].try_into().unwrap_or([0; 32]);
      self.stripe(&stripe);
      self.pending.clear();
    }
    let mut stripes = data.chunks_exact(32);
    for stripe in &mut stripes {
      self.stripe(stripe);
    }
    self.pending.extend_from_slice(stripes.remainder());
  }

  fn stripe(&mut self, stripe: &[u8]) {
    for (lane, word) in self.lanes.iter_mut().zip(stripe.chunks_exact(8)) {
      let word = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
      *lane = round(*lane, word);
    }
  }

  pub fn finish(&self) -> u64 {
    let [a, b, c, d] = self.lanes;
    let mut h = a
      .rotate_left(1)
      .wrapping_add(b.rotate_left(7))
      .wrapping_add(c.rotate_left(12))
      .wrapping_add(d.rotate_left(18));
    for lane in self.lanes {
      h = (h ^ round(0, lane)).wrapping_mul(P1).wrapping_add(P3);
    }
    h = h.wrapping_add(self.total);
    for &byte in &self.pending {
      h = (h ^ u64::from(byte).wrapping_mul(P3))
        .rotate_left(11)
        .wrapping_mul(P1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
  }
}
