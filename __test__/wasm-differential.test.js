'use strict';
// Differential test of Module and Instance: each scenario runs one module of
// __test__/wat/ (the same imports, the same calls) under Node's built-in
// WebAssembly and under wasm-memory-rs. Results, the classes of thrown errors
// (an exception thrown by a JS import must come out as the same object), and
// the bytes of every memory the scenario touches must be the same. Messages
// are not compared: they are V8's own.
const { describe, test } = require('node:test');
const assert = require('node:assert');
const { builtin, ours, impls, onlyBuiltin, needsBuiltin } = require('./impls');
const { PAGE, fmt, isDetached, checksum, errorClass } = require('./helpers');
const { wasmKnownDifferences, applies, knownDifference } = require('./known-differences');
const { watFile } = require('./wat');

// ---------------------------------------------------------------------------
// Recording: everything a scenario returns is plain data, so that the two
// runs compare with deepStrictEqual (which compares primitives with
// Object.is: NaN equals NaN, -0 differs from 0).


/** A WebAssembly error class of WA is named as such: "WebAssembly.RuntimeError". */
function errorClassIn(WA, error) {
  for (const name of ['CompileError', 'LinkError', 'RuntimeError']) {
    if (error instanceof WA[name] && error.constructor === WA[name]) return `WebAssembly.${name}`;
  }
  return errorClass(error);
}

/** What a value looks like from JS, as plain data. */
function valueInfo(WA, value) {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
  if (Array.isArray(value)) return { array: value.map((v) => valueInfo(WA, v)) };
  if (value instanceof WA.Memory) return { memory: memoryInfo(value) };
  if (value instanceof WA.Global) return { global: valueInfo(WA, value.value) };
  if (value instanceof WA.Table) return { table: value.length };
  if (typeof value === 'function') return { function: value.name, length: value.length };
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    // Plain data (and exports objects): their own enumerable properties.
    return { [proto === null ? 'nullPrototype' : 'plain']: Object.keys(value).map((key) => [key, valueInfo(WA, value[key])]) };
  }
  return { object: Object.prototype.toString.call(value) };
}

function bufferInfo(buffer) {
  const detached = isDetached(buffer);
  return {
    byteLength: buffer.byteLength,
    detached,
    checksum: detached || buffer.byteLength === 0 ? null : checksum(buffer),
  };
}

function memoryInfo(memory) {
  const buffer = memory.buffer;
  return { pages: buffer.byteLength / PAGE, stable: memory.buffer === buffer, ...bufferInfo(buffer) };
}

const bytesCache = new Map();
function bytes(name) {
  if (!bytesCache.has(name)) bytesCache.set(name, watFile(name));
  return bytesCache.get(name);
}

// ---------------------------------------------------------------------------
// Scenarios. Each is [title, async (t) => result]; t has:
//   WA, other       the namespace under test and the other implementation
//   bytes(name)     the binary of __test__/wat/<name>.wat
//   instance(name, imports)  new Instance(new Module(bytes), imports).exports
//   attempt(fn)     runs fn: { ok: valueInfo(result) } or { threw: class }
//   attemptAsync(fn) the same for a promise
//   value(v)        valueInfo(WA, v)
//   memoryInfo(m), bufferInfo(b)

const scenarios = [];
const scenario = (title, run) => scenarios.push({ title, run });

// MDN memory.wat ---------------------------------------------------------------

scenario('memory.wat: accumulate over an imported memory', (t) => {
  const mem = new t.WA.Memory({ initial: 10, maximum: 100 });
  const { accumulate } = t.instance('memory', { js: { mem } });
  const summands = new Uint32Array(mem.buffer);
  for (let i = 0; i < 10; i++) summands[i] = i;
  const end = 10 * PAGE;
  new Int32Array(mem.buffer)[end / 4 - 1] = -5;
  return {
    sum: accumulate(0, 10),
    middle: accumulate(4, 3),
    empty: accumulate(40, 0),
    last: accumulate(end - 4, 1),
    unaligned: accumulate(1, 2),
    pastEnd: t.attempt(() => accumulate(end - 4, 2)),
    afterGrow: (() => {
      mem.grow(1);
      new Int32Array(mem.buffer)[end / 4] = 100;
      return accumulate(end - 4, 2);
    })(),
    memory: t.memoryInfo(mem),
  };
});

// MDN simple.wat ---------------------------------------------------------------

scenario('simple.wat: the imported function gets 42', (t) => {
  const calls = [];
  const exports = t.instance('simple', {
    imports: {
      imported_func: function imported(arg) {
        'use strict';
        calls.push({ arg, args: arguments.length, thisIsUndefined: this === undefined, newTarget: new.target });
        return 'ignored';
      },
    },
  });
  return { result: exports.exported_func(), again: exports.exported_func(), calls };
});

scenario('simple.wat: an import that is an arrow function, a bound function, a class or a Proxy', (t) => [
  (x) => x,
  function f(x) { return x; }.bind(null),
  new Proxy(function f() {}, {}),
  class C {},
  async () => {},
].map((imported_func) => t.attempt(() => t.instance('simple', { imports: { imported_func } }).exported_func())));

