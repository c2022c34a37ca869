#!/usr/bin/env node
'use strict';
// Differential fuzzer: random scenarios run side by side against Node's
// built-in WebAssembly.Memory and against wasm-memory-rs. Compared after every
// step: return values, classes of thrown errors (constructor names),
// descriptor and valueOf call logs, byteLengths, contents (checksums), the
// identity of `buffer` across reads and the detachment of old buffers.
//
//   node --expose-gc fuzz/memory.js [--iterations N] [--seed S] [--start I]
//                                   [--verbose] [--progress] [--in-process]
//
// Iteration I of seed S is a pure function of (S, I), so a failure replays
// with `--seed S --start I --iterations 1` (add --verbose to see the steps).
// By default the fuzzing runs in a child process that reports progress to
// this one: a crash (signal, abort) or a hang still names the iteration.
//
// Differences listed in __test__/known-differences.js that the fuzzer can
// recognise (today: `shared: true`) are accepted and counted; anything else
// fails. Exit status 1 on any failure.

const path = require('node:path');
const fs = require('node:fs');

const PAGE = 65536;
/** Slots for memories in a scenario. */
const SLOTS = 4;
/**
 * Descriptor members of proposals: memory64's address (Node 24) and index
 * (Node 22), and type reflection's minimum. Reads of them are not logged:
 * which of them each side reads is a known difference (known-differences.js).
 */
const PROPOSAL_KEYS = new Set(['index', 'address', 'minimum']);

// ---------------------------------------------------------------------------
// Command line

const { usage, parse } = require('./args.js').commandLine(
  'usage: node --expose-gc fuzz/memory.js [--iterations N] [--seed S] [--start I] [--verbose] [--progress] [--in-process]',
);

function parseArgs(argv) {
  const options = {
    iterations: 1000, seed: 1, start: 0, verbose: false, progress: false, inProcess: false, child: false,
    hangMs: 120000, maxReports: 5,
  };
  parse(argv, (flag, value, numeric) => {
    switch (flag) {
      case '--iterations': options.iterations = numeric(); break;
      case '--seed': options.seed = numeric() >>> 0; break;
      case '--start': options.start = numeric(); break;
      case '--hang-ms': options.hangMs = numeric(); break;
      case '--max-reports': options.maxReports = numeric(); break;
      case '--verbose': options.verbose = true; break;
      case '--progress': options.progress = true; break;
      case '--in-process': options.inProcess = true; break;
      case '--child': options.child = true; break;
      default: return false;
    }
    return true;
  });
  return options;
}

// ---------------------------------------------------------------------------
// Seeded randomness: fuzz/random.js.
const { mulberry32, iterationSeed } = require('./random.js');

class Rng {
  constructor(seed) {
    this.next = mulberry32(seed);
  }
  int(n) { return Math.floor(this.next() * n); }
  range(lo, hi) { return lo + this.int(hi - lo + 1); }
  chance(p) { return this.next() < p; }
  pick(array) { return array[this.int(array.length)]; }
  u32() { return (this.next() * 4294967296) >>> 0; }
  /** pairs: [[weight, value], ...] */
  weighted(pairs) {
    let total = 0;
    for (const [w] of pairs) total += w;
    let x = this.next() * total;
    for (const [w, v] of pairs) {
      x -= w;
      if (x < 0) return v;
    }
    return pairs[pairs.length - 1][1];
  }
}

// ---------------------------------------------------------------------------
// Scenario generation. A scenario is plain data (so that it can be printed
// and built twice, once per implementation); value specs {t: ...} describe JS
// values, effect specs {e: ...} side effects run from valueOf and getters.

/** A valid whole number for a role, small enough to keep iterations fast. */
function validInt(r, role) {
  switch (role) {
    case 'initial': return r.weighted([[65, () => r.range(0, 2)], [25, () => r.range(3, 8)], [8, () => r.range(9, 32)], [2, () => r.range(33, 64)]])();
    case 'maximum': return r.weighted([[50, () => r.range(0, 8)], [35, () => r.range(9, 64)], [15, () => r.range(65, 256)]])();
    case 'delta': return r.weighted([[80, () => r.range(0, 2)], [18, () => r.range(3, 8)], [2, () => r.range(9, 32)]])();
    default: return r.range(0, 3);
  }
}

// Values that must fail for every role (TypeError or RangeError) and never
// allocate: 65536 is left out on purpose (a valid 4 GiB memory or grow).
const BAD_NUMBERS = [NaN, Infinity, -Infinity, -1, -0.5, -1e-300, -65536, 65537, 70000, 2 ** 31, 2 ** 32 - 1,
  2 ** 32, 2 ** 32 + 0.5, 2 ** 53, 1e300, -Number.MAX_VALUE];
const BAD_STRINGS = ['', 'abc', 'Infinity', '-Infinity', 'NaN', '1n', '-1', '0x', '4294967296', '65537', '1e10',
  '\u00a0', ' ', '1_0', '--1'];

function genValue(r, role, depth = 0) {
  if (role === 'shared') return genShared(r, depth);
  const kind = r.weighted([
    [44, 'int'], [6, 'fraction'], [2, '-0'], [8, 'bad'], [7, 'string'], [2, 'bigint'], [2, 'symbol'],
    [2, 'null'], [3, 'undefined'], [3, 'bool'], [depth < 2 ? 7 : 0, 'valueOf'], [depth < 2 ? 3 : 0, 'toString'],
    [depth < 2 ? 3 : 0, 'toPrimitive'], [2, 'throws'], [depth < 2 ? 2 : 0, 'array'], [1, 'numberObject'],
    [1, 'stringObject'], [1, 'object'], [1, 'function'], [1, 'badObject'], [1, 'date'],
  ]);
  switch (kind) {
    case 'int': return { t: 'num', v: validInt(r, role) };
    case 'fraction': return { t: 'num', v: validInt(r, role) + r.pick([0.5, 0.25, 0.999, 1e-9, Number.EPSILON, 0.0001]) };
    case '-0': return { t: 'num', v: r.chance(0.8) ? -0 : Number.MIN_VALUE };
    case 'bad': return { t: 'num', v: r.pick(BAD_NUMBERS) };
    case 'string': {
      const n = validInt(r, role);
      return {
        t: 'str',
        v: r.weighted([
          [5, () => String(n)], [2, () => ` ${n}\n`], [2, () => `0x${n.toString(16)}`], [1, () => `0b${n.toString(2)}`],
          [1, () => `0o${n.toString(8)}`], [1, () => `${n}e0`], [1, () => `${n}.75`], [1, () => `+${n}`],
          [1, () => '-0'], [4, () => r.pick(BAD_STRINGS)],
        ])(),
      };
    }
    case 'bigint': return { t: 'big', v: r.pick([0n, 1n, 2n, 3n, 2n ** 64n, -1n]) };
    case 'symbol': return { t: 'sym' };
    case 'null': return { t: 'null' };
    case 'undefined': return { t: 'undef' };
    case 'bool': return { t: 'bool', v: r.chance(0.5) };
    case 'valueOf':
    case 'toString':
    case 'toPrimitive':
      return { t: kind, inner: genValue(r, role, depth + 1), effect: r.chance(0.45) ? genEffect(r) : undefined };
    case 'throws': return { t: 'throws', effect: r.chance(0.3) ? genEffect(r) : undefined };
    case 'array': return { t: 'array', inner: genValue(r, role, depth + 1) };
    case 'numberObject': return { t: 'numberObject', v: validInt(r, role) };
    case 'stringObject': return { t: 'stringObject', v: String(validInt(r, role)) };
    case 'object': return { t: 'object' };
    case 'function': return { t: 'function' };
    case 'badObject': return { t: 'badObject' };
    case 'date': return { t: 'date', v: validInt(r, role) };
    default: throw new Error(kind);
  }
}

