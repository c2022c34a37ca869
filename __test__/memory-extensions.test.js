'use strict';
// Members beyond Node 20's built-in: type() and the minimum key
// (type-reflection proposal), toFixedLengthBuffer() / toResizableBuffer()
// (JS API, resizable buffers), discard() (memory-control proposal).
const { test } = require('node:test');
const assert = require('node:assert');
const { Memory } = require('..');

const PAGE = 65536;

test('type() reports the current size as the minimum', () => {
  const memory = new Memory({ initial: 1, maximum: 4 });
  assert.deepStrictEqual(memory.type(), { minimum: 1, maximum: 4, shared: false, address: 'i32' });
  memory.grow(2);
  assert.deepStrictEqual(memory.type(), { minimum: 3, maximum: 4, shared: false, address: 'i32' });
  assert.deepStrictEqual(new Memory({ initial: 0 }).type(), { minimum: 0, shared: false, address: 'i32' });
  assert.throws(() => Memory.prototype.type.call({}), { name: 'TypeError' });
});

test('minimum may stand for initial, but not beside it', () => {
  assert.strictEqual(new Memory({ minimum: 2 }).buffer.byteLength, 2 * PAGE);
  assert.throws(() => new Memory({ minimum: 1, initial: 1 }), { name: 'TypeError', message: /minimum/ });
  assert.throws(() => new Memory({ minimum: 2, maximum: 1 }), { name: 'RangeError' });
  assert.throws(() => new Memory({}), { name: 'TypeError', message: /initial/ });
});

test('toFixedLengthBuffer() returns the buffer, which is fixed-length', () => {
  const memory = new Memory({ initial: 1, maximum: 2 });
  const buffer = memory.toFixedLengthBuffer();
  assert.strictEqual(buffer, memory.buffer);
  assert.strictEqual(buffer.resizable ?? false, false);
  memory.grow(1);
  assert.strictEqual(buffer.byteLength, 0);
  assert.strictEqual(memory.toFixedLengthBuffer(), memory.buffer);
  assert.throws(() => Memory.prototype.toFixedLengthBuffer.call({}), { name: 'TypeError' });
});

test('toResizableBuffer() throws a TypeError that says why', () => {
  const memory = new Memory({ initial: 1, maximum: 2 });
  const buffer = memory.buffer;
  assert.throws(() => memory.toResizableBuffer(), { name: 'TypeError', message: /resizable/ });
  assert.strictEqual(memory.buffer, buffer, 'the buffer is untouched');
});

test('discard() zeroes whole pages and keeps the size', () => {
  const memory = new Memory({ initial: 3 });
  const bytes = new Uint8Array(memory.buffer);
  bytes.fill(7);
  assert.strictEqual(memory.discard(PAGE, PAGE), undefined);
  assert.strictEqual(bytes.length, 3 * PAGE, 'the buffer stays attached');
  assert.ok(bytes.subarray(0, PAGE).every((b) => b === 7));
  assert.ok(bytes.subarray(PAGE, 2 * PAGE).every((b) => b === 0));
  assert.ok(bytes.subarray(2 * PAGE).every((b) => b === 7));
  bytes[PAGE] = 9; // still writable
  assert.strictEqual(new Uint8Array(memory.buffer)[PAGE], 9);
  memory.discard(0, 3 * PAGE);
  assert.ok(bytes.every((b) => b === 0));
  memory.discard(0, 0);
});

test('discard() wants page-aligned offsets and lengths inside the memory', () => {
  const memory = new Memory({ initial: 2 });
  assert.throws(() => memory.discard(1, PAGE), { name: 'RangeError' });
  assert.throws(() => memory.discard(0, PAGE + 1), { name: 'RangeError' });
  assert.throws(() => memory.discard(PAGE, 2 * PAGE), { name: 'RangeError' });
  assert.throws(() => memory.discard(-1, PAGE), { name: 'TypeError' });
  assert.throws(() => memory.discard(NaN, PAGE), { name: 'TypeError' });
  assert.throws(() => Memory.prototype.discard.call({}, 0, 0), { name: 'TypeError' });
  const memory64 = new Memory({ address: 'i64', initial: 1n });
  memory64.discard(0n, 65536n);
  assert.throws(() => memory64.discard(0, PAGE), { name: 'TypeError' });
});
