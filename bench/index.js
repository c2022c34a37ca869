'use strict';
// Benchmarks wasm-memory-rs against the built-in WebAssembly.Memory.
//   node --expose-gc bench/index.js [--quick] [--json] [--only=<words in a case's name>]
// BENCH_OURS=builtin substitutes the built-in for ours (to develop this script);
// BENCH_OURS=<dir> benchmarks the package in <dir> instead of this one.
// It is a report, not a test: missed targets are marked, the exit code stays 0.
const os = require('node:os');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const JSON_OUT = argv.includes('--json');
// --only=call: just the timed cases whose name contains "call" (no memory section).
const ONLY = (argv.find((a) => a.startsWith('--only=')) || '').slice('--only='.length);
const MiB = 1024 * 1024;

const describe = (e) => `${e && e.constructor ? e.constructor.name : typeof e}: ${e && e.message}`;

// Steady state: Cranelift's code. A big module's first start (a cold cache)
// would run Winch's instead for the life of its instances (README,
// "Tiering"); WASM_MEMORY_RS_TIERING=winch measures that code on purpose.
process.env.WASM_MEMORY_RS_TIERING ??= 'off';

const OURS_DIR = path.resolve(__dirname, '..', process.env.BENCH_OURS || '.');
function loadOurs() {
  if (process.env.BENCH_OURS === 'builtin') return WebAssembly;
  return require(OURS_DIR);
}

if (typeof gc !== 'function') {
  console.error('run with: node --expose-gc bench/index.js');
  process.exit(1);
}

