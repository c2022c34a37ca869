'use strict';
// Start-up benchmark: real packages and a large synthetic module, from the
// `require` of the package to ready, each in a fresh process; ours cold
// (empty compiled-code cache) and warm (cached), and the built-in, in
// alternating rounds. Also `new WebAssembly.Module` of esbuild.wasm alone.
//   node bench/startup.js [--rounds N] [--esbuild-rounds N] [--only name,...] [--json]
//   node bench/startup.js --write-synthetic FILE   (only writes the synthetic module)
//   node bench/startup.js --breakdown [--rounds N] [--only name,...] [--compare DIR]   (where a warm start's time goes;
//     --compare: also the checkout in DIR, alternating with this one, to measure a change)
// It is a report, not a test: the exit code stays 0 unless a run fails.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const ROUNDS = Number(arg('--rounds', 5));
const ESBUILD_ROUNDS = Number(arg('--esbuild-rounds', 3));
const ONLY = arg('--only', null)?.split(',');
const JSON_OUT = argv.includes('--json');
const root = path.join(__dirname, '..');

// ---------------------------------------------------------------------------
// The synthetic module: many functions (each a small loop over memory, so
// Cranelift has real work) and many data segments (each a few bytes, as a
// Go or Emscripten data section has) into one memory.

const SYNTH_FUNCTIONS = 4000;
const SYNTH_SEGMENTS = 30000;

function synthetic() {
  const out = [];
  const u32 = (v) => { do { let b = v & 0x7f; v >>>= 7; out.push(v ? b | 0x80 : b); } while (v); };
  const section = (id, build) => {
    const start = out.length;
    build();
    const body = out.splice(start);
    out.push(id);
    u32(body.length);
    for (const b of body) out.push(b);
  };
  const vec = (n, each) => { u32(n); for (let i = 0; i < n; i++) each(i); };
  out.push(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0);
  // Type: (i32, i32) -> i32.
  section(1, () => vec(1, () => out.push(0x60, 2, 0x7f, 0x7f, 1, 0x7f)));
  section(3, () => vec(SYNTH_FUNCTIONS, () => u32(0)));
  // Memory: 64 pages.
  section(5, () => vec(1, () => out.push(0, 64)));
  section(7, () => vec(SYNTH_FUNCTIONS, (i) => {
    const name = Buffer.from(`f${i}`);
    u32(name.length);
    for (const b of name) out.push(b);
    out.push(0);
    u32(i);
  }));
  // Code: sum of `len` i32s from `ptr`, mixed with a per-function constant.
  section(10, () => vec(SYNTH_FUNCTIONS, (i) => {
    const body = [1, 1, 0x7f, // one i32 local: acc
      0x02, 0x40, 0x03, 0x40, // block, loop
      0x20, 1, 0x45, 0x0d, 1, // if len == 0, break
      0x20, 2, 0x20, 0, 0x28, 2, 0, 0x6a, // acc + load(ptr)
      0x41, ...sleb(i * 7919 + 1), 0x73, 0x21, 2, // ^ const -> acc
      0x20, 0, 0x41, 4, 0x6a, 0x21, 0, // ptr += 4
      0x20, 1, 0x41, 1, 0x6b, 0x21, 1, // len -= 1
      0x0c, 0, 0x0b, 0x0b, // br loop; end; end
      0x20, 2, 0x0b];
    u32(body.length);
    for (const b of body) out.push(b);
  }));
  // Data: SYNTH_SEGMENTS segments of 4-36 bytes, back to back.
  section(11, () => {
    let offset = 1024;
    vec(SYNTH_SEGMENTS, (i) => {
      const length = 4 + (i % 33);
      out.push(0, 0x41, ...sleb(offset), 0x0b);
      u32(length);
      for (let k = 0; k < length; k++) out.push((i * 31 + k) & 0xff);
      offset += length;
    });
  });
  return Uint8Array.from(out);
}

function sleb(v) {
  const bytes = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) return [...bytes, b];
    bytes.push(b | 0x80);
  }
}

// ---------------------------------------------------------------------------
// Cases: `code` runs in a fresh process and is timed, from the package's
// require to ready (compiled, instantiated, its init done); `check` then
// proves it works, untimed (a first call is a workload, not start-up: the
// first brotli compress at its default quality takes ~25 ms on either).

