'use strict';
// The native binding never trusts its caller: reached without index.js, it
// rejects bad values with a TypeError or RangeError and never crashes.
const { test } = require('node:test');
const assert = require('node:assert');
const { binding } = require('../internal.js');

const bad = [NaN, -1, -0.5, 1.5, Infinity, -Infinity, 2 ** 53, Number.MAX_VALUE];

test('createMemory rejects sizes that are not whole page counts', () => {
  for (const value of bad) {
    assert.throws(() => binding.createMemory(value), /TypeError|RangeError/.test.bind(/x/) && Error, String(value));
    assert.throws(() => binding.createMemory(0, value), Error, String(value));
  }
  for (const value of ['1', {}, [], null, 1n, Symbol('x')]) {
    assert.throws(() => binding.createMemory(value), Error);
  }
  assert.throws(() => binding.createMemory(1.5), { name: 'TypeError' });
  assert.throws(() => binding.createMemory(-1), { name: 'TypeError' });
  assert.throws(() => binding.createMemory(65537), { name: 'RangeError' });
  assert.throws(() => binding.createMemory(2, 1), { name: 'RangeError' });
  assert.throws(() => binding.createMemory(1, 65537), { name: 'RangeError' });
});

test('shared memories: a SharedArrayBuffer where Node can make one, else a TypeError', () => {
  assert.throws(() => binding.createMemory(1, undefined, true), { name: 'TypeError', message: /maximum/ });
  if (binding.sharedSupported()) {
    const memory = binding.createMemory(1, 2, true);
    assert.ok(memory.buffer() instanceof SharedArrayBuffer);
  } else {
    assert.throws(() => binding.createMemory(1, 2, true), { name: 'TypeError', message: /shared/ });
  }
});

test('memory64 sizes are checked against 262144 pages', () => {
  assert.throws(() => binding.createMemory(262145, undefined, false, true), { name: 'RangeError' });
  assert.throws(() => binding.createMemory(65537), { name: 'RangeError' });
  assert.strictEqual(binding.createMemory(65537, 65537, false, true).byteLength(), 65537 * 65536);
});

test('discard re-checks its arguments', () => {
  const memory = binding.createMemory(2);
  for (const [offset, length] of [[-1, 0], [NaN, 0], [0, 1.5], [1, 65536], [65536, 131072], [2 ** 64, 0]]) {
    assert.throws(() => memory.discard(offset, length), Error, `${offset}, ${length}`);
  }
  memory.discard(65536, 65536);
});

test('grow rejects bad deltas and keeps the buffer', () => {
  const memory = binding.createMemory(1, 2);
  const buffer = memory.buffer();
  for (const value of bad) assert.throws(() => memory.grow(value), Error, String(value));
  assert.throws(() => memory.grow(2), { name: 'RangeError' });
  assert.strictEqual(buffer.byteLength, 65536);
  assert.strictEqual(memory.buffer(), buffer);
  assert.strictEqual(memory.grow(1), 1);
  assert.strictEqual(buffer.byteLength, 0);
});

test('methods on foreign receivers throw instead of crashing', () => {
  const { NativeMemory } = binding;
  for (const receiver of [{}, null, undefined, 1, new Proxy({}, {}), Object.create(NativeMemory.prototype)]) {
    assert.throws(() => NativeMemory.prototype.grow.call(receiver, 1), Error);
    assert.throws(() => NativeMemory.prototype.buffer.call(receiver), Error);
    assert.throws(() => NativeMemory.prototype.byteLength.call(receiver), Error);
  }
  assert.throws(() => new NativeMemory(), Error);
});

test('setCollector wants a function', () => {
  assert.throws(() => binding.setCollector(1), { name: 'TypeError' });
});
