'use strict';
// Two tiers for a big module's first start (src/runtime/tiering.rs): Winch's
// code now, Cranelift's from a low-priority pool into the compiled-code
// cache. Each case runs in a child process with its own settings (the policy
// is read once per process); what happened is proven by the addon's counters
// (binding.tieringStats(): baseline, refused, optimized, waited, Winch
// stores; binding.cacheStats()), never by timing.
const { test } = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { wat } = require('./wat');
const impls = require('./impls');
const { testFor, tieringModules } = require('./known-differences');

const root = path.join(__dirname, '..');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-memory-rs-tiering-test-'));
const tiersOff = impls.ours === null ? 'only the built-in is tested (WASM_MEMORY_RS_ONLY_BUILTIN=1)' : false;

/** A module of at least 64 KiB (the size from which the default policy tiers): `functions` exports. */
function bigModule(seed, functions = 3000) {
  const funcs = [];
  for (let i = 0; i < functions; i++) {
    funcs.push(`(func (export "f${i}") (param i32) (result i32)
      (i32.add (i32.mul (local.get 0) (i32.const ${i + 3})) (i32.const ${seed + i})))`);
  }
  const bytes = wat(`(module (memory (export "memory") 1) ${funcs.join('\n')})`);
  assert.ok(bytes.length >= 64 * 1024, `the test module is ${bytes.length} bytes`);
  return bytes;
}

function file(dir, name, bytes) {
  const at = path.join(dir, name);
  fs.writeFileSync(at, bytes);
  return at;
}

/**
 * Runs `body` (an async function's body; `WA`, `binding`, `fs`, `argv` in
 * scope; it returns a JSON-able result) in a child with `env` added; returns
 * { result, tiers, cache }.
 */
function child(body, env, args = []) {
  const script = `
    const WA = require(${JSON.stringify(root)});
    const { binding } = require(${JSON.stringify(path.join(root, 'internal.js'))});
    const fs = require('node:fs');
    const argv = process.argv.slice(1);
    (async () => {
      const result = await (async () => { ${body} })();
      console.log('RESULT ' + JSON.stringify({ result, tiers: binding.tieringStats(), cache: binding.cacheStats() }));
    })().catch((e) => { console.log('RESULT ' + JSON.stringify({ error: String(e) })); });`;
  const r = spawnSync(process.execPath, ['-e', script, ...args], {
    env: { ...process.env, WASM_MEMORY_RS_CACHE: 'off', WASM_MEMORY_RS_TIERING: '', ...env },
    encoding: 'utf8',
  });
  assert.strictEqual(r.status, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, r.stdout + r.stderr);
  const out = JSON.parse(line.slice('RESULT '.length));
  assert.strictEqual(out.error, undefined, out.error);
  return out;
}

const CALL_F7 = `
  const module = new WA.Module(fs.readFileSync(argv[0]));
  return new WA.Instance(module).exports.f7(2);`;

test('a big module starts on Winch; exit waits for Cranelift to fill the cache; the next start loads it', { skip: tiersOff }, () => {
  const dir = tmp();
  const wasm = file(dir, 'big.wasm', bigModule(1));
  const cache = path.join(dir, 'cache');
  const first = child(CALL_F7, { WASM_MEMORY_RS_CACHE: cache }, [wasm]);
  assert.strictEqual(first.result, 2 * 10 + 8);
  assert.deepStrictEqual(first.tiers.slice(0, 2), [1, 0], 'compiled by Winch');
  assert.strictEqual(first.tiers[4], 1, 'one store of Winch code');
  assert.strictEqual(first.cache[1], 1, 'a miss');
  // The child exited only once Cranelift's code was stored.
  const entries = fs.readdirSync(cache).filter((f) => f.endsWith('.wmc'));
  assert.strictEqual(entries.length, 1);
  const second = child(CALL_F7, { WASM_MEMORY_RS_CACHE: cache }, [wasm]);
  assert.strictEqual(second.result, 28);
  assert.deepStrictEqual(second.tiers, [0, 0, 0, 0, 0], 'no Winch code');
  assert.strictEqual(second.cache[0], 1, 'a hit');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Cranelift only without a cache, with WASM_MEMORY_RS_TIERING=off, and for small modules', { skip: tiersOff }, () => {
  const dir = tmp();
  const big = file(dir, 'big.wasm', bigModule(2));
  const small = file(dir, 'small.wasm', wat('(module (func (export "f7") (param i32) (result i32) (i32.add (local.get 0) (i32.const 26))))'));
  // No cache: no later start would get Cranelift's code.
  assert.deepStrictEqual(child(CALL_F7, {}, [big]).tiers, [0, 0, 0, 0, 0]);
  const off = child(CALL_F7, { WASM_MEMORY_RS_CACHE: path.join(dir, 'c1'), WASM_MEMORY_RS_TIERING: 'off' }, [big]);
  assert.deepStrictEqual(off.tiers, [0, 0, 0, 0, 0]);
  assert.strictEqual(off.cache[2], 1, 'stored at once');
  const small1 = child(CALL_F7, { WASM_MEMORY_RS_CACHE: path.join(dir, 'c2') }, [small]);
  assert.strictEqual(small1.result, 28);
  assert.deepStrictEqual(small1.tiers, [0, 0, 0, 0, 0]);
  fs.rmSync(dir, { recursive: true, force: true });
});

