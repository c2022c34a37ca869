//! V8's code cache for the JS shim (`lib/loader.js`), kept in the
//! compiled-code cache directory beside the wasm entries (cache.rs), in the
//! same format: the payload (V8's data for each file, as the loader lays it
//! out) and cache.rs's trailer (magic, format, key, length, checksum).
//!
//! One entry per copy of the package and Node (`identity`: Node's version,
//! the package's directory; and V8's tag for cached data, which covers its
//! version, flags and CPU features), named for it, so there are never more
//! than a few and eviction need not know them; the key in the trailer
//! covers the identity and the shim's sources, and an entry whose key
//! differs (the sources changed) is a miss, overwritten by the next store.
//! V8 checks its own version and flags again when it takes the data.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;

use napi::bindgen_prelude::{Buffer, Either};
use sha2::{Digest, Sha256};

use crate::runtime::cache::{self, FORMAT, MAGIC, TRAILER_LEN};

/// Separates these keys from the wasm entries' (which start with MAGIC).
const DOMAIN: &[u8] = b"wasm-memory-rs: V8 code cache of the JS shim";
/// File name suffix (not `.wmc`: eviction counts only wasm entries).
const SUFFIX: &str = ".jsc";

/// The entry's path (named for `identity`) and key (for `identity` and
/// `sources`).
fn entry(dir: &std::path::Path, identity: &str, sources: &str) -> (std::path::PathBuf, [u8; 32]) {
  let tag = v8_tag();
  let named = Sha256::new()
    .chain_update(DOMAIN)
    .chain_update(FORMAT.to_le_bytes())
    .chain_update(tag.to_le_bytes())
    .chain_update(identity.as_bytes())
    .finalize();
  let key = Sha256::new()
    .chain_update(MAGIC)
    .chain_update(DOMAIN)
    .chain_update(FORMAT.to_le_bytes())
    .chain_update(tag.to_le_bytes())
    .chain_update((identity.len() as u64).to_le_bytes())
    .chain_update(identity.as_bytes())
    .chain_update(sources.as_bytes())
    .finalize()
    .into();
  let path = dir.join(format!("js-{}{SUFFIX}", cache::hex(&named[..16])));
  (path, key)
}

/// V8's `ScriptCompiler::CachedDataVersionTag()`: a hash of its version,
/// flags and CPU features, which must match for V8 to take cached data
/// (Node's `v8.cachedDataVersionTag()`, but `require('node:v8')` costs ~3
/// ms at start-up). Found in the running Node by name; 0 if it is not
/// there (a rejection then only costs a compile and a rewrite).
fn v8_tag() -> u32 {
  const NAME: &std::ffi::CStr = c"_ZN2v814ScriptCompiler20CachedDataVersionTagEv";
  // SAFETY: dlsym only reads the loader's symbol tables; the name is a
  // valid C string.
  let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, NAME.as_ptr()) };
  if symbol.is_null() {
    return 0;
  }
  // SAFETY: the mangled name is V8's `static uint32_t
  // v8::ScriptCompiler::CachedDataVersionTag()` (v8-script.h, unchanged
  // since V8 5): a static member function of no parameters, which the
  // platform's C ABI calls as an `extern "C" fn() -> u32`. It only reads
  // V8's flags and version.
  let tag: extern "C" fn() -> u32 = unsafe { std::mem::transmute(symbol) };
  tag()
}

/// V8's cached code of the shim whose files' sources are `sources` (joined
/// by the loader), if an intact entry of ours holds it; otherwise `true`
/// when one can be stored (`storeCodeCache`), `false` when the cache is off
/// or unusable.
#[napi_derive::napi]
pub fn load_code_cache(identity: String, sources: String) -> Either<Buffer, bool> {
  let Some(dir) = cache::usable_directory() else {
    return Either::B(false);
  };
  let (path, key) = entry(dir, &identity, &sources);
  match read(&path, &key) {
    Some(payload) => Either::A(payload.into()),
    None => Either::B(true),
  }
}

/// The payload of the entry at `path` if it is ours (a file of this user's
/// in a directory only this user can write: cache.rs), is whole, and was
/// made for `key`.
fn read(path: &std::path::Path, key: &[u8; 32]) -> Option<Vec<u8>> {
  let mut file = File::open(path).ok()?;
  let meta = file.metadata().ok()?;
  // SAFETY: geteuid has no preconditions and cannot fail.
  if !(meta.is_file() && meta.uid() == unsafe { libc::geteuid() }) {
    return None;
  }
  let mut bytes = Vec::with_capacity(meta.len() as usize);
  file.read_to_end(&mut bytes).ok()?;
  let payload_len = bytes.len().checked_sub(TRAILER_LEN)?;
  // The trailer written with this payload for this key, byte for byte
  // (magic, format, key, length, checksum).
  if bytes[payload_len..] != cache::trailer(&bytes[..payload_len], key)[..] {
    return None;
  }
  bytes.truncate(payload_len);
  Some(bytes)
}

/// Stores `data`, V8's cached code of the shim whose sources are
/// `sources`; true if it was written. Best effort, like every cache write.
#[napi_derive::napi]
pub fn store_code_cache(identity: String, sources: String, data: Buffer) -> bool {
  let Some(dir) = cache::usable_directory() else {
    return false;
  };
  let (path, key) = entry(dir, &identity, &sources);
  cache::write_entry(dir, &path, &key, &data, &[]).is_ok()
}
