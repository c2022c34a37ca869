'use strict';
// Data segments reach our memories (src/memory/mapping.rs) as they reach V8's:
// each scenario runs on the built-in and on ours and must give the same
// results, error classes and memory bytes; where the built-in lacks the
// feature (memory64 before Node 24), against a model of the spec instead.
//
// Modules with 64 or more active segments that cannot trap are compiled
// with their segments merged (src/runtime/data_init.rs); the generated modules
// below exercise both that path and the per-segment one.
const { test } = require('node:test');
const assert = require('node:assert');
const { builtin, ours, impls, needsBuiltin } = require('./impls');
const { PAGE, checksum } = require('./helpers');
const { wat, watFile } = require('./wat');

/** { ok: value } or { threw: class name }. */
function attempt(WA, fn) {
  try {
    return { ok: fn() };
  } catch (error) {
    for (const name of ['CompileError', 'LinkError', 'RuntimeError']) {
      if (error instanceof WA[name]) return { threw: `WebAssembly.${name}` };
    }
    return { threw: error && error.constructor && error.constructor.name };
  }
}

const bytesOf = (memory, start, length) => Array.from(new Uint8Array(memory.buffer, start, length));
const text = (memory, start, length) => Buffer.from(new Uint8Array(memory.buffer, start, length)).toString('latin1');

/** Runs `run(WA, bytes)` on both and compares; returns ours. */
function differential(name, run) {
  const results = impls.map(([, WA]) => run(WA));
  if (results.length === 2) assert.deepStrictEqual(results[1], results[0], `${name}: ours differs from the built-in`);
  return results[results.length - 1];
}