const MIXED = wat(`(module
  (memory (export "memory") 1)
  (func (export "mix") (param i32 f64) (result f64)
    (local i32)
    (loop $l
      (local.set 2 (i32.add (local.get 2) (i32.const 1)))
      (i32.store (i32.mul (i32.and (local.get 2) (i32.const 255)) (i32.const 4)) (local.get 2))
      (local.set 1 (f64.add (f64.mul (local.get 1) (f64.const 1.0001)) (f64.convert_i32_s (local.get 2))))
      (br_if $l (i32.lt_u (local.get 2) (local.get 0))))
    (f64.add (local.get 1) (f64.convert_i32_u (i32.load (i32.const 40)))))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "oob") (param i32) (result i32) (i32.load (local.get 0)))
  (func $deep (export "deep") (param i32) (result i32) (i32.add (call $deep (local.get 0)) (i32.const 1))))`);

// Results and trap classes and messages of the module above.
const RUN_MIXED = `
  const e = new WA.Instance(new WA.Module(fs.readFileSync(argv[0]))).exports;
  const out = [e.mix(1000, 0.5), e.mix(3, -0)];
  for (const f of [() => e.div(1, 0), () => e.div(-2147483648, -1), () => e.oob(65536), () => e.deep(0)]) {
    try { f(); out.push('no trap'); } catch (err) { out.push(err.constructor.name + ': ' + err.message); }
  }
  return out;`;