const synthFile = path.join(os.tmpdir(), `wasm-memory-rs-bench-synthetic-${process.pid}.wasm`);
const esbuildWasm = path.join(root, 'node_modules', 'esbuild-wasm', 'esbuild.wasm');

const CASES = [
  {
    name: 'sql.js',
    code: `const initSqlJs = require('sql.js');
      const SQL = await initSqlJs();`,
    check: `if (new SQL.Database().exec('select 6 * 7')[0].values[0][0] !== 42) throw new Error('wrong answer');`,
  },
  {
    name: 'brotli-wasm',
    code: `const brotli = require('brotli-wasm');`,
    check: `const input = Buffer.from('hello hello hello hello');
      if (Buffer.from(brotli.decompress(brotli.compress(input))).toString() !== input.toString()) throw new Error('wrong answer');`,
  },
  {
    name: `synthetic (${SYNTH_FUNCTIONS} functions, ${SYNTH_SEGMENTS} data segments)`,
    key: 'synthetic',
    code: `const bytes = require('node:fs').readFileSync(${JSON.stringify(synthFile)});
      const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
      exports.f0(1024, 16);`,
  },
  {
    name: 'esbuild.wasm: new Module alone',
    key: 'esbuild',
    rounds: ESBUILD_ROUNDS,
    code: `const bytes = require('node:fs').readFileSync(${JSON.stringify(esbuildWasm)});
      const t = performance.now();
      new WebAssembly.Module(bytes);
      compileMs = performance.now() - t;`,
  },
];

/** Runs `code` in a fresh Node; returns { ms, compileMs, requireMs, stats, peakMiB }. */
/** Runs `script` in a fresh process with the cache at `cacheDir` (off if none); its `RESULT <json>` line. */
function runScript(script, impl, cacheDir) {
  const env = { ...process.env, WASM_MEMORY_RS_CACHE: cacheDir || 'off' };
  const started = performance.now();
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 24 });
  // The whole process, exit included (a first start waits there for the
  // background compile: README, "Tiering").
  const processMs = performance.now() - started;
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`${impl} run failed (${r.status}): ${r.stderr}`);
  return { ...JSON.parse(line.slice(7)), processMs };
}