// Peak RSS in KiB. On Linux, resourceUsage().maxRSS of a spawned child starts
// at its parent's RSS (ru_maxrss survives fork+exec), so prefer VmHWM there.
function peakRssKiB() {
  try {
    return Number(/VmHWM:\s*(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
  } catch {
    return process.resourceUsage().maxRSS;
  }
}

// Section names of an ELF64 shared object, or null if it is not one.
function elfSections(file) {
  const b = fs.readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return null;
  const shoff = Number(b.readBigUInt64LE(0x28)), size = b.readUInt16LE(0x3a), count = b.readUInt16LE(0x3c);
  const strtab = Number(b.readBigUInt64LE(shoff + b.readUInt16LE(0x3e) * size + 0x18));
  return Array.from({ length: count }, (_, i) => {
    const start = strtab + b.readUInt32LE(shoff + i * size);
    return b.toString('latin1', start, b.indexOf(0, start));
  });
}

// ---------------------------------------------------------------- timed cases
// Each `run(M, n, state)` does its setup, times n operations and returns
// { ns, value }; `value` must be the same for both sides. `state` is an
// object kept per side across rounds.
const CASES = [
  {
    name: '`buffer` getter', n: 10_000_000, quickN: 1_000_000, rounds: 7, target: [0, 0.5],
    run: (M, n) => {
      const m = new M.Memory({ initial: 1 });
      let s = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) s += m.buffer.byteLength;
      return { ns: Number(process.hrtime.bigint() - t0), value: s };
    },
  },
  {
    name: 'construction `{initial: 1}`', n: 20_000, quickN: 2_000, rounds: 7, target: [0, 1.0],
    run: (M, n) => {
      let m, s = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) { m = new M.Memory({ initial: 1 }); s += m !== undefined; }
      return { ns: Number(process.hrtime.bigint() - t0), value: s };
    },
  },
  {
    name: 'grow(1) to 1001 pages', n: 1_000, quickN: 1_000, rounds: 21, target: [0, 1.0],
    run: (M, n) => {
      const m = new M.Memory({ initial: 1, maximum: n + 1 });
      let s = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) s += m.grow(1);
      const ns = Number(process.hrtime.bigint() - t0);
      return { ns, value: s + m.buffer.byteLength };
    },
  },
  {
    name: 'fill+sum Uint32Array, 64 MiB', n: 16 * MiB, quickN: 16 * MiB, rounds: 11, target: [0.9, 1.1],
    run: (M, n, state) => { // one memory per side, reused: page faults are not timed
      const m = state.m || (state.m = new M.Memory({ initial: n / 16384 }));
      const t0 = process.hrtime.bigint();
      const a = new Uint32Array(m.buffer);
      for (let i = 0; i < a.length; i++) a[i] = i;
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i];
      return { ns: Number(process.hrtime.bigint() - t0), value: s };
    },
  },
  {
    // Issue 3: wasm on wasmtime against our memory vs. V8 against its own.
    name: 'accumulate (wasm loop) over 16 MiB', n: 4 * MiB, quickN: 4 * MiB, rounds: 11, target: [0, 1.1],
    run: (M, n, state) => {
      if (!state.f) {
        const memory = new M.Memory({ initial: (n * 4) / 65536 });
        const a = new Uint32Array(memory.buffer);
        for (let i = 0; i < a.length; i++) a[i] = i & 0xff;
        const module = new M.Module(globalThis.benchWasm.accumulate);
        state.f = new M.Instance(module, { js: { mem: memory } }).exports.accumulate;
      }
      const t0 = process.hrtime.bigint();
      const value = state.f(0, n);
      return { ns: Number(process.hrtime.bigint() - t0), value };
    },
  },
  {
    name: 'call of an exported (i32, i32) -> i32', n: 5_000_000, quickN: 500_000, rounds: 7, target: [0, 5],
    run: (M, n, state) => {
      if (!state.add) {
        const module = new M.Module(globalThis.benchWasm.add);
        state.add = new M.Instance(module).exports.add;
      }
      const add = state.add;
      let s = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) s = add(s, i);
      return { ns: Number(process.hrtime.bigint() - t0), value: s };
    },
  },
  {
    // Issue 10: wasm calls a JS import `(i32) -> i32` from a loop, n times
    // (ns per import call).
    name: 'wasm loop calling a JS import', n: 1_000_000, quickN: 1_000_000, rounds: 7, target: [0, 6],
    run: (M, n, state) => {
      if (!state.loop) {
        const imports = { js: { f: (x) => x + 1 } };
        state.loop = new M.Instance(new M.Module(globalThis.benchWasm.importLoop), imports).exports.loop;
      }
      const t0 = process.hrtime.bigint();
      const value = state.loop(n);
      return { ns: Number(process.hrtime.bigint() - t0), value };
    },
  },
  {
    // Issue 10: JS calls an export that calls a JS import once (a round
    // trip JS -> wasm -> JS).
    name: 'JS -> wasm -> JS import round trip', n: 1_000_000, quickN: 200_000, rounds: 7, target: [0, 6],
    run: (M, n, state) => {
      if (!state.once) {
        const imports = { js: { f: (x) => x + 1 } };
        state.once = new M.Instance(new M.Module(globalThis.benchWasm.importLoop), imports).exports.once;
      }
      const once = state.once;
      let s = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) s = once(s);
      return { ns: Number(process.hrtime.bigint() - t0), value: s };
    },
  },
  {
    // Issue 10: a real package (brotli-wasm 3.0.1, wasm-bindgen) on 16 MiB
    // of text-like bytes, quality 5 (ns per input byte).
    name: 'brotli-wasm compress 16 MiB (quality 5)', n: 16 * MiB, quickN: 16 * MiB, rounds: 5, target: [0, 1.15],
    run: (M, n, state) => {
      const { load, input: inputOf } = globalThis.benchBrotli;
      const brotli = state.brotli || (state.brotli = load(M));
      const input = inputOf(n);
      const t0 = process.hrtime.bigint();
      const out = brotli.compress(input, { quality: 5 });
      return { ns: Number(process.hrtime.bigint() - t0), value: out.length };
    },
  },
  {
    name: 'brotli-wasm decompress 16 MiB', n: 16 * MiB, quickN: 16 * MiB, rounds: 7, target: [0, 1.15],
    run: (M, n, state) => {
      const { load, packed: packedOf } = globalThis.benchBrotli;
      const brotli = state.brotli || (state.brotli = load(M));
      const packed = packedOf(n);
      const t0 = process.hrtime.bigint();
      const out = brotli.decompress(packed);
      const ns = Number(process.hrtime.bigint() - t0);
      return { ns, value: out.length + out[n >> 1] };
    },
  },
  {
    // Issue 12: each crossing allocates an externref in wasmtime's GC heap.
    name: 'call of an exported (externref) -> externref', n: 1_000_000, quickN: 100_000, rounds: 7, target: [0, 400],
    run: (M, n, state) => {
      if (!state.id) state.id = new M.Instance(new M.Module(globalThis.benchWasm.externref)).exports.id;
      const id = state.id;
      const object = {};
      let same = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) if (id(object) === object) same++;
      return { ns: Number(process.hrtime.bigint() - t0), value: same };
    },
  },
  {
    // Issue 12: a JS import throws a WebAssembly.Exception that wasm catches
    // (legacy try/catch, which every Node's built-in compiles).
    name: 'JS exception caught in wasm (round trip)', n: 100_000, quickN: 10_000, rounds: 7, target: [0, 5],
    run: (M, n, state) => {
      if (!state.c) {
        const tag = new M.Tag({ parameters: ['i32'] });
        const exception = new M.Exception(tag, [1]);
        const imports = { m: { tag, f: () => { throw exception; } } };
        state.c = new M.Instance(new M.Module(globalThis.benchWasm.exception), imports).exports.c;
      }
      const c = state.c;
      let s = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) s += c(0);
      return { ns: Number(process.hrtime.bigint() - t0), value: s };
    },
  },
];