/** `shared`: mostly falsy; truthy (the known difference when a maximum is given) rarely. */
function genShared(r, depth) {
  return r.weighted([
    [30, () => ({ t: 'bool', v: false })], [4, () => ({ t: 'num', v: 0 })], [2, () => ({ t: 'num', v: NaN })],
    [2, () => ({ t: 'num', v: -0 })], [3, () => ({ t: 'str', v: '' })], [3, () => ({ t: 'null' })],
    [5, () => ({ t: 'undef' })],
    [3, () => ({ t: 'bool', v: true })], [1, () => ({ t: 'num', v: 1 })], [1, () => ({ t: 'str', v: 'false' })],
    [1, () => ({ t: 'object' })], [1, () => ({ t: 'sym' })], [1, () => ({ t: 'big', v: 0n })],
    [depth < 1 ? 1 : 0, () => ({ t: 'valueOf', inner: { t: 'bool', v: false }, effect: genEffect(r) })],
  ])();
}

/** A side effect run from a valueOf or a getter. */
function genEffect(r) {
  return r.weighted([
    [10, () => ({ e: 'grow', slot: r.int(SLOTS), delta: r.chance(0.85) ? validInt(r, 'delta') : r.pick([NaN, -1, 65537, 2 ** 32 - 1]) })],
    [6, () => ({ e: 'growSelf', delta: r.chance(0.9) ? r.range(0, 3) : r.pick([300, 2 ** 32 - 1]) })],
    [6, () => ({ e: 'buffer', slot: r.int(SLOTS) })],
    [5, () => ({ e: 'create', slot: r.int(SLOTS), initial: r.range(0, 4), maximum: r.chance(0.7) ? r.range(4, 16) : undefined })],
    [4, () => ({ e: 'drop', slot: r.int(SLOTS) })],
    [1, () => ({ e: 'gc' })],
    [1, () => ({ e: 'dropAll' })],
    [4, () => ({ e: 'write', slot: r.int(SLOTS), frac: r.next(), byte: r.range(1, 255) })],
  ])();
}

function genMembers(r) {
  const members = {};
  if (r.chance(0.93)) members.initial = genValue(r, 'initial');
  if (r.chance(0.6)) {
    // Often a valid maximum at or above a valid initial.
    if (members.initial && members.initial.t === 'num' && Number.isInteger(members.initial.v) &&
      members.initial.v >= 0 && members.initial.v <= 64 && r.chance(0.5)) {
      members.maximum = { t: 'num', v: members.initial.v + r.weighted([[3, 0], [5, r.range(1, 8)], [2, r.range(9, 192)]]) };
    } else {
      members.maximum = genValue(r, 'maximum');
    }
  }
  if (r.chance(0.3)) members.shared = genValue(r, 'shared');
  // Members of proposals (type reflection, memory64) that some V8s read:
  // whatever each built-in does with them, ours must do the same.
  if (r.chance(0.03)) members.minimum = genValue(r, 'initial');
  if (r.chance(0.03)) members[r.chance(0.6) ? 'address' : 'index'] = genAddress(r);
  return members;
}

function genDescriptor(r) {
  const kind = r.weighted([
    [52, 'plain'], [12, 'getters'], [11, 'proxy'], [4, 'inherit'], [3, 'function'], [2, 'array'], [6, 'primitive'],
    [2, 'revoked'], [1, 'memory'], [1, 'none'],
  ]);
  const d = { d: kind };
  if (['plain', 'getters', 'proxy', 'inherit', 'function', 'array'].includes(kind)) d.members = genMembers(r);
  if (kind === 'getters' || kind === 'proxy') {
    if (r.chance(0.12)) d.throwOn = r.pick(['initial', 'maximum', 'shared']);
    if (r.chance(0.3)) d.getterEffect = { key: r.pick(['initial', 'maximum', 'shared']), effect: genEffect(r) };
  }
  if (kind === 'primitive') d.value = genValue(r, 'initial');
  if (kind === 'memory') d.slot = r.int(SLOTS);
  return d;
}

/** The address type of a memory64-aware descriptor. */
function genAddress(r) {
  return r.weighted([
    [4, () => ({ t: 'str', v: 'i64' })], [3, () => ({ t: 'str', v: 'i32' })], [1, () => ({ t: 'str', v: 'i16' })],
    [1, () => ({ t: 'undef' })], [1, () => ({ t: 'toString', inner: { t: 'str', v: 'i64' } })],
  ])();
}

/** A memory64 descriptor: sizes as BigInts. */
function genDescriptor64(r) {
  const initial = BigInt(validInt(r, 'initial'));
  const members = { address: { t: 'str', v: 'i64' }, initial: { t: 'big', v: initial } };
  if (r.chance(0.7)) members.maximum = { t: 'big', v: initial + BigInt(r.range(0, 16)) };
  return { d: 'plain', members };
}

/** A descriptor that always succeeds (to start scenarios with memories). */
function genGoodDescriptor(r, noMaximum) {
  const initial = validInt(r, 'initial');
  const members = { initial: { t: 'num', v: initial } };
  if (!noMaximum) members.maximum = { t: 'num', v: initial + r.weighted([[2, 0], [6, r.range(1, 8)], [2, r.range(9, 192)]]) };
  return { d: 'plain', members };
}

const TYPES = ['u8', 'i8', 'clamped', 'u16', 'i16', 'u32', 'i32', 'f32', 'f64', 'b64', 'bu64', 'dataview'];