function runOnce({ code, check = '' }, impl, cacheDir) {
  const script = `
    let compileMs = null;
    (async () => {
      const t0 = performance.now();
      ${impl === 'ours' ? `globalThis.WebAssembly = require(${JSON.stringify(root)});` : ''}
      const requireMs = performance.now() - t0;
      ${code}
      const ms = performance.now() - t0;
      ${check}
      const binding = ${impl === 'ours' ? `require(${JSON.stringify(path.join(root, 'internal.js'))}).binding` : 'null'};
      const stats = binding && binding.cacheStats();
      const tiers = binding && binding.tieringStats();
      const peakKiB = Number(/VmHWM:\\s*(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]);
      console.log('RESULT ' + JSON.stringify({ ms, compileMs, requireMs, stats, tiers, peakMiB: peakKiB / 1024 }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  return runScript(script, impl, cacheDir);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);

function bench(c) {
  const rounds = c.rounds || ROUNDS;
  const times = { builtin: [], cold: [], warm: [] };
  // Ours only: the addon's `require` (part of both ours columns).
  const requires = [];
  const peaks = { builtin: [], cold: [], warm: [] };
  // Ours, cold: the whole process's time, and whether its code was Winch's.
  const coldProcess = [];
  let coldWinch = 0;
  const measure = (r) => (c.key === 'esbuild' ? r.compileMs : r.ms);
  for (let round = 0; round < rounds; round++) {
    const b = runOnce(c, 'builtin');
    times.builtin.push(measure(b));
    peaks.builtin.push(b.peakMiB);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-memory-rs-bench-cache-'));
    try {
      const cold = runOnce(c, 'ours', dir);
      if (cold.stats[0] !== 0) throw new Error(`cold run hit the cache: ${cold.stats}`);
      times.cold.push(measure(cold));
      coldProcess.push(cold.processMs);
      if (cold.tiers[0] > 0) coldWinch++;
      peaks.cold.push(cold.peakMiB);
      const warm = runOnce(c, 'ours', dir);
      if (warm.stats[1] !== 0) throw new Error(`warm run missed the cache: ${warm.stats}`);
      times.warm.push(measure(warm));
      requires.push(warm.requireMs);
      peaks.warm.push(warm.peakMiB);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    if (!JSON_OUT) process.stderr.write(`  ${c.name}: round ${round + 1}/${rounds}\n`);
  }
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  const peak = Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, Math.max(...v)]));
  return { name: c.name, rounds, median: med, requireMs: median(requires), coldProcessMs: median(coldProcess), coldWinch, best: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.min(...v)])), peakMiB: peak };
}

// ---------------------------------------------------------------------------
// --breakdown: where a warm start's time goes, in fresh processes, ours
// (cache filled by a first run) and the built-in alternating. The package's
// WebAssembly calls are timed through a namespace whose Module, Instance,
// compile and instantiate wrap the real ones; the addon's own phases come
// from its `startupTimes()` (src/runtime/timing.rs).

const kNativePhases = ['engine', 'key', 'check', 'deserialize', 'compile', 'store', 'read', 'link', 'exports', 'functions'];

function runBreakdown({ code }, impl, cacheDir, from = root) {
  const script = `
    const T = process.hrtime.bigint;
    const ms = (a, b) => Number(b - a) / 1e6;
    const wall = { native: 0, shim: 0, compile: 0, instantiate: 0 };
    (async () => {
      const t0 = T();
      let W = globalThis.WebAssembly;
      if (${impl === 'ours'}) {
        const tn = T();
        require(${JSON.stringify(path.join(from, 'wasm-memory-rs.node'))});
        const ts = T();
        W = require(${JSON.stringify(from)});
        const te = T();
        wall.native = ms(tn, ts);
        wall.shim = ms(ts, te);
      }
      const timed = (what, f) => function (...args) {
        const s = T();
        let r;
        try { r = f.apply(this, args); } catch (e) { wall[what] += ms(s, T()); throw e; }
        if (r && typeof r.then === 'function') {
          return r.then((v) => { wall[what] += ms(s, T()); return v; }, (e) => { wall[what] += ms(s, T()); throw e; });
        }
        wall[what] += ms(s, T());
        return r;
      };
      const construct = (what, C) => new Proxy(C, {
        construct(target, args) {
          const s = T();
          try { return Reflect.construct(target, args); } finally { wall[what] += ms(s, T()); }
        },
      });
      const ns = Object.create(W);
      ns.Module = construct('compile', W.Module);
      ns.Instance = construct('instantiate', W.Instance);
      ns.compile = timed('compile', W.compile);
      ns.instantiate = timed('instantiate', W.instantiate);
      globalThis.WebAssembly = ns;
      const tp = T();
      ${code}
      const total = ms(t0, T());
      const pkg = ms(tp, T()) - wall.compile - wall.instantiate;
      const native = ${impl === 'ours'} ? require(${JSON.stringify(path.join(from, 'internal.js'))}).binding.startupTimes() : null;
      const stats = ${impl === 'ours'} ? require(${JSON.stringify(path.join(from, 'internal.js'))}).binding.cacheStats() : null;
      console.log('RESULT ' + JSON.stringify({ total, pkg, wall, native, stats }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  return runScript(script, impl, cacheDir);
}

function breakdown() {
  const rounds = Number(arg('--rounds', 9));
  const compare = arg('--compare', null);
  const cases = CASES.filter((c) => c.key !== 'esbuild' && (!ONLY || ONLY.some((o) => (c.key || c.name).startsWith(o))));
  const fmt = (x) => x.toFixed(2);
  console.log(`Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0].model}); warm starts, medians of ${rounds} fresh processes (best in parentheses), ms`);
  if (compare) console.log(`other: ${path.resolve(compare)}, alternating with ours (${root}) in each round`);
  const impls = compare ? ['builtin', 'ours', 'other'] : ['builtin', 'ours'];
  for (const c of cases) {
    const dirs = {};
    const rows = { builtin: [], ours: [], other: [] };
    try {
      for (const impl of impls.slice(1)) {
        dirs[impl] = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-memory-rs-bench-cache-'));
        runBreakdown(c, 'ours', dirs[impl], impl === 'other' ? compare : root); // fills the cache
      }
      for (let round = 0; round < rounds; round++) {
        rows.builtin.push(runBreakdown(c, 'builtin'));
        for (const impl of impls.slice(1)) {
          const warm = runBreakdown(c, 'ours', dirs[impl], impl === 'other' ? compare : root);
          if (warm.stats[1] !== 0) throw new Error(`warm run missed the cache: ${warm.stats}`);
          rows[impl].push(warm);
        }
      }
    } finally {
      for (const dir of Object.values(dirs)) fs.rmSync(dir, { recursive: true, force: true });
    }
    const stat = (impl, f) => {
      const xs = rows[impl].map(f);
      return `${fmt(median(xs))} (${fmt(Math.min(...xs))})`;
    };
    const n = (name) => (r) => r.native[kNativePhases.indexOf(name)];
    const ours = impls.slice(1);
    const row = (label, f, builtin = true) =>
      console.log(`| ${label} | ${builtin ? stat('builtin', f) : ''} | ${ours.map((impl) => stat(impl, f)).join(' | ')} |`);
    console.log(`\n${c.name}\n| phase | built-in | ${compare ? 'ours | other' : 'ours'} |\n|---|---|${compare ? '---|---|' : '---|'}`);
    row('total, require to ready', (r) => r.total);
    row('require: native addon (dlopen, registration)', (r) => r.wall.native, false);
    row('require: JS shim', (r) => r.wall.shim, false);
    row('compile (Module, compile; instantiate of bytes is below)', (r) => r.wall.compile);
    row('instantiate (Instance, instantiate)', (r) => r.wall.instantiate);
    for (const name of ['engine', 'key', 'check', 'deserialize', 'read']) row(`· native ${name}`, n(name), false);
    row('· native link (instantiateModule, exports excluded)', (r) => n('link')(r) - n('exports')(r), false);
    row('· native exports', n('exports'), false);
    row('· · of which exported functions (closures, tags, wraps)', (r) => n('functions')(r) ?? 0, false);
    row("package's own JS (and wasm it runs)", (r) => r.pkg);
  }
}

// ---------------------------------------------------------------------------

fs.writeFileSync(synthFile, synthetic());
if (arg('--write-synthetic', null)) {
  // For measurements outside this script (README: the tier measurement).
  fs.copyFileSync(synthFile, arg('--write-synthetic'));
  fs.rmSync(synthFile, { force: true });
  process.exit(0);
}
process.on('exit', () => fs.rmSync(synthFile, { force: true }));

if (argv.includes('--breakdown')) {
  breakdown();
  process.exit(0);
}

const results = [];
for (const c of CASES) {
  if (ONLY && !ONLY.some((o) => (c.key || c.name).startsWith(o))) continue;
  results.push(bench(c));
}

if (JSON_OUT) {
  console.log(JSON.stringify({ node: process.version, cpus: os.cpus().length, synthBytes: fs.statSync(synthFile).size, results }, null, 2));
} else {
  console.log(`\nNode ${process.version}, ${os.cpus().length} cores (${os.cpus()[0].model}); medians of N fresh processes (best in parentheses); ratio = ours / built-in`);
  console.log(`synthetic module: ${(fs.statSync(synthFile).size / 1024).toFixed(0)} KiB\n`);
  console.log('| case | rounds | built-in | ours cold | ratio | ours warm | ratio | peak RSS built-in / cold / warm | cold: first tier, process until exit |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const { builtin, cold, warm } = r.median;
    console.log(`| ${r.name} | ${r.rounds} | ${fmtMs(builtin)} (${fmtMs(r.best.builtin)}) | ${fmtMs(cold)} (${fmtMs(r.best.cold)}) | ${(cold / builtin).toFixed(1)} | ` +
      `${fmtMs(warm)} (${fmtMs(r.best.warm)}) | ${(warm / builtin).toFixed(2)} | ` +
      `${r.peakMiB.builtin.toFixed(0)} / ${r.peakMiB.cold.toFixed(0)} / ${r.peakMiB.warm.toFixed(0)} MiB | ` +
      `${r.coldWinch === r.rounds ? 'Winch' : r.coldWinch === 0 ? 'Cranelift' : `Winch in ${r.coldWinch}/${r.rounds}`}, ${fmtMs(r.coldProcessMs)} |`);
  }
  // The fixed cost in both ours columns (README, "Start-up": warm starts).
  const requireMs = median(results.map((r) => r.requireMs));
  if (results.length) console.log(`\nours: require('wasm-memory-rs') in the warm runs, median ${fmtMs(requireMs)} (in the ours columns above but the esbuild row's)`);
}
