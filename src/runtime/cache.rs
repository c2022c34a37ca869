//! The persistent compiled-code cache: the second start of the same bytes
//! loads wasmtime's serialized module instead of compiling.
//!
//! One file per module, `<key>.wmc`, in a directory only this user can
//! write. Each file is the payload from `Module::serialize` (wasmtime's ELF
//! image), then the wasm bytes it was compiled from, then a trailer:
//! [`MAGIC`], [`FORMAT`], the key, the payload's length and a checksum of
//! it. The key is a SHA-256 of everything that changes the compiled code
//! and a fast 64-bit hash of the wasm bytes
//! (`checksum.rs`, several times cheaper than SHA-256 over them): the name
//! of an entry, not its proof. The proof is the wasm bytes it holds, which
//! must equal the bytes being compiled, so two modules whose hashes collide
//! (by accident, or made to) share a name and replace each other's entry:
//! a miss, never another module's code. Files are written to a temporary
//! name in the same directory and renamed, so a reader sees a whole entry
//! or none, whichever process wrote it. A reader checks the trailer and the
//! wasm bytes it holds and the payload's checksum, then hands the same open file to
//! `Module::deserialize_open_file`, and removes an entry that fails (then
//! compiles). Every I/O failure means "no cache" (a read-only or full disk
//! is not the user's error).
//!
//! Why `deserialize_open_file` (wasmtime maps the file) rather than
//! `deserialize` of bytes read into memory: a warm start of esbuild.wasm
//! loads a 65 MB entry; reading it into a buffer and copying that into
//! wasmtime's own mapping cost ~70 ms more than checking it in 256 KiB
//! chunks and letting wasmtime map the pages the kernel already caches
//! (README, "Compiled-code cache"). The check reads the same open inode
//! that wasmtime maps, and entries are never rewritten in place (a new
//! entry is a new inode renamed over the old name). The copy-on-write
//! memory images a mapped file would allow stay off: they cannot be used
//! with our own memories (data_init.rs).

use std::fs::{self, File, OpenOptions};
use std::hash::Hasher;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use crate::runtime::checksum::Checksum;
use crate::runtime::timing::{time, Phase};

/// First bytes of every entry.
pub(super) const MAGIC: &[u8; 8] = b"WMRSCODE";
/// Bumped whenever the entry layout or what the key covers changes (2: the
/// wasm bytes in the entry, a fast hash of them in the key).
pub(super) const FORMAT: u32 = 2;
/// After the payload: magic, format, key, payload length, checksum.
pub(super) const TRAILER_LEN: usize = 8 + 4 + 32 + 8 + 8;
/// File name suffix of entries (temporary files start with `.tmp-`).
const SUFFIX: &str = ".wmc";
/// Default bound on the directory's entries.
const DEFAULT_SIZE: u64 = 1 << 30;
/// Modules smaller than this are compiled every time, not worth a file
/// (README: "Compiled-code cache"); `WASM_MEMORY_RS_CACHE_MIN_BYTES`.
const DEFAULT_MIN_BYTES: u64 = 2048;

/// What happened, for tests and the benchmark (`cacheStats()`).
static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);
static STORES: AtomicU64 = AtomicU64::new(0);
static REJECTED: AtomicU64 = AtomicU64::new(0);
static EVICTED: AtomicU64 = AtomicU64::new(0);

/// The cache's settings, read once from the environment.
struct Cache {
  dir: PathBuf,
  max_bytes: u64,
  min_module_bytes: u64,
  /// Bytes this process believes the directory holds (`None` until the
  /// first store scans it); eviction runs when a store pushes it past
  /// `max_bytes`.
  size: Mutex<Option<u64>>,
}

/// The cache of this process, or `None` when it is off.
fn cache() -> Option<&'static Cache> {
  static CACHE: OnceLock<Option<Cache>> = OnceLock::new();
  CACHE
    .get_or_init(|| {
      let dir = directory()?;
      let max_bytes = std::env::var("WASM_MEMORY_RS_CACHE_SIZE")
        .ok()
        .and_then(|s| parse_size(&s))
        .unwrap_or(DEFAULT_SIZE);
      let min_module_bytes = std::env::var("WASM_MEMORY_RS_CACHE_MIN_BYTES")
        .ok()
        .and_then(|s| parse_size(&s))
        .unwrap_or(DEFAULT_MIN_BYTES);
      Some(Cache {
        dir,
        max_bytes,
        min_module_bytes,
        size: Mutex::new(None),
      })
    })
    .as_ref()
}

