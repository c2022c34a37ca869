'use strict';
// shared: true. Where the running Node exports
// node_api_create_external_sharedarraybuffer (22.23+, 24.21+), a frozen
// SharedArrayBuffer over wasmtime's shared memory; elsewhere a TypeError.
const { test } = require('node:test');
const assert = require('node:assert');
const { Worker } = require('node:worker_threads');
const { Memory } = require('..');
const { binding } = require('../internal.js');

const PAGE = 65536;
const supported = binding.sharedSupported();

test('without the Node-API for it, shared: true is a TypeError that says why', { skip: supported && 'this Node supports shared memories' }, () => {
  assert.throws(() => new Memory({ initial: 1, maximum: 2, shared: true }), {
    name: 'TypeError',
    message: /SharedArrayBuffer/,
  });
});

test('shared memories without a maximum are a TypeError', () => {
  assert.throws(() => new Memory({ initial: 1, shared: true }), { name: 'TypeError', message: /maximum/ });
});

test('a shared memory\'s buffer is a frozen SharedArrayBuffer', { skip: !supported && 'this Node cannot make a SharedArrayBuffer over native memory' }, () => {
  const memory = new Memory({ initial: 1, maximum: 3, shared: true });
  const buffer = memory.buffer;
  assert.ok(buffer instanceof SharedArrayBuffer);
  assert.ok(Object.isFrozen(buffer));
  assert.strictEqual(buffer, memory.buffer);
  assert.strictEqual(buffer.byteLength, PAGE);
  assert.deepStrictEqual(memory.type(), { minimum: 1, maximum: 3, shared: true, address: 'i32' });
});

test('growing a shared memory makes a new buffer and leaves the old one attached', { skip: !supported && 'no shared memories here' }, () => {
  const memory = new Memory({ initial: 1, maximum: 3, shared: true });
  const old = memory.buffer;
  new Uint8Array(old)[10] = 10;
  assert.strictEqual(memory.grow(1), 1);
  assert.strictEqual(old.byteLength, PAGE, 'not detached');
  const fresh = memory.buffer;
  assert.notStrictEqual(fresh, old);
  assert.strictEqual(fresh.byteLength, 2 * PAGE);
  assert.strictEqual(new Uint8Array(fresh)[10], 10);
  new Uint8Array(old)[11] = 11;
  assert.strictEqual(new Uint8Array(fresh)[11], 11, 'both alias the same memory');
  assert.strictEqual(memory.grow(0), 2);
  assert.notStrictEqual(memory.buffer, fresh, 'grow(0) refreshes too');
  assert.throws(() => memory.grow(2), { name: 'RangeError' });
});

test('a worker sees writes through a posted SharedArrayBuffer, and we see its writes', { skip: !supported && 'no shared memories here' }, async () => {
  const memory = new Memory({ initial: 1, maximum: 2, shared: true });
  const view = new Int32Array(memory.buffer);
  view[0] = 41;
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const view = new Int32Array(workerData);
     view[1] = view[0] + 1;
     Atomics.notify(view, 1);
     parentPort.postMessage('done');`,
    { eval: true, workerData: memory.buffer },
  );
  await new Promise((resolve, reject) => {
    worker.on('message', resolve);
    worker.on('error', reject);
  });
  await worker.terminate();
  assert.strictEqual(view[1], 42);
});
