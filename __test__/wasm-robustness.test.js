'use strict';
// Bad input never crashes: a seeded random fuzz throws JS values of every
// kind at every API of the namespace (Module, Instance, Global, Table,
// Memory, exported functions, imports), in a child process (this very file,
// started with `--child <seed> <iterations>`), and checks that
//   - every thrown value is a TypeError, RangeError, LinkError, CompileError
//     or RuntimeError of the right realm, or the very value a user callback
//     threw;
//   - where the scenario is deterministic, the outcome (success, or the
//     error class) equals the built-in WebAssembly's;
//   - the process exits 0.
// Replay one seed: node --expose-gc __test__/wasm-robustness.test.js --child <seed> <iterations> [--verbose]
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

if (process.argv[2] === '--child') {
  (process.argv[3] === 'recursion'
    ? recursion()
    : runChild(Number(process.argv[3]), Number(process.argv[4]), process.argv.includes('--verbose')))
    .then((result) => {
      process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    })
    .catch((error) => {
      process.stderr.write(`fuzzer failed: ${error && error.stack}\n`);
      process.exit(1);
    });
} else {
  const { test } = require('node:test');
  const assert = require('node:assert');
  const { spawnCollect } = require('./child');
  // The built-in cannot allocate a memory under a low `ulimit -v` (impls.js): tests that compare with it skip.
  const { needsBuiltin } = require('./impls');

  const ITERATIONS = 2000;
  for (const seed of [1, 2]) {
    test(`fuzz: ${ITERATIONS} iterations, seed ${seed}`, { skip: needsBuiltin }, async (t) => {
      const args = ['--expose-gc', '--stack-size=900', __filename, '--child', String(seed), String(ITERATIONS)];
      const run = await spawnCollect(process.execPath, args, 120000);
      const output = `\n--- stdout (last 4000)\n${run.stdout.slice(-4000)}\n--- stderr (last 4000)\n${run.stderr.slice(-4000)}`;
      const replay = `replay: node --expose-gc --stack-size=900 ${path.relative(process.cwd(), __filename)} --child ${seed} ${ITERATIONS} --verbose`;
      await t.test('no crash, no hang, exit status 0', () => {
        assert.ok(!run.timedOut, `the fuzzer did not finish${output}`);
        assert.strictEqual(run.signal, null, `the fuzzer was killed by ${run.signal}${output}`);
        assert.strictEqual(run.status, 0, `the fuzzer exited with ${run.status}${output}`);
        assert.ok(run.result, `no RESULT line${output}`);
        t.diagnostic(`${run.result.iterations} iterations in ${run.ms} ms; outcomes: ${JSON.stringify(run.result.outcomes)}`);
      });
      await t.test('every thrown value is of an expected class (or the user\'s own)', () => {
        assert.ok(run.result, 'no result');
        assert.deepStrictEqual(run.result.unexpected, [], replay);
      });
      await t.test('outcomes (success or error class) equal the built-in\'s', () => {
        assert.ok(run.result, 'no result');
        const byOp = {};
        for (const m of run.result.mismatches) byOp[m.op] = (byOp[m.op] || 0) + 1;
        assert.deepStrictEqual(run.result.mismatches, [],
          `${run.result.mismatchCount} differences from the built-in (first 20 by op: ${JSON.stringify(byOp)}; ${replay})`);
      });
    });
  }

  // The differences the fuzzer finds, one minimal case each, so that each
  // has a name of its own. Built-in first, then ours, same assertion.
  const { wat } = require('./wat');
  const ours = require(ROOT);
  const impls = [['built-in', globalThis.WebAssembly], ['wasm-memory-rs', ours]];
  const classOf = (ns, fn) => {
    try {
      fn();
      return 'ok';
    } catch (error) {
      for (const name of ['LinkError', 'CompileError', 'RuntimeError']) if (error instanceof ns[name]) return name;
      return error.constructor.name;
    }
  };

  for (const [name, ns] of impls) {
    test(`${name}: an immutable funcref global imported from null or an exported function links`, () => {
      const bytes = wat('(module (import "env" "g" (global funcref)) (func (export "get") (result funcref) (global.get 0)))');
      const f = new ns.Instance(new ns.Module(wat('(module (func (export "f")))'))).exports.f;
      for (const v of [null, f]) {
        const instance = new ns.Instance(new ns.Module(bytes), { env: { g: v } });
        assert.strictEqual(instance.exports.get(), v);
      }
      // A plain JS function is not a funcref: LinkError (V8) — not a crash.
      assert.strictEqual(classOf(ns, () => new ns.Instance(new ns.Module(bytes), { env: { g: () => 1 } })), 'LinkError');
    });

    test(`${name}: Table.prototype.set with an index out of bounds and a non-function value is a RangeError (V8 checks the index first)`, () => {
      const table = new ns.Table({ element: 'anyfunc', initial: 2 });
      assert.strictEqual(classOf(ns, () => table.set(2, 1)), 'RangeError');
      assert.strictEqual(classOf(ns, () => table.set(0, 1)), 'TypeError');
    });

    test(`${name}: all imports are read before any is checked (a later getter's exception wins over an earlier LinkError)`, () => {
      const bytes = wat('(module (import "env" "f" (func)) (import "env" "mem" (memory 1)))');
      const thrown = { mine: true };
      const env = { f: 1, get mem() { throw thrown; } };
      assert.throws(() => new ns.Instance(new ns.Module(bytes), { env }), (e) => e === thrown);
    });

    test(`${name}: new Table({initial: 0}, value) does not convert the value (nothing to fill)`, () => {
      assert.strictEqual(classOf(ns, () => new ns.Table({ element: 'anyfunc', initial: 0 }, false)), 'ok');
      assert.strictEqual(classOf(ns, () => new ns.Table({ element: 'anyfunc', initial: 1 }, false)), 'TypeError');
    });
  }

  test('deep recursion JS -> wasm -> JS ends in a RangeError or RuntimeError, not a crash (child)', async () => {
    const run = await spawnCollect(process.execPath, ['--expose-gc', __filename, '--child', 'recursion', '0'], 60000);
    const output = `\n--- stdout\n${run.stdout.slice(-3000)}\n--- stderr\n${run.stderr.slice(-3000)}`;
    assert.strictEqual(run.signal, null, `killed by ${run.signal}${output}`);
    assert.strictEqual(run.status, 0, `exit status ${run.status}${output}`);
    assert.ok(run.result, output);
    for (const [name, outcome] of Object.entries(run.result)) {
      assert.ok(['RangeError', 'RuntimeError'].includes(outcome.kind), `${name}: ${JSON.stringify(outcome)}`);
    }
  });
}

