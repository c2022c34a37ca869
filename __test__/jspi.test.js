'use strict';
// JSPI (WebAssembly/js-promise-integration: Suspending, promising,
// SuspendError), run on the built-in where the running Node has it (24+)
// and then on ours, with the same assertions. Written from the proposal's
// Overview and the ideas of WPT's wasm/jsapi/jspi/*.
//
// Our namespace has the JSPI members only where the built-in has them (its
// keys, in its order); on Node 20 and 22 ours is tested through
// internal.js (`jspi`), the built-in not at all.
const { describe, test } = require('node:test');
const assert = require('node:assert');
const { builtin, ours, builtinUsable } = require('./impls');
const { assertThrows } = require('./helpers');
const { testFor, waitingReferences, acrossOlderGroup } = require('./known-differences');
const { wat } = require('./wat');

const builtinHasJspi = builtin !== undefined && Object.hasOwn(builtin, 'Suspending');
const jspiImpls = [];
if (builtinUsable && builtinHasJspi) jspiImpls.push(['builtin', builtin]);
if (ours) {
  const { jspi } = require('../internal.js');
  jspiImpls.push(['wasm-memory-rs', ours, { ...jspi }]);
}

const text = `(module
  (import "m" "suspend" (func $suspend (param i32) (result i32)))
  (import "m" "plain" (func $plain (param i32) (result i32)))
  (import "m" "mem" (memory 1 2))
  (func (export "run") (param i32) (result i32)
    (i32.add (call $suspend (local.get 0)) (i32.const 1)))
  (func (export "twice") (param i32) (result i32)
    (i32.add (call $suspend (local.get 0)) (call $suspend (i32.const 100))))
  (func (export "mixed") (param i32) (result i32)
    (call $suspend (call $plain (local.get 0))))
  (func (export "store") (param i32 i32)
    (i32.store (local.get 0) (call $suspend (local.get 1))))
  (func (export "trapAfter") (param i32) (result i32)
    (drop (call $suspend (local.get 0)))
    unreachable)
  (func $deep (export "deep") (param i32) (result i32)
    (drop (call $suspend (local.get 0)))
    (call $recurse (local.get 0)))
  (func $recurse (param i32) (result i32)
    (i32.add (call $recurse (local.get 0)) (i32.const 1)))
  (func (export "pure") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
)`;

// A module without Suspending imports that reads the same memory.
const readerText = `(module
  (import "m" "mem" (memory 1 2))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))`;

const node = Number(process.versions.node.split('.')[0]);
const delay = (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms));

