'use strict';
// Loads the native addon (`loadBinding`) and the shim's JavaScript with V8's
// code cache (`createNamespace`): one file, so that `require` of the package
// costs Node's loader two files (index.js and this one), not three.
//
// The addon, in napi-rs's order: the local build
// (`wasm-memory-rs.node` beside index.js, made by scripts/build.js in a clone
// or by a source build at install), then the prebuilt binary package for this
// os, cpu and libc (`wasm-memory-rs-<platform>`, an optional dependency of the
// published package), else an error that says what was tried and how to build
// from source. scripts/install.js, scripts/prepublish.js and the tests use the
// same names from here.
const fs = require('node:fs');
const path = require('node:path');
// Node's CommonJS `Module` (require('node:module') is the same class, but
// loading that builtin costs ~0.2 ms at a start that has not yet).
const Module = typeof module.constructor?.wrap === 'function' ? module.constructor : require('node:module');

const kRoot = path.join(__dirname, '..');
const kBinaryName = 'wasm-memory-rs';
const kBuildFromSource = 'WASM_MEMORY_RS_BUILD_FROM_SOURCE';

/**
 * Whether this Linux runs on musl rather than glibc, detected as napi-rs's
 * generated loader does: `ldd` is a script that names its libc; failing that,
 * Node's diagnostic report names the glibc it runs on, or lists musl's loader.
 */
function isMusl() {
  if (process.platform !== 'linux') return false;
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    // No readable /usr/bin/ldd: ask the report.
  }
  if (typeof process.report?.getReport !== 'function') return false;
  // Network interfaces are slow to list and say nothing about libc.
  process.report.excludeNetwork = true;
  const report = process.report.getReport();
  if (report.header?.glibcVersionRuntime) return false;
  return (report.sharedObjects ?? []).some((f) => f.includes('libc.musl-') || f.includes('ld-musl-'));
}

/**
 * napi-rs's name for a platform: `linux-x64-gnu`, `linux-arm64-musl`,
 * `darwin-arm64`, `win32-x64-msvc`, ...
 */
