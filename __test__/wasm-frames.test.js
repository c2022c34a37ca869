'use strict';
// Wasm frames in Error.stack (issue 12, item 8): traps and errors thrown by
// JS imports list the wasm frames in V8's format,
// `    at name (wasm://wasm/<hash>:wasm-function[<index>]:0x<offset>)`.
// Each scenario runs on the built-in and on ours from the same line, so the
// JS frames around the wasm ones are the same, and the whole stacks are
// compared. The module hash in the URL is V8's hash of the bytes up to
// Node 24; Node 26's V8 hashes otherwise (known difference
// "wasm-frames-hash"), so there the hashes are compared apart.
const { test } = require('node:test');
const assert = require('node:assert');
const { impls, builtin, ours } = require('./impls');
const { testFor, knownDifference } = require('./known-differences');
const { wat } = require('./wat');

const HASH = /(wasm:\/\/wasm\/(?:[^:\s]*-)?)[0-9a-f]{8}(?=:wasm-function)/g;
const hashDiffers = ours !== null && knownDifference('wasm-frames: the URL hash is the built-in\'s') !== undefined;
/** `stack` with the hashes replaced where ours cannot have V8's. */
const normal = (stack) => (hashDiffers ? stack.replace(HASH, '$1<hash>') : stack);

/** The stack of what `run(WA)` throws. */
function stackOf(WA, run) {
  try {
    run(WA);
  } catch (error) {
    return error.stack;
  }
  assert.fail('did not throw');
}