// brotli-wasm's Node build instantiates its module with the global
// `WebAssembly` when first required: load a copy per side.
function loadBrotli(M) {
  const file = path.join(path.dirname(require.resolve('brotli-wasm')), 'pkg.node', 'brotli_wasm.js');
  const saved = globalThis.WebAssembly;
  delete require.cache[file];
  globalThis.WebAssembly = M;
  try {
    return require(file);
  } finally {
    globalThis.WebAssembly = saved;
    delete require.cache[file];
  }
}

// 16 MiB of words from a small vocabulary (compresses ~4:1, like text), the
// same bytes every time; and their brotli compression (made once, by the
// built-in side's first use).
let brotliCache;
function brotliInput(n) {
  if (brotliCache && brotliCache.input.length === n) return brotliCache.input;
  const words = 'wasm memory guard page signal handler call import export table global module instance'.split(' ');
  const input = Buffer.alloc(n);
  let seed = 1, at = 0;
  while (at < n) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    at += input.write(words[(seed >>> 16) % words.length] + (seed & 1 ? ' ' : '\n'), at);
  }
  brotliCache = { input, packed: null };
  return input;
}
function brotliPacked(n) {
  const input = brotliInput(n);
  if (!brotliCache.packed) brotliCache.packed = require('node:zlib').brotliCompressSync(input);
  return brotliCache.packed;
}
// Cases are recompiled per side (`fresh`), so they reach these as globals.
globalThis.benchBrotli = { load: loadBrotli, input: brotliInput, packed: brotliPacked };