for (const [label, WA, internals] of jspiImpls) {
  // On Node 20 and 22 our JSPI members come from internal.js.
  const J = { ...internals, Module: WA.Module, Instance: WA.Instance, Memory: WA.Memory, RuntimeError: WA.RuntimeError };
  if (!internals) Object.assign(J, { Suspending: WA.Suspending, promising: WA.promising, SuspendError: WA.SuspendError });
  const t = testFor('jspi', WA);
  const module = new J.Module(wat(text));

  function instance({ suspend = (x) => delay(1, x * 2), plain = (x) => x + 10, mem } = {}) {
    const memory = mem ?? new J.Memory({ initial: 1, maximum: 2 });
    const inst = new J.Instance(module, { m: { suspend: new J.Suspending(suspend), plain, mem: memory } });
    return { exports: inst.exports, memory };
  }

  describe(`jspi (${label})`, () => {
    t('an export awaits an async JS import (a timer) and returns what wasm made of its value', async () => {
      const { exports } = instance({ suspend: async (x) => { await delay(5); return x * 2; } });
      const run = J.promising(exports.run);
      const promise = run(20);
      assert.ok(promise instanceof Promise);
      assert.strictEqual(await promise, 41);
      // Two suspensions in one call.
      assert.strictEqual(await J.promising(exports.twice)(1), 202);
    });

    t('a Suspending import that returns a non-promise or a thenable', async () => {
      const { exports: a } = instance({ suspend: (x) => x + 5 });
      assert.strictEqual(await J.promising(a.run)(1), 7);
      const { exports: b } = instance({ suspend: () => ({ then(resolve) { resolve(9); } }) });
      assert.strictEqual(await J.promising(b.run)(1), 10);
    });

    t('a plain import of the same instance runs on the main stack: deep JS recursion works', async () => {
      const depth = (n) => (n === 0 ? 0 : 1 + depth(n - 1));
      const { exports } = instance({ plain: (x) => x + depth(8000) });
      assert.strictEqual(await J.promising(exports.mixed)(1), 2 * 8001);
      // And without a suspension, a plain call of a JSPI instance's export.
      assert.strictEqual(exports.pure(5), 15);
    });

    t('promising calls into two instances interleave', async () => {
      const { exports: slow } = instance({ suspend: (x) => delay(30, x) });
      const { exports: fast } = instance({ suspend: (x) => delay(1, x) });
      const order = [];
      const a = J.promising(slow.run)(1).then((v) => order.push(['slow', v]));
      const b = J.promising(fast.run)(2).then((v) => order.push(['fast', v]));
      await Promise.all([a, b]);
      assert.deepStrictEqual(order, [['fast', 3], ['slow', 2]]);
    });

    t('two promising calls into one instance interleave', async () => {
      const { exports } = instance({ suspend: (x) => delay(x, x) });
      const run = J.promising(exports.run);
      assert.deepStrictEqual(await Promise.all([run(30), run(5)]), [31, 6]);
    });

    t('a plain import calls back into its own instance', () => {
      let inst;
      inst = new J.Instance(new J.Module(wat(`(module (import "m" "s" (func $s (param i32) (result i32)))
        (import "m" "f" (func $f (param i32) (result i32)))
        (func (export "viaImport") (param i32) (result i32) (call $f (local.get 0)))
        (func (export "pure") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3))))`)), {
        m: { s: new J.Suspending((x) => x), f: (x) => inst.exports.pure(x) },
      });
      assert.strictEqual(inst.exports.viaImport(2), 6);
    });

    t('a rejected promise rejects the promising call with the same value', async () => {
      const boom = new Error('boom');
      const { exports } = instance({ suspend: () => Promise.reject(boom) });
      await assert.rejects(J.promising(exports.run)(1), (e) => e === boom);
      // A synchronous throw too.
      const thrown = new TypeError('sync');
      const { exports: e2 } = instance({ suspend: () => { throw thrown; } });
      await assert.rejects(J.promising(e2.run)(1), (e) => e === thrown);
    });

    if (Object.hasOwn(WA, 'JSTag')) {
      t('a rejection is caught in wasm through JSTag', async () => {
        const catcher = new J.Module(wat(`(module
          (import "m" "suspend" (func $s (param i32) (result i32)))
          (import "m" "jstag" (tag $js (param externref)))
          (func (export "run") (param i32) (result externref)
            (block $h (result externref)
              (try_table (catch $js $h) (drop (call $s (local.get 0))))
              (ref.null extern))))`));
        const boom = new Error('boom');
        const inst = new J.Instance(catcher, {
          m: { suspend: new J.Suspending(() => Promise.reject(boom)), jstag: WA.JSTag },
        });
        assert.strictEqual(await J.promising(inst.exports.run)(1), boom);
      });

      // JS API "run a host function": what the JS function throws becomes a
      // wasm exception, in a JSPI instance as in any other: a plain import's
      // throw is caught by catch_all, a SuspendError through JSTag.
      t('a plain import\'s throw and a SuspendError are caught in wasm', async () => {
        const catcher = new J.Module(wat(`(module
          (import "m" "suspend" (func $s (param i32) (result i32)))
          (import "m" "plain" (func $p (param i32) (result i32)))
          (import "m" "jstag" (tag $js (param externref)))
          (func (export "plainAll") (param i32) (result i32)
            (block $h
              (try_table (catch_all $h) (return (call $p (local.get 0)))))
            (i32.const -1))
          (func (export "suspendJs") (param i32) (result externref)
            (block $h (result externref)
              (try_table (catch $js $h) (drop (call $s (local.get 0))))
              (ref.null extern))))`));
        const inst = new J.Instance(catcher, {
          m: {
            suspend: new J.Suspending((x) => delay(1, x)),
            plain: () => { throw new TypeError('plain'); },
            jstag: WA.JSTag,
          },
        });
        assert.strictEqual(await J.promising(inst.exports.plainAll)(1), -1);
        assert.strictEqual(inst.exports.plainAll(1), -1);
        // Called without promising, the Suspending import throws a
        // SuspendError that wasm catches.
        const caught = inst.exports.suspendJs(1);
        assert.ok(caught instanceof J.SuspendError, String(caught));
        assert.strictEqual(caught.message, 'trying to suspend without WebAssembly.promising');
      });
    }

    t('a WebAssembly.Exception rejected by a Suspending import is caught by its tag', async () => {
      const tag = new WA.Tag({ parameters: ['i32'] });
      const inst = new J.Instance(new J.Module(wat(`(module
        (import "m" "suspend" (func $s (param i32) (result i32)))
        (import "m" "tag" (tag $t (param i32)))
        (func (export "run") (param i32) (result i32)
          (block $h (result i32)
            (try_table (result i32) (catch $t $h) (call $s (local.get 0)))
            (return))
          (i32.add (i32.const 1000))))`)), {
        m: { suspend: new J.Suspending((x) => Promise.reject(new WA.Exception(tag, [x]))), tag },
      });
      assert.strictEqual(await J.promising(inst.exports.run)(7), 1007);
      // Not caught (another tag): the same object comes out.
      const other = new WA.Tag({ parameters: ['i32'] });
      const thrown = new WA.Exception(other, [1]);
      const inst2 = new J.Instance(new J.Module(wat(`(module
        (import "m" "suspend" (func $s (param i32) (result i32)))
        (import "m" "tag" (tag $t (param i32)))
        (func (export "run") (param i32) (result i32)
          (block $h (result i32)
            (try_table (result i32) (catch $t $h) (call $s (local.get 0)))
            (return))))`)), { m: { suspend: new J.Suspending(() => Promise.reject(thrown)), tag } });
      await assert.rejects(J.promising(inst2.exports.run)(1), (e) => e === thrown);
    });

    t('the event loop runs while a call is suspended', async () => {
      let release;
      const { exports } = instance({ suspend: (x) => new Promise((resolve) => { release = () => resolve(x); }) });
      let settled = false;
      const promise = J.promising(exports.run)(4).then((v) => { settled = true; return v; });
      await new Promise((resolve) => setImmediate(resolve));
      await delay(5);
      assert.strictEqual(settled, false);
      assert.strictEqual(typeof release, 'function');
      release();
      assert.strictEqual(await promise, 5);
    });

    t('a Suspending import called without promising throws a SuspendError', () => {
      const { exports } = instance({ suspend: (x) => delay(1, x) });
      assertThrows(() => exports.run(1), J.SuspendError, /^trying to suspend without WebAssembly\.promising$/);
      // The instance is usable afterwards.
      assert.strictEqual(exports.pure(2), 6);
    });

    t('a Suspending import called without promising is not called', {
      skip: WA === builtin && node < 26 && "Node 24's built-in calls it first (known difference jspi-suspend-error-first)",
    }, () => {
      const calls = [];
      const { exports } = instance({ suspend: (x) => { calls.push(x); return x; } });
      assert.throws(() => exports.run(1), J.SuspendError);
      assert.deepStrictEqual(calls, []);
    });

    t('a Suspending import of another instance reached through JS frames of a promising call', async () => {
      // The inner instance's plain call runs inside the outer promising
      // call's import: V8 names the JS frames between.
      const { exports: inner } = instance({ suspend: (x) => delay(1, x) });
      const { exports: outer } = instance({ plain: (x) => inner.run(x), suspend: (x) => delay(1, x) });
      await assert.rejects(J.promising(outer.mixed)(1),
        (e) => e instanceof J.SuspendError && e.message === 'trying to suspend JS frames');
    });

    // JS API: a Global's value is read from the global's store at any time.
    t('a global of the instance is read while a promising call is suspended', async () => {
      const inst = new J.Instance(new J.Module(wat(`(module
        (import "m" "suspend" (func $s (param i32) (result i32)))
        (global (export "g") (mut i32) (i32.const 0))
        (func (export "run") (param i32)
          (global.set 0 (call $s (local.get 0)))))`)), { m: { suspend: new J.Suspending((x) => delay(1, x)) } });
      const promise = J.promising(inst.exports.run)(5);
      assert.strictEqual(inst.exports.g.value, 0);
      await promise;
      assert.strictEqual(inst.exports.g.value, 5);
    });

    // A plain import of a JSPI instance stores references in the
    // instance's global while the wasm that called it holds another in a
    // local: that one must come back (the collector must see the frames).
    t('a plain import stores references in a global while the calling wasm holds one', async () => {
      const inst = waitingReferences(J, ({ exports }) => {
        for (let i = 0; i < 300000; i++) exports.g.value = { i };
      });
      const keep = { keep: true };
      inst.exports.g.value = keep;
      assert.strictEqual(await J.promising(inst.exports.run)(), keep);
    });

    // JSPI Overview: a suspension captures the wasm frames up to the
    // promising call, whichever instance they belong to.
    t('a suspension through an exported function of another instance', async () => {
      const inner = new J.Instance(new J.Module(wat(`(module
        (import "m" "suspend" (func $s (param i32) (result i32)))
        (func (export "f") (result i32) (i32.add (call $s (i32.const 1)) (i32.const 1))))`)), {
        m: { suspend: new J.Suspending((x) => delay(1, x)) },
      });
      const outer = new J.Instance(new J.Module(wat(`(module
        (import "m" "f" (func $f (result i32)))
        (func (export "main") (result i32) (i32.add (call $f) (i32.const 1))))`)), { m: { f: inner.exports.f } });
      assert.strictEqual(await J.promising(outer.exports.main)(), 3);
    });

    // Three instance groups deep, suspending in a loop: every frame waits.
    t('suspensions through two other instances, many times', async () => {
      const seen = [];
      const inner = new J.Instance(new J.Module(wat(`(module
        (import "m" "suspend" (func $s (param i32) (result i32)))
        (func (export "f") (param i32) (result i32) (i32.add (call $s (local.get 0)) (i32.const 1))))`)), {
        m: { suspend: new J.Suspending((x) => { seen.push(x); return delay(1, x * 10); }) },
      });
      const middle = new J.Instance(new J.Module(wat(`(module
        (import "m" "f" (func $f (param i32) (result i32)))
        (func (export "g") (param i32) (result i32) (i32.add (call $f (local.get 0)) (i32.const 2))))`)), { m: { f: inner.exports.f } });
      const outer = new J.Instance(new J.Module(wat(`(module
        (import "m" "g" (func $g (param i32) (result i32)))
        (func (export "main") (param $n i32) (result i32) (local $sum i32)
          (block $done (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $sum (i32.add (local.get $sum) (call $g (local.get $n))))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $l)))
          (local.get $sum)))`)), { m: { g: middle.exports.g } });
      // n = 3, 2, 1: each g(n) is n * 10 + 3.
      assert.strictEqual(await J.promising(outer.exports.main)(3), 69);
      assert.deepStrictEqual(seen, [3, 2, 1]);
      // Afterwards each instance runs on its own again.
      assert.strictEqual(await J.promising(middle.exports.g)(4), 43);
    });

    // A promising call whose promise never settles is garbage once nothing
    // holds it: its frames (fibers) go with it, nested ones too.
    t('calls suspended forever, through another instance or not, are collected', async () => {
      const make = (settle) => {
        const inner = new J.Instance(new J.Module(wat(`(module (import "m" "s" (func $s (result i32)))
          (func (export "f") (result i32) (i32.add (call $s) (i32.const 1))))`)), {
          m: { s: new J.Suspending(() => (settle ? Promise.resolve(1) : new Promise(() => {}))) },
        });
        const outer = new J.Instance(new J.Module(wat(`(module (import "m" "f" (func $f (result i32)))
          (func (export "main") (result i32) (i32.add (call $f) (i32.const 1))))`)), { m: { f: inner.exports.f } });
        return { inner, outer };
      };
      for (let i = 0; i < 200; i++) {
        const { inner, outer } = make(false);
        J.promising(i % 2 ? outer.exports.main : inner.exports.f)();
        if (i % 50 === 49 && typeof gc === 'function') {
          gc();
          await delay(1);
        }
      }
      const { outer } = make(true);
      assert.strictEqual(await J.promising(outer.exports.main)(), 3);
    });

    t('a rejection through another instance: caught by the outer wasm, or rejecting the promising call', async () => {
      const reason = new Error('no');
      const inner = new J.Instance(new J.Module(wat(`(module
        (import "m" "suspend" (func $s (result i32)))
        (func (export "f") (result i32) (call $s)))`)), {
        m: { suspend: new J.Suspending(() => delay(1).then(() => { throw reason; })) },
      });
      const outer = new J.Instance(new J.Module(wat(`(module
        (import "m" "f" (func $f (result i32)))
        (func (export "caught") (result i32)
          (block $h (try_table (catch_all $h) (return (call $f))))
          (i32.const -1))
        (func (export "uncaught") (result i32) (call $f)))`)), { m: { f: inner.exports.f } });
      assert.strictEqual(await J.promising(outer.exports.caught)(), -1);
      await assert.rejects(J.promising(outer.exports.uncaught)(), (e) => e === reason);
    });

    t('a trap through another instance after a resumption rejects with a RuntimeError', async () => {
      const inner = new J.Instance(new J.Module(wat(`(module
        (import "m" "suspend" (func $s (result i32)))
        (func (export "f") (result i32) (drop (call $s)) unreachable))`)), {
        m: { suspend: new J.Suspending(() => delay(1, 1)) },
      });
      const outer = new J.Instance(new J.Module(wat(`(module
        (import "m" "f" (func $f (result i32)))
        (func (export "main") (result i32) (call $f)))`)), { m: { f: inner.exports.f } });
      await assert.rejects(J.promising(outer.exports.main)(), (e) => e instanceof J.RuntimeError && /unreachable/.test(e.message));
      assert.throws(() => outer.exports.main(), J.SuspendError);
    });

    t('a suspension through another instance, from an instance group made before it', async () => {
      // The memory's group had an instance before the outer one joined it.
      const { outer } = acrossOlderGroup(J);
      assert.strictEqual(await J.promising(outer.exports.main)(), 3);
    });

    t('a trap after a resumption rejects with a RuntimeError', async () => {
      const { exports } = instance();
      await assert.rejects(J.promising(exports.trapAfter)(1), (e) => e instanceof J.RuntimeError && /unreachable/.test(e.message));
    });

    t('a stack overflow after a resumption rejects with a RangeError', async () => {
      const { exports } = instance();
      await assert.rejects(J.promising(exports.deep)(1), (e) => e instanceof RangeError);
      // The instance still works.
      assert.strictEqual(await J.promising(exports.run)(1), 3);
    });

    t('a memory shared by a JSPI instance and a plain one: the same bytes', async () => {
      const mem = new J.Memory({ initial: 1, maximum: 2 });
      const { exports } = instance({ mem, suspend: (x) => delay(1, x) });
      const reader = new J.Instance(new J.Module(wat(readerText)), { m: { mem } });
      await J.promising(exports.store)(64, 0x1234567);
      assert.strictEqual(reader.exports.load(64), 0x1234567);
      assert.strictEqual(new Int32Array(mem.buffer)[16], 0x1234567);
    });

    t('an instance with a Suspending import shares a memory with an earlier instance', async () => {
      const mem = new J.Memory({ initial: 1, maximum: 2 });
      const reader = new J.Instance(new J.Module(wat(readerText)), { m: { mem } });
      const { exports } = instance({ mem, suspend: (x) => delay(1, x) });
      await J.promising(exports.store)(8, 77);
      assert.strictEqual(reader.exports.load(8), 77);
    });

    t('promising wraps only exported wasm functions', () => {
      const { exports } = instance();
      for (const bad of [() => 1, function f() {}, class {}]) {
        assertThrows(() => J.promising(bad), TypeError, /^WebAssembly\.promising\(\): Argument 0 must be a WebAssembly exported function$/);
      }
      for (const bad of [{}, 1, undefined, null, new J.Suspending(() => 1)]) {
        assertThrows(() => J.promising(bad), TypeError, /^WebAssembly\.promising\(\): Argument 0 must be a function$/);
      }
      const p = J.promising(exports.run);
      assert.strictEqual(typeof p, 'function');
      assert.strictEqual(p.length, 1);
      assert.strictEqual(p.name, exports.run.name);
      // An export of an instance without Suspending imports just runs.
      const reader = new J.Instance(new J.Module(wat(readerText)), { m: { mem: new J.Memory({ initial: 1, maximum: 2 }) } });
      return J.promising(reader.exports.load)(0).then((v) => assert.strictEqual(v, 0));
    });

    t('Suspending: constructor checks and shape', () => {
      assertThrows(() => new J.Suspending(1), TypeError, /^WebAssembly\.Suspending\(\): Argument 0 must be a function$/);
      assertThrows(() => new J.Suspending({}), TypeError, /Argument 0 must be a function/);
      assertThrows(() => J.Suspending(() => 1), TypeError, /must be invoked with 'new'/);
      assert.strictEqual(J.Suspending.length, 1);
      const s = new J.Suspending(() => 1);
      assert.deepStrictEqual(Reflect.ownKeys(s), []);
      assert.strictEqual(Object.prototype.toString.call(s), '[object WebAssembly.Suspending]');
      assert.deepStrictEqual(Reflect.ownKeys(J.Suspending.prototype), ['constructor', Symbol.toStringTag]);
      assert.strictEqual(J.Suspending.prototype.constructor, J.Suspending);
      // A Suspending is not callable, and only function imports take it.
      assert.throws(() => new J.Instance(new J.Module(wat('(module (import "m" "f" (func)))')), { m: { f: {} } }), J.LinkError ?? WA.LinkError);
    });

    t('SuspendError is an Error subclass like RuntimeError', () => {
      assert.strictEqual(Object.getPrototypeOf(J.SuspendError), Error);
      assert.strictEqual(Object.getPrototypeOf(J.SuspendError.prototype), Error.prototype);
      assert.deepStrictEqual(Object.getOwnPropertyNames(J.SuspendError.prototype), ['constructor', 'name', 'message']);
      assert.strictEqual(J.SuspendError.prototype.name, 'SuspendError');
      const e = J.SuspendError('x');
      assert.ok(e instanceof J.SuspendError);
      assert.strictEqual(e.message, 'x');
    });
  });
}

test('jspi: the namespace has the JSPI members exactly where the built-in has them', { skip: !ours && 'ours not loaded' }, () => {
  for (const name of ['Suspending', 'promising', 'SuspendError']) {
    assert.strictEqual(Object.hasOwn(ours, name), builtinHasJspi, name);
    if (builtinHasJspi) {
      const a = Object.getOwnPropertyDescriptor(builtin, name);
      const b = Object.getOwnPropertyDescriptor(ours, name);
      assert.deepStrictEqual([b.writable, b.enumerable, b.configurable], [a.writable, a.enumerable, a.configurable], name);
      assert.strictEqual(ours[name], require('../internal.js').jspi[name]);
    }
  }
});
