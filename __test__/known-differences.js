'use strict';
// The accepted differences of wasm-memory-rs from Node's built-in
// WebAssembly.Memory: the one list the conformance suites consult.
//
// Each entry has:
//   id      short name; a test it replaces is named "known difference: <id> ..."
//   node    the Node versions it applies to, when not all: '>=22', '<22.23'
//   when()  applies only where this returns true (a feature of the running Node)
//   reason  why we differ
//   tests   the tests it replaces for our implementation, as '<suite>: <title>'
//           (suite: constructor, grow or buffer, from the file name).
//           'differential: <title>' takes a scenario out of the result and
//           message comparisons, 'differential messages: <title>' out of the
//           message comparison only; memory-differential.test.js checks that
//           each of these scenarios still differs, so the list cannot go stale.
//   ours(WA, assert)  asserts what our implementation does instead; it runs
//           in place of each replaced test. The built-in keeps the originals.

const assert = require('node:assert');
const { test } = require('node:test');
const util = require('node:util');
const { ours, builtin } = require('./impls');
const { binding } = ours ? require('../internal.js') : { binding: null };
const { PAGE, assertThrows, assertArrayBuffer, fillPattern, checkPattern } = require('./helpers');

const PROPOSAL_MEMBERS = ['toFixedLengthBuffer', 'toResizableBuffer', 'type', 'discard'];

function assertNoResizableBuffer(WA, assert) {
  const memory = new WA.Memory({ initial: 1, maximum: 2 });
  assertThrows(() => memory.toResizableBuffer(), TypeError, /resizable ArrayBuffer over native memory/);
  assert.strictEqual(memory.buffer.byteLength, PAGE);
}

/**
 * Modules of tiering.test.js and `tiering-mixed-link`: one exports a memory
 * (and `store`), the others import it (and `load`); the `Tail` ones make
 * tail calls, which Winch (wasmtime 48) does not compile (and every built-in does).
 */
function tieringModules() {
  const { wat } = require('./wat');
  return {
    exportsMemory: wat('(module (memory (export "memory") 1) (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1))))'),
    importsMemory: wat('(module (import "m" "memory" (memory 1)) (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))'),
    importsMemoryTail: wat(`(module (import "m" "memory" (memory 1))
      (func $load (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "load") (param i32) (result i32) (return_call $load (local.get 0))))`),
    exportsMemoryTail: wat(`(module (memory (export "memory") 1)
      (func $store (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (func (export "store") (param i32 i32) (return_call $store (local.get 0) (local.get 1))))`),
  };
}

/**
 * An Exception thrown by a JS import, caught by wasm into an exnref global
 * (`save`); `rethrowSaved` throws it again in a later call. Shared by
 * exceptions.test.js and the entry that replaces its test for ours.
 */
function savedException(WA) {
  const { wat } = require('./wat');
  const tag = new WA.Tag({ parameters: ['i32'] });
  const thrown = new WA.Exception(tag, [3]);
  const { exports } = new WA.Instance(new WA.Module(wat(`(module
    (import "m" "f" (func $f))
    (global $saved (mut exnref) (ref.null exn))
    (func (export "save")
      (block $h (result exnref)
        (try_table (catch_all_ref $h) (call $f))
        (return))
      (global.set $saved))
    (func (export "rethrowSaved") (throw_ref (global.get $saved))))`)), { m: { f: () => { throw thrown; } } });
  exports.save();
  return { tag, thrown, rethrowSaved: exports.rethrowSaved };
}

/**
 * A JSPI instance whose `run` keeps global `g`'s externref in a local while
 * it waits, first for a Suspending import, then for the plain import
 * `churn(inst)`. Shared by jspi.test.js and jspi-waiting-references.
 */
function waitingReferences(J, churn) {
  const { wat } = require('./wat');
  const inst = new J.Instance(new J.Module(wat(`(module
    (import "m" "s" (func $s (param i32) (result i32)))
    (import "m" "churn" (func $churn))
    (global (export "g") (mut externref) (ref.null extern))
    (global (export "n") (mut i32) (i32.const 0))
    (func (export "run") (result externref)
      (local externref)
      (local.set 0 (global.get 0))
      (drop (call $s (i32.const 0)))
      (call $churn)
      (local.get 0)))`)), {
    m: { s: new J.Suspending((x) => Promise.resolve(x)), churn: () => churn(inst) },
  });
  return inst;
}

/**
 * `inner` (its `f` suspends, then adds 1) and `outer` (its `main` calls
 * `f` and adds 1), where `outer` joined the group of a memory that an
 * instance without JSPI already had. Shared by jspi.test.js and
 * jspi-across-groups.
 */
function acrossOlderGroup(J) {
  const { wat } = require('./wat');
  const inner = new J.Instance(new J.Module(wat(`(module
    (import "m" "suspend" (func $s (result i32)))
    (func (export "f") (result i32) (i32.add (call $s) (i32.const 1))))`)), {
    m: { suspend: new J.Suspending(() => Promise.resolve(1)) },
  });
  const mem = new J.Memory({ initial: 1 });
  new J.Instance(new J.Module(wat('(module (import "m" "mem" (memory 1)))')), { m: { mem } });
  const outer = new J.Instance(new J.Module(wat(`(module
    (import "m" "f" (func $f (result i32))) (import "m" "mem" (memory 1))
    (func (export "main") (result i32) (i32.add (call $f) (i32.const 1))))`)), { m: { f: inner.exports.f, mem } });
  return { inner, outer };
}

/** The JSPI members of `WA`, or ours from internal.js where the namespace has none (Node 20, 22). */
function jspiOf(WA) {
  const jspi = Object.hasOwn(WA, 'Suspending') ? WA : require('../internal.js').jspi;
  const { Module, Instance, Memory, JSTag } = WA;
  return { Module, Instance, Memory, JSTag, Suspending: jspi.Suspending, promising: jspi.promising, SuspendError: jspi.SuspendError };
}

