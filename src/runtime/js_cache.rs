//! V8's code cache for the JS shim (`lib/binding.js`), kept in the
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
//!
//! `loadShim` reads the sources too: one call instead of a `readFileSync`
//! per file, a join and a copy of them all into the key (README,
//! "Start-up").

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;

use napi::bindgen_prelude::{Buffer, Either};
use sha2::{Digest, Sha256};

use crate::runtime::cache::{self, FORMAT, MAGIC, TRAILER_LEN};
use crate::runtime::checksum::Checksum;

/// Separates these keys from the wasm entries' (which start with MAGIC).
const DOMAIN: &[u8] = b"wasm-memory-rs: V8 code cache of the JS shim";
/// File name suffix (not `.wmc`: eviction counts only wasm entries).
const SUFFIX: &str = ".jsc";

/// The entry's path: named for `identity` and V8's tag.
fn entry_path(dir: &std::path::Path, identity: &str, tag: u32) -> std::path::PathBuf {
  let named = Sha256::new()
    .chain_update(DOMAIN)
    .chain_update(FORMAT.to_le_bytes())
    .chain_update(tag.to_le_bytes())
    .chain_update(identity.as_bytes())
    .finalize();
  dir.join(format!("js-{}{SUFFIX}", cache::hex(&named[..16])))
}

/// The entry's key: `identity`, V8's tag and the sources (`sources_hash`).
fn entry_key(identity: &str, tag: u32, sources: u64) -> [u8; 32] {
  Sha256::new()
    .chain_update(MAGIC)
    .chain_update(DOMAIN)
    .chain_update(FORMAT.to_le_bytes())
    .chain_update(tag.to_le_bytes())
    .chain_update((identity.len() as u64).to_le_bytes())
    .chain_update(identity.as_bytes())
    .chain_update(sources.to_le_bytes())
    .finalize()
    .into()
}

/// A 64-bit hash of the sources (each with its length before it), as the
/// wasm entries are named (cache.rs): the sources are the package's own
/// files, and whoever could craft a collision could as well edit them.
fn sources_hash<'a>(sources: impl IntoIterator<Item = &'a [u8]>) -> u64 {
  let mut hash = Checksum::new();
  for source in sources {
    hash.update(&(source.len() as u64).to_le_bytes());
    hash.update(source);
  }
  hash.finish()
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

/// What `loadShim` read: the shim's sources, the key V8's data for them is
/// stored under, and that data if an intact entry of ours holds it.
#[napi_derive::napi(object)]
pub struct Shim {
  /// The files' contents (UTF-8, invalid sequences replaced, as
  /// `readFileSync(file, 'utf8')` reads them), in the order asked.
  pub sources: Vec<String>,
  /// The entry's key (32 bytes), for `storeCodeCache`.
  pub key: Buffer,
  /// V8's data (the loader's payload); otherwise `true` when one can be
  /// stored, `false` when the cache is off or unusable.
  pub data: Either<Buffer, bool>,
}

/// Reads the shim's `files` and V8's cached code for them (see `Shim`).
/// An unreadable file is an `Error` naming it, as `readFileSync` would
/// throw; the cache never is one.
#[napi_derive::napi]
pub fn load_shim(identity: String, files: Vec<String>) -> napi::Result<Shim> {
  let mut bytes = Vec::with_capacity(files.len());
  for file in &files {
    let read =
      std::fs::read(file).map_err(|e| napi::Error::from_reason(format!("{e}, open '{file}'")))?;
    bytes.push(read);
  }
  let hash = sources_hash(bytes.iter().map(Vec::as_slice));
  let sources = bytes
    .into_iter()
    .map(|b| {
      String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    })
    .collect();
  let Some(dir) = cache::usable_directory() else {
    return Ok(Shim {
      sources,
      key: Buffer::from(Vec::new()),
      data: Either::B(false),
    });
  };
  let tag = v8_tag();
  let key = entry_key(&identity, tag, hash);
  let data = match read(&entry_path(dir, &identity, tag), &key) {
    Some(payload) => Either::A(payload.into()),
    None => Either::B(true),
  };
  Ok(Shim {
    sources,
    key: key.to_vec().into(),
    data,
  })
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

/// Stores `data`, V8's cached code of the shim, under `key` (from
/// `loadShim`, whose sources it was made from); true if it was written.
/// Best effort, like every cache write.
#[napi_derive::napi]
pub fn store_code_cache(identity: String, key: Buffer, data: Buffer) -> bool {
  let Some(dir) = cache::usable_directory() else {
    return false;
  };
  let Ok(key) = <[u8; 32]>::try_from(&key[..]) else {
    return false;
  };
  let path = entry_path(dir, &identity, v8_tag());
  cache::write_entry(dir, &path, &key, &data, &[]).is_ok()
}