// The modules the wasm cases run, from their text (examples/memory.wat is
// the accumulate of the README's example).
function benchModules() {
  const { wat } = require(path.join(__dirname, '..', '__test__', 'wat.js'));
  globalThis.benchWasm = {
    accumulate: wat(fs.readFileSync(path.join(__dirname, '..', 'examples', 'memory.wat'), 'utf8')),
    add: wat('(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))'),
    importLoop: wat(`(module (import "js" "f" (func $f (param i32) (result i32)))
      (func (export "once") (param i32) (result i32) local.get 0 call $f)
      (func (export "loop") (param $n i32) (result i32) (local $s i32)
        (block $done (loop $top
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $s (call $f (local.get $s)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $top)))
        local.get $s))`),
    externref: wat('(module (func (export "id") (param externref) (result externref) local.get 0))'),
    exception: wat(`(module (import "m" "tag" (tag $t (param i32))) (import "m" "f" (func $f (param i32)))
      (func (export "c") (param i32) (result i32) try (result i32) local.get 0 call $f i32.const -1 catch $t end))`),
  };
}

// A separate copy of a function per side, so neither side's type feedback
// (monomorphic built-in vs. ours) leaks into the other's optimised code.
const fresh = (fn) => new Function(`return (${fn})`)();

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

function timeCase(c, sides) {
  const n = QUICK ? c.quickN : c.n;
  const rounds = QUICK ? 3 : c.rounds;
  const runs = sides.map(() => fresh(c.run));
  const states = sides.map(() => ({}));
  const times = sides.map(() => []);
  const values = sides.map(() => undefined);
  const errors = sides.map(() => undefined);
  const once = (k, record) => {
    if (errors[k]) return;
    gc();
    try {
      const { ns, value } = runs[k](sides[k].M, n, states[k]);
      sink += value;
      if (record) times[k].push(ns / n);
      if (values[k] !== undefined && values[k] !== value) errors[k] = `result changed: ${values[k]} then ${value}`;
      values[k] = value;
    } catch (e) {
      errors[k] = describe(e);
    }
  };
  for (let w = 0; w < 2; w++) sides.forEach((_, k) => once(k, false)); // warm-up
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [1, 0] : [0, 1]; // alternate which side goes first
    for (const k of order) once(k, true);
  }
  const [b, o] = times.map((t) => (t.length ? median(t) : NaN));
  if (!errors[1] && values[0] !== undefined && values[0] !== values[1]) {
    errors[1] = `wrong result: ${values[1]}, built-in gave ${values[0]}`;
  }
  const ratio = o / b;
  const ok = !errors[0] && !errors[1] && ratio >= c.target[0] && ratio <= c.target[1];
  return { name: c.name, n, rounds, builtinNsPerOp: b, oursNsPerOp: o, ratio, target: c.target, ok, errors, nsPerOpRounds: times };
}

// ------------------------------------------------------------- memory section
// Runs in a child process: `--child <rss|live> <builtin|ours> <count>`.
// Prints `progress N` lines (in case it dies) and one final JSON line on stdout.
function child(kind, side, count) {
  const M = side === 'ours' ? loadOurs() : WebAssembly;
  const step = {
    rss: () => { // make one, touch each page, keep none
      const u8 = new Uint8Array(new M.Memory({ initial: 16 }).buffer);
      for (let p = 0; p < 16; p++) u8[p * 65536] = 1;
    },
    live: (keep) => keep.push(new M.Memory({ initial: 1, maximum: 16 })),
  }[kind];
  const keep = [];
  const vmBefore = vmStatus('VmSize');
  const mapsBefore = mappings();
  let i = 0, error;
  try {
    for (; i < count; i++) {
      step(keep);
      if ((i + 1) % 1000 === 0) fs.writeSync(1, `progress ${i + 1}\n`);
    }
  } catch (e) {
    error = describe(e);
  }
  // Address space and mappings per live memory (kept ones only count in `live`).
  const perMemory = i > 0 ? {
    vmKiB: Math.round((vmStatus('VmSize') - vmBefore) / i),
    maps: +((mappings() - mapsBefore) / i).toFixed(3),
  } : undefined;
  fs.writeSync(1, JSON.stringify({ count: i, maxRSS: peakRssKiB(), error, perMemory }) + '\n');
}

