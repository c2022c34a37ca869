'use strict';
// Lifetime rules of ours alone: the base never moves, buffers never dangle,
// garbage memories are unmapped without waiting for the event loop, and
// buffers detached by user code (byte streams, transfer()) leave the memory
// alive and correct. Run with --expose-gc (npm test does).
const { test } = require('node:test');
const assert = require('node:assert');
const { readFileSync } = require('node:fs');
// Under ulimit -v, tests that need more address space than the limit leaves
// are skipped with this reason.
const limitedAddressSpace = /Max address space\s+\d+/.test(readFileSync('/proc/self/limits', 'utf8')) &&
  'needs more address space than this process\'s limit (ulimit -v) allows';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { Memory } = require('..');
const { binding, nativeOf } = require('../internal.js');

const PAGE = 65536;
const gc = globalThis.gc;
const hasTransfer = typeof ArrayBuffer.prototype.transfer === 'function';

/** Collects and sweeps until nothing more is released (orphans take two rounds). */
function reclaim() {
  let total = 0;
  for (let i = 0; i < 4; i++) {
    gc();
    total += binding.sweep();
  }
  return total;
}

test('the base address never moves while growing to the maximum', () => {
  const memory = new Memory({ initial: 1, maximum: 1024 });
  const base = nativeOf(memory).baseAddress();
  for (let pages = 1; pages < 1024; pages++) {
    assert.strictEqual(memory.grow(1), pages);
    assert.strictEqual(nativeOf(memory).baseAddress(), base);
  }
  assert.throws(() => memory.grow(1), RangeError);
  assert.strictEqual(nativeOf(memory).baseAddress(), base);
});

test('the base address never moves up to 65536 pages without a maximum', { skip: limitedAddressSpace }, () => {
  const memory = new Memory({ initial: 0 });
  const base = nativeOf(memory).baseAddress();
  for (const delta of [1, 15, 240, 3840, 61440]) {
    memory.grow(delta);
    assert.strictEqual(nativeOf(memory).baseAddress(), base);
  }
  assert.strictEqual(memory.buffer.byteLength, 65536 * PAGE);
  new Uint8Array(memory.buffer)[65536 * PAGE - 1] = 1;
  assert.throws(() => memory.grow(1), RangeError);
});

test('a buffer kept after its Memory is collected stays valid', () => {
  let memory = new Memory({ initial: 2 });
  const kept = new Uint8Array(memory.buffer);
  kept.fill(7);
  memory = null;
  reclaim();
  // Allocate and touch other memories: they must not land on our bytes.
  for (let i = 0; i < 50; i++) new Uint8Array(new Memory({ initial: 2 }).buffer).fill(9);
  reclaim();
  assert.strictEqual(kept.length, 2 * PAGE);
  assert.ok(kept.every((b) => b === 7));
});

test('unreachable memories are unmapped before any finalizer runs', () => {
  reclaim();
  for (let i = 0; i < 20; i++) new Memory({ initial: 1 });
  for (let i = 0; i < 20; i++) new Uint8Array(new Memory({ initial: 1 }).buffer)[0] = 1;
  // Synchronously, without yielding to the event loop.
  assert.ok(reclaim() >= 38, 'memories with and without buffers are released');
});

test('a synchronous loop of 100k memories stays under 1 GiB peak RSS', () => {
  // In a child, so that its peak RSS is its own.
  const script = `
    const { Memory } = require(${JSON.stringify(path.join(__dirname, '..'))});
    for (let i = 0; i < 100000; i++) {
      const bytes = new Uint8Array(new Memory({ initial: 16 }).buffer);
      for (let p = 0; p < 16; p++) bytes[p * 65536] = 1;
    }
    console.log(process.resourceUsage().maxRSS);`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.strictEqual(child.status, 0, child.stderr);
  const peakMiB = Number(child.stdout.trim()) / 1024;
  assert.ok(peakMiB < 1024, `peak RSS ${peakMiB.toFixed(0)} MiB`);
});