/// `WASM_MEMORY_RS_CACHE`, or the user's cache directory; `None` if off.
fn directory() -> Option<PathBuf> {
  let env = |name| std::env::var_os(name).filter(|v| !v.is_empty());
  if let Some(value) = env("WASM_MEMORY_RS_CACHE") {
    let off = ["off", "0", "false"]
      .iter()
      .any(|o| value.to_str().is_some_and(|v| v.eq_ignore_ascii_case(o)));
    return (!off).then(|| PathBuf::from(value));
  }
  let base = env("XDG_CACHE_HOME")
    .map(PathBuf::from)
    .filter(|p| p.is_absolute())
    .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
  Some(base.join("wasm-memory-rs"))
}

/// Bytes, with an optional K, M or G suffix (powers of 1024).
fn parse_size(s: &str) -> Option<u64> {
  let s = s.trim();
  let (digits, shift) = match s.char_indices().last()? {
    (i, 'k' | 'K') => (&s[..i], 10),
    (i, 'm' | 'M') => (&s[..i], 20),
    (i, 'g' | 'G') => (&s[..i], 30),
    _ => (s, 0),
  };
  digits.trim().parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// True if `dir` exists (creating it 0700 if not), belongs to this user and
/// nobody else can write it: only then can no one but us have put entries
/// there.
fn usable_dir(dir: &Path) -> bool {
  // Errors are ignored: the metadata check below decides.
  let _ = fs::DirBuilder::new()
    .recursive(true)
    .mode(0o700)
    .create(dir);
  // SAFETY: geteuid has no preconditions and cannot fail.
  let uid = unsafe { libc::geteuid() };
  fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir() && m.uid() == uid && m.mode() & 0o022 == 0)
}

/// Feeds `Hash` implementations (the engine's compatibility hash) into SHA-256.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
  fn finish(&self) -> u64 {
    0
  }
  fn write(&mut self, bytes: &[u8]) {
    self.0.update(bytes);
  }
}

/// The entry name of `bytes`: the engine's part (`config_key`) and a fast
/// hash of the bytes. Not a proof that an entry holds the code of `bytes`:
/// `check` compares the bytes the entry holds.
fn key(engine: &Engine, bytes: &[u8]) -> [u8; 32] {
  let mut hash = Checksum::new();
  if !test_collisions() {
    hash.update(bytes);
  }
  Sha256::new()
    .chain_update(config_key(engine))
    .chain_update((bytes.len() as u64).to_le_bytes())
    .chain_update(hash.finish().to_le_bytes())
    .finalize()
    .into()
}

/// `WASM_MEMORY_RS_CACHE_TEST_COLLIDE=1` (a test hook, cache.test.js):
/// every module's name hashes as if its bytes were empty, so modules of
/// one length collide.
fn test_collisions() -> bool {
  static ON: OnceLock<bool> = OnceLock::new();
  *ON
    .get_or_init(|| std::env::var_os("WASM_MEMORY_RS_CACHE_TEST_COLLIDE").is_some_and(|v| v == "1"))
}

/// SHA-256 of everything but the wasm bytes that changes the compiled
/// code (a few hundred bytes: microseconds).
fn config_key(engine: &Engine) -> [u8; 32] {
  let mut hasher = ShaHasher(Sha256::new());
  hasher.0.update(MAGIC);
  hasher.0.update(FORMAT.to_le_bytes());
  // This library's version: it rewrites modules before compiling them.
  hasher.0.update(env!("CARGO_PKG_VERSION").as_bytes());
  hasher
    .0
    .update(crate::runtime::data_init::VERSION.to_le_bytes());
  hasher.0.update(build_identity());
  // wasmtime's version, the Config's code-affecting settings and the target
  // (with its CPU features).
  std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
  hasher.0.finalize().into()
}