// MDN global.wat ---------------------------------------------------------------

scenario('global.wat: get, set from JS, increment from wasm', (t) => {
  const global = new t.WA.Global({ value: 'i32', mutable: true }, 0);
  const exports = t.instance('global', { js: { global } });
  const log = [exports.getGlobal()];
  global.value = 42;
  log.push(exports.getGlobal());
  exports.incGlobal();
  log.push(global.value, global.valueOf());
  global.value = 2 ** 31 - 1;
  exports.incGlobal();
  log.push(global.value);
  return log;
});

scenario('global.wat: two instances share one Global', (t) => {
  const global = new t.WA.Global({ value: 'i32', mutable: true }, 10);
  const a = t.instance('global', { js: { global } });
  const b = t.instance('global', { js: { global } });
  a.incGlobal();
  b.incGlobal();
  return [a.getGlobal(), b.getGlobal(), global.value];
});

scenario('global.wat: import shapes', (t) => [
  5,
  new t.WA.Global({ value: 'i32' }, 0),
  new t.WA.Global({ value: 'i64', mutable: true }, 0n),
  new t.WA.Global({ value: 'f32', mutable: true }, 0),
  new t.WA.Memory({ initial: 0 }),
  new t.other.Global({ value: 'i32', mutable: true }, 0),
  undefined,
  {},
].map((global) => t.attempt(() => t.instance('global', { js: { global } }).getGlobal())));

// MDN table.wat -----------------------------------------------------------------

scenario('table.wat: the exported table and its functions', (t) => {
  const { tbl } = t.instance('table', {});
  const f0 = tbl.get(0);
  return {
    isTable: tbl instanceof t.WA.Table,
    length: tbl.length,
    values: [f0(), tbl.get(1)()],
    lengths: [f0.length, tbl.get(1).length],
    sameObject: tbl.get(0) === f0,
    outOfRange: t.attempt(() => tbl.get(2)),
    grown: t.attempt(() => tbl.grow(1)),
    nullSlot: t.attempt(() => tbl.get(2)),
    lengthAfter: tbl.length,
  };
});

// A function reached only through a table is named by its function index.
scenario('table.wat: names of functions reached through the table', (t) => {
  const { tbl } = t.instance('table', {});
  return [t.value(tbl.get(0)), t.value(tbl.get(1))];
});

// Traps ---------------------------------------------------------------------------

const trapCalls = [
  ['unreachable', []],
  ['div_s', [7, 2]],
  ['div_s', [1, 0]],
  ['div_s', [-(2 ** 31), -1]],
  ['rem_s', [-(2 ** 31), -1]],
  ['div_u', [1, 0]],
  ['div_s64', [1n, 0n]],
  ['div_s64', [-(2n ** 63n), -1n]],
  ['trunc', [NaN]],
  ['trunc', [1e10]],
  ['trunc', [-2.9]],
  ['trunc_sat', [1e10]],
  ['trunc_sat', [NaN]],
  ['load', [65532]],
  ['load', [65533]],
  ['load', [-1]],
  ['load8', [65535]],
  ['load8', [65536]],
  ['store', [65534, 1]],
  ['call_v_i', [0]],
  ['call_v_i', [1]],
  ['call_v_i', [2]],
  ['call_v_i', [3]],
  ['call_v_i', [4]],
  ['call_v_i', [-1]],
  ['call_i_i', [1, 21]],
  ['call_i_i', [0, 21]],
  ['call_i_i', [2, 21]],
];

scenario('traps.wat: each trap is a RuntimeError of the namespace', (t) => {
  const exports = t.instance('traps', {});
  return trapCalls.map(([name, args]) => [name, args.map(fmt).join(', '), t.attempt(() => exports[name](...args))]);
});

scenario('traps.wat: stores before a trap stay; the instance works after it', (t) => {
  const exports = t.instance('traps', {});
  exports.store(0, 0x01020304);
  const trapped = t.attempt(() => exports.store(65536, 5));
  exports.store(65532, -1);
  return { trapped, first: exports.load(0), last: exports.load(65532), memory: t.memoryInfo(exports.mem) };
});

scenario('traps.wat: a trap is a fresh RuntimeError each time, with a stack', (t) => {
  const exports = t.instance('traps', {});
  const catchIt = () => {
    try {
      exports.unreachable();
    } catch (error) {
      return error;
    }
    return null;
  };
  const a = catchIt();
  const b = catchIt();
  return {
    different: a !== b,
    isError: a instanceof Error,
    proto: Object.getPrototypeOf(a) === t.WA.RuntimeError.prototype,
    messageType: typeof a.message,
    stackType: typeof a.stack,
  };
});

scenario('traps.wat: unbounded recursion', (t) => {
  const exports = t.instance('traps', {});
  return [t.attempt(() => exports.recurse(0)), exports.div_s(9, 3)];
});

// A memory the module defines ---------------------------------------------------