test('grow detaches the old buffer even when it was never read, and grow(0) too', () => {
  const memory = new Memory({ initial: 1, maximum: 4 });
  memory.grow(1);
  const before = memory.buffer;
  assert.strictEqual(memory.grow(0), 2);
  assert.strictEqual(before.byteLength, 0);
  assert.notStrictEqual(memory.buffer, before);
  assert.strictEqual(memory.buffer.byteLength, 2 * PAGE);
});

test('a zero-page memory has a real, detachable, empty buffer', () => {
  const memory = new Memory({ initial: 0, maximum: 1 });
  const empty = memory.buffer;
  assert.ok(empty instanceof ArrayBuffer);
  assert.strictEqual(empty.byteLength, 0);
  assert.strictEqual(memory.buffer, empty);
  memory.grow(0);
  assert.throws(() => new Uint8Array(empty), TypeError, 'detached');
  assert.notStrictEqual(memory.buffer, empty);
});

test('a byte stream that detaches the buffer leaves the memory alive and correct', async () => {
  const memory = new Memory({ initial: 1 });
  new Uint8Array(memory.buffer)[100] = 42;
  const stolen = memory.buffer;
  const stream = new ReadableStream({
    type: 'bytes',
    start(controller) {
      controller.enqueue(new Uint8Array(stolen, 0, 16));
    },
  });
  const { value } = await stream.getReader().read();
  assert.strictEqual(value.byteLength, 16);
  // Whatever the stream did to `stolen`, the memory hands out an attached
  // buffer with the memory's size and contents.
  const fresh = memory.buffer;
  assert.strictEqual(fresh.byteLength, PAGE);
  assert.strictEqual(new Uint8Array(fresh)[100], 42);
  assert.strictEqual(memory.grow(1), 1);
  assert.strictEqual(new Uint8Array(memory.buffer)[100], 42);
  reclaim();
  value[0] = 1; // still mapped, whatever it aliases
});

test('transfer() of a live memory\'s buffer: nothing dangles', { skip: !hasTransfer && 'no ArrayBuffer.prototype.transfer on this Node' }, () => {
  let memory = new Memory({ initial: 1 });
  new Uint8Array(memory.buffer)[5] = 5;
  const moved = new Uint8Array(memory.buffer.transfer());
  assert.strictEqual(new Uint8Array(memory.buffer)[5], 5, 'the memory recreates its buffer');
  memory = null;
  reclaim();
  for (let i = 0; i < 50; i++) new Uint8Array(new Memory({ initial: 1 }).buffer).fill(9);
  reclaim();
  assert.strictEqual(moved[5], 5, 'the transferred buffer keeps the bytes');
  moved[6] = 6;
});

test('transfer() of a buffer kept past its Memory: nothing dangles', { skip: !hasTransfer && 'no ArrayBuffer.prototype.transfer on this Node' }, () => {
  let memory = new Memory({ initial: 1 });
  let kept = memory.buffer;
  new Uint8Array(kept)[9] = 9;
  memory = null;
  reclaim(); // the sweep sees the Memory gone and the buffer still held
  const moved = new Uint8Array(kept.transfer());
  kept = null;
  reclaim();
  for (let i = 0; i < 50; i++) new Uint8Array(new Memory({ initial: 1 }).buffer).fill(1);
  reclaim();
  assert.strictEqual(moved[9], 9);
});

test('structuredClone and postMessage with the buffer in the transfer list do not alias it', () => {
  const memory = new Memory({ initial: 1 });
  new Uint8Array(memory.buffer)[0] = 3;
  let clone;
  try {
    clone = structuredClone(memory.buffer, { transfer: [memory.buffer] });
  } catch (e) {
    // Newer Node versions refuse to transfer it, as they do V8's own memory buffers.
    assert.strictEqual(e.name, 'DataCloneError');
    return;
  }
  new Uint8Array(clone)[0] = 4;
  assert.strictEqual(new Uint8Array(memory.buffer)[0], 3);
  assert.strictEqual(memory.buffer.byteLength, PAGE);
});