/// The size and modification time of this addon's file: every rebuild
/// (a development build, a reinstall) starts with a cold cache rather than
/// trust that the version number was bumped with every change.
fn build_identity() -> &'static [u8] {
  static ID: OnceLock<Vec<u8>> = OnceLock::new();
  ID.get_or_init(|| {
    // SAFETY: `Dl_info` is plain data; all-zero is a valid value.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let here = build_identity as *const libc::c_void;
    // SAFETY: dladdr only reads the loader's tables for an address of this
    // library and fills `info`; `dli_fname` then points at a C string the
    // loader owns while the library is loaded (it is: we are running).
    let path = unsafe {
      if libc::dladdr(here, &mut info) == 0 || info.dli_fname.is_null() {
        return Vec::new();
      }
      std::ffi::CStr::from_ptr(info.dli_fname)
    };
    let path = Path::new(std::ffi::OsStr::from_bytes(path.to_bytes()));
    fs::metadata(path).map_or_else(
      |_| Vec::new(),
      |m| {
        [m.size(), m.mtime() as u64, m.mtime_nsec() as u64]
          .iter()
          .flat_map(|v| v.to_le_bytes())
          .collect()
      },
    )
  })
}

pub(super) fn hex(bytes: &[u8]) -> String {
  bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache directory, if the cache is on and the directory is usable
/// (`usable_dir`).
pub(super) fn usable_directory() -> Option<&'static Path> {
  cache()
    .map(|c| c.dir.as_path())
    .filter(|dir| usable_dir(dir))
}

/// Where the entry of a module that missed goes, once compiled.
pub struct Slot {
  path: PathBuf,
  key: [u8; 32],
}

/// What the cache has for some bytes.
pub enum Lookup {
  /// An intact entry's module.
  Hit(Module),
  /// No entry; where to store one (`None`: the cache is off, unusable, or
  /// the module is too small to keep).
  Miss(Option<Slot>),
}

/// Looks `bytes` up for `engine`: the module of an intact entry, or where
/// to store one ([`fill`]). Never fails: a cache it cannot use is a miss.
pub fn lookup(engine: &Engine, bytes: &[u8]) -> Lookup {
  let usable = |c: &&Cache| bytes.len() as u64 >= c.min_module_bytes && usable_dir(&c.dir);
  let Some(cache) = cache().filter(usable) else {
    return Lookup::Miss(None);
  };
  let key = time(Phase::Key, || key(engine, bytes));
  let path = cache.dir.join(format!("{}{SUFFIX}", hex(&key)));
  if let Some(module) = load(engine, &path, &key, bytes) {
    HITS.fetch_add(1, Ordering::Relaxed);
    return Lookup::Hit(module);
  }
  MISSES.fetch_add(1, Ordering::Relaxed);
  Lookup::Miss(Some(Slot { path, key }))
}

/// Stores `module`, compiled from `bytes` after a [`lookup`] gave `slot`
/// (any thread; a failure only means no entry).
pub fn fill(slot: &Slot, module: &Module, bytes: &[u8]) {
  let Some(cache) = cache() else {
    return;
  };
  if let Ok(written) = time(Phase::Store, || {
    store(module, &cache.dir, &slot.path, &slot.key, bytes)
  }) {
    STORES.fetch_add(1, Ordering::Relaxed);
    cache.account(written);
  }
}