function platformName({ platform = process.platform, arch = process.arch, musl } = {}) {
  if (platform === 'linux') return `linux-${arch}-${(musl ?? isMusl()) ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

const kArch = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' };
const kOs = { linux: 'linux', darwin: 'darwin', windows: 'win32' };

/**
 * What a Rust target triple of package.json's `napi.targets` is on npm:
 * `x86_64-unknown-linux-musl` -> { platform: 'linux-x64-musl', os: 'linux',
 * cpu: 'x64', libc: 'musl' }.
 */
function targetPlatform(triple) {
  const [arch, , os, abi] = triple.split('-');
  const npmOs = kOs[os];
  const cpu = kArch[arch];
  if (npmOs === undefined || cpu === undefined) throw new Error(`unsupported target ${triple}`);
  const libc = npmOs === 'linux' ? (abi === 'musl' ? 'musl' : 'glibc') : undefined;
  const platform = platformName({ platform: npmOs, arch: cpu, musl: libc === 'musl' });
  return { triple, platform, os: npmOs, cpu, libc };
}

/** The npm package that holds the prebuilt binary for a platform, and its file. */
function platformPackage(platform) {
  return { name: `${kBinaryName}-${platform}`, file: `${kBinaryName}.${platform}.node` };
}

/** The platforms package.json's `napi.targets` lists (built by a CI that has their toolchains). */
function supportedPlatforms(root = kRoot) {
  const { napi } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  return napi.targets.map((triple) => targetPlatform(triple).platform);
}

/**
 * Loads the addon. Returns `{ binding, path }`, the path being the file
 * loaded. `root` is the package directory and `require` a require function
 * that resolves from it (both options exist for the tests).
 */
function loadBinding({ root = kRoot, require: load = require, platform } = {}) {
  const tried = [];
  // 1. The local build: development, and installs that built from source.
  const local = path.join(root, `${kBinaryName}.node`);
  if (fs.existsSync(local)) {
    try {
      return { binding: load(local), path: local };
    } catch (error) {
      tried.push(`${local}: ${error.message}`);
    }
  } else {
    tried.push(`${local}: not built`);
  }
  // 2. The prebuilt binary package, only at our own version: another version's
  // binary may not match this index.js. (The platform is worked out only
  // here: without /usr/bin/ldd it takes a diagnostic report, which a local
  // build should not pay for at every start.)
  platform ??= platformName();
  const { name, file } = platformPackage(platform);
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  let manifest;
  try {
    manifest = load.resolve(`${name}/package.json`);
  } catch {
    tried.push(`${name}: not installed`);
  }
  if (manifest !== undefined) {
    const found = JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
    const binary = path.join(path.dirname(manifest), file);
    if (found !== version) {
      tried.push(`${name}@${found}: not version ${version}`);
    } else {
      try {
        return { binding: load(binary), path: binary };
      } catch (error) {
        tried.push(`${binary}: ${error.message}`);
      }
    }
  }
  // 3. Nothing fits: say what was tried and what to do.
  const supported = supportedPlatforms(root);
  const prebuilt = supported.includes(platform)
    ? `A prebuilt binary exists for ${platform}: install ${name}@${version}, or reinstall without --omit=optional` +
      ' (a package-lock.json made on another platform can leave it out too: npm/cli#4828).'
    : `No prebuilt binary exists for ${platform} (only ${supported.join(', ')}).`;
  throw new Error(
    [
      `wasm-memory-rs: cannot load the native addon for ${platform}. Tried:`,
      ...tried.map((line) => `  - ${line}`),
      prebuilt,
      'To build it from source (needs Rust: https://rustup.rs), run in your project:',
      `  ${kBuildFromSource}=1 npm rebuild wasm-memory-rs`,
    ].join('\n'),
  );
}

// ---------------------------------------------------------------------------
// The shim (lib/namespace.js and the files it requires) with V8's code
// cache, kept in the compiled-code cache directory (src/runtime/cache.rs):
// `require('wasm-memory-rs')` is part of every warm start, and most of its
// time was Node's loader and V8 compiling our JS (README, "Start-up").
//
// Each file is still its own CommonJS module, as `require` would make it
// (a `Module` in require.cache, so `require('./memory-brands.js')` from
// anywhere gets the same one; its own file name and line numbers in
// stacks), but compiled with `vm.Script` and the code V8 cached for its
// source at an earlier start. The addon reads the sources and the entry
// in one call (`loadShim`), keyed by the sources of all the files (V8
// itself checks only a source's length), this Node and V8's tag for
// cached data (src/runtime/js_cache.rs); V8 also refuses data of another
// version or flags, and the native side checks the entry's checksum
// before handing it over. A miss, a refusal or the cache being off only
// means compiling as `require` does; the data is then made once the
// namespace is built, and again after the program's first synchronous
// part, so it holds the functions those compiled. (These scripts have no
// `import()`: vm.Script would need a loader for it.)

const vm = require('node:vm');

const { Uint8Array: Uint8ArrayCtor, DataView: DataViewCtor } = globalThis;
const kMain = require.main;

// What building a namespace loads, in the order it does. A file required
// from these and not listed is loaded by Node's own loader (slower, never
// wrong); __test__/loader.test.js checks that the list is complete.
const kFiles = [
  'namespace.js', 'errors.js', 'functions.js', 'webidl.js', 'memory.js', 'memory-brands.js', 'module.js',
  'global.js', 'table.js', 'instance.js', 'frames.js', 'exception.js', 'jspi.js', 'operations.js',
].map((name) => path.join(__dirname, name));

// Set by the first namespace: the sources of kFiles by file name, V8's
// data for each (none without a usable entry), and the key it is stored
// under (made from these very sources).
let sources = null;
const cachedData = new Map();
let key = null;
// For __test__/loader.test.js.
const stats = { hit: false, rejected: 0, stored: false };
// The scripts compiled without usable data, kept until their code is cached
// (null when the cache is off: nothing to keep).
let compiled = [];

/** The `require` of a module this loader made: kFiles through the loader, the rest as Node would. */
function makeRequire(mod) {
  function require(request) {
    // `./name.js` (kFiles are all in this directory): no path arithmetic.
    if (request.startsWith('./') && !request.includes('/', 2)) {
      const filename = `${__dirname}${path.sep}${request.slice(2)}`;
      const cached = Module._cache[filename];
      if (cached !== undefined) return cached.exports;
      if (sources.has(filename)) return loadFile(filename, mod);
    }
    return mod.require(request);
  }
  require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  require.cache = Module._cache;
  require.main = kMain;
  return require;
}

/** Loads one file of kFiles as a CommonJS module (Node's loader's steps, with the code cache). */
function loadFile(filename, parent) {
  const mod = new Module(filename, parent);
  mod.filename = filename;
  // All in this directory: this file's own lookup paths.
  mod.paths = module.paths.slice();
  Module._cache[filename] = mod;
  let loaded = false;
  try {
    const script = new vm.Script(Module.wrap(sources.get(filename)), {
      filename,
      cachedData: cachedData.get(filename),
    });
    if (script.cachedDataRejected === true) stats.rejected++;
    if (script.cachedDataRejected !== false && compiled !== null) compiled.push([filename, script]);
    const wrapper = script.runInThisContext({ displayErrors: true });
    wrapper.call(mod.exports, mod.exports, makeRequire(mod), mod, filename, __dirname);
    loaded = true;
  } finally {
    if (!loaded) delete Module._cache[filename];
  }
  mod.loaded = true;
  return mod.exports;
}

/**
 * What the entry is named for and keyed by, besides the sources: this Node
 * and this copy of the package (the native side adds V8's tag for cached
 * data: its version, flags and CPU features).
 */
function identity() {
  return `${process.version}\n${process.arch}\n${__dirname}`;
}

/** Reads the sources and the cached code, once per process. */
function start(binding) {
  // The sources, the entry's key, and V8's data, or true on a miss, false
  // without a cache (src/runtime/js_cache.rs).
  const shim = binding.loadShim(identity(), kFiles);
  sources = new Map();
  for (let i = 0; i < kFiles.length; i++) sources.set(kFiles[i], shim.sources[i]);
  key = shim.key;
  const { data } = shim;
  if (data === false) compiled = null;
  if (typeof data === 'boolean') return;
  // One length (u32, little-endian) and that many bytes per file, in
  // kFiles order (see `store`).
  let at = 0;
  for (const filename of kFiles) {
    if (at + 4 > data.byteLength) return;
    const length = (data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24)) >>> 0;
    at += 4;
    if (at + length > data.byteLength) return;
    if (length !== 0) cachedData.set(filename, new Uint8ArrayCtor(data.buffer, data.byteOffset + at, length));
    at += length;
  }
  stats.hit = true;
}

/** Stores V8's code for every file compiled without usable cached data. */
function store(binding) {
  if (compiled === null || compiled.length === 0) return;
  const made = new Map(compiled.map(([filename, script]) => [filename, script.createCachedData()]));
  const parts = [];
  for (const filename of kFiles) {
    const bytes = made.get(filename) ?? cachedData.get(filename) ?? new Uint8ArrayCtor(0);
    const length = new Uint8ArrayCtor(4);
    new DataViewCtor(length.buffer).setUint32(0, bytes.byteLength, true);
    parts.push(length, bytes);
  }
  try {
    stats.stored = binding.storeCodeCache(identity(), key, Buffer.concat(parts));
  } catch {
    // Best effort, like every cache write.
  }
}

/**
 * Builds a namespace over `binding` (lib/namespace.js), loading the shim's
 * files with the code cache the first time.
 */
function createNamespace(binding, builtin) {
  const first = sources === null;
  if (first) start(binding);
  const create = Module._cache[kFiles[0]]?.exports ?? loadFile(kFiles[0], module);
  const namespace = create(binding, builtin);
  if (first && compiled !== null && compiled.length !== 0) {
    store(binding);
    // Once more when the program's first synchronous part is done: V8's
    // data then also holds the functions its first compiles and
    // instantiations compiled (a warm start would compile them lazily).
    // Only after a miss, so once per Node and version of the shim.
    setImmediate(() => {
      store(binding);
      compiled = [];
    });
  }
  return namespace;
}

module.exports = {
  loadBinding,
  createNamespace,
  kFiles,
  stats,
  isMusl,
  platformName,
  platformPackage,
  targetPlatform,
  supportedPlatforms,
  kBuildFromSource,
};