scenario('own-memory.wat: exports.mem is one Memory of the namespace', (t) => {
  const exports = t.instance('own-memory', {});
  return {
    same: exports.mem === exports.mem,
    isMemory: exports.mem instanceof t.WA.Memory,
    proto: Object.getPrototypeOf(exports.mem) === t.WA.Memory.prototype,
    tag: Object.prototype.toString.call(exports.mem),
    notOther: !(exports.mem instanceof t.other.Memory),
    buffer: t.memoryInfo(exports.mem),
  };
});

scenario('own-memory.wat: memory.grow in wasm detaches the old buffer', (t) => {
  const exports = t.instance('own-memory', {});
  const { mem } = exports;
  const before = mem.buffer;
  new Uint32Array(before)[0] = 0xdeadbeef;
  exports.store(PAGE - 4, 77);
  const grown = exports.grow(1);
  const after = mem.buffer;
  const step1 = {
    grown,
    old: t.bufferInfo(before),
    oldDetached: isDetached(before),
    new: t.bufferInfo(after),
    replaced: after !== before,
    stable: mem.buffer === after,
    size: exports.size(),
    kept: [new Uint32Array(after)[0], exports.load(PAGE - 4)],
  };
  exports.store(PAGE, 5); // in the new page
  const afterZero = mem.buffer;
  const tooFar = exports.grow(3);
  const step3 = { tooFar, untouched: mem.buffer === afterZero, old: t.bufferInfo(afterZero) };
  const negative = exports.grow(-1);
  const jsGrow = mem.grow(1);
  const step4 = { negative, jsGrow, size: exports.size(), memory: t.memoryInfo(mem), max: t.attempt(() => mem.grow(1)) };
  return [step1, step3, step4];
});

scenario('own-memory.wat: memory.grow(0) in wasm detaches the old buffer too', (t) => {
  const exports = t.instance('own-memory', {});
  const before = exports.mem.buffer;
  const zeroGrow = exports.grow(0);
  const after = exports.mem.buffer;
  return { zeroGrow, old: t.bufferInfo(before), replaced: after !== before, size: after.byteLength };
});

scenario('own-memory.wat: memory.fill and JS writes are seen by both sides', (t) => {
  const exports = t.instance('own-memory', {});
  exports.fill(10, 0xab, 100);
  new Uint8Array(exports.mem.buffer).set([1, 2, 3, 4], 200);
  return [exports.load(200), exports.load(10), t.attempt(() => exports.fill(PAGE - 1, 1, 2)), t.memoryInfo(exports.mem)];
});

// Imported memories ---------------------------------------------------------------

scenario('imported-memory.wat: two instances on one Memory see each other\'s writes', (t) => {
  const mem = new t.WA.Memory({ initial: 1, maximum: 8 });
  const a = t.instance('imported-memory', { env: { mem } });
  const b = t.instance('imported-memory', { env: { mem } });
  a.store(0, 1234);
  b.store(4, 5678);
  new Int32Array(mem.buffer)[2] = 91011;
  const reads = [a.load(4), b.load(0), a.load(8), b.load(8)];
  const before = mem.buffer;
  const grown = a.grow(2);
  const after = {
    grown,
    sizes: [a.size(), b.size()],
    old: t.bufferInfo(before),
    memory: t.memoryInfo(mem),
  };
  b.store(3 * PAGE - 4, 42);
  return { reads, after, readBack: [a.load(3 * PAGE - 4), new Int32Array(mem.buffer)[(3 * PAGE) / 4 - 1]], memory: t.memoryInfo(mem) };
});

scenario('imported-memory.wat: memory import limits', (t) => [
  { initial: 1, maximum: 8 },
  { initial: 2, maximum: 4 },
  { initial: 1 },
  { initial: 0, maximum: 8 },
  { initial: 1, maximum: 9 },
  { initial: 9, maximum: 9 },
].map((descriptor) => t.attempt(() => {
  const mem = new t.WA.Memory(descriptor);
  t.instance('imported-memory', { env: { mem } });
  return t.memoryInfo(mem);
})));

scenario('memory.wat: memory import shapes', (t) => [
  new t.WA.Memory({ initial: 0 }),
  {},
  new ArrayBuffer(PAGE),
  new t.other.Memory({ initial: 1 }),
  new t.WA.Global({ value: 'i32' }, 0),
  undefined,
  () => {},
].map((mem) => t.attempt(() => t.instance('memory', { js: { mem } }).accumulate(0, 0))));

// Imported, then exported ------------------------------------------------------

function reexportImports(WA, f) {
  return {
    env: {
      f,
      mem: new WA.Memory({ initial: 1 }),
      tbl: new WA.Table({ element: 'anyfunc', initial: 2 }),
      g: new WA.Global({ value: 'i32', mutable: true }, 3),
      c: new WA.Global({ value: 'f64' }, 2.5),
    },
  };
}