/// The module of the entry at `path`, if it is there, intact and made from
/// `bytes`. An entry that is there but not intact, made from other bytes
/// (a collision of names: it is replaced), or that wasmtime refuses, is
/// removed.
fn load(engine: &Engine, path: &Path, key: &[u8; 32], bytes: &[u8]) -> Option<Module> {
  let file = time(Phase::Check, || {
    let file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let ours = meta.is_file() && meta.uid() == unsafe { libc::geteuid() };
    if !(ours && check(&file, meta.len(), key, bytes).unwrap_or(false)) {
      reject(path);
      return None;
    }
    Some(file)
  })?;
  // Mark as recently used for eviction; best effort.
  let _ = file.set_modified(SystemTime::now());
  let loaded = time(Phase::Deserialize, || {
    // SAFETY: `Module::deserialize_open_file` maps this file and runs the
    // machine code in it, so its bytes must be what `Module::serialize` of a
    // compatible wasmtime produced from these wasm bytes. They are: `check`
    // just read this very open file (the same inode wasmtime maps, whatever
    // is renamed over the path meanwhile) and found our magic and format,
    // the key of this engine's compatibility hash (and of a hash of the
    // bytes), exactly these wasm bytes stored after the payload, and a
    // payload whose checksum matches the one written with it (`store`
    // writes a payload and the bytes it was compiled from together, in one
    // file). Entries are written only by
    // `store` below, in a directory owned by this user that no one else can
    // write (`usable_dir`), to a temporary file renamed into place once
    // complete, and never modified in place afterwards; a file not owned by
    // this user was refused above. Corruption (a torn write, a bad disk, a
    // truncated copy) fails the checksum; only a process with this user's
    // rights could forge an entry, and it could as well rewrite this addon.
    // wasmtime checks its own version, Config and target once more. The
    // trailer after wasmtime's ELF image is ignored by its reader (tested).
    unsafe { Module::deserialize_open_file(engine, file) }
  });
  match loaded {
    Ok(module) => Some(module),
    Err(_) => {
      reject(path);
      None
    }
  }
}

/// The trailer that follows `payload` in the entry for `key`.
pub(super) fn trailer(payload: &[u8], key: &[u8; 32]) -> Vec<u8> {
  let mut out = Vec::with_capacity(TRAILER_LEN);
  out.extend_from_slice(MAGIC);
  out.extend_from_slice(&FORMAT.to_le_bytes());
  out.extend_from_slice(key);
  out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
  let mut sum = Checksum::new();
  sum.update(payload);
  out.extend_from_slice(&sum.finish().to_le_bytes());
  out
}

/// True if `file` (of `len` bytes) is an entry of ours for `key` that
/// holds `bytes` and whose payload matches its checksum. Reads the file
/// once, in chunks.
fn check(file: &File, len: u64, key: &[u8; 32], bytes: &[u8]) -> std::io::Result<bool> {
  use std::os::unix::fs::FileExt;
  let Some(body_len) = len.checked_sub(TRAILER_LEN as u64) else {
    return Ok(false);
  };
  let Some(payload_len) = body_len.checked_sub(bytes.len() as u64) else {
    return Ok(false);
  };
  let mut tail = [0u8; TRAILER_LEN];
  file.read_exact_at(&mut tail, body_len)?;
  let (magic, rest) = tail.split_at(8);
  let (format, rest) = rest.split_at(4);
  let (entry_key, rest) = rest.split_at(32);
  let (stored_len, sum) = rest.split_at(8);
  if magic != MAGIC
    || format != FORMAT.to_le_bytes()
    || entry_key != key
    || stored_len != payload_len.to_le_bytes()
  {
    return Ok(false);
  }
  let mut buf = vec![0u8; 1 << 18];
  // The wasm bytes first: a collision of names ends here.
  for (i, chunk) in bytes.chunks(buf.len()).enumerate() {
    let stored = &mut buf[..chunk.len()];
    file.read_exact_at(stored, payload_len + (i * (1 << 18)) as u64)?;
    if stored != chunk {
      return Ok(false);
    }
  }
  let mut hasher = Checksum::new();
  let mut at = 0;
  while at < payload_len {
    let n = buf.len().min((payload_len - at) as usize);
    file.read_exact_at(&mut buf[..n], at)?;
    hasher.update(&buf[..n]);
    at += n as u64;
  }
  Ok(sum == hasher.finish().to_le_bytes())
}

/// Removes a bad entry (if we may) and counts it.
fn reject(path: &Path) {
  if path.exists() {
    REJECTED.fetch_add(1, Ordering::Relaxed);
    let _ = fs::remove_file(path);
  }
}