// ---------------------------------------------------------------------------
// The fuzzer (child process).

async function runChild(seed, iterations, verbose) {
  const ours = require(ROOT);
  const { wat } = require('./wat');
  const builtin = globalThis.WebAssembly;
  const { fmt } = require('./helpers');
  let trace = null;

  // Sentinels thrown by user callbacks: any of them may come back as is.
  const SENTINEL_OBJECT = { sentinel: true };
  const SENTINEL_SYMBOL = Symbol('sentinel');
  const SENTINELS = new Set([SENTINEL_OBJECT, SENTINEL_SYMBOL, 'sentinel string', 1234]);

  function classify(ns, error) {
    if (SENTINELS.has(error)) return 'user';
    if (error === null || typeof error !== 'object') return `unexpected primitive ${String(error)}`;
    if (error.constructor === TypeError && error instanceof TypeError) return 'TypeError';
    if (error.constructor === RangeError && error instanceof RangeError) return 'RangeError';
    // ToBigInt of a string that is not a numeral (i64 values) is ECMAScript's SyntaxError.
    if (error.constructor === SyntaxError && /to a BigInt/.test(error.message)) return 'SyntaxError';
    for (const name of ['LinkError', 'CompileError', 'RuntimeError']) {
      if (error.constructor === ns[name] && error instanceof ns[name]) return name;
    }
    return `unexpected ${error.constructor && error.constructor.name}: ${error.message}`;
  }

  // Seeded PRNG (mulberry32).
  function rng(s) {
    let a = s >>> 0;
    const next = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    next.int = (n) => Math.floor(next() * n);
    next.pick = (xs) => xs[next.int(xs.length)];
    next.chance = (p) => next() < p;
    return next;
  }

  // Modules, parsed once; each namespace compiles its own.
  const texts = {
    empty: '(module)',
    params: `(module
      (func (export "i32") (param i32) (result i32) (local.get 0))
      (func (export "i64") (param i64) (result i64) (local.get 0))
      (func (export "f32") (param f32) (result f32) (local.get 0))
      (func (export "f64") (param f64) (result f64) (local.get 0))
      (func (export "funcref") (param funcref) (result funcref) (local.get 0))
      (func (export "mixed") (param i32 i64 f32 f64) (result f64)
        (f64.add (f64.add (f64.convert_i32_s (local.get 0)) (f64.convert_i64_s (local.get 1)))
                 (f64.add (f64.promote_f32 (local.get 2)) (local.get 3))))
      (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
      (func (export "unreachable") unreachable))`,
    results: `(module
      (import "env" "i32" (func $i32 (result i32)))
      (import "env" "i64" (func $i64 (result i64)))
      (import "env" "f32" (func $f32 (result f32)))
      (import "env" "f64" (func $f64 (result f64)))
      (import "env" "funcref" (func $funcref (result funcref)))
      (import "env" "void" (func $void (param i32 i64 f64)))
      (func (export "i32") (result i32) (call $i32))
      (func (export "i64") (result i64) (call $i64))
      (func (export "f32") (result f32) (call $f32))
      (func (export "f64") (result f64) (call $f64))
      (func (export "funcref") (result funcref) (call $funcref))
      (func (export "void") (call $void (i32.const -1) (i64.const -1) (f64.const nan))))`,
    kinds: `(module
      (import "env" "f" (func (param i32) (result i32)))
      (import "env" "mem" (memory 1))
      (import "env" "tbl" (table 1 funcref))
      (import "env" "g" (global i32))
      (import "env" "gm" (global (mut i32)))
      (import "env" "g64" (global i64)))`,
    func: '(module (import "env" "f" (func (param i32) (result i32))))',
    memory: '(module (import "env" "mem" (memory 1)))',
    table: '(module (import "env" "tbl" (table 1 funcref)))',
    global: '(module (import "env" "g" (global i32)))',
    globalF64: '(module (import "env" "g" (global f64)))',
    globalMut: '(module (import "env" "g" (global (mut i32))))',
    global64: '(module (import "env" "g" (global i64)))',
    globalRef: '(module (import "env" "g" (global funcref)))',
    exporter: `(module
      (memory (export "mem") 1 4)
      (table (export "tbl") 2 funcref)
      (global (export "g") (mut i32) (i32.const 5))
      (func $f (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
      (elem (i32.const 0) $f))`,
    reentrant: `(module
      (import "env" "cb" (func $cb (param i32) (result i32)))
      (memory (export "mem") 1 16)
      (func (export "run") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
          (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $cb (i32.sub (local.get 0) (i32.const 1)))))))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1))))`,
    start: `(module (import "env" "f" (func $f)) (start $f))`,
    trapStart: '(module (func $s unreachable) (start $s))',
  };
  const bytes = {};
  for (const [k, t] of Object.entries(texts)) bytes[k] = wat(t);
  const invalid = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1]);
  const notWasm = new Uint8Array([1, 2, 3, 4]);

  // The objects of one namespace that fuzz values may be.
  function makeWorld(ns) {
    const modules = {};
    for (const [k, b] of Object.entries(bytes)) modules[k] = new ns.Module(b);
    const exporter = new ns.Instance(modules.exporter);
    const other = new ns.Instance(modules.exporter);
    const params = new ns.Instance(modules.params);
    return {
      ns,
      modules,
      exporter,
      params,
      otherFn: other.exports.f,
      memory: () => new ns.Memory({ initial: 1, maximum: 4 }),
      table: () => new ns.Table({ element: 'anyfunc', initial: 1 }),
      global: () => new ns.Global({ value: 'i32', mutable: true }, 1),
      global64: () => new ns.Global({ value: 'i64' }, 1n),
      globalF64: () => new ns.Global({ value: 'f64', mutable: true }, 1.5),
    };
  }
  const worlds = new Map([[builtin, makeWorld(builtin)], [ours, makeWorld(ours)]]);

  // A random JS value: `r` drives the choice, so that the same stream gives
  // the "same" value in either namespace's world.
  function value(r, w, depth = 0) {
    const { ns } = w;
    const choices = [
      () => undefined, () => null, () => true, () => false,
      () => 0, () => -0, () => NaN, () => Infinity, () => -Infinity, () => 1, () => -1, () => 0.5, () => 1.5,
      () => 2 ** 31, () => 2 ** 31 - 1, () => -(2 ** 31), () => 2 ** 32, () => 2 ** 53, () => -(2 ** 53), () => 1e308,
      () => 0n, () => 1n, () => -1n, () => 2n ** 63n, () => 2n ** 64n, () => -(2n ** 63n) - 1n,
      () => '', () => '1', () => '0x10', () => 'abc', () => 'i32', () => 'i64', () => 'f64', () => 'anyfunc',
      () => 'v128',
      () => Symbol('s'),
      () => ({}), () => [], () => [1, 2],
      () => ({ valueOf() { throw SENTINEL_OBJECT; } }),
      () => ({ valueOf() { return 2; } }),
      () => ({ toString() { throw SENTINEL_SYMBOL; } }),
      () => ({ [Symbol.toPrimitive]() { return 1n; } }),
      () => ({ valueOf() { return {}; }, toString() { return {}; } }),
      () => new Proxy({}, { get() { throw 'sentinel string'; } }),
      () => new Proxy({}, { get(_, key) { return key === 'value' ? 'i32' : key === 'initial' ? 1 : key === 'element' ? 'anyfunc' : undefined; } }),
      () => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy; },
      () => { const p = Proxy.revocable(() => 1, {}); p.revoke(); return p.proxy; },
      () => function plain() { return 3; },
      () => () => { throw 1234; },
      () => () => 7,
      () => w.memory(), () => w.table(), () => w.global(), () => w.global64(),
      () => w.modules.empty, () => w.exporter, () => w.exporter.exports.f, () => w.otherFn,
      () => w.exporter.exports.mem, () => w.exporter.exports.tbl, () => w.exporter.exports.g,
      () => w.params.exports.i32,
      () => ns.Memory, () => ns.Module.prototype,
      () => bytes.empty.slice(), () => bytes.empty.slice().buffer, () => new Uint16Array(bytes.func.slice(0, bytes.func.length & ~1).buffer),
      () => invalid.slice(), () => notWasm.slice(),
      () => ({ initial: 1 }), () => ({ element: 'anyfunc', initial: 1 }), () => ({ value: 'i32' }),
      () => ({ get initial() { throw SENTINEL_OBJECT; } }),
    ];
    if (depth < 2) {
      choices.push(() => ({ env: value(r, w, depth + 1) }));
      choices.push(() => [value(r, w, depth + 1)]);
    }
    const v = r.pick(choices)();
    if (trace) trace.push(fmt(v));
    return v;
  }

  // Import objects for `kind`'s module: right values, wrong kinds, getters
  // that throw, getters that instantiate other modules re-entrantly.
  function importObject(r, w, kind) {
    const { ns } = w;
    const right = {
      f: () => 1,
      mem: w.memory(),
      tbl: w.table(),
      g: kind === 'global64' ? 1n : kind === 'globalF64' ? 0.25 : kind === 'globalRef' ? null : 3,
      gm: w.global(),
      g64: 2n,
    };
    if (kind === 'globalMut') right.g = w.global();
    const env = {};
    for (const key of Object.keys(right)) {
      const how = r.int(10);
      if (how < 5) env[key] = right[key];
      else if (how < 7) env[key] = value(r, w);
      else if (how === 7) {
        Object.defineProperty(env, key, { get() { throw SENTINEL_OBJECT; }, enumerable: true });
      } else if (how === 8) {
        // Re-entrant: instantiate other modules while reading imports.
        const v = right[key];
        Object.defineProperty(env, key, {
          get() {
            new ns.Instance(w.modules.exporter);
            new ns.Instance(w.modules.memory, { env: { mem: w.memory() } });
            return v;
          },
          enumerable: true,
        });
      } else {
        env[key] = kind === 'func' || key !== 'f' ? w.exporter.exports[r.pick(['f', 'mem', 'tbl', 'g'])] : w.otherFn;
      }
    }
    const shape = r.int(10);
    if (shape === 0) return value(r, w);
    if (shape === 1) return { get env() { throw SENTINEL_SYMBOL; } };
    if (shape === 2) return new Proxy({ env }, { get(t, k) { return k === 'env' ? env : undefined; } });
    return { env };
  }

  // Each op: (r, w) -> a thunk; `det` says whether the outcome must equal the
  // built-in's.
  const ops = [];
  const op = (name, det, make) => ops.push({ name, det, make });

  op('new Module', true, (r, w) => { const v = value(r, w); return () => new w.ns.Module(v); });
  op('Module()', true, (r, w) => { const v = value(r, w); return () => w.ns.Module(v); });
  op('Module.imports', true, (r, w) => { const v = value(r, w); return () => w.ns.Module.imports(v); });
  op('Module.exports', true, (r, w) => { const v = value(r, w); return () => w.ns.Module.exports(v); });
  op('Module.customSections', true, (r, w) => {
    const m = r.chance(0.5) ? w.modules.exporter : value(r, w);
    const n = value(r, w);
    return () => w.ns.Module.customSections(m, n);
  });
  op('validate', true, (r, w) => { const v = value(r, w); return () => w.ns.validate(v); });
  op('compile', true, (r, w) => { const v = value(r, w); return () => w.ns.compile(v); });
  op('instantiate', true, (r, w) => {
    const a = r.chance(0.5) ? w.modules[r.pick(Object.keys(texts))] : value(r, w);
    const b = value(r, w);
    return () => w.ns.instantiate(a, b);
  });
  op('new Instance(random)', true, (r, w) => {
    const m = r.chance(0.7) ? w.modules[r.pick(Object.keys(texts))] : value(r, w);
    const i = value(r, w);
    return () => new w.ns.Instance(m, i);
  });
  op('new Instance(imports)', true, (r, w) => {
    const kind = r.pick(['kinds', 'func', 'memory', 'table', 'global', 'globalF64', 'globalMut', 'global64', 'globalRef', 'start']);
    const imports = importObject(r, w, kind);
    return () => new w.ns.Instance(w.modules[kind], imports);
  });
  op('new Global', true, (r, w) => {
    const desc = r.int(3) === 0 ? value(r, w)
      : { value: r.chance(0.8) ? r.pick(['i32', 'i64', 'f32', 'f64', 'anyfunc', 'v128', 'x']) : value(r, w), mutable: value(r, w) };
    const hasV = r.chance(0.7);
    const v = value(r, w);
    return () => (hasV ? new w.ns.Global(desc, v) : new w.ns.Global(desc));
  });
  op('Global value=', true, (r, w) => {
    const type = r.pick(['i32', 'i64', 'f32', 'f64', 'anyfunc']);
    const init = type === 'i64' ? 0n : type === 'anyfunc' ? null : 0;
    const g = new w.ns.Global({ value: type, mutable: r.chance(0.8) }, init);
    const v = value(r, w);
    return () => { g.value = v; return g.value; };
  });
  op('new Table', true, (r, w) => {
    const desc = r.int(4) === 0 ? value(r, w) : {
      element: r.chance(0.8) ? r.pick(['anyfunc', 'i32']) : value(r, w),
      initial: r.chance(0.6) ? r.int(4) : value(r, w),
      maximum: r.chance(0.5) ? undefined : r.chance(0.5) ? r.int(8) : value(r, w),
    };
    const v = value(r, w);
    const hasV = r.chance(0.5);
    return () => (hasV ? new w.ns.Table(desc, v) : new w.ns.Table(desc));
  });
  op('Table get/set/grow', true, (r, w) => {
    const element = 'anyfunc';
    const t = new w.ns.Table({ element, initial: 2, maximum: 6 });
    const which = r.int(3);
    const a = r.chance(0.5) ? r.int(4) : value(r, w);
    const b = value(r, w);
    const hasB = r.chance(0.7);
    const thunk = () => {
      if (which === 0) return t.get(a);
      if (which === 1) return hasB ? t.set(a, b) : t.set(a);
      return hasB ? t.grow(a, b) : t.grow(a);
    };
    // Node 20's V8 takes grow(n, undefined) as grow(n); ours converts the
    // undefined as V8 does from Node 22 on (known-differences.js).
    if (which === 2 && hasB && b === undefined && Number(process.versions.node.split('.')[0]) < 22) {
      thunk.known = 'table-grow-undefined';
    }
    return thunk;
  });
  op('new Memory / grow', true, (r, w) => {
    const desc = r.chance(0.5) ? value(r, w) : { initial: r.chance(0.5) ? r.int(3) : value(r, w), maximum: r.chance(0.5) ? undefined : value(r, w) };
    const d = value(r, w);
    return () => new w.ns.Memory(desc).grow(d);
  });
  op('exported function args', true, (r, w) => {
    const name = r.pick(['i32', 'i64', 'f32', 'f64', 'funcref', 'mixed', 'div', 'unreachable']);
    const args = [];
    for (let n = r.int(5); n > 0; n--) args.push(value(r, w));
    const f = w.params.exports[name];
    return () => {
      const result = f(...args);
      // The returned value must not be a function of another namespace.
      return result;
    };
  });
  op('import results', true, (r, w) => {
    const v = value(r, w);
    const throws = r.chance(0.15);
    const name = r.pick(['i32', 'i64', 'f32', 'f64', 'funcref', 'void']);
    const impl = () => { if (throws) throw SENTINEL_OBJECT; return v; };
    const env = {};
    for (const k of ['i32', 'i64', 'f32', 'f64', 'funcref', 'void']) env[k] = impl;
    const inst = new w.ns.Instance(w.modules.results, { env });
    return () => inst.exports[name]();
  });
  op('re-entrant import', true, (r, w) => {
    const depth = r.int(20);
    const grows = r.int(3);
    const throwAt = r.chance(0.2) ? r.int(20) : -1;
    let inst;
    const lengths = [];
    const cb = (n) => {
      if (n === throwAt) throw SENTINEL_SYMBOL;
      if (grows > 0 && n % 4 === 0) {
        const before = inst.exports.mem.buffer;
        const g = inst.exports.grow(1);
        lengths.push(before.byteLength, inst.exports.mem.buffer.byteLength, g);
        new Uint8Array(inst.exports.mem.buffer)[inst.exports.mem.buffer.byteLength - 1] = n;
      }
      return inst.exports.run(n);
    };
    inst = new w.ns.Instance(w.modules.reentrant, { env: { cb } });
    return () => [inst.exports.run(depth), lengths.join(','), inst.exports.mem.buffer.byteLength];
  });
  op('start import', true, (r, w) => {
    const v = value(r, w);
    return () => new w.ns.Instance(w.modules.start, { env: { f: () => { if (typeof v === 'function') return v(); return v; } } });
  });

  // Results compared between the namespaces: success values are reduced
  // to a comparable summary.
  function summary(ns, x) {
    if (x === undefined || x === null || typeof x === 'boolean' || typeof x === 'string') return x;
    if (typeof x === 'number') return Object.is(x, -0) ? '-0' : Number.isNaN(x) ? 'NaN' : x;
    if (typeof x === 'bigint') return `${x}n`;
    if (typeof x === 'symbol') return 'symbol';
    if (typeof x === 'function') return 'function';
    if (Array.isArray(x)) return x.map((y) => summary(ns, y));
    for (const k of ['Module', 'Instance', 'Memory', 'Table', 'Global']) if (x instanceof ns[k]) return k;
    return 'object';
  }

  async function outcome(ns, thunk) {
    try {
      let result = thunk();
      if (result && typeof result.then === 'function') {
        result = await result;
        if (result && result.instance) result = 'instantiated';
      }
      return { kind: 'ok', value: JSON.stringify(summary(ns, result)) };
    } catch (error) {
      return { kind: classify(ns, error), message: error && error.message };
    }
  }

  const master = rng(seed);
  const unexpected = [];
  const mismatches = [];
  /** Differences from the built-in that known-differences.js accepts, by id. */
  const accepted = {};
  const outcomes = {};
  // Known differences (__test__/known-differences.js) are left out of the
  // modules and values above: externref (wasmtime without `gc`), "funcref"
  // as a type name (funcref-name), DataView as bytes (dataview-buffer-source).
  const started = Date.now();
  for (let i = 0; i < iterations; i++) {
    const opIndex = master.int(ops.length);
    const s = master.int(2 ** 31);
    const { name, det } = ops[opIndex];
    const results = [];
    let known;
    for (const ns of [builtin, ours]) {
      const w = worlds.get(ns);
      let thunk;
      if (verbose) trace = [];
      try {
        thunk = ops[opIndex].make(rng(s), w);
      } catch (error) {
        // Setting up (e.g. a Global of a type the built-in lacks) failed.
        results.push({ kind: `setup ${classify(ns, error)}`, message: error && error.message, op: ops[opIndex].name });
        continue;
      }
      known = known || thunk.known;
      results.push(await outcome(ns, thunk));
      if (trace) results[results.length - 1].values = trace;
      trace = null;
    }
    const [b, o] = results;
    outcomes[o.kind] = (outcomes[o.kind] || 0) + 1;
    if (o.kind.startsWith('unexpected') || o.kind.startsWith('setup unexpected')) {
      unexpected.push({ i, op: name, seed: s, ours: o });
    }
    const same = b.kind === o.kind && (b.kind !== 'ok' || b.value === o.value);
    if (det && !same && known) accepted[known] = (accepted[known] || 0) + 1;
    else if (det && !same) mismatches.push({ i, op: name, seed: s, builtin: b, ours: o });
    if (verbose && (!same || o.kind.startsWith('unexpected') || o.kind.startsWith('setup'))) {
      process.stdout.write(`#${i} ${name} (seed ${s}): built-in ${JSON.stringify(b)} ours ${JSON.stringify(o)}\n`);
    }
    if (i % 100 === 99) {
      globalThis.gc();
      await new Promise(setImmediate);
    }
  }
  return { iterations, ms: Date.now() - started, outcomes, unexpected: unexpected.slice(0, 20), mismatches: mismatches.slice(0, 20), mismatchCount: mismatches.length, accepted };
}