scenario('reexport.wat: imported memory, table and global come back as the same objects', (t) => {
  const imports = reexportImports(t.WA, (x) => x + 1);
  const exports = t.instance('reexport', imports);
  const { env } = imports;
  exports.setG(17);
  new Uint8Array(env.mem.buffer)[9] = 9;
  return {
    mem: exports.mem === env.mem,
    tbl: exports.tbl === env.tbl,
    g: exports.g === env.g,
    c: exports.c === env.c,
    gValue: env.g.value,
    cValue: exports.getC(),
    memory: t.memoryInfo(exports.mem),
  };
});

scenario('reexport.wat: a re-exported JS function is one new exported function', (t) => {
  const f = (x) => x * 3;
  const exports = t.instance('reexport', reexportImports(t.WA, f));
  return {
    sameAsImport: exports.f === f,
    f2: exports.f === exports.f2,
    info: t.value(exports.f),
    calls: [exports.f(2), exports.callF(5), exports.f('4'), t.attempt(() => exports.f(1n))],
  };
});

scenario('reexport.wat: a re-exported wasm function is the same object', (t) => {
  const fact = t.instance('reentrant', { env: { down: () => 1 } }).fact;
  const exports = t.instance('reexport', reexportImports(t.WA, fact));
  return { same: exports.f === fact, f2: exports.f2 === fact, call: exports.callF(4) };
});

scenario('reexport.wat: a wasm function of another signature is a LinkError', (t) => {
  const { five } = t.instance('table-import', { env: { tbl: new t.WA.Table({ element: 'anyfunc', initial: 2 }) } });
  return t.attempt(() => t.instance('reexport', reexportImports(t.WA, five)));
});

scenario('reexport.wat: Table.prototype.set with exported functions, call_indirect through it', (t) => {
  const imports = reexportImports(t.WA, (x) => x);
  const exports = t.instance('reexport', imports);
  const { fact } = t.instance('reentrant', { env: { down: (n) => n + 1 } });
  const { five } = t.instance('table-import', { env: { tbl: new t.WA.Table({ element: 'anyfunc', initial: 2 }) } });
  imports.env.tbl.set(0, fact);
  imports.env.tbl.set(1, five);
  return {
    same: imports.env.tbl.get(0) === fact,
    ok: exports.callTable(0, 3),
    mismatch: t.attempt(() => exports.callTable(1, 3)),
    outOfRange: t.attempt(() => exports.callTable(2, 3)),
    afterNull: (() => {
      imports.env.tbl.set(0, null);
      return t.attempt(() => exports.callTable(0, 3));
    })(),
  };
});

scenario('reexport.wat: exports of another implementation are refused', (t) => {
  const f = t.other === null ? null : new t.other.Instance(new t.other.Module(bytes('reentrant')), { env: { down: () => 1 } }).exports.fact;
  return [
    t.attempt(() => t.instance('reexport', { env: { ...reexportImports(t.WA, (x) => x).env, mem: new t.other.Memory({ initial: 1 }) } })),
    t.attempt(() => t.instance('reexport', { env: { ...reexportImports(t.WA, (x) => x).env, tbl: new t.other.Table({ element: 'anyfunc', initial: 2 }) } })),
    t.attempt(() => t.instance('reexport', { env: { ...reexportImports(t.WA, (x) => x).env, g: new t.other.Global({ value: 'i32', mutable: true }, 0) } })),
    // A foreign exported function is just a callable: a host function.
    t.attempt(() => t.instance('reexport', reexportImports(t.WA, f)).callF(4)),
  ];
});

// Numbers -----------------------------------------------------------------------

scenario('i64.wat: BigInt parameters and results', (t) => {
  const e = t.instance('i64', {});
  return [
    e.add(1n, 2n),
    e.add(2n ** 63n - 1n, 1n),
    e.id(-1n),
    e.id(2n ** 64n + 5n),
    e.id(-(2n ** 63n) - 1n),
    t.attempt(() => e.id('12')),
    t.attempt(() => e.id(true)),
    t.attempt(() => e.id('x')),
    t.attempt(() => e.id(1)),
    t.attempt(() => e.id(Symbol('s'))),
    t.attempt(() => e.id(undefined)),
    t.attempt(() => e.id()),
    t.attempt(() => e.id(null)),
    t.attempt(() => e.id({ valueOf: () => 7n })),
    e.mixed(1, 2n, 3.9),
    e.wrap(2n ** 32n + 7n),
    e.wrap(-1n),
    e.extend_u(-1),
    typeof e.id(0n),
  ].map((v) => (v && typeof v === 'object' ? v : { ok: v }));
});

scenario('i64.wat: exported i64 globals', (t) => {
  const e = t.instance('i64', {});
  const log = [e.g.value, e.k.value, e.getG()];
  e.setG(5n);
  log.push(e.g.value);
  log.push(t.attempt(() => { e.g.value = 7; }));
  e.g.value = 2n ** 64n - 1n;
  log.push(e.getG(), e.g.valueOf());
  log.push(t.attempt(() => { e.k.value = 1n; }), e.k.value);
  return log;
});

