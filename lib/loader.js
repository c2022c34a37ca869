'use strict';
// Loads the shim (lib/namespace.js and the files it requires) with V8's code
// cache, kept in the compiled-code cache directory (src/runtime/cache.rs):
// `require('wasm-memory-rs')` is part of every warm start, and most of its
// time was Node's loader and V8 compiling our JS (README, "Start-up").
//
// Each file is still its own CommonJS module, as `require` would make it
// (a `Module` in require.cache, so `require('./memory-brands.js')` from
// anywhere gets the same one; its own file name and line numbers in
// stacks), but compiled with `vm.Script` and the code V8 cached for its
// source at an earlier start. The entry is keyed by the sources of all the
// files (V8 itself checks only a source's length), this Node and V8's tag
// for cached data (src/runtime/js_cache.rs); V8 also refuses data of
// another version or flags, and the native side checks the entry's
// checksum before handing it over. A miss, a refusal or the cache being
// off only means compiling as `require` does; the data is then made once
// the namespace is built, and again after the program's first synchronous
// part, so it holds the functions those compiled. (These scripts have no
// `import()`: vm.Script would need a loader for it.)

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const { Uint8Array: Uint8ArrayCtor, DataView: DataViewCtor } = globalThis;
const kMain = require.main;

// What building a namespace loads, in the order it does. A file required
// from these and not listed is loaded by Node's own loader (slower, never
// wrong); __test__/loader.test.js checks that the list is complete.
const kFiles = [
  'namespace.js', 'errors.js', 'functions.js', 'webidl.js', 'memory.js', 'memory-brands.js', 'module.js',
  'global.js', 'table.js', 'instance.js', 'frames.js', 'exception.js', 'jspi.js', 'operations.js',
].map((name) => path.join(__dirname, name));

// Set by the first namespace: the sources of kFiles by file name, and V8's
// data for each (none without a usable entry).
let sources = null;
const cachedData = new Map();
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
  sources = new Map(kFiles.map((f) => [f, fs.readFileSync(f, 'utf8')]));
  // V8's data, or true on a miss, false without a cache (src/runtime/js_cache.rs).
  let data = false;
  try {
    data = binding.loadCodeCache(identity(), [...sources.values()].join('\0'));
  } catch {
    // Compile as without a cache.
  }
  if (data === false) compiled = null;
  if (typeof data === 'boolean') return;
  // One length (u32, little-endian) and that many bytes per file, in
  // kFiles order (see `store`).
  const view = new DataViewCtor(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  for (const filename of kFiles) {
    if (at + 4 > data.byteLength) return;
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > data.byteLength) return;
    if (length !== 0) cachedData.set(filename, data.subarray(at, at + length));
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
    stats.stored = binding.storeCodeCache(identity(), [...sources.values()].join('\0'), Buffer.concat(parts));
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

module.exports = { createNamespace, kFiles, stats };