/// Writes `module`'s entry at `path`, with the wasm `bytes` it was
/// compiled from; returns the bytes written.
fn store(
  module: &Module,
  dir: &Path,
  path: &Path,
  key: &[u8; 32],
  bytes: &[u8],
) -> std::io::Result<u64> {
  let payload = module.serialize().map_err(std::io::Error::other)?;
  write_entry(dir, path, key, &payload, bytes)
}

/// Writes the entry of `payload` for `key` at `path` in `dir` (`extra`
/// between the payload and the trailer: a wasm entry's bytes), via a
/// temporary file and a rename; returns the bytes written.
pub(super) fn write_entry(
  dir: &Path,
  path: &Path,
  key: &[u8; 32],
  payload: &[u8],
  extra: &[u8],
) -> std::io::Result<u64> {
  let trailer = trailer(payload, key);
  // Unique per process, thread and call: concurrent writers never share one.
  static SERIAL: AtomicU64 = AtomicU64::new(0);
  let tmp = dir.join(format!(
    ".tmp-{}-{}-{}",
    std::process::id(),
    hex(&key[..8]),
    SERIAL.fetch_add(1, Ordering::Relaxed)
  ));
  let written = (|| {
    let mut file = OpenOptions::new()
      .write(true)
      .create_new(true)
      .mode(0o600)
      .open(&tmp)?;
    file.write_all(payload)?;
    file.write_all(extra)?;
    file.write_all(&trailer)?;
    fs::rename(&tmp, path)
  })();
  if written.is_err() {
    let _ = fs::remove_file(&tmp);
  }
  written.map(|()| (payload.len() + extra.len() + trailer.len()) as u64)
}

impl Cache {
  /// Counts `written` bytes, evicting least recently used entries when the
  /// directory goes past its bound. The size is scanned once per process,
  /// then tracked; other processes' entries are seen at the next scan,
  /// which each eviction does.
  fn account(&self, written: u64) {
    let mut size = self.size.lock().unwrap_or_else(|e| e.into_inner());
    let total = match *size {
      Some(known) => known + written,
      None => entries(&self.dir).iter().map(|e| e.1).sum(),
    };
    *size = Some(if total > self.max_bytes {
      self.evict()
    } else {
      total
    });
  }

  /// Removes the least recently used entries until the directory holds at
  /// most 90% of the bound (so that eviction does not run at every store);
  /// returns what remains.
  fn evict(&self) -> u64 {
    let mut entries = entries(&self.dir);
    entries.sort_by_key(|e| e.2);
    let mut total: u64 = entries.iter().map(|e| e.1).sum();
    let target = self.max_bytes / 10 * 9;
    for (path, len, _) in entries {
      if total <= target {
        break;
      }
      if fs::remove_file(&path).is_ok() {
        EVICTED.fetch_add(1, Ordering::Relaxed);
      }
      total -= len;
    }
    total
  }
}

/// Each entry of `dir`: path, length, last use. Temporary files older than
/// an hour (left by a process that died while writing) are removed.
fn entries(dir: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
  let Ok(read) = fs::read_dir(dir) else {
    return Vec::new();
  };
  let now = SystemTime::now();
  read
    .flatten()
    .filter_map(|entry| {
      let name = entry.file_name();
      let name = name.to_str()?;
      let meta = entry.metadata().ok()?;
      let modified = meta.modified().ok()?;
      if name.starts_with(".tmp-") {
        if now
          .duration_since(modified)
          .is_ok_and(|age| age.as_secs() > 3600)
        {
          let _ = fs::remove_file(entry.path());
        }
        return None;
      }
      (name.ends_with(SUFFIX) && meta.is_file()).then(|| (entry.path(), meta.len(), modified))
    })
    .collect()
}

/// `[hits, misses, stores, rejected, evicted]` since the process started.
#[napi_derive::napi]
pub fn cache_stats() -> Vec<f64> {
  [&HITS, &MISSES, &STORES, &REJECTED, &EVICTED]
    .iter()
    .map(|c| c.load(Ordering::Relaxed) as f64)
    .collect()
}

/// The directory in use, or `null` when the cache is off.
#[napi_derive::napi]
pub fn cache_directory() -> Option<String> {
  cache().map(|c| c.dir.to_string_lossy().into_owned())
}