scenario('i32 parameters: ToInt32 conversions and TypeErrors', (t) => {
  const e = t.instance('traps', {});
  return [
    ['6', '3'], [2 ** 32 + 6, 3], [6.9, -2.5], [true, 1], [null, 1], [[12], { valueOf: () => 4 }],
    [undefined, 1], [1n, 1], [Symbol('s'), 1], [1, 2n], [6], [6, 3, 'extra'], ['', 1], [-0, 1], [NaN, 1],
  ].map((args) => t.attempt(() => e.div_s(...args)));
});

scenario('i32 parameters: valueOf runs in order and may throw', (t) => {
  const e = t.instance('traps', {});
  const order = [];
  const arg = (name, value) => ({ valueOf() { order.push(name); return value; } });
  const thrown = new Error('valueOf');
  const ok = e.div_s(arg('a', 8), arg('b', 2));
  const bad = (() => {
    try {
      e.div_s(arg('c', 8), { valueOf() { order.push('d'); throw thrown; } }, arg('e', 1));
      return 'no throw';
    } catch (error) {
      return error === thrown;
    }
  })();
  return { ok, bad, order };
});

scenario('float.wat: f32 and f64, NaN and -0', (t) => {
  const e = t.instance('float', {});
  return [
    e.id32(0.1), e.id32(-0), e.id32(NaN), e.id32(1e40), e.id32(-1e40), e.id32(2 ** -149), e.id32(2 ** -151),
    e.id64(-0), e.id64(NaN), e.id64(Number.MIN_VALUE), e.id64('1.5'), e.id64(undefined), e.id64(null),
    e.add32(0.1, 0.2), e.add64(0.1, 0.2), e.div64(0, 0), e.div64(1, -0), e.neg64(0), e.neg32(-0), e.neg64(NaN),
    e.min64(0, -0), e.min64(-0, 0), e.min64(NaN, 1), e.max32(-0, 0), e.sqrt64(-1), e.copysign64(1, -0),
    e.demote(1e40), e.demote(0.1), e.nan32(), e.negzero(), e.i32_to_f64(-1),
    e.gf32.value, e.gf64.value,
  ].map((v) => ({ ok: v })).concat([
    t.attempt(() => e.id64(1n)),
    t.attempt(() => e.id32(Symbol('s'))),
    t.attempt(() => { e.gf32.value = 0.1; return e.gf32.value; }),
    t.attempt(() => { e.gf64.value = 1; }),
  ]);
});

scenario('multi-value.wat: several results are an array', (t) => {
  const e = t.instance('multi-value', { env: { pair: (x) => [x, 4n] } });
  const swapped = e.swap(1, 2);
  return {
    swapped,
    isArray: Array.isArray(swapped),
    proto: Object.getPrototypeOf(swapped) === Array.prototype,
    fresh: e.swap(1, 2) !== swapped,
    three: e.three(),
    none: e.none(),
    sumPair: e.sumPair(3),
  };
});

scenario('multi-value.wat: what a JS import may return for (i32, i64)', (t) => [
  () => [3, 4n],
  function* gen() { yield 3; yield 5n; },
  () => new Set([1, 2n]),
  () => 5,
  () => [1],
  () => [1, 2n, 3],
  () => [1, 2],
  () => null,
  () => 'ab',
  () => ({ [Symbol.iterator]: () => { throw new RangeError('iterator'); } }),
  () => ({ length: 2, 0: 1, 1: 2n }), // array-like, not iterable: TypeError
].map((pair) => t.attempt(() => t.instance('multi-value', { env: { pair } }).sumPair(1))));

// Exceptions from JS --------------------------------------------------------------

scenario('throw.wat: a JS exception comes out as the same object', (t) => {
  const thrownValues = [
    new Error('plain'),
    new TypeError('type'),
    new t.WA.RuntimeError('wasm-looking'),
    new t.WA.LinkError('link'),
    { not: 'an error' },
    'a string',
    42,
    undefined,
    null,
    Symbol('s'),
    7n,
  ];
  return thrownValues.map((value) => {
    const e = t.instance('throw', { env: { thrower() { throw value; } } });
    let caught = 'no throw';
    try {
      e.call(1);
    } catch (error) {
      caught = error;
    }
    return { value: fmt(value), same: Object.is(caught, value), usable: t.attempt(() => e.call.length) };
  });
});

scenario('throw.wat: a throw inside nested wasm/JS frames unwinds them all', (t) => {
  const thrown = new Error('deep');
  let depth = 0;
  let exports;
  exports = t.instance('throw', {
    env: {
      thrower(n) {
        depth++;
        if (n === 0) throw thrown;
        return exports.call(n - 1);
      },
    },
  });
  let caught = null;
  try {
    exports.call(5);
  } catch (error) {
    caught = error;
  }
  return { same: caught === thrown, depth, after: exports.call.length };
});

scenario('throw.wat: a trap under a JS frame under wasm is a RuntimeError', (t) => {
  const traps = t.instance('traps', {});
  const e = t.instance('throw', { env: { thrower: () => traps.unreachable() } });
  return t.attempt(() => e.call(0));
});

// Re-entrancy ----------------------------------------------------------------------