const knownDifferences = [
  {
    id: 'proposal-members',
    reason: 'Memory.prototype also has type() (type reflection) and discard() (memory control), and, before ' +
      'Node 26, toFixedLengthBuffer() and toResizableBuffer() (JS API, resizable buffers), which the built-ins ' +
      'of Node 20-24 lack. They are extensions we promise (memory-extensions.test.js); the spec members are ' +
      'unchanged and come first, in the order of Node 26\'s built-in.',
    tests: [
      'interface: own keys of Memory.prototype, in order (as the built-in)',
      'interface: instances inherit everything from Memory.prototype',
      'differential: members of Memory.prototype from proposals',
    ],
    ours(WA, assert) {
      const members = ['grow', 'buffer', ...PROPOSAL_MEMBERS];
      assert.deepStrictEqual(Reflect.ownKeys(WA.Memory.prototype), ['constructor', ...members, Symbol.toStringTag]);
      const memory = new WA.Memory({ initial: 0 });
      assert.deepStrictEqual(Reflect.ownKeys(memory), []);
      const enumerated = [];
      for (const key in memory) enumerated.push(key);
      assert.deepStrictEqual(enumerated, members);
      for (const key of PROPOSAL_MEMBERS) assert.strictEqual(memory[key], WA.Memory.prototype[key]);
    },
  },
  {
    id: 'resizable-buffer',
    node: '>=26',
    reason: 'toResizableBuffer() throws a TypeError that says why: Node-API cannot create a resizable ' +
      'ArrayBuffer over native memory (it makes fixed-length external buffers only). Node 26\'s built-in ' +
      'returns a resizable buffer.',
    tests: [
      'differential: toResizableBuffer() of a memory with a maximum',
    ],
    ours: assertNoResizableBuffer,
  },
  {
    id: 'resizable-buffer-message',
    node: '<26',
    reason: 'Before Node 26 the built-in has no toResizableBuffer (a TypeError, "is not a function"); ours ' +
      'has it and its TypeError says why it cannot work (see resizable-buffer).',
    tests: [
      'differential messages: toResizableBuffer() of a memory with a maximum',
    ],
    ours: assertNoResizableBuffer,
  },
  {
    id: 'memory64-descriptor',
    reason: 'memory64 on every Node: `address` (and, when it is absent, its older name `index`) is read ' +
      'first and "i64" makes a 64-bit memory with BigInt sizes. Node 20\'s built-in reads neither, Node 22\'s ' +
      'reads `index` but makes a 32-bit memory, Node 24\'s reads only `address` (and then matches ours: ' +
      'memory64.test.js compares them).',
    tests: [
      'differential: descriptor with index: "i64"',
    ],
    ours(WA, assert) {
      assert.strictEqual(new WA.Memory({ initial: 1n, index: 'i64' }).grow(0n), 1n);
      assert.strictEqual(new WA.Memory({ initial: 1n, address: 'i64' }).grow(0n), 1n);
      assertThrows(() => new WA.Memory({ initial: 1, index: 'i64' }), TypeError, /BigInt/);
    },
  },
  {
    id: 'minimum-descriptor',
    reason: '`minimum` (type reflection\'s name for `initial`) is read after `initial` and accepted in its ' +
      'place; giving both is a TypeError. The built-ins of Node 20-24 ignore it.',
    tests: [
      'differential: descriptor with minimum instead of initial',
    ],
    ours(WA, assert) {
      assert.strictEqual(new WA.Memory({ minimum: 1 }).buffer.byteLength, PAGE);
      assertThrows(() => new WA.Memory({ minimum: 1, initial: 1 }), TypeError, /minimum/);
    },
  },
  {
    id: 'shared-memory',
    // Node 22.23+ and 24.21+ export node_api_create_external_sharedarraybuffer,
    // and there shared memories behave as the built-in's.
    when: () => !binding.sharedSupported(),
    reason: 'Node-API before Node 22.23 / 24.21 cannot create a SharedArrayBuffer over native memory, so ' +
      '`shared: true` throws a TypeError where the built-in returns a frozen SharedArrayBuffer.',
    tests: [
      'constructor: shared: true with maximum: SharedArrayBuffer',
      'constructor: order of evaluation for descriptor (with shared)',
      'grow: growing shared memory does not detach the old buffer',
      'buffer: a shared memory buffer is a frozen SharedArrayBuffer',
      'differential: shared memory with maximum',
    ],
    ours(WA, assert) {
      // The descriptor is read and converted as by the built-in, then refused
      // (not with the TypeError for "shared without maximum", which does not
      // say "shared memories").
      const order = [];
      const descriptor = {
        get initial() { order.push('initial'); return { valueOf() { order.push('initial valueOf'); return 1; } }; },
        get maximum() { order.push('maximum'); return { valueOf() { order.push('maximum valueOf'); return 2; } }; },
        get shared() { order.push('shared'); return { valueOf() { order.push('shared valueOf'); return false; } }; },
      };
      assertThrows(() => new WA.Memory(descriptor), TypeError, /shared memories/);
      assert.deepStrictEqual(order, ['initial', 'initial valueOf', 'maximum', 'maximum valueOf', 'shared']);
    },
  },
  {
    id: 'detachable-buffer',
    node: '>=22', // ArrayBuffer.prototype.transfer() exists from Node 22 on
    reason: 'Node-API cannot make an external ArrayBuffer non-detachable (V8\'s detach-key API makes Node 22\'s ' +
      'transfer() and Node 20\'s byte-stream enqueue abort the process), so transfer() and WHATWG byte streams ' +
      'can detach our buffer where the built-in throws a TypeError. The memory stays correct, and the ' +
      'transferred buffer keeps the bytes mapped (memory-lifetime.test.js checks that nothing dangles).',
    tests: [
      'buffer: user code cannot detach the buffer (transfer), as the built-in',
      'differential: ArrayBuffer transfer methods on a memory buffer',
    ],
    ours(WA, assert) {
      const memory = new WA.Memory({ initial: 1, maximum: 3 });
      fillPattern(memory.buffer, 0, PAGE, 5);
      const moved = [];
      for (const method of ['transfer', 'transferToFixedLength']) {
        const buffer = memory.buffer;
        const result = buffer[method]();
        assertArrayBuffer(buffer, { detached: true }, `${method}: the old buffer`);
        assert.strictEqual(result.byteLength, PAGE, `${method}: result size`);
        assert.ok(checkPattern(result, 0, PAGE, 5), `${method}: result contents`);
        // The memory hands out a new, attached buffer with the same bytes.
        const fresh = memory.buffer;
        assert.notStrictEqual(fresh, buffer);
        assert.strictEqual(memory.buffer, fresh, `${method}: buffer is stable again`);
        assert.strictEqual(fresh.byteLength, PAGE, `${method}: memory size`);
        assert.ok(checkPattern(fresh, 0, PAGE, 5), `${method}: memory contents`);
        moved.push(result);
      }
      // ... and still grows, keeping its contents.
      assert.strictEqual(memory.grow(1), 1);
      assert.strictEqual(memory.buffer.byteLength, 2 * PAGE);
      assert.ok(checkPattern(memory.buffer, 0, PAGE, 5), 'contents after grow');
      // The transferred buffers stay readable and writable. (Whether they
      // alias the memory's bytes is not asserted: they do today.)
      for (const result of moved) assert.ok(checkPattern(result, 0, PAGE, 5), 'transferred buffer after grow');
      for (const result of moved) {
        new Uint8Array(result)[PAGE - 1] = 0xee;
        assert.strictEqual(new Uint8Array(result)[PAGE - 1], 0xee, 'transferred buffer is writable');
      }
    },
  },
  {
    id: 'javascript-functions',
    reason: 'Memory and its members are JavaScript (a class behind a Proxy), not V8 API functions: ' +
      'Function.prototype.toString shows their source instead of `[native code]`, and util.inspect prints ' +
      '`[class Memory]` (`Proxy([class Memory])` from Node 26 on, whose inspect shows Proxies).',
    tests: [
      'differential: Function.prototype.toString of Memory and its members',
      'differential: util.inspect of Memory',
    ],
    ours(WA, assert) {
      const getter = Object.getOwnPropertyDescriptor(WA.Memory.prototype, 'buffer').get;
      assert.strictEqual(String(WA.Memory), 'function () { [native code] }'); // V8's text for a Proxy
      assert.match(String(WA.Memory.prototype.grow), /^grow\(/);
      assert.match(String(getter), /^get buffer\(\)/);
      const major = Number(process.versions.node.split('.')[0]);
      assert.strictEqual(util.inspect(WA.Memory), major >= 26 ? 'Proxy([class Memory])' : '[class Memory]');
    },
  },
  {
    id: 'javascript-functions-arguments',
    node: '<26', // Node 26's API functions have no own `arguments` and `caller` either
    reason: 'Memory is JavaScript (a class), and classes have no own `arguments` and `caller`; V8\'s API ' +
      'functions had them before Node 26.',
    tests: [
      'differential: own arguments and caller of Memory',
    ],
    ours(WA, assert) {
      assert.strictEqual(Object.hasOwn(WA.Memory, 'arguments'), false);
      assert.strictEqual(Object.hasOwn(WA.Memory, 'caller'), false);
    },
  },
  {
    id: 'receiver-in-v8-messages',
    reason: 'V8 names the receiver in some of its own messages by constructor for its API objects ' +
      '(`#<Memory>`) and by @@toStringTag for ours, an ordinary object (`[object WebAssembly.Memory]`). ' +
      'The class of the error is the same, and stays compared.',
    tests: [
      'differential messages: setting buffer in sloppy and strict mode',
    ],
    ours(WA) {
      const memory = new WA.Memory({ initial: 0 });
      assertThrows(() => { memory.buffer = null; }, TypeError,
        /^Cannot set property buffer of \[object WebAssembly\.Memory\] which has only a getter$/);
    },
  },
];

// The accepted differences of Module, Instance, Global and Table (issue 3).
// A separate list, with the same entries' shape: memory-differential.test.js
// checks that every entry of `knownDifferences` lists a Memory scenario,
// while these list the wasm suites' tests, whose own staleness check is in
// wasm-differential.test.js. Suites: 'wasm-namespace', 'wasm-differential',
// 'wasm-global-table', 'wasm-examples' (the test file names).
const wasmKnownDifferences = [
  {
    id: 'tag-type',
    reason: 'Tag.prototype.type() (type reflection: `{ parameters }`), which no built-in has yet; the ' +
      'exception-handling members are unchanged.',
    tests: [
      'exceptions: Tag: interface object and prototype',
    ],
    ours(WA, assert) {
      assert.deepStrictEqual(Reflect.ownKeys(WA.Tag.prototype), ['constructor', 'type', Symbol.toStringTag]);
      const parameters = ['i32', 'externref'];
      const type = new WA.Tag({ parameters }).type();
      assert.deepStrictEqual(type, { parameters });
      assert.notStrictEqual(type.parameters, parameters);
      assertThrows(() => WA.Tag.prototype.type.call({}), TypeError);
    },
  },
  {
    id: 'exception-checks-node20',
    node: '<22',
    reason: 'new Exception(tag, payload) checks the payload as Node 22+\'s built-in and the spec do: a ' +
      'TypeError for a payload without `length`, of the wrong length, or with a funcref value that is not ' +
      'an exported function. Node 20\'s V8 checks none of these.',
    tests: [
      'exceptions: Exception: payload length and types are checked (Node 22+)',
    ],
    ours(WA, assert) {
      const tag = new WA.Tag({ parameters: ['i32', 'externref'] });
      assertThrows(() => new WA.Exception(tag, {}), TypeError);
      assertThrows(() => new WA.Exception(tag, [1]), TypeError);
      const f = new WA.Tag({ parameters: ['anyfunc'] });
      assertThrows(() => new WA.Exception(f, [() => 1]), TypeError);
    },
  },
  {
    id: 'module-size-validate-node20',
    node: '<22',
    reason: 'validate() of a module over the JS API\'s 1 GiB limit returns false, as the spec and Node ' +
      '22+\'s built-in do; Node 20\'s V8 throws a RangeError instead.',
    tests: [
      'module-details: a module of 1 GiB + 1 byte is a CompileError and does not validate; one of 1 GiB validates (Node 22+)',
    ],
    ours(WA, assert) {
      const size = 1024 * 1024 * 1024 + 1;
      const bytes = new Uint8Array(size);
      bytes.set([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, 0xf3, 0xff, 0xff, 0xff, 0x03]); // one custom section
      assert.strictEqual(WA.validate(bytes), false);
      assertThrows(() => new WA.Module(bytes), WA.CompileError, /exceeds maximum size of 1073741824 \(is 1073741825\)/);
    },
  },
  {
    id: 'externref-global-default-node20',
    node: '<22',
    reason: 'A Global of externref made without a value holds undefined (the spec\'s DefaultValue, and ' +
      'V8 from Node 22 on); Node 20\'s V8 starts it at null.',
    tests: [
      'externref: Global and Table of externref without a value hold undefined',
    ],
    ours(WA, assert) {
      assert.strictEqual(new WA.Global({ value: 'externref' }).value, undefined);
      assert.strictEqual(new WA.Table({ element: 'externref', initial: 1 }).get(0), undefined);
    },
  },
  {
    id: 'jspi-one-call-per-instance',
    reason: 'A JSPI instance (one that imports a WebAssembly.Suspending function) runs each call on a wasmtime ' +
      'fiber that holds its store until the call returns: while one promising call is suspended, any other ' +
      'call into that instance group (another promising call, a plain call) throws an Error saying so, where ' +
      'V8 runs it. wasmtime\'s collector does not trace the wasm frames of a suspended fiber, so nothing may ' +
      'run in the store meanwhile (src/runtime/jspi.rs). Calls into other instances interleave freely.',
    tests: [
      'jspi: two promising calls into one instance interleave',
    ],
    async ours(WA, assert) {
      const J = jspiOf(WA);
      const { wat } = require('./wat');
      const inst = new J.Instance(new J.Module(wat(`(module (import "m" "s" (func $s (param i32) (result i32)))
        (func (export "run") (param i32) (result i32) (i32.add (call $s (local.get 0)) (i32.const 1))))`)), {
        m: { s: new J.Suspending((x) => new Promise((resolve) => setTimeout(() => resolve(x), x))) },
      });
      const run = J.promising(inst.exports.run);
      const first = run(20);
      await assert.rejects(run(5), (e) => e instanceof Error && /cannot be entered again until that call returns/.test(e.message));
      assert.throws(() => inst.exports.run(1), /cannot be entered again/);
      assert.strictEqual(await first, 21);
      assert.strictEqual(await run(5), 6);
    },
  },
  {
    id: 'jspi-suspended-store',
    reason: 'While a promising call into a JSPI instance group is suspended, its fiber holds the group\'s ' +
      'wasmtime store (see jspi-one-call-per-instance): reading or writing a Global or Table of the group ' +
      'throws an Error meanwhile, where V8 answers. Memories are ours and stay readable through their buffer.',
    tests: [
      'jspi: a global of the instance is read while a promising call is suspended',
    ],
    async ours(WA, assert) {
      const J = jspiOf(WA);
      const { wat } = require('./wat');
      const inst = new J.Instance(new J.Module(wat(`(module
        (import "m" "suspend" (func $s (param i32) (result i32)))
        (global (export "g") (mut i32) (i32.const 0))
        (func (export "run") (param i32)
          (global.set 0 (call $s (local.get 0)))))`)), {
        m: { suspend: new J.Suspending((x) => new Promise((resolve) => setTimeout(() => resolve(x), 1))) },
      });
      const promise = J.promising(inst.exports.run)(5);
      assert.throws(() => inst.exports.g.value, (e) => e.constructor === Error && /suspended in a JSPI call/.test(e.message));
      await promise;
      assert.strictEqual(inst.exports.g.value, 5);
    },
  },
  {
    id: 'jspi-waiting-references',
    reason: 'While a JSPI call\'s wasm waits for an import (its fiber suspended: a plain import\'s JS runs, or ' +
      'a Suspending import\'s promise is pending), storing a JS value as a reference in that instance group ' +
      '(a Global\'s or Table\'s externref or anyref) throws an Error, where V8 stores it. Making the reference ' +
      'allocates in wasmtime\'s GC heap, and a collection then would not see the suspended fiber\'s frames: it ' +
      'freed references only those frames held (found while looking into WPT\'s jspi failures; src/runtime/jspi.rs). Numbers and ' +
      'null can still be stored.',
    tests: [
      'jspi: a plain import stores references in a global while the calling wasm holds one',
    ],
    async ours(WA, assert) {
      const J = jspiOf(WA);
      const seen = [];
      const inst = waitingReferences(J, ({ exports }) => {
        exports.n.value = 7;
        exports.g.value = null;
        try { exports.g.value = {}; } catch (e) { seen.push(e); }
      });
      const keep = { keep: true };
      inst.exports.g.value = keep;
      assert.strictEqual(await J.promising(inst.exports.run)(), keep);
      assert.strictEqual(seen.length, 1);
      assert.ok(seen[0] instanceof Error && /cannot be stored in this instance group/.test(seen[0].message), String(seen[0]));
      assert.strictEqual(inst.exports.n.value, 7);
      // After the call, references are stored again.
      inst.exports.g.value = keep;
      assert.strictEqual(inst.exports.g.value, keep);
    },
  },
  {
    id: 'jspi-across-groups',
    reason: 'A promising call suspends through an exported function of another instance group (imported as ' +
      'a function) when the importing instance could be made a JSPI instance, as it is when its group is new ' +
      '(src/runtime/jspi/promising.rs). If the group already had instances without JSPI (an imported memory, ' +
      'table or global bound to them), it stays synchronous, and a Suspending import reached through it throws ' +
      'a SuspendError ("trying to suspend JS frames"), where V8 suspends the whole wasm stack: wasmtime runs a ' +
      'store\'s wasm on fibers or not from its first instance on.',
    tests: [
      'jspi: a suspension through another instance, from an instance group made before it',
    ],
    async ours(WA, assert) {
      const J = jspiOf(WA);
      const { inner, outer } = acrossOlderGroup(J);
      await assert.rejects(J.promising(outer.exports.main)(), (e) => e instanceof J.SuspendError);
      // Called from a promising call of its own group, it suspends.
      assert.strictEqual(await J.promising(inner.exports.f)(), 2);
    },
  },
  {
    id: 'tiering-mixed-link',
    reason: 'On a big module\'s first start (a cache miss) its code is Winch\'s while Cranelift compiles in the ' +
      'background (README, "Start-up"), and Winch code runs in stores of its own engine. A module that imports a ' +
      'Memory, Table or Global of such an instance gets Winch code made for it; one that Winch cannot compile ' +
      '(exception handling, Wasm GC, typed function references, tail calls, relaxed SIMD, some SIMD ' +
      'instructions), or that was loaded from the cache before the process made any Winch code (its bytes ' +
      'are not kept, so that a warm start copies none), is a LinkError saying so, where V8 links any two ' +
      'modules. A later start (a cache hit) or WASM_MEMORY_RS_TIERING=off links them.',
    tests: [
      'tiering: a module Winch cannot compile links to an instance running Winch code',
    ],
    ours(WA, assert) {
      // In this process (small modules: no tiering by default) they link.
      const { exportsMemory, importsMemoryTail } = tieringModules();
      if (!['always', 'winch'].includes(process.env.WASM_MEMORY_RS_TIERING)) {
        const a = new WA.Instance(new WA.Module(exportsMemory)).exports;
        const b = new WA.Instance(new WA.Module(importsMemoryTail), { m: { memory: a.memory } }).exports;
        a.store(8, 7);
        assert.strictEqual(b.load(8), 7);
      }
      // With Winch code for the first (WASM_MEMORY_RS_TIERING=winch: no
      // background compile to race with), they do not.
      const { spawnSync } = require('node:child_process');
      const fs = require('node:fs');
      const os = require('node:os');
      const path = require('node:path');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-memory-rs-tiering-'));
      fs.writeFileSync(path.join(dir, 'a.wasm'), exportsMemory);
      fs.writeFileSync(path.join(dir, 'b.wasm'), importsMemoryTail);
      const r = spawnSync(process.execPath, ['-e', `
        const WA = require(${JSON.stringify(path.join(__dirname, '..'))});
        const fs = require('node:fs');
        const a = new WA.Instance(new WA.Module(fs.readFileSync(process.argv[1]))).exports;
        try {
          new WA.Instance(new WA.Module(fs.readFileSync(process.argv[2])), { m: { memory: a.memory } });
          console.log('linked');
        } catch (e) { console.log(e.constructor.name + ': ' + e.message); }`,
      path.join(dir, 'a.wasm'), path.join(dir, 'b.wasm')], {
        env: { ...process.env, WASM_MEMORY_RS_TIERING: 'winch', WASM_MEMORY_RS_CACHE: 'off' }, encoding: 'utf8',
      });
      fs.rmSync(dir, { recursive: true, force: true });
      assert.strictEqual(r.status, 0, r.stderr);
      assert.match(r.stdout, /^LinkError: WebAssembly\.Instance\(\): an import belongs to an instance running Winch's \(first-start\) code, and this module cannot have code of that tier: Winch cannot compile it/);
    },
  },
  {
    id: 'implementation-limits',
    reason: 'wasmtime\'s parser (wasmparser) has fixed limits below some of the JS API\'s: 100 tables (the JS ' +
      'API: 100,000), 100,000 element segments (10,000,000), and an "effective type size" of 1,000,000 that ' +
      'a module of a million imports or exports exceeds. Such modules are a CompileError (validate says false). ' +
      'Nor is the JS API\'s 1 GiB module size enforced (a valid module of 1 GiB + 1 bytes validates). ' +
      'The limits are constants of wasmparser, with no setting in wasmtime 48 (WPT limits.any.js of the spec ' +
      'repository; Node does not vendor it).',
    tests: [
      'module-details: a module with 101 tables, and one with 100,001 element segments, validates and compiles',
    ],
    ours(WA, assert) {
      const leb = (n) => { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return out; };
      const module = (id, count, item) => {
        const body = [...leb(count)];
        for (let i = 0; i < count; i++) body.push(...item);
        return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, id, ...leb(body.length), ...body]);
      };
      for (const [bytes, limit] of [
        [module(4, 100, [0x70, 0, 0]), null], [module(4, 101, [0x70, 0, 0]), /tables count exceeds limit of 100/],
        [module(9, 100000, [1, 0, 0]), null], [module(9, 100001, [1, 0, 0]), /element segments count exceeds limit of 100000/],
      ]) {
        assert.strictEqual(WA.validate(bytes), limit === null);
        if (limit === null) new WA.Module(bytes);
        else assertThrows(() => new WA.Module(bytes), WA.CompileError, limit);
      }
    },
  },
  {
    id: 'jspi-store-first',
    reason: 'An instance with a Suspending import cannot join an existing instance group (its imported memory, ' +
      'table or global already bound to instances without Suspending imports): a LinkError says so. wasmtime ' +
      'runs a store\'s wasm on fibers or not, and the group\'s exported functions were made for the other ' +
      'kind. The other order works: instances without Suspending imports may join a JSPI instance\'s group.',
    tests: [
      'jspi: an instance with a Suspending import shares a memory with an earlier instance',
    ],
    ours(WA, assert) {
      const J = jspiOf(WA);
      const { wat } = require('./wat');
      const mem = new J.Memory({ initial: 1, maximum: 2 });
      new J.Instance(new J.Module(wat('(module (import "m" "mem" (memory 1 2)))')), { m: { mem } });
      const module = new J.Module(wat(`(module (import "m" "s" (func (param i32) (result i32)))
        (import "m" "mem" (memory 1 2)))`));
      assert.throws(() => new J.Instance(module, { m: { s: new J.Suspending((x) => x), mem } }),
        (e) => e instanceof WA.LinkError && /Suspending imports/.test(e.message));
    },
  },
  {
    id: 'jspi-suspend-error-first',
    node: '<26',
    when: () => builtin !== undefined && Object.hasOwn(builtin, 'Suspending'),
    reason: 'A Suspending import called with no promising call to suspend throws its SuspendError before ' +
      'its JS function runs, as the proposal and Node 26\'s V8 do; Node 24\'s V8 calls the function first ' +
      '(and throws the SuspendError after it returns).',
    tests: [
      'jspi: a Suspending import called without promising is not called',
    ],
    ours(WA, assert) {
      const J = jspiOf(WA);
      const { wat } = require('./wat');
      const calls = [];
      const inst = new J.Instance(new J.Module(wat(`(module (import "m" "s" (func $s (param i32) (result i32)))
        (func (export "run") (param i32) (result i32) (call $s (local.get 0))))`)), {
        m: { s: new J.Suspending((x) => { calls.push(x); return x; }) },
      });
      assert.throws(() => inst.exports.run(1), J.SuspendError);
      assert.deepStrictEqual(calls, []);
    },
  },
  {
    id: 'jspi-reentry',
    reason: 'A JS import of a JSPI instance that calls back into that instance group throws an Error (V8 runs ' +
      'the call, and a Suspending import reached that way is a SuspendError "trying to suspend JS frames"): the ' +
      'import runs on the main stack while its fiber waits, and a second fiber must not run in the store then ' +
      '(see jspi-one-call-per-instance).',
    tests: [
      'jspi: a plain import calls back into its own instance',
    ],
    ours(WA, assert) {
      const J = jspiOf(WA);
      const { wat } = require('./wat');
      let inst;
      inst = new J.Instance(new J.Module(wat(`(module (import "m" "s" (func $s (param i32) (result i32)))
        (import "m" "f" (func $f (param i32) (result i32)))
        (func (export "viaImport") (param i32) (result i32) (call $f (local.get 0)))
        (func (export "pure") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3))))`)), {
        m: { s: new J.Suspending((x) => x), f: (x) => inst.exports.pure(x) },
      });
      assert.throws(() => inst.exports.viaImport(2), /cannot be entered again/);
      assert.strictEqual(inst.exports.pure(2), 6);
    },
  },
  {
    id: 'exnref-kept-identity',
    reason: 'A wasm exception is matched to its JS Exception object only for the duration of the outermost ' +
      'call into its store (the pair would otherwise keep each other alive in the store); one that wasm ' +
      'keeps (an exnref in a global or table) and throws again in a later call comes out as a new ' +
      'Exception with the same tag and payload.',
    tests: [
      'exceptions: an exception kept in an exnref global and rethrown by a later call is the same object',
    ],
    ours(WA, assert) {
      const { tag, thrown, rethrowSaved } = savedException(WA);
      assert.throws(rethrowSaved, (e) => e !== thrown && e.is(tag) && e.getArg(tag, 0) === 3);
    },
  },
  {
    id: 'gc-cross-store',
    node: '>=22',
    reason: 'A Wasm GC object (struct or array) lives in the wasmtime store of the instance group that made ' +
      'it, and wasmtime links no references across stores: passing it as an anyref (or subtype) to an instance ' +
      'of another group (or a Global or Table bound to one) is a TypeError saying so, where V8, with one heap, ' +
      'accepts it; as an externref it passes as any JS value does (and comes back as itself). ' +
      'Instances that share a Memory, Table or Global are one group; so are Globals and Tables made ' +
      'unbound and given the object (they join its store).',
    tests: [
      'gc: a GC object passes to another instance',
    ],
    ours(WA, assert) {
      const { wat } = require('./wat');
      const bytes = wat(`(module (type $s (struct (field i32)))
        (func (export "make") (result anyref) (struct.new $s (i32.const 5)))
        (func (export "any") (param anyref) (result anyref) (local.get 0)))`);
      const a = new WA.Instance(new WA.Module(bytes)).exports;
      const b = new WA.Instance(new WA.Module(bytes)).exports;
      const s = a.make();
      assert.strictEqual(a.any(s), s);
      assertThrows(() => b.any(s), TypeError, /another instance group/);
      // As an externref it passes as any JS value would.
      const c = new WA.Instance(new WA.Module(wat('(module (func (export "id") (param externref) (result externref) (local.get 0)))'))).exports;
      assert.strictEqual(c.id(s), s);
      const g = new WA.Global({ value: 'anyref', mutable: true }, s);
      assert.strictEqual(g.value, s);
    },
  },
  {
    id: 'string-builtin-type-error',
    when: () => process.versions.node.split('.')[0] === '22',
    reason: 'A `wasm:js-string` import of the wrong type is a CompileError (the JS String Builtins proposal, and ' +
      'V8 from Node 24 on); Node 22\'s V8 throws a LinkError with the same message.',
    tests: [
      'string-builtins: a builtin import of the wrong type is a CompileError; unknown names stay ordinary imports',
      'string-builtins: a builtin import whose type is in a recursion group with another type',
    ],
    async ours(WA, assert) {
      const { wat } = require('./wat');
      const bytes = wat('(module (import "wasm:js-string" "length" (func (param i32) (result i32))))');
      const options = { builtins: ['js-string'] };
      assert.strictEqual(WA.validate(bytes, options), false);
      assertThrows(() => new WA.Module(bytes, options), WA.CompileError,
        /Imported builtin function "wasm:js-string" "length" has incorrect signature/);
      await assert.rejects(WA.compile(bytes, options), WA.CompileError);
    },
  },
  {
    id: 'shared-memory-modules',
    // Where Node-API can make a SharedArrayBuffer over wasm memory (Node
    // 22.23+, 24.21+), such modules validate and compile as on the built-in.
    when: () => !binding.sharedSupported(),
    reason: 'A module that defines or imports a shared memory cannot run where Node-API cannot make a ' +
      'SharedArrayBuffer over native memory (before Node 22.23 / 24.21): its memory could be neither created ' +
      'from JS nor exported. So validate() says false and compile() and Module throw a CompileError saying ' +
      'why, where the built-in accepts it; a feature probe (wasm-feature-detect\'s threads) then picks a build ' +
      'without threads, which runs.',
    tests: [
      'module-details: a module with a shared memory validates and compiles',
    ],
    async ours(WA, assert) {
      const { wat } = require('./wat');
      for (const text of [
        '(module (memory 1 1 shared))',
        '(module (import "m" "memory" (memory 1 1 shared)))',
      ]) {
        const bytes = wat(text);
        assert.strictEqual(WA.validate(bytes), false, text);
        assertThrows(() => new WA.Module(bytes), WA.CompileError, /shared memory is not supported by this Node\.js/);
        await assert.rejects(WA.compile(bytes), (e) => e instanceof WA.CompileError && /shared memory/.test(e.message));
      }
      // Non-shared memories are not affected.
      assert.strictEqual(WA.validate(wat('(module (memory 1 1))')), true);
    },
  },
  {
    id: 'table64-descriptor',
    node: '<24',
    reason: '64-bit tables on every Node, as 64-bit memories: `address` is read after `element` and "i64" ' +
      'makes a 64-bit table with BigInt sizes and indexes. The built-ins before Node 24 have no table64 and ' +
      'do not read it (Node 24\'s and 26\'s match ours: table64.test.js compares them).',
    tests: [
      'table64: descriptor members are read in the order of the running Node\'s built-in',
    ],
    ours(WA, assert) {
      const order = [];
      const descriptor = new Proxy({ element: 'anyfunc', initial: 1, maximum: 2 }, {
        get(target, key) { order.push(key); return target[key]; },
      });
      new WA.Table(descriptor);
      assert.deepStrictEqual(order, ['element', 'address', 'initial', 'maximum']);
      const table = new WA.Table({ element: 'anyfunc', initial: 1n, address: 'i64' });
      assert.strictEqual(table.length, 1n);
      assert.strictEqual(table.grow(1n), 1n);
    },
  },
  {
    id: 'wasm-grow-zero',
    reason: 'memory.grow(0) run by wasm does not detach the buffer: wasmtime returns early for a zero ' +
      'delta without telling the memory, so there is nothing to observe; V8 refreshes the buffer. ' +
      'grow(0) from JS does detach, and so does any wasm growth by one page or more.',
    tests: [
      'wasm-differential: own-memory.wat: memory.grow(0) in wasm detaches the old buffer too',
    ],
    ours(WA, assert) {
      const { watFile } = require('./wat');
      const { exports } = new WA.Instance(new WA.Module(watFile('own-memory')), {});
      const before = exports.mem.buffer;
      assert.strictEqual(exports.grow(0), 1);
      assert.strictEqual(exports.mem.buffer, before);
      assert.strictEqual(exports.grow(1), 1);
      assert.notStrictEqual(exports.mem.buffer, before);
      assert.strictEqual(before.byteLength, 0);
    },
  },
  {
    id: 'table-function-names',
    reason: 'An exported function\'s `name` is its function index. wasmtime tells which index an export ' +
      'has, but not which a function reached only through a table (or a funcref global or argument) ' +
      'has: such a function is named "" (its `length`, identity and calls are the built-in\'s).',
    tests: [
      'wasm-differential: table.wat: names of functions reached through the table',
    ],
    ours(WA, assert) {
      const { watFile } = require('./wat');
      const { tbl } = new WA.Instance(new WA.Module(watFile('table')), {}).exports;
      assert.deepStrictEqual([tbl.get(0).name, tbl.get(1).name], ['', '']);
      assert.deepStrictEqual([tbl.get(0)(), tbl.get(1)()], [13, 42]);
      assert.strictEqual(tbl.get(0), tbl.get(0));
    },
  },
  {
    id: 'table-grow-undefined',
    node: '<22',
    reason: 'Table.prototype.grow(n, undefined) converts the undefined (a TypeError), as set(i, undefined) ' +
      'does and as V8 does from Node 22 on; Node 20\'s V8 takes it as a missing value (null).',
    tests: [
      'wasm-global-table: Table.grow: an explicit undefined is converted (TypeError), as set\'s is',
    ],
    ours(WA, assert) {
      const table = new WA.Table({ element: 'anyfunc', initial: 1 });
      assert.throws(() => table.grow(1, undefined), TypeError);
      assert.strictEqual(table.grow(1), 1);
      assert.strictEqual(globalThis.WebAssembly.Table.prototype.grow.call(
        new globalThis.WebAssembly.Table({ element: 'anyfunc', initial: 1 }), 1, undefined), 1);
    },
  },
  {
    id: 'wasm-frames-hash',
    node: '>=26',
    reason: 'The module hash in wasm frames\' URLs (`wasm://wasm/<hash>`) is V8\'s hash of the bytes as Node 20 ' +
      'to 24 compute it (the string hash of V8 12 and before); Node 26\'s V8 hashes strings another way. ' +
      'Everything else in the frames is the same.',
    tests: [
      'wasm-frames: the URL hash is the built-in\'s',
    ],
    ours(WA, assert) {
      const { wat } = require('./wat');
      const bytes = wat('(module (func (export "t") unreachable))');
      // Jenkins' one-at-a-time hash, seed 0, as a V8 12 hash field.
      let h = 0;
      for (const b of bytes) {
        h = (h + b) >>> 0;
        h = (h + (h << 10)) >>> 0;
        h = (h ^ (h >>> 6)) >>> 0;
      }
      h = (h + (h << 3)) >>> 0;
      h = (h ^ (h >>> 11)) >>> 0;
      h = (h + (h << 15)) >>> 0;
      const expected = ((((h & 0x3fffffff) || 27) << 2 | 2) >>> 0).toString(16).padStart(8, '0');
      try {
        new WA.Instance(new WA.Module(bytes), {}).exports.t();
        assert.fail('did not trap');
      } catch (error) {
        assert.match(error.stack, new RegExp(`\\n {4}at wasm://wasm/${expected}:wasm-function\\[0\\]:0x1e\\n`));
      }
    },
  },
  {
    id: 'wasm-frames-stack-accessor',
    node: '<22',
    reason: 'An error a JS import throws gets its wasm frames when it leaves the import (V8 records them when ' +
      'the error is made, which Node-API cannot hook): its `stack` becomes an accessor that adds them when ' +
      'first read (a trap\'s error too, so that nothing is formatted unless read). Node 22+\'s own `stack` is ' +
      'an accessor too; Node 20\'s is a data property.',
    tests: [
      'wasm-frames: an error\'s own `stack` keeps its kind (data property or accessor)',
    ],
    ours(WA, assert) {
      const { wat } = require('./wat');
      const inst = new WA.Instance(new WA.Module(wat('(module (import "m" "f" (func $f)) (func (export "run") call $f))')), {
        m: { f() { throw new Error('x'); } },
      });
      try {
        inst.exports.run();
        assert.fail('did not throw');
      } catch (error) {
        const descriptor = Object.getOwnPropertyDescriptor(error, 'stack');
        assert.strictEqual(typeof descriptor.get, 'function');
        assert.strictEqual(typeof descriptor.set, 'function');
        assert.match(error.stack, /wasm:\/\/wasm\//);
        error.stack = 'replaced';
        assert.strictEqual(error.stack, 'replaced');
      }
    },
  },
  {
    id: 'wasm-frames-read-in-import',
    reason: 'An error a JS import throws gets its wasm frames when it leaves the import (V8 records them when ' +
      'the error is made, which Node-API cannot hook): read inside the import, its `stack` has only the JS ' +
      'frames; read after, it has all of them, as V8\'s.',
    tests: [
      'wasm-frames: an import that reads its error\'s stack before throwing sees the wasm frames',
    ],
    ours(WA, assert) {
      const { wat } = require('./wat');
      let seen;
      const inst = new WA.Instance(new WA.Module(wat('(module (import "m" "f" (func $f)) (func (export "run") call $f))')), {
        m: {
          f() {
            const error = new Error('x');
            seen = error.stack;
            throw error;
          },
        },
      });
      assert.throws(() => inst.exports.run(), (error) => /wasm:\/\/wasm\//.test(error.stack));
      assert.doesNotMatch(seen, /wasm:\/\/wasm\//);
    },
  },
  {
    id: 'module-clone',
    reason: 'structuredClone and postMessage copy only V8\'s own host objects; a Module (or a shared Memory) of ' +
      'ours is a JavaScript object over native state, so its copy is an empty plain object, and no public Node ' +
      'API (Node-API has no serializer hooks; worker_threads\' kClone/kDeserialize are internal) lets it take ' +
      'part. Post `require(\'wasm-memory-rs/transfer\').serialize(value)` and `deserialize` it in the worker: ' +
      'the same compiled code, the same shared bytes (transfer.test.js).',
    tests: [
      'wasm-namespace: Module: structuredClone gives a working Module',
    ],
    ours(WA, assert) {
      const { watFile } = require('./wat');
      const clone = structuredClone(new WA.Module(watFile('table')));
      assert.strictEqual(clone instanceof WA.Module, false);
      assert.deepStrictEqual(Reflect.ownKeys(clone), []);
      assert.throws(() => WA.Module.exports(clone), TypeError);
    },
  },
  {
    id: 'funcref-name',
    reason: 'Type reflection (whose `type()` and `minimum` we have) names funcref "funcref": a Table ' +
      'element or a Global value of "funcref" is accepted, as "anyfunc" is. The built-ins of Node 20-24 ' +
      'take "anyfunc" only, as the JS API does without type reflection.',
    tests: [
      'wasm-global-table: Global: "funcref" is not a value type (the JS API and V8 say "anyfunc")',
      'wasm-global-table: Table: "funcref" is not an element type (the JS API and V8 say "anyfunc")',
    ],
    ours(WA, assert) {
      assert.strictEqual(new WA.Global({ value: 'funcref' }).value, null);
      assert.strictEqual(new WA.Global({ value: 'funcref', mutable: true }, null).value, null);
      const table = new WA.Table({ element: 'funcref', initial: 1 });
      assert.strictEqual(table.length, 1);
      assert.strictEqual(table.get(0), null);
    },
  },
  {
    id: 'type-reflection-members',
    reason: 'Table.prototype and Global.prototype also have type() (type reflection, as Memory.prototype ' +
      'has), which the built-ins of Node 20-24 lack; the other members are the built-in\'s, in its order.',
    tests: [
      'wasm-namespace: own keys of the prototypes, as the built-in',
    ],
    ours(WA, assert) {
      const builtin = globalThis.WebAssembly;
      for (const key of ['Module', 'Instance']) {
        assert.deepStrictEqual(Reflect.ownKeys(WA[key].prototype), Reflect.ownKeys(builtin[key].prototype), key);
      }
      for (const key of ['Table', 'Global']) {
        const expected = Reflect.ownKeys(builtin[key].prototype).filter((k) => k !== Symbol.toStringTag);
        assert.deepStrictEqual(Reflect.ownKeys(WA[key].prototype), [...expected, 'type', Symbol.toStringTag], key);
        assert.strictEqual(typeof WA[key].prototype.type, 'function', key);
      }
    },
  },
  {
    id: 'dataview-buffer-source',
    reason: 'A DataView is a BufferSource (WebIDL, which the JS API uses for bytes): validate, Module, ' +
      'compile and instantiate take its bytes. V8 takes only ArrayBuffers and typed arrays, a TypeError ' +
      'for a DataView.',
    tests: [
      'wasm-namespace: validate, Module, compile: a DataView is a TypeError (V8)',
    ],
    async ours(WA, assert) {
      const { watFile } = require('./wat');
      const bytes = watFile('table');
      const padded = new Uint8Array(bytes.byteLength + 8);
      padded.set(bytes, 4);
      const view = new DataView(padded.buffer, 4, bytes.byteLength);
      assert.strictEqual(WA.validate(view), true);
      assert.deepStrictEqual(WA.Module.exports(new WA.Module(view)), [{ name: 'tbl', kind: 'table' }]);
      assert.strictEqual(Object.getPrototypeOf(await WA.compile(view)), WA.Module.prototype);
      assert.deepStrictEqual(Reflect.ownKeys(await WA.instantiate(view)), ['module', 'instance']);
      assert.strictEqual(WA.validate(new DataView(new ArrayBuffer(8))), false);
    },
  },
  {
    id: 'mime-type-case',
    reason: 'compileStreaming and instantiateStreaming match the Content-Type with `application/wasm` ' +
      'byte-case-insensitively, as the WebAssembly Web API says (WPT webapi/contenttype.any.js: ' +
      '"APPLICATION/WASM" is valid); Node compares it with ===, a TypeError for other letter cases.',
    tests: [
      'wasm-namespace: compileStreaming: application/wasm in other letter cases is a TypeError (Node)',
    ],
    async ours(WA, assert) {
      const { watFile } = require('./wat');
      for (const type of ['Application/WASM', 'APPLICATION/wasm']) {
        const response = new Response(watFile('table'), { headers: { 'content-type': type } });
        assert.strictEqual(Object.getPrototypeOf(await WA.compileStreaming(response)), WA.Module.prototype, type);
      }
    },
  },
];

const RANGE = /^(>=|<)(\d+(?:\.\d+){0,2})$/;
const suites = ['constructor', 'grow', 'buffer', 'interface', 'differential', 'differential messages',
  'wasm-namespace', 'wasm-differential', 'wasm-global-table', 'wasm-examples', 'exceptions', 'externref',
  'wasm-frames', 'table64', 'module-details', 'gc', 'string-builtins', 'jspi', 'tiering'];
for (const { id, tests, node } of [...knownDifferences, ...wasmKnownDifferences]) {
  for (const key of tests) {
    assert.ok(suites.some((suite) => key.startsWith(`${suite}: `)), `${id}: unknown suite in "${key}"`);
  }
  assert.ok(node === undefined || RANGE.test(node), `${id}: node must look like ">=22" or "<22.23"`);
}

/** Whether the entry applies to the running Node. */
function applies({ node, when }) {
  if (when && !when()) return false;
  if (node === undefined) return true;
  const [, operator, version] = RANGE.exec(node);
  const running = process.versions.node.split('.').map(Number);
  const bound = version.split('.').map(Number);
  let order = 0; // running compared with bound: -1, 0 or 1
  for (let i = 0; i < 3 && order === 0; i++) order = Math.sign(running[i] - (bound[i] ?? 0));
  return operator === '>=' ? order >= 0 : order < 0;
}

/** The entry that applies to the running Node and lists `key` ('<suite>: <title>'), if any. */
function knownDifference(key) {
  return [...knownDifferences, ...wasmKnownDifferences].find((entry) => applies(entry) && entry.tests.includes(key));
}

/**
 * node:test's `test` for a suite running against WA: for our implementation,
 * a listed test runs its entry's `ours` assertion instead.
 */
function testFor(suite, WA) {
  if (WA !== ours) return test;
  return (title, ...rest) => {
    const entry = knownDifference(`${suite}: ${title}`);
    if (!entry) return test(title, ...rest);
    const options = rest.length > 1 ? rest[0] : {};
    return test(`known difference: ${entry.id} (replaces: ${title})`, options, () => entry.ours(WA, assert));
  };
}

module.exports = {
  knownDifferences, wasmKnownDifferences, applies, knownDifference, testFor, savedException, waitingReferences,
  acrossOlderGroup, tieringModules,
};
