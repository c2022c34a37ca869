'use strict';
// wasm-memory-rs/transfer (issue 12, item 11): a Module or a shared Memory
// of ours posted to a worker_threads Worker through serialize/deserialize.
// Structured clone itself cannot carry ours (known difference
// "module-clone"); these check what the helper promises: the worker gets a
// working Module over the same compiled code, and the very same shared
// bytes, both ways.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { ours } = require('./impls');
const { wat } = require('./wat');

const root = path.join(__dirname, '..');
const skipOurs = ours === null && 'tests wasm-memory-rs only (WASM_MEMORY_RS_ONLY_BUILTIN=1)';
const transfer = skipOurs ? null : require('../lib/transfer.js');
const sharedSupported = !skipOurs && require('../internal.js').binding.sharedSupported();

/** Runs `body` (a function's source, given `data` and `port`) in a worker; resolves with what it posts. */
function inWorker(body, data) {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const WebAssembly = require(${JSON.stringify(root)});
    const transfer = require(${JSON.stringify(path.join(root, 'lib/transfer.js'))});
    Promise.resolve((${body})(workerData, parentPort, WebAssembly, transfer))
      .then((result) => parentPort.postMessage({ result }), (error) => parentPort.postMessage({ error: String(error.stack) }));
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: data });
    worker.once('message', ({ result, error }) => {
      worker.terminate().then(() => (error ? reject(new Error(`in the worker: ${error}`)) : resolve(result)));
    });
    worker.once('error', reject);
  });
}

const moduleText = `(module
  (import "m" "memory" (memory 1 4 shared))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (@custom "note" "from the main thread"))`;
const plainText = `(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (@custom "note" "from the main thread"))`;

test('a Module crosses to a worker: the same imports, exports and custom sections, and it runs', { skip: skipOurs }, async () => {
  const module = new ours.Module(wat(plainText));
  const data = transfer.serialize(module);
  assert.deepStrictEqual(structuredClone(data), data, 'a plain, clonable object');
  assert.deepStrictEqual(transfer.serialize(module), data, 'one handle per module');
  const result = await inWorker((data, port, WebAssembly, transfer) => {
    const module = transfer.deserialize(data);
    const again = transfer.deserialize(data);
    const note = new TextDecoder().decode(WebAssembly.Module.customSections(module, 'note')[0]);
    const { exports } = new WebAssembly.Instance(module, {});
    return {
      isModule: module instanceof WebAssembly.Module,
      distinct: module !== again,
      exports: WebAssembly.Module.exports(again),
      note,
      sum: exports.add(40, 2),
    };
  }, data);
  assert.deepStrictEqual(result, {
    isModule: true, distinct: true, exports: [{ name: 'add', kind: 'function' }], note: 'from the main thread', sum: 42,
  });
});

test('a shared Memory crosses to a worker: the same bytes both ways, and growth', {
  skip: skipOurs || (!sharedSupported && 'this Node cannot make shared memories (Node 22.23+, 24.21+)'),
}, async () => {
  const memory = new ours.Memory({ initial: 1, maximum: 4, shared: true });
  const module = new ours.Module(wat(moduleText));
  new Int32Array(memory.buffer)[1] = 1234;
  const result = await inWorker((data, port, WebAssembly, transfer) => {
    const memory = transfer.deserialize(data.memory);
    const module = transfer.deserialize(data.module);
    const { exports } = new WebAssembly.Instance(module, { m: { memory } });
    const seen = exports.load(4);
    exports.store(8, 5678);
    const grown = exports.grow(1);
    return { isMemory: memory instanceof WebAssembly.Memory, seen, grown, pages: memory.buffer.byteLength / 65536 };
  }, { memory: transfer.serialize(memory), module: transfer.serialize(module) });
  assert.deepStrictEqual(result, { isMemory: true, seen: 1234, grown: 1, pages: 2 });
  assert.strictEqual(new Int32Array(memory.buffer)[2], 5678, 'the worker wrote our bytes');
  const { exports } = new ours.Instance(module, { m: { memory } });
  assert.strictEqual(exports.load(8), 5678);
  assert.strictEqual(exports.grow(0), 2, 'the growth is seen here');
});

test('serialize takes only our Modules and shared Memories; deserialize only its results', { skip: skipOurs }, () => {
  const plain = new ours.Memory({ initial: 1 });
  assert.throws(() => transfer.serialize(plain), { name: 'TypeError', message: /only a shared Memory/ });
  for (const value of [{}, null, 1, new WebAssembly.Module(wat(plainText))]) {
    assert.throws(() => transfer.serialize(value), { name: 'TypeError', message: /must be a WebAssembly.Module/ });
  }
  for (const data of [undefined, {}, { type: 'wasm-memory-rs:Module' }, { type: 'x', handle: 1 }]) {
    assert.throws(() => transfer.deserialize(data), { name: 'TypeError', message: /what serialize\(\) returned/ });
  }
  assert.throws(() => transfer.deserialize({ type: 'wasm-memory-rs:Module', handle: 2 ** 52 }), {
    name: 'TypeError', message: /not a handle of this process/,
  });
  const data = transfer.serialize(new ours.Module(wat('(module (func (export "f")))')));
  assert.throws(() => transfer.deserialize({ ...data, type: 'wasm-memory-rs:Memory' }), { name: 'TypeError' });
  assert.strictEqual(transfer.release(data), true);
  assert.strictEqual(transfer.release(data), false);
  assert.throws(() => transfer.deserialize(data), { name: 'TypeError', message: /or released/ });
});