scenario('reentrant.wat: a JS import calls back into its own instance', (t) => {
  let exports;
  const log = [];
  exports = t.instance('reentrant', {
    env: {
      down(n) {
        log.push(n);
        return exports.fact(n);
      },
    },
  });
  return { fact: exports.fact(6), maxDepth: exports.maxDepth(), log, memory: t.memoryInfo(exports.mem) };
});

scenario('reentrant.wat: the JS import grows the memory the calling wasm uses', (t) => {
  let exports;
  const buffers = [];
  exports = t.instance('reentrant', {
    env: {
      down(n) {
        buffers.push(exports.mem.buffer);
        exports.mem.grow(1);
        return exports.fact(n);
      },
    },
  });
  const fact = exports.fact(3);
  return {
    fact,
    detached: buffers.map(isDetached),
    memory: t.memoryInfo(exports.mem),
  };
});

// Start functions -----------------------------------------------------------------

scenario('start.wat: the start function runs during instantiation', (t) => {
  const log = [];
  const exports = t.instance('start', { env: { log: (x) => log.push(['log', x]) } });
  log.push(['constructed']);
  log.push(['ran', exports.ran()]);
  const second = t.instance('start', { env: { log: (x) => log.push(['second', x]) } });
  log.push(['ran', exports.ran(), second.ran()]);
  return log;
});

scenario('start.wat: an exception in the start function fails instantiation with it', (t) => {
  const thrown = new Error('start');
  try {
    t.instance('start', { env: { log() { throw thrown; } } });
    return 'no throw';
  } catch (error) {
    return error === thrown;
  }
});

scenario('start-trap.wat: a trapping start function is a RuntimeError', (t) => t.attempt(() => t.instance('start-trap', {})));

scenario('start-trap.wat: instantiate() rejects with a RuntimeError', async (t) => [
  await t.attemptAsync(() => t.WA.instantiate(bytes('start-trap'))),
  await t.attemptAsync(() => t.WA.instantiate(new t.WA.Module(bytes('start-trap')))),
]);

// Data segments --------------------------------------------------------------------

scenario('data.wat: active segments fill the memory; memory.init and data.drop', (t) => {
  const e = t.instance('data', {});
  const text = (offset, length) => Buffer.from(e.mem.buffer, offset, length).toString('latin1');
  const first = { hello: text(0, 5), bytes: [...new Uint8Array(e.mem.buffer, 100, 5)], edge: [...new Uint8Array(e.mem.buffer, PAGE - 3, 6)] };
  e.init(200, 0, 8);
  const copied = text(200, 8);
  const partial = t.attempt(() => e.init(300, 4, 5));
  const outOfMemory = t.attempt(() => e.init(2 * PAGE - 4, 0, 8));
  e.drop();
  const afterDrop = [t.attempt(() => e.init(0, 0, 0)), t.attempt(() => e.init(0, 0, 1)), t.attempt(() => e.drop())];
  return { first, copied, partial, outOfMemory, afterDrop, memory: t.memoryInfo(e.mem) };
});

scenario('data-oob.wat: a segment past the end fails instantiation and writes nothing', (t) => {
  const small = new t.WA.Memory({ initial: 1 });
  new Uint8Array(small.buffer)[65535] = 0x55;
  const failed = t.attempt(() => t.instance('data-oob', { env: { mem: small } }));
  const big = new t.WA.Memory({ initial: 2 });
  const ok = t.attempt(() => t.instance('data-oob', { env: { mem: big } }));
  return { failed, small: t.memoryInfo(small), ok, big: t.memoryInfo(big) };
});

// Custom sections --------------------------------------------------------------------

scenario('custom.wat: customSections by name, in order, fresh copies', (t) => {
  const module = new t.WA.Module(bytes('custom'));
  const hello = t.WA.Module.customSections(module, 'hello');
  const contents = (list) => list.map((b) => [Object.prototype.toString.call(b), [...new Uint8Array(b)]]);
  const before = contents(hello);
  new Uint8Array(hello[0])[0] = 0;
  return {
    hello: before,
    fresh: contents(t.WA.Module.customSections(module, 'hello')),
    arrayFresh: t.WA.Module.customSections(module, 'hello') !== t.WA.Module.customSections(module, 'hello'),
    empty: contents(t.WA.Module.customSections(module, 'empty')),
    utf8: contents(t.WA.Module.customSections(module, 'hé')),
    missing: contents(t.WA.Module.customSections(module, 'nothing')),
    wrongCase: contents(t.WA.Module.customSections(module, 'Hello')),
    converted: contents(t.WA.Module.customSections(module, { toString: () => 'empty' })),
    noName: t.attempt(() => t.WA.Module.customSections(module)),
    symbol: t.attempt(() => t.WA.Module.customSections(module, Symbol('hello'))),
    notModule: t.attempt(() => t.WA.Module.customSections({}, 'hello')),
    exports: t.WA.Module.exports(module),
  };
});

// Bad input ---------------------------------------------------------------------------

