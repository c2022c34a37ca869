'use strict';
// lib/binding.js: the shim's files loaded with V8's code cache, kept in the
// compiled-code cache directory (src/runtime/js_cache.rs). In child
// processes, each with its own WASM_MEMORY_RS_CACHE directory. Hits are
// proven by the loader's own record (and V8's acceptance), never by timing.
const { test } = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const lib = path.join(root, 'lib');

// The child: loads the package, uses it, and reports what the loader did,
// which of lib/ was loaded, and whether its modules are the ones `require`
// gives.
const CHILD = `
const WA = require(${JSON.stringify(root)});
const loader = require(${JSON.stringify(path.join(lib, 'binding.js'))});
const lib = ${JSON.stringify(lib)};
const loaded = Object.keys(require.cache).filter((f) => f.startsWith(lib + '/')).map((f) => f.slice(lib.length + 1)).sort();
const webidl = require(${JSON.stringify(path.join(lib, 'webidl.js'))});
const same = require.cache[${JSON.stringify(path.join(lib, 'webidl.js'))}].exports === webidl &&
  require.cache[${JSON.stringify(path.join(lib, 'webidl.js'))}].loaded === true;
let stack = '';
try { new WA.Memory({ initial: 1, maximum: 0 }); } catch (e) { stack = e.stack; }
const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 6, 1, 4, 0, 65, 42, 11]);
const answer = new WA.Instance(new WA.Module(bytes)).exports.f();
console.log(JSON.stringify({ stats: loader.stats, files: loader.kFiles.map((f) => f.slice(lib.length + 1)), loaded, same, stack, answer }));`;

function run(cacheDir) {
  const r = spawnSync(process.execPath, ['-e', CHILD], {
    env: { ...process.env, WASM_MEMORY_RS_CACHE: cacheDir },
    encoding: 'utf8',
  });
  assert.strictEqual(r.status, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-memory-rs-loader-test-'));
const entries = (dir) => fs.readdirSync(dir).filter((n) => n.endsWith('.jsc'));

test('the files a namespace needs are exactly the ones the loader lists (and the loader itself)', () => {
  const r = run('off');
  assert.deepStrictEqual(r.loaded, [...r.files, 'binding.js'].sort());
});

test('the second start takes the cached code; modules, stacks and the namespace are as with require', () => {
  const cache = tmp();
  const first = run(cache);
  assert.deepStrictEqual(first.stats, { hit: false, rejected: 0, stored: true });
  assert.strictEqual(entries(cache).length, 1);
  const second = run(cache);
  assert.deepStrictEqual(second.stats, { hit: true, rejected: 0, stored: false });
  for (const r of [first, second]) {
    assert.strictEqual(r.answer, 42);
    assert.strictEqual(r.same, true, 'require gives the module the loader made');
    // Errors thrown in the shim point at its own file and line.
    assert.match(r.stack, /^RangeError/);
    assert.match(r.stack, new RegExp(`\\(${lib.replace(/[/.]/g, '\\$&')}/memory\\.js:\\d+:\\d+\\)`));
  }
  assert.strictEqual(entries(cache).length, 1, 'a hit writes nothing');
  fs.rmSync(cache, { recursive: true });
});

test('a corrupt or truncated entry is a miss, and is replaced', () => {
  const cache = tmp();
  run(cache);
  const [name] = entries(cache);
  const file = path.join(cache, name);
  const good = fs.readFileSync(file);
  const corrupt = Buffer.from(good);
  corrupt[good.length >> 1] ^= 0xff;
  for (const bad of [corrupt, good.subarray(0, good.length - 1), good.subarray(0, 10), Buffer.alloc(0)]) {
    fs.writeFileSync(file, bad, { mode: 0o600 });
    const r = run(cache);
    assert.deepStrictEqual(r.stats, { hit: false, rejected: 0, stored: true });
    assert.strictEqual(r.answer, 42);
    // Stored again, whole: the next start takes it (V8's data is not the
    // same bytes each time).
    assert.deepStrictEqual(run(cache).stats, { hit: true, rejected: 0, stored: false });
  }
  fs.rmSync(cache, { recursive: true });
});

test('an entry is keyed by the sources; the cache off writes nothing', () => {
  const cache = tmp();
  const files = tmp();
  const [a, b] = ['a.js', 'b.js'].map((name) => path.join(files, name));
  fs.writeFileSync(a, 'sources A');
  fs.writeFileSync(b, 'sources B \u00e9');
  const script = `
    const fs = require('node:fs');
    const { binding } = require(${JSON.stringify(path.join(root, 'internal.js'))});
    const files = ${JSON.stringify([a, b])};
    const data = Buffer.from('code for sources A');
    const out = [];
    const first = binding.loadShim('id', files);
    out.push(first.sources, first.key.length, first.data, binding.storeCodeCache('id', first.key, data));
    out.push(Buffer.from(binding.loadShim('id', files).data).toString());
    // Another identity, other sources (same length: V8 would not see it), a
    // file fewer: misses.
    out.push(binding.loadShim('id2', files).data);
    fs.writeFileSync(files[0], 'sources a');
    out.push(binding.loadShim('id', files).data, binding.loadShim('id', files.slice(1)).data);
    fs.writeFileSync(files[0], 'sources A');
    out.push(Buffer.from(binding.loadShim('id', files).data).toString());
    // A key of the wrong length stores nothing; a missing file is an Error.
    out.push(binding.storeCodeCache('id', Buffer.alloc(3), data));
    try { binding.loadShim('id', [files[0] + '.missing']); } catch (e) { out.push(e.constructor.name, e.message.includes('.missing')); }
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, WASM_MEMORY_RS_CACHE: cache }, encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.deepStrictEqual(JSON.parse(r.stdout), [
    // The sources as readFileSync reads them, a key, a miss that may store, stored.
    ['sources A', 'sources B \u00e9'], 32, true, true,
    // The data back.
    'code for sources A',
    true, true, true,
    'code for sources A',
    false, 'Error', true,
  ]);
  fs.rmSync(cache, { recursive: true });
  fs.rmSync(files, { recursive: true });

  const work = tmp();
  const off = spawnSync(process.execPath, ['-e', CHILD], {
    env: { ...process.env, WASM_MEMORY_RS_CACHE: 'off', HOME: work, XDG_CACHE_HOME: work },
    encoding: 'utf8',
  });
  assert.strictEqual(off.status, 0, off.stderr);
  assert.deepStrictEqual(JSON.parse(off.stdout.trim()).stats, { hit: false, rejected: 0, stored: false });
  assert.deepStrictEqual(fs.readdirSync(work), [], 'nothing written anywhere');
  fs.rmSync(work, { recursive: true });
});