// Deep recursion JS -> wasm -> JS until the stack overflows (child).
async function recursion() {
  const ours = require(ROOT);
  const { wat } = require('./wat');
  const text = `(module
    (import "env" "cb" (func $cb (param i32) (result i32)))
    (func (export "run") (param i32) (result i32) (i32.add (i32.const 1) (call $cb (local.get 0))))
    (func $self (export "self") (param i32) (result i32) (call $self (local.get 0))))`;
  const results = {};
  for (const [name, ns] of [['builtin', globalThis.WebAssembly], ['ours', ours]]) {
    let inst;
    inst = new ns.Instance(new ns.Module(wat(text)), { env: { cb: (n) => inst.exports.run(n + 1) } });
    for (const [what, call] of [['js-wasm-js', () => inst.exports.run(0)], ['wasm self', () => inst.exports.self(0)]]) {
      try {
        call();
        results[`${name} ${what}`] = { kind: 'returned' };
      } catch (error) {
        const kind = error instanceof RangeError ? 'RangeError' : error instanceof ns.RuntimeError ? 'RuntimeError' : `unexpected ${error && error.constructor && error.constructor.name}`;
        results[`${name} ${what}`] = { kind, message: error && error.message };
      }
      // The instance still works afterwards.
      try {
        let depth = 0;
        const ok = new ns.Instance(new ns.Module(wat(text)), { env: { cb: (n) => (depth++ < 10 ? n : n) } });
        if (ok.exports.run(1) !== 2) results[`${name} ${what} afterwards`] = { kind: 'wrong result' };
      } catch (error) {
        results[`${name} ${what} afterwards`] = { kind: `unexpected ${error && error.message}` };
      }
    }
  }
  return results;
}