const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const malformed = {
  empty: [],
  'magic only': [0x00, 0x61, 0x73, 0x6d],
  'wrong magic': [0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00],
  'wrong version': [0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00],
  'truncated section': [...header, 0x01, 0x05, 0x01],
  'unknown section': [...header, 0x20, 0x00],
  // (func (result i32)) whose body is empty: a type error
  'invalid body': [...header, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b],
  'text, not binary': [...Buffer.from('(module)')],
};

scenario('malformed bytes: CompileError from Module, false from validate', (t) => Object.entries(malformed).map(([name, list]) => {
  const u8 = new Uint8Array(list);
  return [name, t.attempt(() => new t.WA.Module(u8)), t.WA.validate(u8)];
}));

scenario('malformed bytes: compile() and instantiate() reject with CompileError', async (t) => {
  const results = [];
  for (const [name, list] of Object.entries(malformed)) {
    const u8 = new Uint8Array(list);
    results.push([name, await t.attemptAsync(() => t.WA.compile(u8)), await t.attemptAsync(() => t.WA.instantiate(u8))]);
  }
  return results;
});

scenario('the minimal module: header only', (t) => {
  const module = new t.WA.Module(new Uint8Array(header));
  const instance = new t.WA.Instance(module);
  return { exports: Reflect.ownKeys(instance.exports), imports: t.WA.Module.imports(module), valid: t.WA.validate(new Uint8Array(header)) };
});

scenario('import objects: missing, not an object, missing module, wrong kind, missing function', (t) => {
  const module = new t.WA.Module(bytes('simple'));
  const inst = (imports) => t.attempt(() => new t.WA.Instance(module, imports));
  return [
    inst(undefined),
    inst(),
    inst(null),
    inst(1),
    inst('imports'),
    inst({}),
    inst({ imports: undefined }),
    inst({ imports: 1 }),
    inst({ imports: 'str' }),
    inst({ imports: {} }),
    inst({ imports: { imported_func: 1 } }),
    inst({ imports: { imported_func: {} } }),
    inst({ imports: { imported_func: new t.WA.Memory({ initial: 0 }) } }),
    inst({ imports: { imported_func: () => {} } }),
    inst({ imports: Object.assign(() => {}, { imported_func: () => {} }) }),
    inst({ imports: Object.create({ imported_func: () => {} }) }),
  ];
});

scenario('import objects: getters are read once each, in import order', (t) => {
  const order = [];
  const getterObject = (name, props) => {
    const o = {};
    for (const [key, value] of Object.entries(props)) {
      Object.defineProperty(o, key, { get() { order.push(`${name}.${key}`); return value; } });
    }
    return o;
  };
  const imports = reexportImports(t.WA, (x) => x);
  const env = getterObject('env', imports.env);
  const top = getterObject('imports', { env });
  t.instance('reexport', top);
  return order;
});

scenario('import objects: a throwing getter propagates its exception', (t) => {
  const thrown = new Error('getter');
  const imports = { get imports() { throw thrown; } };
  try {
    t.instance('simple', imports);
    return 'no throw';
  } catch (error) {
    return error === thrown;
  }
});

scenario('import objects: instantiate() turns import errors into rejections', async (t) => [
  await t.attemptAsync(() => t.WA.instantiate(bytes('simple'))),
  await t.attemptAsync(() => t.WA.instantiate(bytes('simple'), {})),
  await t.attemptAsync(() => t.WA.instantiate(bytes('simple'), { imports: {} })),
  await t.attemptAsync(() => t.WA.instantiate(bytes('memory'), { js: { mem: new t.WA.Memory({ initial: 0 }) } })),
  await t.attemptAsync(() => t.WA.instantiate(new t.WA.Module(bytes('simple')), { imports: { imported_func: 1 } })),
]);

scenario('table-import.wat: table import limits and kinds', (t) => [
  new t.WA.Table({ element: 'anyfunc', initial: 2 }),
  new t.WA.Table({ element: 'anyfunc', initial: 1 }),
  new t.WA.Table({ element: 'anyfunc', initial: 3, maximum: 5 }),
  new t.WA.Memory({ initial: 1 }),
  [],
].map((tbl) => t.attempt(() => {
  const e = t.instance('table-import', { env: { tbl } });
  tbl.set(0, e.five);
  return [e.call(0), t.attempt(() => e.call(1)), t.attempt(() => e.call(tbl.length))];
})));

// externref -------------------------------------------------------------------------

scenario('externref.wat: tables, globals and functions of externref', (t) => {
  const e = t.instance('externref', {});
  const object = { any: 'thing' };
  e.ref.value = object;
  e.refs.set(1, 'text');
  return {
    id: [e.id(object) === object, e.id(undefined), e.id(null), e.id(5)],
    global: e.ref.value === object,
    table: [e.refs.get(0), e.refs.get(1), e.refs.length],
    valid: t.WA.validate(bytes('externref')),
  };
});

// The exports object ----------------------------------------------------------------