function genAccess(r) {
  return {
    type: r.weighted([[5, 'u8'], [1, 'i8'], [1, 'clamped'], [1, 'u16'], [1, 'i16'], [4, 'u32'], [1, 'i32'],
      [1, 'f32'], [4, 'f64'], [1, 'b64'], [1, 'bu64'], [4, 'dataview']]),
    // Where, as a fraction of the buffer's size (past 1: out of range).
    frac: r.weighted([[80, () => r.next()], [8, () => 0], [6, () => 1], [6, () => 1 + r.next() * 0.2]])(),
    align: r.chance(0.9),
    count: r.weighted([[70, () => r.range(1, 16)], [20, () => r.range(17, 256)], [5, () => 0], [5, () => -1]])(),
    mode: r.weighted([[6, 'elements'], [2, 'set'], [2, 'fill']]),
    little: r.chance(0.5),
    vseed: r.u32(),
  };
}

const RECEIVERS = ['undefined', 'null', 'number', 'string', 'symbol', 'object', 'constructor', 'prototype',
  'fakeInstance', 'otherImpl', 'proxy', 'revoked', 'buffer', 'function', 'bigint'];

function genStep(r) {
  const slot = r.int(SLOTS);
  const op = r.weighted([
    [13, 'create'], [18, 'grow'], [10, 'buffer'], [13, 'write'], [8, 'read'], [4, 'writeOld'], [4, 'checkOld'],
    [4, 'view'], [5, 'drop'], [2, 'dropOld'], [1.2, 'gc'], [1.5, 'gcMinor'], [2, 'sweep'], [5, 'brand'], [3, 'snapshot'],
    [2, 'slice'], [1, 'clone'],
  ]);
  switch (op) {
    case 'create':
      return {
        op, slot,
        desc: r.weighted([[25, () => genGoodDescriptor(r, r.chance(0.25))], [73, () => genDescriptor(r)],
          [2, () => genDescriptor64(r)]])(),
        mode: r.weighted([[84, 'new'], [5, 'subclass'], [5, 'reflect'], [3, 'call'], [3, 'extraArgs']]),
        protoKind: r.pick(['object', 'null', 'number', 'undefined']),
      };
    case 'grow':
      return {
        op, slot,
        delta: r.weighted([[75, () => ({ t: 'num', v: validInt(r, 'delta') })], [22, () => genValue(r, 'delta')],
          [3, () => ({ t: 'big', v: BigInt(validInt(r, 'delta')) })]])(),
        mode: r.weighted([[85, 'method'], [8, 'call'], [3, 'noArg'], [4, 'extraArgs']]),
      };
    case 'buffer': return { op, slot, via: r.weighted([[85, 'get'], [10, 'getter'], [5, 'reflect']]), keep: r.chance(0.5) };
    case 'write': return { op, slot, ...genAccess(r) };
    case 'read': return { op, slot, ...genAccess(r) };
    case 'writeOld': return { op, index: r.int(8), ...genAccess(r) };
    case 'checkOld': return { op };
    case 'view': return { op, slot, type: r.pick(TYPES), frac: r.next() };
    case 'drop': return { op, slot, alsoOld: r.chance(0.3) };
    case 'dropOld': return { op, index: r.int(8) };
    case 'gc':
    case 'gcMinor':
    case 'sweep':
      return { op };
    case 'brand':
      return {
        op, slot,
        method: r.pick(['grow', 'buffer']),
        receiver: r.pick(RECEIVERS),
        delta: { t: 'valueOf', inner: { t: 'num', v: 1 } },
      };
    case 'snapshot': return { op };
    case 'slice': return { op, slot, a: r.next(), b: r.next() * 1.2 };
    case 'clone': return { op, slot };
    default: throw new Error(op);
  }
}

function genScenario(r) {
  const scenario = {
    // How often the harness itself reads `buffer` (it affects which paths run):
    // full: every memory after every step; touched: the memory a step acted on;
    // lazy: only at snapshot steps and at the end.
    snap: r.weighted([[15, 'full'], [60, 'touched'], [25, 'lazy']]),
    steps: [],
  };
  const noMaximum = r.chance(0.12);
  const first = r.range(1, 2);
  for (let i = 0; i < first; i++) {
    scenario.steps.push({ op: 'create', slot: i, desc: genGoodDescriptor(r, noMaximum), mode: 'new' });
  }
  const count = r.range(4, 24);
  for (let i = 0; i < count; i++) scenario.steps.push(genStep(r));
  return scenario;
}

// ---------------------------------------------------------------------------
// Printing scenarios (for replays and failure reports).

function showNumber(n) {
  if (Object.is(n, -0)) return '-0';
  return String(n);
}

function showValue(v) {
  if (v === undefined) return '<absent>';
  const fx = (e) => (e ? ` +${showEffect(e)}` : '');
  switch (v.t) {
    case 'num': return showNumber(v.v);
    case 'str': return JSON.stringify(v.v);
    case 'big': return `${v.v}n`;
    case 'sym': return 'Symbol()';
    case 'null': return 'null';
    case 'undef': return 'undefined';
    case 'bool': return String(v.v);
    case 'valueOf': return `{valueOf${fx(v.effect)} -> ${showValue(v.inner)}}`;
    case 'toString': return `{toString${fx(v.effect)} -> ${showValue(v.inner)}}`;
    case 'toPrimitive': return `{[Symbol.toPrimitive]${fx(v.effect)} -> ${showValue(v.inner)}}`;
    case 'throws': return `{valueOf${fx(v.effect)} throws}`;
    case 'array': return `[${showValue(v.inner)}]`;
    case 'numberObject': return `new Number(${v.v})`;
    case 'stringObject': return `new String(${JSON.stringify(v.v)})`;
    case 'object': return '{}';
    case 'function': return 'function(){}';
    case 'badObject': return '{valueOf/toString -> {}}';
    case 'date': return `new Date(${v.v})`;
    default: return JSON.stringify(v);
  }
}

function showEffect(e) {
  switch (e.e) {
    case 'grow': return `grow #${e.slot} by ${showNumber(e.delta)}`;
    case 'growSelf': return `grow this by ${showNumber(e.delta)}`;
    case 'buffer': return `read #${e.slot}.buffer`;
    case 'create': return `#${e.slot} = Memory{${e.initial}${e.maximum === undefined ? '' : `..${e.maximum}`}}`;
    case 'drop': return `drop #${e.slot}`;
    case 'gc': return 'gc+sweep';
    case 'dropAll': return 'drop all + gc+sweep';
    case 'write': return `write ${e.byte} at ${e.frac.toFixed(3)} of #${e.slot}`;
    default: return JSON.stringify(e);
  }
}

function showDescriptor(d) {
  const members = d.members
    ? `{${Object.entries(d.members).map(([k, v]) => `${k}: ${showValue(v)}`).join(', ')}}`
    : '';
  const extras = [];
  if (d.throwOn) extras.push(`${d.throwOn} throws`);
  if (d.getterEffect) extras.push(`get ${d.getterEffect.key} +${showEffect(d.getterEffect.effect)}`);
  const more = extras.length ? ` [${extras.join('; ')}]` : '';
  switch (d.d) {
    case 'plain': return members;
    case 'primitive': return showValue(d.value);
    case 'revoked': return 'revoked Proxy';
    case 'memory': return `memory #${d.slot}`;
    case 'none': return '(no argument)';
    default: return `${d.d} ${members}${more}`;
  }
}