test('Winch code and Cranelift code compute the same and trap alike', { skip: tiersOff }, () => {
  const dir = tmp();
  const wasm = file(dir, 'm.wasm', MIXED);
  const winch = child(RUN_MIXED, { WASM_MEMORY_RS_TIERING: 'winch' }, [wasm]);
  assert.deepStrictEqual(winch.tiers, [1, 0, 0, 0, 1], 'Winch code, no background compile');
  const cranelift = child(RUN_MIXED, { WASM_MEMORY_RS_TIERING: 'off' }, [wasm]);
  assert.deepStrictEqual(cranelift.tiers, [0, 0, 0, 0, 0]);
  assert.deepStrictEqual(winch.result, cranelift.result);
  assert.deepStrictEqual(winch.result.slice(2), [
    'RuntimeError: divide by zero', 'RuntimeError: divide result unrepresentable',
    'RuntimeError: memory access out of bounds', 'RangeError: Maximum call stack size exceeded',
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('instances made once Cranelift is ready use its code', { skip: tiersOff }, () => {
  const dir = tmp();
  const out = child(`
    const module = new WA.Module(fs.readFileSync(argv[0]));
    new WA.Instance(module);
    for (let i = 0; i < 1000 && binding.tieringStats()[2] === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const before = binding.tieringStats()[4];
    const late = new WA.Instance(module).exports;
    return [before, late.div(7, 2)];`, { WASM_MEMORY_RS_TIERING: 'always' }, [file(dir, 'm.wasm', MIXED)]);
  assert.deepStrictEqual(out.tiers.slice(0, 3), [1, 0, 1], 'Winch first, then Cranelift in the background');
  assert.strictEqual(out.result[1], 3);
  assert.strictEqual(out.tiers[4], out.result[0], 'the later instance is not in a store of Winch code');
  fs.rmSync(dir, { recursive: true, force: true });
});

const { exportsMemory, importsMemory, importsMemoryTail, exportsMemoryTail } = tieringModules();

test('a Winch-first module importing a memory of an instance on Cranelift code links with Cranelift\'s code', { skip: tiersOff }, () => {
  const dir = tmp();
  const out = child(`
    const a = new WA.Instance(new WA.Module(fs.readFileSync(argv[0]))).exports;
    const b = new WA.Instance(new WA.Module(fs.readFileSync(argv[1])), { m: { memory: a.memory } }).exports;
    a.store(8, 1234);
    return b.load(8);`, { WASM_MEMORY_RS_TIERING: 'always' },
  [file(dir, 'a.wasm', exportsMemoryTail), file(dir, 'b.wasm', importsMemory)]);
  assert.strictEqual(out.result, 1234);
  // a: refused by Winch; b: compiled by Winch, linked with Cranelift's code.
  assert.deepStrictEqual(out.tiers.slice(0, 2), [1, 1]);
  assert.strictEqual(out.tiers[4], 0, 'no store of Winch code');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a cached module importing a memory of an instance on Winch code gets Winch code made for it', { skip: tiersOff }, () => {
  const dir = tmp();
  const cache = path.join(dir, 'cache');
  // Big enough to be cached; cached first (tiering off), so that it is a hit below.
  const b = file(dir, 'b.wasm', wat(`(module (import "m" "memory" (memory 1)) (data (i32.const 4096) "${'x'.repeat(4096)}") (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))`));
  child('new WA.Module(fs.readFileSync(argv[0])); return 0;', { WASM_MEMORY_RS_CACHE: cache, WASM_MEMORY_RS_TIERING: 'off' }, [b]);
  const out = child(`
    const a = new WA.Instance(new WA.Module(fs.readFileSync(argv[0]))).exports;
    const b = new WA.Instance(new WA.Module(fs.readFileSync(argv[1])), { m: { memory: a.memory } }).exports;
    a.store(8, 99);
    return [b.load(8), b.load(4096)];`, { WASM_MEMORY_RS_CACHE: cache, WASM_MEMORY_RS_TIERING: 'winch' },
  [file(dir, 'a.wasm', exportsMemory), b]);
  assert.deepStrictEqual(out.result, [99, 0x78787878]);
  assert.strictEqual(out.cache[0], 1, 'b was a hit');
  // a compiled by Winch first, then b's Winch code for a's store.
  assert.deepStrictEqual(out.tiers.slice(0, 2), [2, 0]);
  assert.strictEqual(out.tiers[4], 1, 'one store of Winch code');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('JSPI and shared memories run on Cranelift\'s code', { skip: tiersOff }, () => {
  const dir = tmp();
  const out = child(`
    const results = [];
    if (typeof WA.Suspending === 'function') {
      const m = new WA.Module(fs.readFileSync(argv[0]));
      const i = new WA.Instance(m, { m: { s: new WA.Suspending(async (x) => x + 1) } });
      results.push(await WA.promising(i.exports.run)(41));
    }
    return results;`, { WASM_MEMORY_RS_TIERING: 'always' },
  [file(dir, 'j.wasm', wat('(module (import "m" "s" (func $s (param i32) (result i32))) (func (export "run") (param i32) (result i32) (call $s (local.get 0))))'))]);
  assert.strictEqual(out.tiers[4], 0, 'no store of Winch code');
  if (out.result.length) assert.deepStrictEqual(out.result, [42]);
  fs.rmSync(dir, { recursive: true, force: true });
});

// The known difference `tiering-mixed-link`: the built-in links these two;
// ours does too, but not on a first start with Winch code.
for (const [, WA] of impls.impls) {
  testFor('tiering', WA)('a module Winch cannot compile links to an instance running Winch code', () => {
    const { exportsMemory, importsMemoryTail } = tieringModules();
    const a = new WA.Instance(new WA.Module(exportsMemory)).exports;
    const b = new WA.Instance(new WA.Module(importsMemoryTail), { m: { memory: a.memory } }).exports;
    a.store(8, 7);
    assert.strictEqual(b.load(8), 7);
  });
}
