'use strict';
// memory64: `address: 'i64'` (and its older name `index`) on every Node
// version; on Node versions whose built-in has memory64 (24+), the same
// scenarios are compared with it.
const { test } = require('node:test');
const assert = require('node:assert');
const { readFileSync } = require('node:fs');
// Under ulimit -v, tests that need more address space than the limit leaves
// are skipped with this reason.
const limitedAddressSpace = /Max address space\s+\d+/.test(readFileSync('/proc/self/limits', 'utf8')) &&
  'needs more address space than this process\'s limit (ulimit -v) allows';
const { Memory } = require('..');

const PAGE = 65536;

function builtinHasMemory64() {
  try {
    return new WebAssembly.Memory({ address: 'i64', initial: 1n }).buffer.byteLength === PAGE;
  } catch {
    return false;
  }
}

test('an i64 memory takes BigInt sizes and grow returns a BigInt', () => {
  const memory = new Memory({ address: 'i64', initial: 1n, maximum: 4n });
  assert.strictEqual(memory.buffer.byteLength, PAGE);
  const old = memory.buffer;
  assert.strictEqual(memory.grow(2n), 1n);
  assert.strictEqual(old.byteLength, 0, 'the old buffer is detached');
  assert.strictEqual(memory.buffer.byteLength, 3 * PAGE);
  assert.strictEqual(memory.grow(0n), 3n);
  assert.throws(() => memory.grow(2n), { name: 'RangeError' });
  assert.deepStrictEqual(memory.type(), { minimum: 3n, maximum: 4n, shared: false, address: 'i64' });
});

test('the older name index works, and address wins when both are given', () => {
  assert.strictEqual(new Memory({ index: 'i64', initial: 1n }).grow(0n), 1n);
  assert.strictEqual(new Memory({ index: 'i64', address: 'i32', initial: 1 }).grow(0), 1);
});

test('the address type is read first and converted with ToString', () => {
  const reads = [];
  const descriptor = new Proxy(
    { address: { toString: () => 'i64' }, initial: 1n },
    {
      get(target, key) {
        reads.push(String(key));
        return target[key];
      },
    },
  );
  assert.strictEqual(new Memory(descriptor).grow(0n), 1n);
  assert.strictEqual(reads[0], 'address');
  assert.throws(() => new Memory({ address: 'i65', initial: 1 }), { name: 'TypeError', message: /i65/ });
  assert.throws(() => new Memory({ address: Symbol('x'), initial: 1 }), { name: 'TypeError' });
});

test('i64 sizes go through ToBigInt and a u64 range check', () => {
  assert.throws(() => new Memory({ address: 'i64', initial: 1 }), { name: 'TypeError', message: /BigInt/ });
  assert.throws(() => new Memory({ address: 'i64', initial: -1n }), { name: 'TypeError', message: /u64/ });
  assert.throws(() => new Memory({ address: 'i64', initial: 2n ** 64n }), { name: 'TypeError', message: /u64/ });
  assert.throws(() => new Memory({ address: 'i64', initial: 'x' }), { name: 'SyntaxError' });
  assert.strictEqual(new Memory({ address: 'i64', initial: '2' }).grow(0n), 2n, 'strings convert');
  assert.strictEqual(new Memory({ address: 'i64', initial: true }).grow(0n), 1n, 'booleans convert');
  assert.throws(() => new Memory({ address: 'i64', initial: 262145n }), { name: 'RangeError' });
  assert.throws(() => new Memory({ address: 'i64', initial: 2n, maximum: 1n }), { name: 'RangeError' });
  const memory = new Memory({ address: 'i64', initial: 1n });
  assert.throws(() => memory.grow(1), { name: 'TypeError', message: /BigInt/ });
  assert.throws(() => memory.grow(-1n), { name: 'TypeError', message: /u64/ });
  assert.throws(() => memory.grow(2n ** 40n), { name: 'RangeError' });
  assert.strictEqual(memory.grow(0n), 1n);
});

test('i32 memories still reject BigInts', () => {
  assert.throws(() => new Memory({ address: 'i32', initial: 1n }), { name: 'TypeError' });
});

test('an i64 memory past 4 GiB: a buffer where Node can hold one, a RangeError otherwise', { skip: limitedAddressSpace }, () => {
  const memory = new Memory({ address: 'i64', initial: 65536n, maximum: 65537n });
  assert.strictEqual(memory.grow(1n), 65536n);
  const max = require('node:buffer').constants.MAX_LENGTH;
  if (65537 * PAGE > max) {
    assert.throws(() => memory.buffer, { name: 'RangeError', message: /largest ArrayBuffer/ });
  } else {
    const bytes = new Uint8Array(memory.buffer);
    assert.strictEqual(bytes.length, 65537 * PAGE);
    bytes[bytes.length - 1] = 1;
  }
});

test('the same scenarios as the built-in memory64', { skip: !builtinHasMemory64() && 'this Node\'s built-in has no memory64' }, () => {
  const scenarios = [
    (M) => new M({ address: 'i64', initial: 1n, maximum: 3n }).grow(2n),
    (M) => new M({ address: 'i64', initial: 1 }),
    (M) => new M({ address: 'i64', initial: -1n }),
    (M) => new M({ address: 'i64', initial: 262145n }),
    (M) => new M({ address: 'i64', initial: 1n, maximum: 262145n }),
    (M) => new M({ address: 'i64', initial: 2n, maximum: 1n }),
    (M) => new M({ address: 'i64', initial: 1n }).grow(1),
    (M) => new M({ address: 'i64', initial: 1n, maximum: 2n }).grow(2n),
    (M) => new M({ address: 'i32', initial: 1n }),
    (M) => new M({ address: 'i64', initial: 3n }).buffer.byteLength,
  ];
  const run = (M, scenario) => {
    try {
      return { value: scenario(M) };
    } catch (e) {
      return { error: e.constructor.name, message: e.message };
    }
  };
  for (const scenario of scenarios) {
    const builtin = run(WebAssembly.Memory, scenario);
    const ours = run(Memory, scenario);
    assert.deepStrictEqual(ours, builtin, scenario.toString());
  }
});