/** Runs `run` on every implementation and compares the stacks (`lines` of them, if given). */
function sameStacks(run, lines) {
  const stacks = impls.map(([, WA]) => stackOf(WA, run));
  for (const [i, [name]] of impls.entries()) {
    const stack = lines === undefined ? stacks[i] : stacks[i].split('\n').slice(0, lines).join('\n');
    assert.match(stack, /wasm:\/\/wasm\//, `${name} shows wasm frames`);
    if (i > 0) {
      const reference = lines === undefined ? stacks[0] : stacks[0].split('\n').slice(0, lines).join('\n');
      assert.strictEqual(normal(stack), normal(reference), `${name} matches ${impls[0][0]}`);
    }
  }
  return stacks;
}

const instance = (WA, text, imports = {}) => new WA.Instance(new WA.Module(wat(text)), imports);

const nested = `(module
  (import "m" "f" (func $imp (result i32)))
  (func $inner (export "trap") (param i32) (result i32)
    nop
    local.get 0
    i32.const 0
    i32.div_s)
  (func $mid (param i32) (result i32)
    local.get 0
    call $inner)
  (func (export "anon") (result i32)
    i32.const 1
    call $mid)
  (func $callsImport (export "callImport") (result i32)
    call $imp)
  (func (export "unnamedCallImport") (result i32)
    call $callsImport))`;

test('a trap lists the wasm frames, innermost first, where the exported function was called', () => {
  const stacks = sameStacks((WA) => instance(WA, nested, { m: { f: () => 0 } }).exports.anon());
  assert.match(stacks.at(-1), /^RuntimeError: divide by zero\n {4}at inner \(wasm:\/\/wasm\/[0-9a-f]{8}:wasm-function\[1\]:0x[0-9a-f]+\)\n {4}at mid \(/);
  assert.match(stacks.at(-1), /\n {4}at wasm:\/\/wasm\/[0-9a-f]{8}:wasm-function\[3\]:0x[0-9a-f]+\n {4}at /);
});

test('an error thrown by an import lists the wasm frames between the import and its caller', () => {
  const stacks = sameStacks((WA) => {
    function jsImport() {
      throw new Error('from import');
    }
    instance(WA, nested, { m: { f: jsImport } }).exports.unnamedCallImport();
  });
  assert.match(stacks.at(-1), /^Error: from import\n {4}at jsImport \(.*\)\n {4}at callsImport \(wasm:\/\/wasm\/[0-9a-f]{8}:wasm-function\[4\]:0x[0-9a-f]+\)\n {4}at wasm:\/\/wasm\/[0-9a-f]{8}:wasm-function\[5\]:0x[0-9a-f]+\n/);
});

test('names: the module\'s name prefixes the function\'s, and names the URL', () => {
  const stacks = sameStacks((WA) => instance(WA, `(module $mymod
    (func $"a b(c)" (export "t") call 1)
    (func unreachable))`).exports.t());
  // The names section names only the first function: V8 then shows the module's name alone.
  assert.match(stacks.at(-1), /\n {4}at mymod \(wasm:\/\/wasm\/mymod-[0-9a-f]{8}:wasm-function\[1\]:0x[0-9a-f]+\)\n {4}at mymod\.a b\(c\) \(/);
});

test('a trap in the start function: the wasm frames, then the JS caller of new Instance', () => {
  sameStacks((WA) => instance(WA, '(module (func $s nop unreachable) (start $s))'), 3);
});

test('offsets are of the module as given (data segments merged and a data count section)', () => {
  const data = Array.from({ length: 40 }, (_, i) => `(data (i32.const ${i * 16}) "segment ${i}")`).join('\n');
  sameStacks((WA) => instance(WA, `(module (memory 1) ${data}
    (func (export "t") (memory.init 3 (i32.const 0) (i32.const 0) (i32.const 1)) (data.drop 2) unreachable))`).exports.t());
});

test('an error crossing two activations of one store: each activation\'s frames at its place', () => {
  sameStacks((WA) => {
    const text = '(module (import "m" "g" (func $g)) (func $outer (export "outer") call $g) (func $inner (export "inner") unreachable))';
    const inst = instance(WA, text, { m: { g: function g() { inst.exports.inner(); } } });
    inst.exports.outer();
  });
  sameStacks((WA) => {
    const text = `(module (import "m" "g" (func $g)) (import "m" "h" (func $h))
      (func $outer (export "outer") call $g) (func $middle (export "middle") call $h))`;
    const inst = instance(WA, text, {
      m: { g: function g() { inst.exports.middle(); }, h: function h() { throw new TypeError('deep'); } },
    });
    inst.exports.outer();
  });
});

test('an error crossing activations of two stores', () => {
  sameStacks((WA) => {
    const text = '(module (import "m" "g" (func $g)) (func $outer (export "outer") call $g) (func $inner (export "inner") unreachable))';
    const other = instance(WA, text.replace('$inner', '$inner2'), { m: { g() {} } });
    instance(WA, text, { m: { g: function g() { other.exports.inner(); } } }).exports.outer();
  });
});

test('wasm frames count toward Error.stackTraceLimit', () => {
  const limit = Error.stackTraceLimit;
  try {
    for (const n of [0, 1, 2, 4]) {
      Error.stackTraceLimit = n;
      const stacks = impls.map(([, WA]) => stackOf(WA, (W) => instance(W, nested, { m: { f: () => 0 } }).exports.anon()));
      for (const stack of stacks) assert.strictEqual(stack.split('\n').length, 1 + n, `limit ${n}`);
      assert.strictEqual(normal(stacks.at(-1)), normal(stacks[0]), `limit ${n}`);
    }
  } finally {
    Error.stackTraceLimit = limit;
  }
});

test('a stack overflow lists the recursing frames', () => {
  sameStacks((WA) => instance(WA, '(module (func $r (export "r") call $r))').exports.r(), 4);
});

test('values an import throws without V8\'s stack are left alone', () => {
  for (const [name, WA] of impls) {
    const plain = { message: 'plain' };
    const custom = new Error('custom');
    Object.defineProperty(custom, 'stack', { value: 'mine', writable: false, configurable: true });
    for (const thrown of [plain, custom, 42, 'text']) {
      const inst = instance(WA, '(module (import "m" "f" (func $f)) (func (export "run") call $f))', {
        m: { f() { throw thrown; } },
      });
      assert.throws(() => inst.exports.run(), (e) => e === thrown, name);
    }
    assert.deepStrictEqual(Reflect.ownKeys(plain), ['message'], name);
    assert.strictEqual(custom.stack, 'mine', name);
  }
});

testFor('wasm-frames', ours)('the URL hash is the built-in\'s', () => {
  for (const size of [0, 20000]) {
    // Up to 16383 bytes V8 hashes them all; past that, the length.
    const pad = size ? `(@custom "pad" "${'p'.repeat(size)}")` : '';
    const stacks = impls.map(([, WA]) => stackOf(WA, (W) => instance(W, `(module (func (export "t") unreachable) ${pad})`).exports.t()));
    const hashes = stacks.map((s) => s.match(HASH)[0]);
    assert.strictEqual(hashes.at(-1), hashes[0], `${size} bytes of padding`);
  }
});

testFor('wasm-frames', ours)('an error\'s own `stack` keeps its kind (data property or accessor)', () => {
  const kinds = impls.map(([, WA]) => {
    const inst = instance(WA, '(module (import "m" "f" (func $f)) (func (export "run") call $f))', {
      m: { f() { throw new Error('x'); } },
    });
    try {
      inst.exports.run();
    } catch (error) {
      const descriptor = Object.getOwnPropertyDescriptor(error, 'stack');
      return ['value' in descriptor, descriptor.enumerable, descriptor.configurable];
    }
    return null;
  });
  assert.deepStrictEqual(kinds.at(-1), kinds[0]);
});

testFor('wasm-frames', ours)('an import that reads its error\'s stack before throwing sees the wasm frames', () => {
  for (const [name, WA] of impls) {
    let seen;
    const inst = instance(WA, '(module (import "m" "f" (func $f)) (func (export "run") call $f))', {
      m: {
        f() {
          const error = new Error('x');
          seen = error.stack;
          throw error;
        },
      },
    });
    assert.throws(() => inst.exports.run(), Error);
    assert.match(seen, /wasm:\/\/wasm\//, name);
  }
});