scenario('Instance exports: frozen, null prototype, export order, descriptors', (t) => {
  const e = t.instance('reexport', reexportImports(t.WA, (x) => x));
  const keys = Reflect.ownKeys(e);
  return {
    keys,
    frozen: Object.isFrozen(e),
    extensible: Object.isExtensible(e),
    proto: Object.getPrototypeOf(e),
    descriptors: keys.map((key) => {
      const { writable, enumerable, configurable } = Object.getOwnPropertyDescriptor(e, key);
      return [key, writable, enumerable, configurable];
    }),
    values: keys.map((key) => t.value(e[key])),
    assign: t.attempt(() => { 'use strict'; e.f = 1; }),
    add: t.attempt(() => { 'use strict'; e.other = 1; }),
    del: t.attempt(() => { 'use strict'; delete e.f; }),
    sameObject: e === e,
  };
});

// ---------------------------------------------------------------------------

async function runScenario(WA, other, { run }) {
  const value = (v) => valueInfo(WA, v);
  const attempt = (fn) => {
    try {
      return { ok: value(fn()) };
    } catch (error) {
      return { threw: errorClassIn(WA, error) };
    }
  };
  const attemptAsync = async (fn) => {
    let promise;
    try {
      promise = fn();
    } catch (error) {
      return { threwSynchronously: errorClassIn(WA, error) };
    }
    if (!(promise instanceof Promise)) return { notAPromise: value(promise) };
    try {
      const result = await promise;
      if (result && Object.getPrototypeOf(result) === Object.prototype) {
        return { resolved: Object.fromEntries(Object.entries(result).map(([k, v]) => [k, value(v)])) };
      }
      return { resolved: value(result) };
    } catch (error) {
      return { rejected: errorClassIn(WA, error) };
    }
  };
  const t = {
    WA,
    other,
    bytes,
    instance: (name, imports) => new WA.Instance(new WA.Module(bytes(name)), imports).exports,
    attempt,
    attemptAsync,
    value,
    memoryInfo,
    bufferInfo,
  };
  try {
    return { ok: await run(t) };
  } catch (error) {
    return { threw: errorClassIn(WA, error), unexpected: true, message: String(error && error.message) };
  }
}

if (onlyBuiltin || needsBuiltin) {
  // Nothing to compare with: the scenarios must at least run on the one
  // implementation there is (the built-in alone, or ours alone when the
  // built-in cannot allocate under an address-space limit).
  const [name, alone] = onlyBuiltin ? ['the built-in', builtin] : ['wasm-memory-rs', ours];
  describe(`scenarios run on ${name} alone`, () => {
    for (const s of scenarios) {
      test(s.title, async () => {
        const result = await runScenario(alone, alone, s);
        assert.ok(!result.unexpected, `threw ${result.threw}: ${result.message}`);
      });
    }
  });
} else {
  describe('results, error classes and memory contents match the built-in', () => {
    for (const s of scenarios) {
      const known = knownDifference(`wasm-differential: ${s.title}`);
      if (known) {
        test(`known difference: ${known.id} (replaces: ${s.title})`, () => known.ours(ours, assert));
        continue;
      }
      test(s.title, async () => {
        const expected = await runScenario(builtin, ours, s);
        assert.ok(!expected.unexpected, `the built-in threw ${expected.threw}: ${expected.message}`);
        const actual = await runScenario(ours, builtin, s);
        assert.deepStrictEqual(actual, expected);
      });
    }
  });

  // If we fix a known difference, this tells us to take it off the list.
  describe('known differences of Module and Instance still differ from the built-in', () => {
    for (const entry of wasmKnownDifferences) {
      const keys = entry.tests.filter((key) => key.startsWith('wasm-differential: '));
      if (keys.length === 0) continue;
      const skip = applies(entry) ? false : `does not apply to Node ${process.versions.node}`;
      test(`known difference: ${entry.id}`, { skip }, async () => {
        for (const key of keys) {
          const s = scenarios.find(({ title }) => title === key.slice('wasm-differential: '.length));
          assert.ok(s, `no differential scenario for "${key}"`);
          assert.notDeepStrictEqual(await runScenario(ours, builtin, s), await runScenario(builtin, ours, s),
            `"${s.title}": ours now gives the built-in's result; remove it from known-differences.js`);
        }
      });
    }
  });
}

// Every .wat module of __test__/wat/ is used by some scenario above (or by
// the example and namespace suites).
test('every module in __test__/wat/ parses and validates on each implementation', () => {
  const fs = require('node:fs');
  const { WAT_DIR } = require('./wat');
  const names = fs.readdirSync(WAT_DIR).filter((name) => name.endsWith('.wat')).map((name) => name.slice(0, -4));
  assert.ok(names.length >= 20, `only ${names.length} modules`);
  for (const name of names) {
    const u8 = bytes(name);
    assert.deepStrictEqual([...u8.subarray(0, 8)], header, name);
    for (const [implName, WA] of impls) {
      // (Modules of the exception-handling proposal are in exceptions.test.js,
      // which skips the built-ins that lack it.)
      assert.strictEqual(WA.validate(u8), true, `${implName}: ${name}.wat validates`);
    }
  }
});
