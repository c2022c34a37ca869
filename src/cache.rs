//! The persistent compiled-code cache: the second start of the same bytes
//! loads wasmtime's serialized module instead of compiling.
//!
//! One file per module, `<sha256 key>.wmc`, in a directory only this user
//! can write. Each file is a header ([`MAGIC`], [`FORMAT`], the key, the
//! payload's length and SHA-256) and the payload from `Module::serialize`.
//! Files are written to a temporary name in the same directory and renamed,
//! so a reader sees a whole entry or none, whichever process wrote it. A
//! reader checks the whole header and payload before `Module::deserialize`,
//! and removes an entry that fails (then compiles). Every I/O failure means
//! "no cache" (a read-only or full disk is not the user's error).
//!
//! Why `deserialize` of bytes read into memory rather than
//! `deserialize_file` (which maps the file): the checksum has to read every
//! byte anyway, and the bytes checked must be the bytes run. A mapped file
//! can change under us after the check (another process truncating or
//! rewriting that inode); a private copy cannot. The copy costs one memcpy
//! of the code, a few milliseconds for esbuild's ~30 MB (README). The
//! copy-on-write memory images a mapped file would enable cannot be used
//! with our own memories anyway (data_init.rs).

use std::fs::{self, File, OpenOptions};
use std::hash::Hasher;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// First bytes of every entry.
const MAGIC: &[u8; 8] = b"WMRSCODE";
/// Bumped whenever the entry layout or what the key covers changes.
const FORMAT: u32 = 1;
/// magic, format, key, payload length, payload SHA-256.
const HEADER_LEN: usize = 8 + 4 + 32 + 8 + 32;
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

/// The entry name of `bytes`: everything that changes the compiled code.
fn key(engine: &Engine, bytes: &[u8]) -> [u8; 32] {
  let mut hasher = ShaHasher(Sha256::new());
  hasher.0.update(MAGIC);
  hasher.0.update(FORMAT.to_le_bytes());
  // This library's version: it rewrites modules before compiling them.
  hasher.0.update(env!("CARGO_PKG_VERSION").as_bytes());
  hasher.0.update(crate::data_init::VERSION.to_le_bytes());
  hasher.0.update(build_identity());
  // wasmtime's version, the Config's code-affecting settings and the target
  // (with its CPU features).
  std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
  hasher.0.update((bytes.len() as u64).to_le_bytes());
  hasher.0.update(bytes);
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

fn hex(bytes: &[u8]) -> String {
  bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Returns the module compiled from `bytes`, from the cache when an intact
/// entry is there; otherwise runs `compile` and stores what it returns.
///
/// # Errors
/// Only `compile`'s: the cache itself never fails a compile.
pub fn load_or_compile(
  engine: &Engine,
  bytes: &[u8],
  compile: impl FnOnce() -> Result<Module, String>,
) -> Result<Module, String> {
  let usable = |c: &&Cache| bytes.len() as u64 >= c.min_module_bytes && usable_dir(&c.dir);
  let Some(cache) = cache().filter(usable) else {
    return compile();
  };
  let key = key(engine, bytes);
  let path = cache.dir.join(format!("{}{SUFFIX}", hex(&key)));
  if let Some(module) = load(engine, &path, &key) {
    HITS.fetch_add(1, Ordering::Relaxed);
    return Ok(module);
  }
  MISSES.fetch_add(1, Ordering::Relaxed);
  let module = compile()?;
  if let Ok(written) = store(&module, &cache.dir, &path, &key) {
    STORES.fetch_add(1, Ordering::Relaxed);
    cache.account(written);
  }
  Ok(module)
}

/// The module of the entry at `path`, if it is there and intact. An entry
/// that is there but not intact (or that wasmtime refuses) is removed.
fn load(engine: &Engine, path: &Path, key: &[u8; 32]) -> Option<Module> {
  let mut file = File::open(path).ok()?;
  let meta = file.metadata().ok()?;
  // SAFETY: geteuid has no preconditions and cannot fail.
  let ours = meta.is_file() && meta.uid() == unsafe { libc::geteuid() };
  let mut entry = Vec::with_capacity(meta.len() as usize);
  let read = ours && file.read_to_end(&mut entry).is_ok();
  let payload = read.then(|| check(&entry, key)).flatten();
  let Some(payload) = payload else {
    reject(path);
    return None;
  };
  // SAFETY: `Module::deserialize` runs the machine code in `payload`, so
  // it must be what `Module::serialize` of a compatible wasmtime produced.
  // It is: `check` verified, over this very copy in memory (no other
  // process can change it now), that the entry has our magic and format,
  // the key of these wasm bytes and of this engine's compatibility hash,
  // and a payload whose SHA-256 matches the one written with it. Entries
  // are written only by this function's `store`, in a directory owned by
  // this user that no one else can write (`usable_dir`), to a temporary
  // file renamed into place only once complete; a file not owned by this
  // user is refused above. Corruption (a torn write, a bad disk, a
  // truncated copy) fails the checksum; only a process with this user's
  // rights could forge an entry, and it could as well rewrite this addon.
  // wasmtime checks its own version, Config and target once more.
  let module = unsafe { Module::deserialize(engine, payload) };
  match module {
    Ok(module) => {
      // Mark as recently used for eviction; best effort.
      let _ = file.set_modified(SystemTime::now());
      Some(module)
    }
    Err(_) => {
      reject(path);
      None
    }
  }
}

/// The payload of `entry` if its header is ours, for `key`, and its
/// checksum matches.
fn check<'a>(entry: &'a [u8], key: &[u8; 32]) -> Option<&'a [u8]> {
  let (header, payload) = entry.split_at_checked(HEADER_LEN)?;
  let (magic, rest) = header.split_at(8);
  let (format, rest) = rest.split_at(4);
  let (entry_key, rest) = rest.split_at(32);
  let (len, sum) = rest.split_at(8);
  let intact = magic == MAGIC
    && format == FORMAT.to_le_bytes()
    && entry_key == key
    && len == (payload.len() as u64).to_le_bytes()
    && sum == Sha256::digest(payload).as_slice();
  intact.then_some(payload)
}

/// Removes a bad entry (if we may) and counts it.
fn reject(path: &Path) {
  if path.exists() {
    REJECTED.fetch_add(1, Ordering::Relaxed);
    let _ = fs::remove_file(path);
  }
}

/// Writes `module`'s entry at `path` (via a temporary file and a rename);
/// returns the bytes written.
fn store(module: &Module, dir: &Path, path: &Path, key: &[u8; 32]) -> std::io::Result<u64> {
  let payload = module.serialize().map_err(std::io::Error::other)?;
  let mut header = Vec::with_capacity(HEADER_LEN);
  header.extend_from_slice(MAGIC);
  header.extend_from_slice(&FORMAT.to_le_bytes());
  header.extend_from_slice(key);
  header.extend_from_slice(&(payload.len() as u64).to_le_bytes());
  header.extend_from_slice(&Sha256::digest(&payload));
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
    file.write_all(&header)?;
    file.write_all(&payload)?;
    fs::rename(&tmp, path)
  })();
  if written.is_err() {
    let _ = fs::remove_file(&tmp);
  }
  written.map(|()| (header.len() + payload.len()) as u64)
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