/** A /proc/self/status field in KiB (NaN where there is no /proc). */
function vmStatus(field) {
  try {
    const match = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'));
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** The process's memory mappings (lines of /proc/self/maps), or NaN. */
function mappings() {
  try {
    return fs.readFileSync('/proc/self/maps', 'utf8').split('\n').length - 1;
  } catch {
    return NaN;
  }
}

function runChild(kind, side, count) {
  const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--child', kind, side, String(count)], {
    env: process.env, encoding: 'utf8', timeout: 10 * 60_000, maxBuffer: 64 * MiB,
  });
  const lines = (r.stdout || '').trim().split('\n');
  const last = lines[lines.length - 1];
  if (r.status === 0 && last && last.startsWith('{')) return JSON.parse(last);
  const progress = lines.filter((l) => l.startsWith('progress ')).pop();
  const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
  const stderr = (r.stderr || '').trim().split('\n').filter(Boolean).slice(-3).join(' / ');
  return { died: why, count: progress ? Number(progress.split(' ')[1]) : undefined, stderr };
}

// ----------------------------------------------------------------------- main
let sink = 0;

function main() {
  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0] ? cpus[0].model : 'unknown', cores: cpus.length,
    totalMemGiB: +(os.totalmem() / 1024 ** 3).toFixed(1), node: process.version, platform: `${os.platform()} ${os.arch()}`,
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
  };
  console.log(`# wasm-memory-rs benchmark${QUICK ? ' (--quick)' : ''}\n`);
  console.log(`${machine.cpu}, ${machine.cores} cores, ${machine.totalMemGiB} GiB, Node ${machine.node}, ${machine.platform}, ` +
    `load average ${machine.loadavg.join(' ')}`);

  let ours;
  try {
    ours = loadOurs();
  } catch (e) {
    console.error(`cannot load wasm-memory-rs (${e.message.split('\n')[0]}); build it, or set BENCH_OURS=builtin`);
    process.exit(1);
  }
  if (ours === WebAssembly) console.log('\n**BENCH_OURS=builtin: "wasm-memory-rs" is the built-in here.**');
  else if (fs.existsSync(path.join(OURS_DIR, 'wasm-memory-rs.node'))) {
    const addon = path.join(OURS_DIR, 'wasm-memory-rs.node');
    const st = fs.statSync(addon);
    const sections = elfSections(addon);
    const debug = !!sections && sections.includes('.debug_info'); // release builds are stripped
    machine.addon = { size: st.size, mtime: st.mtime.toISOString(), debugInfo: debug };
    console.log(`addon: ${addon}, ${(st.size / MiB).toFixed(1)} MiB, built ${st.mtime.toISOString()}` +
      (debug ? ' — **has debug info: probably a debug build, timings not representative**' : ''));
  }
  const sides = [{ name: 'built-in', key: 'builtin', M: WebAssembly }, { name: 'wasm-memory-rs', key: 'ours', M: ours }];
  benchModules();

  const fmtNs = (x) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ns/op` : 'n/a');
  const fmtTarget = ([lo, hi]) => (lo ? `${lo}..${hi}` : `≤ ${hi}`);
  const mark = (ok) => (ok ? 'yes' : '**MISSED**');

  console.log('\n## Speed (median of rounds; ratio = ours / built-in time)\n');
  console.log('| case | built-in | wasm-memory-rs | ratio | target | ok? |\n|---|---|---|---|---|---|');
  const timed = [];
  for (const c of CASES.filter((c) => c.name.includes(ONLY))) {
    const r = timeCase(c, sides);
    timed.push(r);
    const cell = (k, v) => (r.errors[k] && !Number.isFinite(v) ? `error` : fmtNs(v));
    console.log(`| ${r.name} (n=${r.n.toLocaleString('en')}) | ${cell(0, r.builtinNsPerOp)} | ${cell(1, r.oursNsPerOp)} | ` +
      `${Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : 'n/a'} | ${fmtTarget(r.target)} | ${mark(r.ok)} |`);
  }
  for (const r of timed) {
    r.errors.forEach((e, k) => e && console.log(`- ${r.name}, ${sides[k].name}: ${e}`));
  }

  if (ONLY) return;
  console.log('\n## Memory (one child process per measurement)\n');
  const rssCount = QUICK ? 10_000 : 100_000;
  const liveCap = QUICK ? 10_000 : 100_000;
  const rss = sides.map((s) => runChild('rss', s.key, rssCount));
  const live = sides.map((s) => runChild('live', s.key, liveCap));
  const rssCell = (r) => (r.died ? `died after ${r.count === undefined ? '?' : `≥ ${r.count}`} (${r.died})` : `${(r.maxRSS / 1024).toFixed(0)} MiB${r.error ? ' (threw)' : ''}`);
  const liveCell = (r) => (r.died ? `${r.count === undefined ? '?' : `≥ ${r.count}`}, then ${r.died}` :
    r.count >= liveCap ? `≥ ${r.count} (cap)` : `${r.count}`);
  const rssOk = !rss[1].died && !rss[1].error && rss[1].maxRSS < 1024 * 1024;
  console.log('| measure | built-in | wasm-memory-rs | target | ok? |\n|---|---|---|---|---|');
  console.log(`| peak RSS, ${rssCount.toLocaleString('en')} × \`{initial: 16}\` touched, none kept | ${rssCell(rss[0])} | ` +
    `${rssCell(rss[1])} | < 1024 MiB | ${mark(rssOk)} |`);
  console.log(`| live \`{initial: 1, maximum: 16}\` before construction throws | ${liveCell(live[0])} | ${liveCell(live[1])} | ` +
    `(report) | - |`);
  const perMemoryCell = (r, f) => (r.perMemory ? f(r.perMemory) : '?');
  console.log(`| address space per live memory | ${perMemoryCell(live[0], (m) => `${(m.vmKiB / 1024).toFixed(1)} MiB`)} | ` +
    `${perMemoryCell(live[1], (m) => `${(m.vmKiB / 1024).toFixed(1)} MiB`)} | (report) | - |`);
  console.log(`| mappings per live memory | ${perMemoryCell(live[0], (m) => m.maps)} | ${perMemoryCell(live[1], (m) => m.maps)} | (report) | - |`);
  const notes = [];
  rss.forEach((r, k) => (r.error || r.stderr) && notes.push(`- peak RSS, ${sides[k].name}: ${r.error ? `threw after ${r.count}: ${r.error}` : ''}${r.stderr ? ` stderr: ${r.stderr}` : ''}`));
  live.forEach((r, k) => notes.push(`- live memories, ${sides[k].name}: ${r.died ? `child ${r.died}${r.stderr ? `; stderr: ${r.stderr}` : ''}` :
    r.error ? `stopped at ${r.count} by ${r.error}` : `reached the cap of ${r.count} without an error`}`));
  console.log(notes.join('\n'));

  // Sandboxes (issue 11): their own script, run as a child.
  spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'sandbox.js'), ...(QUICK ? ['--quick'] : [])], { stdio: 'inherit' });
  // WASI calls (issue 11): their own script too.
  spawnSync(process.execPath, [path.join(__dirname, 'wasi.js'), ...(QUICK ? ['--quick'] : [])], { stdio: 'inherit' });
  console.log(`\n(sink ${sink})`);
  if (JSON_OUT) {
    const file = path.join(__dirname, 'results.json');
    fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), quick: QUICK, machine, timed,
      memory: { rss: { count: rssCount, builtin: rss[0], ours: rss[1], ok: rssOk }, live: { cap: liveCap, builtin: live[0], ours: live[1] } } }, null, 2) + '\n');
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}

if (argv[0] === '--child') child(argv[1], argv[2], Number(argv[3]));
else main();