function showAccess(s) {
  const count = s.count === -1 ? 'to end' : s.count;
  return `${s.type} ${s.mode} at ${s.frac.toFixed(4)}${s.align ? '' : ' unaligned'} x${count}${s.type === 'dataview' ? (s.little ? ' LE' : ' BE') : ''} values#${s.vseed}`;
}

function showStep(s) {
  switch (s.op) {
    case 'create': return `#${s.slot} = ${s.mode} Memory(${showDescriptor(s.desc)})${s.mode === 'reflect' ? ` newTarget.prototype: ${s.protoKind}` : ''}`;
    case 'grow': return `#${s.slot}.grow(${s.mode === 'noArg' ? '' : showValue(s.delta)}) (${s.mode})`;
    case 'buffer': return `#${s.slot}.buffer (${s.via})${s.keep ? ', kept' : ''}`;
    case 'write': return `write #${s.slot}.buffer: ${showAccess(s)}`;
    case 'read': return `read #${s.slot}.buffer: ${showAccess(s)}`;
    case 'writeOld': return `write kept buffer [${s.index}]: ${showAccess(s)}`;
    case 'view': return `keep a ${s.type} view of #${s.slot}.buffer at ${s.frac.toFixed(3)}`;
    case 'drop': return `drop #${s.slot}${s.alsoOld ? ' and every kept buffer' : ''}`;
    case 'dropOld': return `drop kept buffer [${s.index}]`;
    case 'brand': return `Memory.prototype.${s.method} with receiver ${s.receiver}`;
    case 'slice': return `#${s.slot}.buffer.slice(${s.a.toFixed(3)}, ${s.b.toFixed(3)})`;
    case 'clone': return `structuredClone(#${s.slot}.buffer)`;
    default: return s.op;
  }
}

function describeAt(scenario, at) {
  return at < scenario.steps.length ? `${at}: ${showStep(scenario.steps[at])}` : 'final state';
}

function showScenario(scenario) {
  return [`snapshots: ${scenario.snap}`, ...scenario.steps.map((s, i) => `${String(i).padStart(3)}: ${showStep(s)}`)].join('\n');
}

// ---------------------------------------------------------------------------
// Running a scenario against one implementation. Everything recorded is plain
// data (strings, numbers, arrays), compared as JSON.

const hasDetachedGetter = 'detached' in ArrayBuffer.prototype;