/** memory64 in wasm and in the JS API (Node 22's built-in validates it but has no `address`). */
function supportsMemory64(WA) {
  if (!WA.validate(wat('(module (memory i64 1))'))) return false;
  try {
    new WA.Memory({ initial: 1n, address: 'i64' });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// The .wat modules.

test('segments that end exactly at the end of memory', { skip: needsBuiltin }, () => {
  const r = differential('data-end', (WA) => {
    const { mem } = new WA.Instance(new WA.Module(watFile('data-end')), {}).exports;
    return { first: bytesOf(mem, 0, 1), page2: bytesOf(mem, 131068, 4), end: bytesOf(mem, 196600, 8), sum: checksum(mem.buffer) };
  });
  assert.deepStrictEqual(r.page2, [0xaa, 0xbb, 0xcc, 0xdd]);
  assert.deepStrictEqual(r.end, [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0xee]);
});

test('overlapping segments: the later one wins', { skip: needsBuiltin }, () => {
  const r = differential('data-overlap', (WA) => {
    const { mem } = new WA.Instance(new WA.Module(watFile('data-overlap')), {}).exports;
    return text(mem, 0, 110);
  });
  const expected = Buffer.alloc(110);
  for (const [at, s] of [[16, 'AAAAAAAAAAAAAAAA'], [20, 'bb'], [30, 'CCCCCCCC'], [10, 'ddddddddd'],
    [64, '1111'], [64, '2222'], [64, '33'], [100, '\0\0\0\0'], [98, 'zzzzzzzz'], [102, '\0\0']]) {
    expected.write(s, at, 'latin1');
  }
  assert.strictEqual(r, expected.toString('latin1'));
});

test('passive segments, memory.init and data.drop among active ones', { skip: needsBuiltin }, () => {
  differential('data-passive', (WA) => {
    const e = new WA.Instance(new WA.Module(watFile('data-passive')), {}).exports;
    const log = [text(e.mem, 0, 60)];
    const run = (f, ...args) => log.push(attempt(WA, () => e[f](...args)), text(e.mem, 0, 60).replace(/\0/g, '.'));
    run('init1', 52, 0, 7); // "passive"
    run('init1', 0, 8, 3); // "one" over "act"
    run('init1', 0, 9, 3); // past the segment: traps
    run('init3', 0, 0, 0); // empty passive: nothing
    run('init3', 0, 0, 1); // traps
    run('init5', 65532, 0, 4); // to the last bytes
    run('init5', 65533, 0, 4); // past memory's end: traps
    run('initA0', 0, 0, 0); // active segments are dropped: length 0 is fine
    run('initA0', 0, 0, 1); // anything more traps
    run('initA4', 65536, 0, 0); // at memory's end, length 0: fine
    run('drop1');
    run('init1', 0, 0, 0); // dropped: length 0 fine
    run('init1', 0, 0, 1); // traps
    run('dropA2'); // dropping an active segment: nothing happens
    run('drop5');
    run('drop5'); // twice is fine
    log.push(bytesOf(e.mem, 65528, 8));
    return log;
  });
});

test('an out-of-bounds segment fails instantiation; the ones before it stay written in an imported memory', { skip: needsBuiltin }, () => {
  const r = differential('data-oob-partial', (WA) => {
    const mem = new WA.Memory({ initial: 1 });
    new Uint8Array(mem.buffer).fill(0x55, 90, 110);
    const result = attempt(WA, () => new WA.Instance(new WA.Module(watFile('data-oob-partial')), { env: { mem } }));
    return { threw: result.threw, head: text(mem, 0, 5), tail: bytesOf(mem, 65528, 8), fourth: bytesOf(mem, 98, 10) };
  });
  assert.strictEqual(r.threw, 'WebAssembly.RuntimeError');
  assert.strictEqual(r.head, 'first');
  assert.deepStrictEqual(r.fourth, Array(10).fill(0x55), 'the segment after the failing one is not applied');
});

test('an out-of-bounds segment into a memory of its own: RuntimeError, nothing handed out', { skip: needsBuiltin }, () => {
  differential('data-oob-defined', (WA) => {
    const module = new WA.Module(watFile('data-oob-defined'));
    return [attempt(WA, () => new WA.Instance(module, {})), attempt(WA, () => new WA.Instance(module, {}))]
      .map((r) => r.threw);
  });
});

test('a function of a failed instance, left in a table, sees the segments applied before the failure', { skip: needsBuiltin }, () => {
  const r = differential('data-oob-table', (WA) => {
    const table = new WA.Table({ element: 'anyfunc', initial: 1 });
    const result = attempt(WA, () => new WA.Instance(new WA.Module(watFile('data-oob-table')), { env: { table } }));
    const read = table.get(0);
    return { threw: result.threw, read: read === null ? null : attempt(WA, () => read()) };
  });
  assert.deepStrictEqual(r, { threw: 'WebAssembly.RuntimeError', read: { ok: 42 } });
});

test('segments into an imported memory keep the bytes they do not cover', { skip: needsBuiltin }, () => {
  differential('data-imported', (WA) => {
    const mem = new WA.Memory({ initial: 2, maximum: 3 });
    new Uint8Array(mem.buffer).fill(0x33);
    const before = mem.buffer;
    new WA.Instance(new WA.Module(watFile('data-imported')), { env: { mem } });
    return { sameBuffer: mem.buffer === before, bytes: text(mem, 4, 20), end: bytesOf(mem, 131066, 6), sum: checksum(mem.buffer) };
  });
});

// memory64 modules live in __test__/wat/memory64/: the built-in of Node 20
// and 22 does not validate them, and every module directly in __test__/wat/
// must validate on both (wasm-differential.test.js).
test('memory64: segments with i64 offsets, and one past the end', () => {
  for (const [name, WA] of impls) {
    if (!supportsMemory64(WA)) continue;
    const { mem } = new WA.Instance(new WA.Module(watFile('memory64/data')), {}).exports;
    assert.strictEqual(text(mem, 0, 10), 'sixXX-four', name);
    assert.deepStrictEqual(bytesOf(mem, 131064, 8), [1, 2, 3, 4, 5, 6, 7, 8], name);
    const imported = new WA.Memory({ initial: 1n, address: 'i64' });
    const r = attempt(WA, () => new WA.Instance(new WA.Module(watFile('memory64/data-oob')), { env: { mem: imported } }));
    assert.strictEqual(r.threw, 'WebAssembly.RuntimeError', name);
    assert.strictEqual(text(imported, 10, 2), 'in', name);
  }
  assert.ok(supportsMemory64(ours), 'wasm-memory-rs supports memory64');
});

// ---------------------------------------------------------------------------
// Generated modules with thousands of segments.

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const escape = (bytes) => Array.from(bytes, (b) => `\\${b.toString(16).padStart(2, '0')}`).join('');

/**
 * A module with `count` segments into one memory of `pages` pages (its own
 * or imported; i32 or i64): mostly active at random offsets (overlapping,
 * some empty, a run of adjacent ones), every `passiveEvery`-th passive with
 * an export `init<i>` that copies it, and optionally a last segment past
 * the end. Also returns a model of the memory the active segments leave.
 */
function manySegments({ seed, count, pages, imported = false, i64 = false, passiveEvery = 0, oobLast = false }) {
  const next = random(seed);
  const size = pages * PAGE;
  const model = new Uint8Array(size);
  const written = new Uint8Array(size); // 1 where an active segment wrote
  const lines = [];
  const funcs = [];
  const t = i64 ? 'i64' : 'i32';
  for (let i = 0; i < count; i++) {
    const length = next() < 0.05 ? 0 : 1 + Math.floor(next() * 48);
    const data = Uint8Array.from({ length }, () => Math.floor(next() * 256));
    if (passiveEvery && i % passiveEvery === passiveEvery - 1) {
      lines.push(`(data $d${i} "${escape(data)}")`);
      funcs.push(`(func (export "init${i}") (param ${t} i32 i32) (memory.init $d${i} (local.get 0) (local.get 1) (local.get 2)))`);
      continue;
    }
    let offset = i < count / 4 ? 1000 + i * 24 : Math.floor(next() * (size - length + 1));
    if (oobLast && i === count - 1) offset = size - length + 1;
    if (offset + length <= size) {
      model.set(data, offset);
      written.fill(1, offset, offset + length);
    }
    lines.push(`(data (${t}.const ${offset}) "${escape(data)}")`);
  }
  const memory = imported
    ? `(memory (import "env" "mem") ${i64 ? 'i64 ' : ''}${pages})`
    : `(memory (export "mem") ${i64 ? 'i64 ' : ''}${pages})`;
  return { bytes: wat(`(module ${memory}\n${lines.join('\n')}\n${funcs.join('\n')})`), model, written };
}

test('3,000 segments into a memory of its own, overlapping (merged before compiling)', { skip: needsBuiltin }, () => {
  const { bytes, model } = manySegments({ seed: 1, count: 3000, pages: 3 });
  const sum = differential('3000 defined', (WA) => checksum(new WA.Instance(new WA.Module(bytes), {}).exports.mem.buffer));
  assert.strictEqual(sum, checksum(model));
});

test('3,000 segments into an imported memory with bytes in it already', { skip: needsBuiltin }, () => {
  const { bytes, model, written } = manySegments({ seed: 2, count: 3000, pages: 2, imported: true });
  const sum = differential('3000 imported', (WA) => {
    const mem = new WA.Memory({ initial: 2 });
    new Uint8Array(mem.buffer).fill(0x77);
    new WA.Instance(new WA.Module(bytes), { env: { mem } });
    return checksum(mem.buffer);
  });
  // Model: JS's 0x77 everywhere but where a segment wrote.
  const expected = new Uint8Array(2 * PAGE).fill(0x77);
  for (let i = 0; i < expected.length; i++) if (written[i]) expected[i] = model[i];
  assert.strictEqual(sum, checksum(expected));
});

test('3,000 segments with passive ones among them: indices and memory.init unchanged', { skip: needsBuiltin }, () => {
  const { bytes } = manySegments({ seed: 3, count: 3000, pages: 2, passiveEvery: 7 });
  differential('3000 passive', (WA) => {
    const e = new WA.Instance(new WA.Module(bytes), {}).exports;
    const log = [checksum(e.mem.buffer)];
    for (const name of ['init6', 'init13', 'init1504', 'init2999']) {
      if (!e[name]) continue;
      log.push(name, attempt(WA, () => e[name](0, 0, 0)), attempt(WA, () => e[name](64, 0, 1)), attempt(WA, () => e[name](128, 0, 60)));
    }
    log.push(bytesOf(e.mem, 0, 200));
    return log;
  });
});

test('3,000 segments, the last one past the end: RuntimeError, the others written (per-segment path)', { skip: needsBuiltin }, () => {
  const { bytes } = manySegments({ seed: 4, count: 3000, pages: 2, imported: true, oobLast: true });
  differential('3000 oob', (WA) => {
    const mem = new WA.Memory({ initial: 2 });
    const r = attempt(WA, () => new WA.Instance(new WA.Module(bytes), { env: { mem } }));
    return { threw: r.threw, sum: checksum(mem.buffer) };
  });
});

test('3,000 segments into a memory64 of its own', () => {
  const { bytes, model } = manySegments({ seed: 5, count: 3000, pages: 2, i64: true });
  for (const [name, WA] of impls) {
    if (!supportsMemory64(WA)) continue;
    assert.strictEqual(checksum(new WA.Instance(new WA.Module(bytes), {}).exports.mem.buffer), checksum(model), name);
  }
});

test('the same module instantiated many times gets its segments every time', () => {
  const { bytes, model } = manySegments({ seed: 6, count: 500, pages: 1 });
  const module = new ours.Module(bytes);
  for (let i = 0; i < 20; i++) {
    const { mem } = new ours.Instance(module, {}).exports;
    assert.strictEqual(checksum(mem.buffer), checksum(model));
    new Uint8Array(mem.buffer).fill(0xff); // dirty it: a recycled memory must come back zeroed
  }
});

test('built-in sanity: the generator and model agree with V8', { skip: needsBuiltin }, () => {
  const { bytes, model } = manySegments({ seed: 7, count: 100, pages: 1 });
  assert.strictEqual(checksum(new builtin.Instance(new builtin.Module(bytes), {}).exports.mem.buffer), checksum(model));
});
