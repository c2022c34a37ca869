// WebAssembly.Memory.prototype.buffer: WPT wasm/jsapi/memory/buffer.any.js,
// plus the identity, type, contents and lifetime of the ArrayBuffer.
const { describe } = require('node:test');
const assert = require('node:assert');
const util = require('node:util');
const { impls, needsBuiltin } = require('./impls');
const { testFor } = require('./known-differences');
const {
  PAGE, fmt, assertThrows, assertArrayBuffer, isDetached, checksum, fillPattern, checkPattern, foreignReceivers,
} = require('./helpers');

const builtinBuffer = () => new globalThis.WebAssembly.Memory({ initial: 1 }).buffer;

// Lets finalizers run: Node runs some of them only when the event loop turns.
async function collectGarbage() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
const gcSkip = typeof globalThis.gc === 'function' ? false : 'needs node --expose-gc';

for (const [name, WA] of impls) {
  describe(name, () => {
    // Our tests listed in known-differences.js assert the difference instead.
    const test = testFor('buffer', WA);

    const getter = () => Object.getOwnPropertyDescriptor(WA.Memory.prototype, 'buffer').get;

    // WPT "Branding", plus proxies and a revoked proxy.
    test('getter on a non-Memory receiver: TypeError', () => {
      const memory = new WA.Memory({ initial: 0 });
      const thisValues = foreignReceivers(WA, memory);
      const get = getter();
      assert.strictEqual(typeof get, 'function');
      for (const thisValue of thisValues) {
        assertThrows(() => get.call(thisValue), TypeError, undefined, `this=${fmt(thisValue)}`);
      }
    });

    test('reading buffer through the prototype: TypeError', () => {
      assertThrows(() => WA.Memory.prototype.buffer, TypeError);
      const inheriting = Object.create(new WA.Memory({ initial: 0 }));
      assertThrows(() => inheriting.buffer, TypeError);
    });

    test('a Proxy of a memory is not a memory, but a get trap can forward to the target', () => {
      const memory = new WA.Memory({ initial: 1 });
      const proxy = new Proxy(memory, {});
      assertThrows(() => proxy.buffer, TypeError);
      const forwarding = new Proxy(memory, {
        get(target, key) {
          return Reflect.get(target, key, target);
        },
      });
      assert.strictEqual(forwarding.buffer, memory.buffer);
    });

    // WPT "Stray argument"
    test('stray argument to the getter is ignored', () => {
      const memory = new WA.Memory({ initial: 0 });
      const buffer = memory.buffer;
      assert.strictEqual(getter().call(memory, {}), buffer);
    });

    test('repeated reads return the same ArrayBuffer object until grow', () => {
      const memory = new WA.Memory({ initial: 1, maximum: 3 });
      const buffer = memory.buffer;
      for (let i = 0; i < 10; i++) assert.strictEqual(memory.buffer, buffer);
      assert.strictEqual(getter().call(memory), buffer);
      // A failed grow keeps the same buffer.
      assertThrows(() => memory.grow(5), RangeError);
      assertThrows(() => memory.grow(-1), TypeError);
      assert.strictEqual(memory.buffer, buffer);
      memory.grow(1);
      const grown = memory.buffer;
      assert.notStrictEqual(grown, buffer);
      for (let i = 0; i < 10; i++) assert.strictEqual(memory.buffer, grown);
    });

    test('buffer is an ArrayBuffer, not a SharedArrayBuffer', () => {
      const memory = new WA.Memory({ initial: 1 });
      const buffer = memory.buffer;
      assertArrayBuffer(buffer, { size: 1 });
      assert.ok(buffer instanceof ArrayBuffer);
      assert.ok(!(buffer instanceof SharedArrayBuffer));
      assert.ok(util.types.isArrayBuffer(buffer));
      assert.ok(!util.types.isSharedArrayBuffer(buffer));
      assert.ok(util.types.isAnyArrayBuffer(buffer));
      assert.ok(!ArrayBuffer.isView(buffer));
      assert.ok('isView' in buffer.constructor);
    });

    test('buffer has no own properties', () => {
      const memory = new WA.Memory({ initial: 1 });
      assert.deepStrictEqual(Reflect.ownKeys(memory.buffer), []);
    });

    // WPT assert_ArrayBuffer: a non-shared memory's buffer is not frozen and
    // is extensible.
    test('buffer is not frozen and is extensible (as the built-in)', { skip: needsBuiltin }, () => {
      const buffer = new WA.Memory({ initial: 1 }).buffer;
      assert.strictEqual(Object.isFrozen(buffer), Object.isFrozen(builtinBuffer()));
      assert.strictEqual(Object.isExtensible(buffer), Object.isExtensible(builtinBuffer()));
      assert.strictEqual(Object.isFrozen(buffer), false);
      assert.strictEqual(Object.isSealed(buffer), false);
      assert.strictEqual(Object.isExtensible(buffer), true);
      buffer.tag = 'kept';
      assert.strictEqual(buffer.tag, 'kept');
    });

    test('buffer is fixed-length, as the built-in', { skip: needsBuiltin }, () => {
      const buffer = new WA.Memory({ initial: 2 }).buffer;
      const reference = builtinBuffer();
      assert.strictEqual(buffer.resizable, reference.resizable);
      assert.strictEqual(buffer.resizable, false);
      assert.strictEqual(buffer.maxByteLength, buffer.byteLength);
      assertThrows(() => buffer.resize(PAGE), TypeError);
      assert.strictEqual(buffer.byteLength, 2 * PAGE);
    });

    test('user code cannot detach the buffer (transfer), as the built-in', {
      skip: needsBuiltin ||
        (typeof ArrayBuffer.prototype.transfer === 'function' ? false : 'ArrayBuffer.prototype.transfer does not exist on this Node'),
    }, () => {
      const memory = new WA.Memory({ initial: 1 });
      const buffer = memory.buffer;
      new Uint8Array(buffer)[0] = 5;
      for (const method of ['transfer', 'transferToFixedLength']) {
        assertThrows(() => buffer[method](), TypeError, undefined, method);
        assertThrows(() => builtinBuffer()[method](), TypeError, undefined, `${method} on the built-in`);
      }
      assert.strictEqual(memory.buffer, buffer);
      assert.strictEqual(buffer.byteLength, PAGE);
      assert.strictEqual(new Uint8Array(buffer)[0], 5);
    });

    test('structuredClone copies the buffer into a plain ArrayBuffer', () => {
      const memory = new WA.Memory({ initial: 1 });
      fillPattern(memory.buffer, 0, 256);
      const copy = structuredClone(memory.buffer);
      assert.notStrictEqual(copy, memory.buffer);
      assert.strictEqual(copy.byteLength, PAGE);
      assert.ok(checkPattern(copy, 0, 256));
      new Uint8Array(copy)[0] = 0xff;
      assert.notStrictEqual(new Uint8Array(memory.buffer)[0], 0xff);
    });

    test('structuredClone with the buffer in the transfer list: as the built-in', { skip: needsBuiltin }, () => {
      const outcome = (buffer) => {
        new Uint8Array(buffer)[1] = 17;
        try {
          const clone = structuredClone(buffer, { transfer: [buffer] });
          return { threw: null, cloneLength: clone.byteLength, cloneByte: new Uint8Array(clone)[1], detached: isDetached(buffer) };
        } catch (error) {
          return { threw: error.name, detached: isDetached(buffer) };
        }
      };
      const memory = new WA.Memory({ initial: 1 });
      const buffer = memory.buffer;
      assert.deepStrictEqual(outcome(buffer), outcome(builtinBuffer()));
      assert.strictEqual(memory.buffer, buffer);
      assert.strictEqual(new Uint8Array(memory.buffer)[1], 17);
    });

    // WPT "Setting (sloppy mode)"
    test('setting buffer in sloppy mode is ignored', () => {
      const memory = new WA.Memory({ initial: 0 });
      const memory2 = new WA.Memory({ initial: 0 });
      const buffer = memory.buffer;
      assert.notStrictEqual(buffer, memory2.buffer, 'need two distinct buffers');
      // Function() bodies are sloppy whatever the mode of this file.
      Function('memory', 'value', 'memory.buffer = value;')(memory, memory2.buffer);
      assert.strictEqual(memory.buffer, buffer, 'should not change the buffer');
      assert.deepStrictEqual(Reflect.ownKeys(memory), []);
    });

    // WPT "Setting (strict mode)"
    test('setting buffer in strict mode: TypeError', () => {
      const memory = new WA.Memory({ initial: 0 });
      const memory2 = new WA.Memory({ initial: 0 });
      const buffer = memory.buffer;
      assertThrows(() => {
        'use strict';
        memory.buffer = memory2.buffer;
      }, TypeError);
      assert.strictEqual(memory.buffer, buffer, 'should not change the buffer');
      assert.strictEqual(Reflect.set(memory, 'buffer', memory2.buffer), false);
      assert.deepStrictEqual(Reflect.ownKeys(memory), []);
    });

    test('an own buffer property can be defined on an instance (configurable prototype accessor)', () => {
      const memory = new WA.Memory({ initial: 0 });
      const real = memory.buffer;
      Object.defineProperty(memory, 'buffer', { value: 'shadow' });
      assert.strictEqual(memory.buffer, 'shadow');
      assert.strictEqual(getter().call(memory), real);
    });

    test('contents are initialised to zero', () => {
      const memory = new WA.Memory({ initial: 3 });
      const words = new Uint32Array(memory.buffer);
      assert.ok(words.every((word) => word === 0));
      assert.strictEqual(checksum(memory.buffer), checksum(new ArrayBuffer(3 * PAGE)));
    });

    test('byteLength is pages * 65536', () => {
      for (const pages of [0, 1, 2, 7, 16]) {
        assert.strictEqual(new WA.Memory({ initial: pages }).buffer.byteLength, pages * PAGE, `${pages} pages`);
      }
    });

    test('views alias the same memory', () => {
      const memory = new WA.Memory({ initial: 1 });
      const u32 = new Uint32Array(memory.buffer);
      u32[3] = 0x01020304;
      const view = new DataView(memory.buffer);
      assert.strictEqual(view.getUint32(12, true), 0x01020304);
      assert.strictEqual(new Uint8Array(memory.buffer)[12], 4);
      view.setFloat32(PAGE - 4, 1.5, true);
      assert.strictEqual(new Float32Array(memory.buffer)[PAGE / 4 - 1], 1.5);
      const tail = new Uint8Array(memory.buffer, PAGE - 1, 1);
      tail[0] = 0xab;
      assert.strictEqual(new Uint8Array(memory.buffer)[PAGE - 1], 0xab);
    });

    test('views cannot reach past the end of the buffer', () => {
      const memory = new WA.Memory({ initial: 1 });
      assertThrows(() => new Uint8Array(memory.buffer, PAGE + 1), RangeError);
      assertThrows(() => new Uint8Array(memory.buffer, PAGE - 1, 2), RangeError);
      assertThrows(() => new DataView(memory.buffer).getUint8(PAGE), RangeError);
      const u8 = new Uint8Array(memory.buffer);
      u8[PAGE] = 1; // out of range: ignored
      assert.strictEqual(u8[PAGE], undefined);
    });

    test('writes through one view are visible through a new view after grow', () => {
      const memory = new WA.Memory({ initial: 1, maximum: 4 });
      fillPattern(memory.buffer, 0, PAGE, 11);
      const i16 = new Int16Array(memory.buffer);
      i16[100] = -1234;
      memory.grow(2);
      const after = new Int16Array(memory.buffer);
      assert.strictEqual(after[100], -1234);
      i16[100] = 5; // the old view is detached: ignored
      assert.strictEqual(after[100], -1234);
      const bytes = new Uint8Array(memory.buffer);
      for (let i = 0; i < PAGE; i++) {
        if (i === 200 || i === 201) continue;
        if (bytes[i] !== ((i * 31 + 11) & 0xff)) assert.fail(`byte ${i} changed`);
      }
      assert.ok(bytes.subarray(PAGE).every((byte) => byte === 0));
    });

    test('slice copies bytes into a plain ArrayBuffer', () => {
      const memory = new WA.Memory({ initial: 1 });
      fillPattern(memory.buffer, 1000, 100);
      const slice = memory.buffer.slice(1000, 1100);
      assert.strictEqual(slice.constructor, ArrayBuffer);
      assert.strictEqual(slice.byteLength, 100);
      assert.ok(checkPattern(slice, 0, 100));
      new Uint8Array(slice)[0] = 0;
      assert.ok(checkPattern(memory.buffer, 1000, 100));
    });

    test('Atomics work on views of the (non-shared) buffer', () => {
      const memory = new WA.Memory({ initial: 1 });
      const i32 = new Int32Array(memory.buffer);
      assert.strictEqual(Atomics.add(i32, 0, 5), 0);
      assert.strictEqual(Atomics.compareExchange(i32, 0, 5, 9), 5);
      assert.strictEqual(Atomics.load(i32, 0), 9);
    });

    test('memories do not share bytes', () => {
      const memories = Array.from({ length: 50 }, () => new WA.Memory({ initial: 1 }));
      memories.forEach((memory, i) => { new Uint32Array(memory.buffer)[i] = i + 1; });
      memories.forEach((memory, i) => {
        const words = new Uint32Array(memory.buffer);
        assert.strictEqual(words[i], i + 1);
        for (let j = 0; j < 50; j++) if (j !== i) assert.strictEqual(words[j], 0);
      });
    });

    test('a shared memory buffer is a frozen SharedArrayBuffer', () => {
      const memory = new WA.Memory({ initial: 1, maximum: 2, shared: true });
      const buffer = memory.buffer;
      assertArrayBuffer(buffer, { size: 1, shared: true });
      assert.strictEqual(memory.buffer, buffer);
      assert.ok(util.types.isSharedArrayBuffer(buffer));
    });

    test('the buffer stays usable after its memory is garbage collected', { skip: gcSkip }, async () => {
      let memory = new WA.Memory({ initial: 2 });
      const buffer = memory.buffer;
      fillPattern(buffer, 0, 2 * PAGE, 5);
      const sum = checksum(buffer);
      memory = null;
      await collectGarbage();
      assert.strictEqual(buffer.byteLength, 2 * PAGE);
      assert.strictEqual(checksum(buffer), sum);
      new Uint8Array(buffer)[0] = 1;
      assert.strictEqual(new Uint8Array(buffer)[0], 1);
    });

    test('the memory stays usable after its old buffers are garbage collected', { skip: gcSkip }, async () => {
      const memory = new WA.Memory({ initial: 1 });
      fillPattern(memory.buffer, 0, PAGE, 9);
      for (let i = 0; i < 5; i++) memory.grow(1);
      await collectGarbage();
      assert.strictEqual(memory.buffer.byteLength, 6 * PAGE);
      assert.ok(checkPattern(memory.buffer, 0, PAGE, 9));
      assert.strictEqual(memory.grow(1), 6);
      assert.ok(checkPattern(memory.buffer, 0, PAGE, 9));
    });

    test('many short-lived memories can be created and collected', { skip: gcSkip }, async () => {
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 250; i++) {
          const memory = new WA.Memory({ initial: 16 });
          new Uint8Array(memory.buffer)[i] = 1;
        }
        await collectGarbage();
      }
      assertArrayBuffer(new WA.Memory({ initial: 1 }).buffer, { size: 1 });
    });
  });
}