function isDetached(buffer) {
  if (hasDetachedGetter) return buffer.detached;
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** A fast checksum of a buffer's bytes (four FNV-like lanes over 32-bit words). */
function checksum(buffer) {
  const length = buffer.byteLength;
  const words = length >>> 2;
  const i32 = new Int32Array(buffer, 0, words);
  let a = 0x811c9dc5 ^ length;
  let b = 0x01000193;
  let c = 0x2545f491;
  let d = 0x6c078965;
  const whole = words & ~3;
  for (let i = 0; i < whole; i += 4) {
    a = Math.imul(a ^ i32[i], 0x01000193);
    b = Math.imul(b ^ i32[i + 1], 0x01000193);
    c = Math.imul(c ^ i32[i + 2], 0x01000193);
    d = Math.imul(d ^ i32[i + 3], 0x01000193);
  }
  for (let i = whole; i < words; i++) a = Math.imul(a ^ i32[i], 0x01000193);
  if (length & 3) {
    const tail = new Uint8Array(buffer, words * 4);
    for (let i = 0; i < tail.length; i++) a = Math.imul(a ^ tail[i], 0x01000193);
  }
  const h = a ^ Math.imul(b, 3) ^ Math.imul(c, 5) ^ Math.imul(d, 7);
  return (h >>> 0).toString(16);
}

/** A plain-data rendering of any JS value. */
function rep(value) {
  switch (typeof value) {
    case 'number': return Object.is(value, -0) ? '-0' : Number.isFinite(value) ? value : String(value);
    case 'bigint': return `${value}n`;
    case 'undefined': return 'undefined';
    case 'string': return JSON.stringify(value);
    case 'symbol': return 'symbol';
    case 'boolean': return value;
    case 'function': return 'function';
    default:
      if (value === null) return 'null';
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return Object.prototype.toString.call(value);
      return Object.prototype.toString.call(value);
  }
}

const TYPED = {
  u8: Uint8Array, i8: Int8Array, clamped: Uint8ClampedArray, u16: Uint16Array, i16: Int16Array, u32: Uint32Array,
  i32: Int32Array, f32: Float32Array, f64: Float64Array, b64: BigInt64Array, bu64: BigUint64Array,
};
const DATAVIEW_KINDS = [['Uint8', 1], ['Int16', 2], ['Uint32', 4], ['Float32', 4], ['Float64', 8], ['BigInt64', 8]];
const FLOATS = [0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, 1e-310, 3.4e38, Math.PI, 2 ** 53 + 1];

/** Deterministic element values for a write. */
function valueFor(type, rnd) {
  const n = (rnd() * 4294967296) >>> 0;
  if (type === 'f32' || type === 'f64' || type === 'Float32' || type === 'Float64') {
    return rnd() < 0.3 ? FLOATS[n % FLOATS.length] : (rnd() - 0.5) * 1e6;
  }
  if (type === 'b64' || type === 'bu64' || type === 'BigInt64') {
    return (BigInt(n) << 32n) | BigInt((rnd() * 4294967296) >>> 0);
  }
  if (type === 'clamped') return (rnd() - 0.25) * 400; // exercises clamping and rounding
  return n - (rnd() < 0.2 ? 2147483648 : 0);
}

class Sentinel extends Error {}

/** JSON with BigInts as "<n>n" (grow returns BigInts for memory64). */
function toJson(value) {
  return JSON.stringify(value, (key, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

function makeRunner(WA, other, hooks) {
  const getBuffer = Object.getOwnPropertyDescriptor(WA.Memory.prototype, 'buffer').get;
  const grow = WA.Memory.prototype.grow;

  return function run(scenario, onStep) {
    const ctx = {
      slots: new Array(SLOTS).fill(null),
      /** The last buffer the scenario read from each slot (for identity). */
      last: new Array(SLOTS).fill(null),
      /** Buffers kept by the scenario: { buffer, slot }. */
      kept: [],
      /** Views kept by the scenario. */
      views: [],
      log: [],
      meta: {},
      current: null,
      sentinel: new Sentinel('sentinel'),
    };
    const trace = [];

    const errorClass = (error) => {
      if (error instanceof Sentinel) return error === ctx.sentinel ? 'sentinel' : 'other sentinel';
      if (error === null || (typeof error !== 'object' && typeof error !== 'function')) return `non-object ${rep(error)}`;
      const name = error.constructor && error.constructor.name;
      const sameRealm = typeof globalThis[name] === 'function' && error instanceof globalThis[name];
      return sameRealm ? name : `${name} (foreign)`;
    };
    const attempt = (fn) => {
      try {
        return { ok: fn() };
      } catch (error) {
        return { threw: errorClass(error) };
      }
    };
    const short = (result) => ('threw' in result ? `threw ${result.threw}` : `ok ${toJson(result.ok)}`);

    const readBuffer = (slot) => {
      const buffer = ctx.slots[slot].buffer;
      const same = buffer === ctx.last[slot];
      ctx.last[slot] = buffer;
      return { buffer, same };
    };

    const keep = (buffer, slot) => {
      ctx.kept.push({ buffer, slot });
      if (ctx.kept.length > 8) ctx.kept.shift();
    };

    const collect = () => {
      hooks.gc();
      hooks.sweep();
    };

    // --- values and effects ---------------------------------------------

    const effect = (e) => {
      if (!e) return;
      const log = ctx.log;
      switch (e.e) {
        case 'grow':
        case 'growSelf': {
          const memory = e.e === 'grow' ? ctx.slots[e.slot] : ctx.current;
          log.push(`effect ${showEffect(e)}: ${memory ? short(attempt(() => memory.grow(e.delta))) : 'no memory'}`);
          break;
        }
        case 'buffer': {
          const memory = ctx.slots[e.slot];
          if (!memory) {
            log.push(`effect ${showEffect(e)}: no memory`);
            break;
          }
          const { buffer, same } = readBuffer(e.slot);
          keep(buffer, e.slot);
          log.push(`effect ${showEffect(e)}: ${buffer.byteLength / PAGE} pages, same ${same}`);
          break;
        }
        case 'create': {
          const result = attempt(() => {
            const memory = new WA.Memory({ initial: e.initial, maximum: e.maximum });
            ctx.slots[e.slot] = memory;
            ctx.last[e.slot] = null;
            return true;
          });
          log.push(`effect ${showEffect(e)}: ${short(result)}`);
          break;
        }
        case 'drop':
          ctx.slots[e.slot] = null;
          ctx.last[e.slot] = null;
          log.push(`effect ${showEffect(e)}`);
          break;
        case 'gc':
          collect();
          log.push('effect gc');
          break;
        case 'dropAll':
          ctx.slots.fill(null);
          ctx.last.fill(null);
          ctx.kept.length = 0;
          ctx.views.length = 0;
          collect();
          log.push(`effect ${showEffect(e)}`);
          break;
        case 'write': {
          const memory = ctx.slots[e.slot];
          if (!memory) {
            log.push(`effect ${showEffect(e)}: no memory`);
            break;
          }
          const result = attempt(() => {
            const bytes = new Uint8Array(memory.buffer);
            const at = Math.floor(e.frac * bytes.length);
            bytes[at] = e.byte;
            return bytes.length;
          });
          log.push(`effect ${showEffect(e)}: ${short(result)}`);
          break;
        }
        default:
          throw new Error(`unknown effect ${e.e}`);
      }
    };

    const make = (v, label) => {
      const log = ctx.log;
      switch (v.t) {
        case 'num': case 'str': case 'big': case 'bool': return v.v;
        case 'sym': return Symbol(label);
        case 'null': return null;
        case 'undef': return undefined;
        case 'valueOf':
          return {
            valueOf() {
              log.push(`${label}.valueOf`);
              effect(v.effect);
              return make(v.inner, label);
            },
          };
        case 'toString':
          return {
            toString() {
              log.push(`${label}.toString`);
              effect(v.effect);
              return make(v.inner, label);
            },
          };
        case 'toPrimitive':
          return {
            [Symbol.toPrimitive](hint) {
              log.push(`${label}[Symbol.toPrimitive](${hint})`);
              effect(v.effect);
              return make(v.inner, label);
            },
            valueOf() {
              log.push(`${label}.valueOf (unexpected)`);
              return 1;
            },
          };
        case 'throws':
          return {
            valueOf() {
              log.push(`${label}.valueOf throws`);
              effect(v.effect);
              throw ctx.sentinel;
            },
          };
        case 'array': return [make(v.inner, label)];
        case 'numberObject': return new Number(v.v);
        case 'stringObject': return new String(v.v);
        case 'object': return {};
        case 'function': return function notANumber() {};
        case 'badObject': return { valueOf() { return {}; }, toString() { return {}; } };
        case 'date': return new Date(v.v);
        default: throw new Error(`unknown value ${v.t}`);
      }
    };

    const makeDescriptor = (d) => {
      const log = ctx.log;
      const values = {};
      if (d.members) for (const [key, spec] of Object.entries(d.members)) values[key] = make(spec, key);
      ctx.meta.sharedTruthy = 'shared' in values && !!values.shared;
      ctx.meta.hasMaximum = 'maximum' in values && values.maximum !== undefined;
      const extra = (key) => {
        if (d.getterEffect && d.getterEffect.key === key) effect(d.getterEffect.effect);
        if (d.throwOn === key) {
          log.push(`${key} getter throws`);
          throw ctx.sentinel;
        }
      };
      switch (d.d) {
        case 'plain': return { ...values };
        case 'getters': {
          const object = {};
          for (const key of Object.keys(values)) {
            Object.defineProperty(object, key, {
              enumerable: true,
              get() {
                log.push(`get ${key}`);
                extra(key);
                return values[key];
              },
            });
          }
          // A throwing getter for a member that is otherwise absent.
          if (d.throwOn && !(d.throwOn in values)) {
            Object.defineProperty(object, d.throwOn, { get() { log.push(`get ${d.throwOn}`); extra(d.throwOn); } });
          }
          return object;
        }
        case 'proxy':
          return new Proxy({ ...values }, {
            get(target, key, receiver) {
              if (typeof key === 'string' && PROPOSAL_KEYS.has(key)) return Reflect.get(target, key, receiver);
              log.push(`proxy get ${String(key)}`);
              extra(key);
              return Reflect.get(target, key, receiver);
            },
            has(target, key) {
              log.push(`proxy has ${String(key)}`);
              return Reflect.has(target, key);
            },
            getOwnPropertyDescriptor(target, key) {
              log.push(`proxy getOwnPropertyDescriptor ${String(key)}`);
              return Reflect.getOwnPropertyDescriptor(target, key);
            },
            ownKeys(target) {
              log.push('proxy ownKeys');
              return Reflect.ownKeys(target);
            },
          });
        case 'inherit': return Object.create({ ...values });
        case 'function': return Object.assign(function descriptor() {}, values);
        case 'array': return Object.assign([], values);
        case 'primitive': return make(d.value, 'descriptor');
        case 'revoked': {
          const { proxy, revoke } = Proxy.revocable({ initial: 1 }, {});
          revoke();
          return proxy;
        }
        case 'memory': return ctx.slots[d.slot] || { memory: 'none' };
        case 'none': return undefined;
        default: throw new Error(`unknown descriptor ${d.d}`);
      }
    };

    // --- snapshots --------------------------------------------------------

    const memoryState = (slot) => {
      const memory = ctx.slots[slot];
      if (!memory) return null;
      const { buffer, same } = readBuffer(slot);
      return `${buffer.byteLength / PAGE}p ${checksum(buffer)}${same ? '' : ' new'}${memory.buffer === buffer ? '' : ' UNSTABLE'}`;
    };
    const keptState = () => ctx.kept.map(({ buffer }) => (isDetached(buffer) ? 'detached' : `${buffer.byteLength / PAGE}p`)).join(',');
    const viewState = () => ctx.views.map((view) => `${view.byteLength}@${view.byteOffset}`).join(',');

    // --- steps --------------------------------------------------------------

    const access = (s, buffer, write) => {
      const rnd = mulberry32(s.vseed);
      const length = buffer.byteLength;
      if (s.type === 'dataview') {
        const [kind, size] = DATAVIEW_KINDS[s.vseed % DATAVIEW_KINDS.length];
        let offset = Math.floor(s.frac * length);
        if (s.align) offset -= offset % size;
        const view = new DataView(buffer);
        const count = s.count === -1 ? Math.min(64, Math.floor((length - offset) / size)) : Math.min(s.count, 64);
        const out = [];
        for (let i = 0; i < count; i++) {
          if (write) view[`set${kind}`](offset + i * size, valueFor(kind, rnd), s.little);
          else out.push(rep(view[`get${kind}`](offset + i * size, s.little)));
        }
        return write ? `${kind} x${count} at ${offset}` : `${kind}@${offset}: ${out.join(' ')}`;
      }
      const Type = TYPED[s.type];
      const size = Type.BYTES_PER_ELEMENT;
      let offset = Math.floor(s.frac * length);
      if (s.align) offset -= offset % size;
      const array = s.count === -1 ? new Type(buffer, offset) : new Type(buffer, offset, s.count);
      if (write) {
        if (s.mode === 'fill') {
          array.fill(valueFor(s.type, rnd));
        } else if (s.mode === 'set') {
          const source = [];
          for (let i = 0; i < Math.min(array.length, 256); i++) source.push(valueFor(s.type, rnd));
          array.set(source, 0);
        } else {
          for (let i = 0; i < Math.min(array.length, 256); i++) array[i] = valueFor(s.type, rnd);
        }
        return `${s.type} x${array.length} at ${offset}`;
      }
      if (array.length > 64) return `${s.type}@${offset} x${array.length}: sum ${checksum(array.slice().buffer)}`;
      return `${s.type}@${offset}: ${Array.from(array, rep).join(' ')}`;
    };

    const receiverFor = (s) => {
      switch (s.receiver) {
        case 'undefined': return undefined;
        case 'null': return null;
        case 'number': return 1;
        case 'string': return 'memory';
        case 'symbol': return Symbol('receiver');
        case 'bigint': return 1n;
        case 'object': return {};
        case 'constructor': return WA.Memory;
        case 'prototype': return WA.Memory.prototype;
        case 'fakeInstance': return Object.create(WA.Memory.prototype);
        case 'otherImpl': return new other.Memory({ initial: 1 });
        case 'proxy': return new Proxy(ctx.slots[s.slot] || new WA.Memory({ initial: 0 }), {});
        case 'revoked': {
          const { proxy, revoke } = Proxy.revocable(ctx.slots[s.slot] || new WA.Memory({ initial: 0 }), {});
          revoke();
          return proxy;
        }
        case 'buffer': return ctx.slots[s.slot] ? ctx.slots[s.slot].buffer : new ArrayBuffer(8);
        case 'function': return function receiver() {};
        default: throw new Error(`unknown receiver ${s.receiver}`);
      }
    };

    const execute = (s) => {
      const memory = s.slot === undefined ? undefined : ctx.slots[s.slot];
      switch (s.op) {
        case 'create': {
          const result = attempt(() => {
            const descriptor = makeDescriptor(s.desc);
            const args = s.desc.d === 'none' ? [] : [descriptor];
            let created;
            let protoName;
            switch (s.mode) {
              case 'new': created = new WA.Memory(...args); break;
              case 'extraArgs': created = new WA.Memory(...args, { initial: 100 }, 7); break;
              case 'call': created = WA.Memory(...args); break;
              case 'subclass': {
                class Sub extends WA.Memory {
                  constructor(...a) {
                    super(...a);
                    this.extra = true;
                  }
                }
                created = new Sub(...args);
                protoName = Object.getPrototypeOf(created) === Sub.prototype ? 'Sub.prototype' : 'other';
                break;
              }
              case 'reflect': {
                function NewTarget() {}
                NewTarget.prototype = { object: {}, null: null, number: 1, undefined }[s.protoKind];
                created = Reflect.construct(WA.Memory, args, NewTarget);
                const proto = Object.getPrototypeOf(created);
                protoName = proto === WA.Memory.prototype ? 'Memory.prototype'
                  : proto === NewTarget.prototype ? 'NewTarget.prototype' : 'other';
                break;
              }
              default: throw new Error(s.mode);
            }
            if (!protoName) protoName = Object.getPrototypeOf(created) === WA.Memory.prototype ? 'Memory.prototype' : 'other';
            ctx.slots[s.slot] = created;
            ctx.last[s.slot] = null;
            return protoName;
          });
          return result;
        }
        case 'grow': {
          if (!memory) return 'no memory';
          ctx.current = memory;
          try {
            const delta = s.mode === 'noArg' ? undefined : make(s.delta, 'delta');
            const before = ctx.last[s.slot];
            const result = attempt(() => {
              switch (s.mode) {
                case 'method': return memory.grow(delta);
                case 'call': return grow.call(memory, delta);
                case 'noArg': return memory.grow();
                case 'extraArgs': return memory.grow(delta, 100);
                default: throw new Error(s.mode);
              }
            });
            // The buffer the scenario read last from this memory: detached
            // by a successful grow, untouched by a failed one.
            const old = before ? (isDetached(before) ? 'old detached' : `old ${before.byteLength / PAGE}p`) : 'no old';
            return { ...result, old };
          } finally {
            ctx.current = null;
          }
        }
        case 'buffer': {
          if (!memory) return 'no memory';
          return attempt(() => {
            let buffer;
            if (s.via === 'get') buffer = memory.buffer;
            else if (s.via === 'getter') buffer = getBuffer.call(memory);
            else buffer = Reflect.get(memory, 'buffer');
            const same = buffer === ctx.last[s.slot];
            ctx.last[s.slot] = buffer;
            if (s.keep) keep(buffer, s.slot);
            return `${rep(buffer)} ${buffer.byteLength / PAGE}p same ${same} frozen ${Object.isFrozen(buffer)}`;
          });
        }
        case 'write':
        case 'read': {
          if (!memory) return 'no memory';
          return attempt(() => access(s, readBuffer(s.slot).buffer, s.op === 'write'));
        }
        case 'writeOld': {
          const entry = ctx.kept[s.index % Math.max(ctx.kept.length, 1)];
          if (!entry) return 'no kept buffer';
          return attempt(() => access(s, entry.buffer, true));
        }
        case 'checkOld':
          return ctx.kept.map(({ buffer }) => (isDetached(buffer) ? 'detached' : `${buffer.byteLength / PAGE}p ${checksum(buffer)}`))
            .concat(ctx.views.map((view) => `${rep(view)} ${view.byteLength} ${view.byteLength ? checksum(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)) : ''}`));
        case 'view': {
          if (!memory) return 'no memory';
          return attempt(() => {
            const buffer = readBuffer(s.slot).buffer;
            const Type = s.type === 'dataview' ? DataView : TYPED[s.type];
            const size = Type.BYTES_PER_ELEMENT || 1;
            let offset = Math.floor(s.frac * buffer.byteLength);
            offset -= offset % size;
            const view = new Type(buffer, offset);
            ctx.views.push(view);
            if (ctx.views.length > 6) ctx.views.shift();
            return `${view.byteLength}@${offset}`;
          });
        }
        case 'drop':
          ctx.slots[s.slot] = null;
          ctx.last[s.slot] = null;
          if (s.alsoOld) {
            ctx.kept.length = 0;
            ctx.views.length = 0;
          }
          return 'dropped';
        case 'dropOld':
          if (ctx.kept.length) ctx.kept.splice(s.index % ctx.kept.length, 1);
          return 'dropped';
        case 'gc':
          collect();
          return 'gc';
        case 'gcMinor':
          hooks.gc({ type: 'minor' });
          return 'gc minor';
        case 'sweep':
          hooks.sweep();
          return 'sweep';
        case 'brand': {
          const receiver = receiverFor(s);
          const delta = make(s.delta, 'delta');
          return attempt(() => (s.method === 'grow' ? grow.call(receiver, delta) : rep(getBuffer.call(receiver))));
        }
        case 'snapshot':
          return ctx.slots.map((_, slot) => memoryState(slot));
        case 'slice': {
          if (!memory) return 'no memory';
          return attempt(() => {
            const buffer = readBuffer(s.slot).buffer;
            const copy = buffer.slice(Math.floor(s.a * buffer.byteLength), Math.floor(s.b * buffer.byteLength));
            return `${copy.byteLength} ${copy.byteLength ? checksum(copy) : ''}`;
          });
        }
        case 'clone': {
          if (!memory) return 'no memory';
          return attempt(() => {
            const copy = structuredClone(readBuffer(s.slot).buffer);
            return `${copy.byteLength} ${copy.byteLength ? checksum(copy) : ''}`;
          });
        }
        default:
          throw new Error(`unknown step ${s.op}`);
      }
    };

    const stepsLength = scenario.steps.length;
    for (let i = 0; i < stepsLength; i++) {
      const s = scenario.steps[i];
      ctx.log = [];
      ctx.meta = {};
      let result;
      try {
        result = execute(s);
      } catch (error) {
        // A harness-level throw (for example a side effect that threw in a
        // place the harness did not expect) is part of the observation.
        result = { harnessThrew: errorClass(error) };
      }
      const entry = { result, log: ctx.log };
      try {
        if (scenario.snap === 'full') entry.memories = ctx.slots.map((_, slot) => memoryState(slot));
        else if (scenario.snap === 'touched' && s.slot !== undefined) entry.memory = memoryState(s.slot);
        entry.kept = keptState();
        entry.views = viewState();
      } catch (error) {
        entry.snapshotThrew = errorClass(error);
      }
      const observation = { step: i, json: toJson(entry), meta: ctx.meta };
      trace.push(observation);
      if (onStep) onStep(observation);
    }
    // Final state: every memory, kept buffer (with contents) and view.
    ctx.log = [];
    let final;
    try {
      final = {
        memories: ctx.slots.map((_, slot) => memoryState(slot)),
        kept: execute({ op: 'checkOld' }),
      };
    } catch (error) {
      final = { harnessThrew: errorClass(error) };
    }
    trace.push({ step: 'final', json: toJson(final), meta: {} });
    return trace;
  };
}

// ---------------------------------------------------------------------------
// Known differences: the ones in __test__/known-differences.js that a fuzz
// observation can show.

function loadKnownDifferences() {
  const recognisers = {
    // `shared: true` with a maximum: the built-in makes a memory, ours throws a TypeError.
    'shared-memory': (step, expected, actual) => {
      if (step.op !== 'create' || !expected.meta.sharedTruthy || !actual.meta.sharedTruthy) return false;
      const e = JSON.parse(expected.json);
      const a = JSON.parse(actual.json);
      return e.result && 'ok' in e.result && a.result && a.result.threw === 'TypeError' &&
        JSON.stringify(e.log) === JSON.stringify(a.log);
    },
  };
  // A descriptor that carries proposal members: ours reads `minimum`,
  // `address` and `index` on every Node; the built-ins read some or none.
  // From such a construction on, the two runs' memories may differ (an i64
  // memory here, an i32 one there), so any later difference is this one.
  const members = (step) => (step.op === 'create' && step.desc && step.desc.members) || {};
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  const anyCreate = (steps, test) => steps.some((s) => test(members(s)));
  recognisers['minimum-descriptor'] = (step, expected, actual, steps) => anyCreate(steps, (m) => 'minimum' in m);
  // Node 24's built-in honours `address` as we do; none honours `index`.
  recognisers['memory64-descriptor'] = (step, expected, actual, steps) =>
    anyCreate(steps, (m) => 'index' in m || ('address' in m && nodeMajor < 24));
  let entries;
  let source;
  try {
    const module = require('../__test__/known-differences.js');
    entries = module.knownDifferences.filter((entry) => !module.applies || module.applies(entry));
    source = '__test__/known-differences.js';
  } catch {
    entries = [{
      id: 'shared-memory',
      reason: '`shared: true` throws a TypeError in ours: Node-API on Node 20 cannot create a SharedArrayBuffer over native memory',
    }];
    source = 'local list (could not load __test__/known-differences.js)';
  }
  const accepted = entries
    .filter((entry) => recognisers[entry.id])
    .map((entry) => ({ id: entry.id, reason: entry.reason, matches: recognisers[entry.id] }));
  return { accepted, source };
}

// ---------------------------------------------------------------------------
// The fuzzing loop.

function loadGc() {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  // Without --expose-gc: make a gc function the way index.js does.
  const v8 = require('node:v8');
  v8.setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  v8.setFlagsFromString('--no-expose-gc');
  return gc;
}

function fuzz(options) {
  const ours = require('..');
  const { binding } = require('../internal.js');
  const builtin = globalThis.WebAssembly;
  const gc = loadGc();
  const { accepted, source } = loadKnownDifferences();
  // Collections cannot change what the built-in does, and cost milliseconds
  // each: the built-in's run leaves them to V8.
  const runBuiltin = makeRunner(builtin, ours, { gc: () => {}, sweep: () => {} });
  const runOurs = makeRunner(ours, builtin, { gc, sweep: () => binding.sweep() });
  const progressFd = options.child ? 3 : -1;

  /** Runs a scenario on both; the first difference, if any, and whether it is an accepted one. */
  const compare = (scenario) => {
    const expected = runBuiltin(scenario);
    const actual = runOurs(scenario);
    for (let i = 0; i < expected.length; i++) {
      if (expected[i].json === actual[i].json) continue;
      const step = i < scenario.steps.length ? scenario.steps[i] : { op: 'final' };
      const difference = accepted.find((a) => a.matches(step, expected[i], actual[i], scenario.steps.slice(0, i + 1)));
      // After a difference the two runs' states differ: the first one is what counts.
      return { verdict: difference ? difference.id : 'fail', at: i, expected: expected[i].json, actual: actual[i].json };
    }
    return { verdict: 'pass', at: -1 };
  };

  /**
   * Drops steps, one at a time from the end, while the scenario still fails
   * on its own. Null if it does not fail on its own at all.
   */
  const minimize = (scenario, at) => {
    let current = { ...scenario, steps: scenario.steps.slice(0, at + 1) };
    let outcome = compare(current);
    if (outcome.verdict !== 'fail') return null;
    let attempts = 100;
    for (let i = current.steps.length - 1; i >= 0 && attempts > 0; i--, attempts--) {
      const candidate = { ...current, steps: current.steps.filter((_, j) => j !== i) };
      const result = compare(candidate);
      if (result.verdict === 'fail') {
        current = { ...candidate, steps: candidate.steps.slice(0, result.at + 1) };
        outcome = result;
        i = Math.min(i, current.steps.length);
      }
    }
    return { scenario: current, outcome };
  };

  let passed = 0;
  let failed = 0;
  const known = new Map();
  const started = Date.now();
  const end = options.start + options.iterations;
  console.log(`fuzzing WebAssembly.Memory: seed ${options.seed}, iterations ${options.start}..${end - 1}, ` +
    `Node ${process.version}; accepted differences (${source}): ${accepted.map((a) => a.id).join(', ') || 'none'}`);

  for (let iteration = options.start; iteration < end; iteration++) {
    if (progressFd >= 0) fs.writeSync(progressFd, `${iteration}\n`);
    const scenario = genScenario(new Rng(iterationSeed(options.seed, iteration)));
    if (options.verbose) console.log(`--- iteration ${iteration}\n${showScenario(scenario)}`);
    const { verdict, at, expected, actual } = compare(scenario);
    if (verdict === 'fail') {
      failed++;
      if (failed <= options.maxReports) {
        const lines = [
          '',
          `FAIL seed ${options.seed} iteration ${iteration}, step ${describeAt(scenario, at)}`,
          `  replay: node --expose-gc fuzz/memory.js --seed ${options.seed} --start ${iteration} --iterations 1 --verbose`,
          `  built-in: ${expected}`,
          `  ours:     ${actual}`,
          '  scenario:',
          showScenario(scenario).replace(/^/gm, '    '),
        ];
        const minimal = minimize(scenario, at);
        if (minimal === null) {
          lines.push('  run again on its own (in this process) it passes: the failure depends on state left by',
            '  earlier iterations (freed, pooled or reused memories); replay with an earlier --start.');
        } else if (minimal.scenario.steps.length < scenario.steps.length) {
          lines.push(`  minimized (${minimal.scenario.steps.length} steps; fails on its own here, at step ` +
            `${describeAt(minimal.scenario, minimal.outcome.at)}):`,
          showScenario(minimal.scenario).replace(/^/gm, '    '),
          `    built-in: ${minimal.outcome.expected}`,
          `    ours:     ${minimal.outcome.actual}`);
        }
        console.log(lines.join('\n'));
      } else if (failed === options.maxReports + 1) {
        console.log('(further failures are counted, not shown)');
      }
    } else {
      passed++;
      if (verdict !== 'pass') {
        known.set(verdict, (known.get(verdict) || 0) + 1);
        if (options.verbose) console.log(`accepted known difference ${verdict} at step ${at}`);
      }
    }
    if (options.progress && (iteration - options.start + 1) % 10000 === 0) {
      console.error(`  ${iteration - options.start + 1}/${options.iterations} iterations, ${failed} failed, ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  }
  if (progressFd >= 0) fs.writeSync(progressFd, 'done\n');
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const knownText = [...known].map(([id, n]) => `${id} x${n}`).join(', ') || 'none';
  console.log(`seed ${options.seed}: ${options.iterations} iterations in ${seconds} s; accepted known differences: ${knownText}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

/** Runs the fuzzer in a child and reports a crash or a hang with its iteration. */
function supervise(options, argv) {
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, ['--expose-gc', __filename, ...argv, '--child'], {
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
  });
  let current = null;
  let done = false;
  let lastProgress = Date.now();
  let hung = false;
  let pending = '';
  child.stdio[3].setEncoding('utf8');
  child.stdio[3].on('data', (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      if (line === 'done') done = true;
      else current = Number(line);
    }
    lastProgress = Date.now();
  });
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > options.hangMs) {
      hung = true;
      child.kill('SIGKILL');
    }
  }, 1000);
  watchdog.unref();
  child.on('exit', (code, signal) => {
    clearInterval(watchdog);
    const where = current === null ? 'before the first iteration'
      : `seed ${options.seed} iteration ${current}`;
    const replay = current === null ? '' : `\n  replay: node --expose-gc fuzz/memory.js --seed ${options.seed} --start ${current} --iterations 1 --verbose --in-process`;
    if (hung) {
      console.log(`FAIL: no progress for ${options.hangMs} ms at ${where} (hang)${replay}`);
      process.exitCode = 1;
    } else if (signal || (code !== 0 && code !== 1) || (code === 0 && !done)) {
      console.log(`FAIL: the fuzzing process died (${signal ? `signal ${signal}` : `exit code ${code}`}) at ${where}${replay}`);
      process.exitCode = 1;
    } else {
      process.exitCode = code;
    }
  });
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const options = parseArgs(argv);
  if (options.child || options.inProcess) process.exitCode = fuzz(options);
  else supervise(options, argv);
}

module.exports = { genScenario, showScenario, Rng, iterationSeed, makeRunner };
