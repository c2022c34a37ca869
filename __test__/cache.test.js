'use strict';
// The persistent compiled-code cache (src/runtime/cache.rs), in child processes that
// each get their own WASM_MEMORY_RS_CACHE directory. Hits and misses are
// proven by the addon's own counters (binding.cacheStats(): hits, misses,
// stores, rejected, evicted), never by timing.
const { test } = require('node:test');
const assert = require('node:assert');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { wat } = require('./wat');

const root = path.join(__dirname, '..');
// An entry: wasmtime's payload, the wasm bytes it was compiled from, then a
// trailer: magic, format, key, the payload's length and its checksum.
const TRAILER = 8 + 4 + 32 + 8 + 8;
const payloadLength = (bytes) => Number(bytes.readBigUInt64LE(bytes.length - TRAILER + 8 + 4 + 32));

/** A module big enough to be cached: `functions` functions returning `seed + i`. */
function bigModule(seed, functions = 800) {
  const funcs = [];
  for (let i = 0; i < functions; i++) {
    funcs.push(`(func (export "f${i}") (param i32) (result i32)
      (i32.add (i32.mul (local.get 0) (i32.const ${i + 3})) (i32.const ${seed + i})))`);
  }
  const bytes = wat(`(module ${funcs.join('\n')})`);
  assert.ok(bytes.length >= 16 * 1024, `the test module is ${bytes.length} bytes`);
  return bytes;
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-memory-rs-cache-test-'));

// The child: compiles each file it is given (synchronously, or with
// WebAssembly.compile when CHILD_ASYNC is set), calls f7(2) of each, and
// prints its cache counters and directory.
const CHILD = `
const WA = require(${JSON.stringify(root)});
const { binding } = require(${JSON.stringify(path.join(root, 'internal.js'))});
const fs = require('node:fs');
(async () => {
  const results = [];
  for (const file of process.argv.slice(1)) {
    const bytes = fs.readFileSync(file);
    const module = process.env.CHILD_ASYNC ? await WA.compile(bytes) : new WA.Module(bytes);
    results.push(new WA.Instance(module, {}).exports.f7(2));
  }
  const [hits, misses, stores, rejected, evicted] = binding.cacheStats();
  console.log(JSON.stringify({ results, hits, misses, stores, rejected, evicted, dir: binding.cacheDirectory() }));
})();`;

function childEnv(cacheDir, extra = {}) {
  // The default tiering (these modules are too small for Winch first), even
  // in a run of the suite with every module on Winch (tiering.test.js).
  const env = { ...process.env, WASM_MEMORY_RS_TIERING: '', ...extra };
  if (cacheDir === undefined) delete env.WASM_MEMORY_RS_CACHE;
  else env.WASM_MEMORY_RS_CACHE = cacheDir;
  return env;
}

function run(cacheDir, files, extra) {
  const r = spawnSync(process.execPath, ['-e', CHILD, ...files], { env: childEnv(cacheDir, extra), encoding: 'utf8' });
  assert.strictEqual(r.status, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function runAsync(cacheDir, files, extra) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD, ...files], { env: childEnv(cacheDir, extra) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (status) => {
      if (status !== 0) reject(new Error(`child failed (${status}): ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

function moduleFile(dir, seed, functions) {
  const file = path.join(dir, `m${seed}.wasm`);
  fs.writeFileSync(file, bigModule(seed, functions));
  return file;
}

const entries = (dir) => fs.readdirSync(dir).filter((n) => n.endsWith('.wmc'));
const temporaries = (dir) => fs.readdirSync(dir).filter((n) => n.startsWith('.tmp-'));
const expected = (seed) => 2 * (7 + 3) + seed + 7;

test('a second start loads the module from the cache', () => {
  const work = tmp();
  const cache = path.join(work, 'cache', 'nested');
  const file = moduleFile(work, 1);
  const first = run(cache, [file]);
  assert.deepStrictEqual(first, { results: [expected(1)], hits: 0, misses: 1, stores: 1, rejected: 0, evicted: 0, dir: cache });
  assert.strictEqual(fs.statSync(cache).mode & 0o777, 0o700, 'the directory is created 0700');
  const [entry] = entries(cache);
  assert.match(entry, /^[0-9a-f]{64}\.wmc$/);
  assert.strictEqual(fs.statSync(path.join(cache, entry)).mode & 0o777, 0o600);
  assert.deepStrictEqual(temporaries(cache), []);
  const second = run(cache, [file]);
  assert.deepStrictEqual(second, { results: [expected(1)], hits: 1, misses: 0, stores: 0, rejected: 0, evicted: 0, dir: cache });
  // The promise form shares the cache.
  const third = run(cache, [file], { CHILD_ASYNC: '1' });
  assert.strictEqual(third.hits, 1);
  assert.deepStrictEqual(third.results, [expected(1)]);
  // Other bytes are another entry.
  const other = run(cache, [moduleFile(work, 2)]);
  assert.deepStrictEqual([other.hits, other.misses, other.results], [0, 1, [expected(2)]]);
  assert.strictEqual(entries(cache).length, 2);
  fs.rmSync(work, { recursive: true });
});

/** Fills a cache for module `seed`, damages its entry with `damage(path)`, and checks it is refused and rewritten. */
function refusedAfter(damage) {
  const work = tmp();
  const cache = path.join(work, 'cache');
  const file = moduleFile(work, 3);
  run(cache, [file]);
  const entry = path.join(cache, entries(cache)[0]);
  damage(entry, work);
  const r = run(cache, [file]);
  assert.deepStrictEqual([r.hits, r.misses, r.rejected, r.stores, r.results], [0, 1, 1, 1, [expected(3)]],
    'the damaged entry is refused, the module compiled and stored again');
  const again = run(cache, [file]);
  assert.deepStrictEqual([again.hits, again.rejected], [1, 0], 'the rewritten entry is used');
  fs.rmSync(work, { recursive: true });
}

test('a corrupt entry (one bit flipped in the payload, or in its checksum) is refused and recompiled', () => {
  refusedAfter((entry) => {
    const bytes = fs.readFileSync(entry);
    bytes[bytes.length - 1] ^= 0x01;
    fs.writeFileSync(entry, bytes);
  });
  refusedAfter((entry) => {
    const bytes = fs.readFileSync(entry);
    bytes[Math.floor((bytes.length - TRAILER) / 2)] ^= 0x10;
    fs.writeFileSync(entry, bytes);
  });
});

test('a truncated entry is refused', () => {
  refusedAfter((entry) => fs.truncateSync(entry, Math.floor(fs.statSync(entry).size / 2)));
});

test('an empty entry, one shorter than its trailer, or one with a byte appended is refused', () => {
  refusedAfter((entry) => fs.truncateSync(entry, 0));
  refusedAfter((entry) => fs.truncateSync(entry, TRAILER - 1));
  refusedAfter((entry) => fs.appendFileSync(entry, Buffer.from([0])));
});

test('an entry of another format version is refused', () => {
  refusedAfter((entry) => {
    const bytes = fs.readFileSync(entry);
    const at = bytes.length - TRAILER + 8;
    bytes.writeUInt32LE(bytes.readUInt32LE(at) + 1, at);
    fs.writeFileSync(entry, bytes);
  });
});

test('a foreign file under an entry\'s name is refused', () => {
  refusedAfter((entry) => fs.writeFileSync(entry, Buffer.alloc(4096, 0x42)));
  refusedAfter((entry) => {
    // A plausible trailer and the right wasm bytes after a payload that is
    // not wasmtime's.
    const bytes = fs.readFileSync(entry);
    bytes.fill(0x90, 0, payloadLength(bytes));
    fs.writeFileSync(entry, bytes);
  });
});

test('an intact entry of other bytes, renamed to this entry\'s name, is refused', () => {
  refusedAfter((entry, work) => {
    const scratch = path.join(work, 'other');
    run(scratch, [moduleFile(work, 4)]);
    fs.copyFileSync(path.join(scratch, entries(scratch)[0]), entry);
  });
});

test('an entry whose wasm bytes differ from the module\'s (one bit) is refused', () => {
  refusedAfter((entry) => {
    const bytes = fs.readFileSync(entry);
    bytes[payloadLength(bytes) + 100] ^= 0x01;
    fs.writeFileSync(entry, bytes);
  });
});

// Names are a fast hash, not a proof (src/runtime/cache.rs): the test hook
// WASM_MEMORY_RS_CACHE_TEST_COLLIDE=1 gives every module of one length the
// same name. Each then replaces the other's entry (a miss, counted as a
// rejection), and never gets the other's code.
test('modules whose entry names collide replace each other\'s entry and never run each other\'s code', () => {
  const work = tmp();
  const cache = path.join(work, 'cache');
  // Constants 100..899 and 200..999 are all two LEB128 bytes: same length.
  const a = moduleFile(work, 100);
  const b = moduleFile(work, 200);
  assert.strictEqual(fs.statSync(a).size, fs.statSync(b).size);
  const collide = { WASM_MEMORY_RS_CACHE_TEST_COLLIDE: '1' };
  const first = run(cache, [a], collide);
  assert.deepStrictEqual([first.results, first.hits, first.misses, first.stores], [[expected(100)], 0, 1, 1]);
  const [name] = entries(cache);
  const second = run(cache, [b], collide);
  assert.deepStrictEqual([second.results, second.hits, second.misses, second.rejected, second.stores],
    [[expected(200)], 0, 1, 1, 1], 'b finds a\'s entry under its name, refuses it and replaces it');
  assert.deepStrictEqual(entries(cache), [name]);
  const third = run(cache, [b, a, a], collide);
  assert.deepStrictEqual([third.results, third.hits, third.misses], [[expected(200), expected(100), expected(100)], 2, 1]);
  // Without the hook their names differ.
  const apart = path.join(work, 'apart');
  run(apart, [a, b]);
  assert.strictEqual(entries(apart).length, 2);
  fs.rmSync(work, { recursive: true });
});

test('a read-only cache directory: modules compile, nothing is stored, no error', () => {
  const work = tmp();
  const file = moduleFile(work, 5);
  let cache;
  if (process.getuid && process.getuid() === 0) {
    // root writes through any mode bits: use a read-only file system.
    cache = '/proc';
  } else {
    cache = path.join(work, 'ro');
    fs.mkdirSync(cache, { mode: 0o500 });
  }
  const r = run(cache, [file]);
  assert.deepStrictEqual([r.results, r.hits, r.stores, r.rejected], [[expected(5)], 0, 0, 0]);
  fs.rmSync(work, { recursive: true, force: true });
});

test('a cache directory that cannot be created, or that others can write, is not used', () => {
  const work = tmp();
  const file = moduleFile(work, 6);
  const under = path.join(work, 'a-file');
  fs.writeFileSync(under, '');
  let r = run(path.join(under, 'cache'), [file]);
  assert.deepStrictEqual([r.results, r.hits, r.misses, r.stores], [[expected(6)], 0, 0, 0]);
  const shared = path.join(work, 'shared');
  fs.mkdirSync(shared);
  fs.chmodSync(shared, 0o777);
  r = run(shared, [file]);
  assert.deepStrictEqual([r.results, r.hits, r.misses, r.stores], [[expected(6)], 0, 0, 0]);
  assert.deepStrictEqual(fs.readdirSync(shared), []);
  fs.rmSync(work, { recursive: true });
});

test('several processes compiling the same module at once', async () => {
  const work = tmp();
  const cache = path.join(work, 'cache');
  const file = moduleFile(work, 7, 1500);
  const results = await Promise.all([0, 1, 2, 3].map((i) => runAsync(cache, [file], i % 2 ? { CHILD_ASYNC: '1' } : {})));
  for (const r of results) {
    assert.deepStrictEqual(r.results, [expected(7)]);
    assert.strictEqual(r.rejected, 0);
  }
  assert.strictEqual(entries(cache).length, 1);
  assert.deepStrictEqual(temporaries(cache), []);
  const after = run(cache, [file]);
  assert.deepStrictEqual([after.hits, after.rejected], [1, 0]);
  fs.rmSync(work, { recursive: true });
});

test('worker threads compiling the same module at once', async () => {
  const work = tmp();
  const cache = path.join(work, 'cache');
  const file = moduleFile(work, 8, 1500);
  const script = `
const { Worker } = require('node:worker_threads');
const code = ${JSON.stringify(`
  const { parentPort, workerData } = require('node:worker_threads');
  const WA = require(${JSON.stringify(root)});
  const bytes = require('node:fs').readFileSync(workerData.file);
  const done = (m) => parentPort.postMessage(new WA.Instance(m, {}).exports.f7(2));
  if (workerData.async) WA.compile(bytes).then(done); else done(new WA.Module(bytes));
`)};
Promise.all([0, 1, 2, 3].map((i) => new Promise((resolve, reject) => {
  const w = new Worker(code, { eval: true, workerData: { file: ${JSON.stringify(file)}, async: i % 2 === 1 } });
  w.once('message', resolve);
  w.once('error', reject);
}))).then((results) => {
  const { binding } = require(${JSON.stringify(path.join(root, 'internal.js'))});
  const [hits, misses, stores, rejected] = binding.cacheStats();
  console.log(JSON.stringify({ results, hits, misses, stores, rejected }));
});`;
  const r = spawnSync(process.execPath, ['-e', script], { env: childEnv(cache), encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim());
  assert.deepStrictEqual(out.results, [expected(8), expected(8), expected(8), expected(8)]);
  assert.strictEqual(out.hits + out.misses, 4);
  assert.strictEqual(out.rejected, 0);
  assert.strictEqual(entries(cache).length, 1);
  fs.rmSync(work, { recursive: true });
});

test('the cache is off with WASM_MEMORY_RS_CACHE=off, 0 or false', () => {
  const work = tmp();
  const file = moduleFile(work, 9);
  for (const value of ['off', '0', 'false', 'OFF']) {
    const r = run(value, [file], { HOME: work, XDG_CACHE_HOME: work });
    assert.deepStrictEqual(r, { results: [expected(9)], hits: 0, misses: 0, stores: 0, rejected: 0, evicted: 0, dir: null }, value);
  }
  assert.deepStrictEqual(fs.readdirSync(work), ['m9.wasm'], 'nothing written anywhere');
  fs.rmSync(work, { recursive: true });
});

test('the default directory: $XDG_CACHE_HOME/wasm-memory-rs, else ~/.cache/wasm-memory-rs', () => {
  const work = tmp();
  const file = moduleFile(work, 10);
  const xdg = path.join(work, 'xdg');
  let r = run(undefined, [file], { XDG_CACHE_HOME: xdg, HOME: path.join(work, 'home') });
  assert.strictEqual(r.dir, path.join(xdg, 'wasm-memory-rs'));
  assert.strictEqual(entries(r.dir).length, 1);
  const env = { HOME: path.join(work, 'home') };
  const r2 = spawnSync(process.execPath, ['-e', CHILD, file], {
    env: (() => { const e = childEnv(undefined, env); delete e.XDG_CACHE_HOME; return e; })(),
    encoding: 'utf8',
  });
  r = JSON.parse(r2.stdout.trim());
  assert.strictEqual(r.dir, path.join(work, 'home', '.cache', 'wasm-memory-rs'));
  assert.strictEqual(r.stores, 1);
  fs.rmSync(work, { recursive: true });
});

test('small modules are not cached', () => {
  const work = tmp();
  const cache = path.join(work, 'cache');
  const file = path.join(work, 'small.wasm');
  fs.writeFileSync(file, wat('(module (func (export "f7") (param i32) (result i32) (local.get 0)))'));
  const r = run(cache, [file]);
  assert.deepStrictEqual([r.results, r.hits, r.misses, r.stores], [[2], 0, 0, 0]);
  fs.rmSync(work, { recursive: true });
});

test('past WASM_MEMORY_RS_CACHE_SIZE, the least recently used entries are evicted', () => {
  const work = tmp();
  const cache = path.join(work, 'cache');
  const files = [11, 12, 13, 14].map((seed) => moduleFile(work, seed));
  for (const file of files.slice(0, 3)) run(cache, [file]);
  // Entry names are deterministic: learn each module's from a scratch cache.
  const nameOf = (file) => {
    const scratch = tmp();
    run(scratch, [file]);
    const [name] = entries(scratch);
    fs.rmSync(scratch, { recursive: true });
    return path.join(cache, name);
  };
  const [e11, e12, e13] = files.slice(0, 3).map(nameOf);
  const size = Math.max(...[e11, e12, e13].map((e) => fs.statSync(e).size));
  const limit = String(Math.floor(size * 3.5));
  [e11, e12, e13].forEach((e, i) => {
    const age = new Date(Date.now() - (3 - i) * 60_000);
    fs.utimesSync(e, age, age);
  });
  const keyOf = (file) => run(cache, [file], { WASM_MEMORY_RS_CACHE_SIZE: limit });
  assert.strictEqual(keyOf(files[0]).hits, 1); // 11 is now the most recently used
  assert.ok(fs.statSync(e11).mtimeMs > fs.statSync(e13).mtimeMs, 'a hit touches the entry');
  const r = run(cache, [files[3]], { WASM_MEMORY_RS_CACHE_SIZE: limit });
  assert.ok(r.evicted >= 1, `evicted ${r.evicted}`);
  const total = entries(cache).reduce((sum, e) => sum + fs.statSync(path.join(cache, e)).size, 0);
  assert.ok(total <= Number(limit), `${total} bytes in the cache, limit ${limit}`);
  // 12, the least recently used, went; 11 (used last) and 13 stayed.
  assert.deepStrictEqual([fs.existsSync(e11), fs.existsSync(e12), fs.existsSync(e13)], [true, false, true]);
  const check = run(cache, [files[0], files[2], files[1]], { WASM_MEMORY_RS_CACHE_SIZE: String(Number(limit) * 10) });
  assert.deepStrictEqual([check.hits, check.misses], [2, 1]);
  fs.rmSync(work, { recursive: true });
});
