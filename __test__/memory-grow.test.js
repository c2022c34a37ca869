// WebAssembly.Memory.prototype.grow: WPT wasm/jsapi/memory/grow.any.js, plus
// detaching on every grow, contents, argument conversion and re-entrancy.
const { describe } = require('node:test');
const assert = require('node:assert');
const { impls } = require('./impls');
const { testFor } = require('./known-differences');
const {
  PAGE, fmt, assertThrows, assertArrayBuffer, isDetached, fillPattern, checkPattern, foreignReceivers,
} = require('./helpers');

// Deltas that [EnforceRange] unsigned long rejects with a TypeError.
// WPT "Out-of-range argument" plus Symbol / BigInt / negative fractions.
const badDeltas = [
  undefined,
  NaN,
  Infinity,
  -Infinity,
  -1,
  -0.5,
  0x100000000,
  0x1000000000,
  '0x100000000',
  'abc',
  {},
  { valueOf() { return 0x100000000; } },
  Symbol(),
  1n,
];

function noConversion() {
  return {
    valueOf() { assert.fail('the argument must not be converted (valueOf)'); },
    toString() { assert.fail('the argument must not be converted (toString)'); },
  };
}

for (const [name, WA] of impls) {
  describe(name, () => {
    // Our tests listed in known-differences.js assert the difference instead.
    const test = testFor('grow', WA);

    // WPT "Missing arguments"
    test('missing argument: TypeError', () => {
      const memory = new WA.Memory({ initial: 0 });
      assertThrows(() => memory.grow(), TypeError);
      assertArrayBuffer(memory.buffer, { size: 0 });
    });

    // WPT "Branding", plus proxies and a revoked proxy.
    test('grow on a non-Memory receiver: TypeError, argument untouched', () => {
      const memory = new WA.Memory({ initial: 0 });
      const thisValues = foreignReceivers(WA, memory);
      const grow = WA.Memory.prototype.grow;
      for (const thisValue of thisValues) {
        assertThrows(() => grow.call(thisValue, noConversion()), TypeError, undefined, `this=${fmt(thisValue)}`);
      }
      assertArrayBuffer(memory.buffer, { size: 0 });
    });

    // WPT "Zero initial"
    test('zero initial: grow returns 0 and detaches the old buffer', () => {
      const memory = new WA.Memory({ initial: 0 });
      const oldBuffer = memory.buffer;
      assertArrayBuffer(oldBuffer, { size: 0 }, 'buffer before growing');

      assert.strictEqual(memory.grow(2), 0);

      const newBuffer = memory.buffer;
      assert.notStrictEqual(oldBuffer, newBuffer);
      assertArrayBuffer(oldBuffer, { detached: true }, 'old buffer after growing');
      assertArrayBuffer(newBuffer, { size: 2 }, 'new buffer after growing');
    });

    // WPT "Zero initial with valueOf"
    test('zero initial with valueOf for initial and delta', () => {
      const memory = new WA.Memory({ initial: { valueOf() { return 0; } } });
      const oldBuffer = memory.buffer;
      assertArrayBuffer(oldBuffer, { size: 0 });

      assert.strictEqual(memory.grow({ valueOf() { return 2; } }), 0);

      const newBuffer = memory.buffer;
      assert.notStrictEqual(oldBuffer, newBuffer);
      assertArrayBuffer(oldBuffer, { detached: true });
      assertArrayBuffer(newBuffer, { size: 2 });
    });

    // WPT "Non-zero initial"
    test('non-zero initial: grow returns the old size in pages', () => {
      const memory = new WA.Memory({ initial: 3 });
      const oldBuffer = memory.buffer;
      assertArrayBuffer(oldBuffer, { size: 3 });

      const result = memory.grow(2);
      assert.strictEqual(result, 3);
      assert.strictEqual(typeof result, 'number');

      const newBuffer = memory.buffer;
      assert.notStrictEqual(oldBuffer, newBuffer);
      assertArrayBuffer(oldBuffer, { detached: true });
      assertArrayBuffer(newBuffer, { size: 5 });
    });

    // WPT "Zero initial with respected maximum"
    test('growing up to the maximum', () => {
      const memory = new WA.Memory({ initial: 0, maximum: 2 });
      const oldBuffer = memory.buffer;
      assert.strictEqual(memory.grow(2), 0);
      assertArrayBuffer(oldBuffer, { detached: true });
      assertArrayBuffer(memory.buffer, { size: 2 });
    });

    // WPT "Zero initial with respected maximum grown twice"
    test('growing twice up to the maximum detaches each older buffer', () => {
      const memory = new WA.Memory({ initial: 0, maximum: 2 });
      const oldBuffer = memory.buffer;

      assert.strictEqual(memory.grow(1), 0);
      const newBuffer = memory.buffer;
      assert.notStrictEqual(oldBuffer, newBuffer);
      assertArrayBuffer(oldBuffer, { detached: true });
      assertArrayBuffer(newBuffer, { size: 1 });

      assert.strictEqual(memory.grow(1), 1);
      const newestBuffer = memory.buffer;
      assert.notStrictEqual(newBuffer, newestBuffer);
      assertArrayBuffer(oldBuffer, { detached: true });
      assertArrayBuffer(newBuffer, { detached: true });
      assertArrayBuffer(newestBuffer, { size: 2 });
    });

    // WPT "Zero initial growing too much"
    test('growing past the maximum: RangeError, buffer untouched', () => {
      const memory = new WA.Memory({ initial: 1, maximum: 2 });
      const oldBuffer = memory.buffer;
      fillPattern(oldBuffer, 0, PAGE, 7);

      assertThrows(() => memory.grow(2), RangeError);
      assert.strictEqual(memory.buffer, oldBuffer);
      assert.strictEqual(oldBuffer.byteLength, PAGE);
      assert.strictEqual(isDetached(oldBuffer), false);
      assert.ok(checkPattern(oldBuffer, 0, PAGE, 7), 'contents kept');

      assertThrows(() => memory.grow(0xffffffff), RangeError);
      assert.strictEqual(memory.buffer, oldBuffer);
      assert.ok(checkPattern(oldBuffer, 0, PAGE, 7), 'contents kept');

      // The memory can still grow within its maximum afterwards.
      assert.strictEqual(memory.grow(1), 1);
      assert.ok(checkPattern(memory.buffer, 0, PAGE, 7), 'contents kept after growing');
    });

    test('growing past 65536 pages without a maximum: RangeError, buffer untouched', () => {
      const memory = new WA.Memory({ initial: 1 });
      const oldBuffer = memory.buffer;
      new Uint8Array(oldBuffer)[10] = 10;
      for (const delta of [65536, 0xffffffff]) {
        assertThrows(() => memory.grow(delta), RangeError, undefined, `grow(${delta})`);
        assert.strictEqual(memory.buffer, oldBuffer);
        assert.strictEqual(oldBuffer.byteLength, PAGE);
        assert.strictEqual(new Uint8Array(oldBuffer)[10], 10);
      }
    });

    test('growing to exactly 65536 pages without a maximum succeeds or throws RangeError', () => {
      // 4 GiB of address space: some machines cannot reserve it.
      const memory = new WA.Memory({ initial: 0 });
      const oldBuffer = memory.buffer;
      let result;
      try {
        result = memory.grow(65536);
      } catch (error) {
        assert.strictEqual(error.constructor, RangeError, `${error.constructor.name}: ${error.message}`);
        assert.strictEqual(memory.buffer, oldBuffer);
        assert.strictEqual(oldBuffer.byteLength, 0);
        return;
      }
      assert.strictEqual(result, 0);
      assert.strictEqual(memory.buffer.byteLength, 65536 * PAGE);
      assertArrayBuffer(oldBuffer, { detached: true });
      const bytes = new Uint8Array(memory.buffer);
      assert.strictEqual(bytes[bytes.length - 1], 0);
      bytes[bytes.length - 1] = 1;
      assert.strictEqual(bytes[bytes.length - 1], 1);
      assertThrows(() => memory.grow(1), RangeError);
    });

    // WPT "Out-of-range argument"
    for (const delta of badDeltas) {
      test(`delta ${fmt(delta)}: TypeError, buffer untouched`, () => {
        const memory = new WA.Memory({ initial: 0 });
        const buffer = memory.buffer;
        assertThrows(() => memory.grow(delta), TypeError);
        assert.strictEqual(memory.buffer, buffer);
        assert.strictEqual(isDetached(buffer), false);
      });
    }

    test('delta conversion: fractions truncate, strings and booleans convert', () => {
      const memory = new WA.Memory({ initial: 0 });
      assert.strictEqual(memory.grow(1.9), 0);
      assert.strictEqual(memory.grow(-0), 1);
      assert.strictEqual(memory.grow('2'), 1);
      assert.strictEqual(memory.grow(true), 3);
      assert.strictEqual(memory.grow(null), 4);
      assert.strictEqual(memory.grow([1]), 4);
      assert.strictEqual(memory.buffer.byteLength, 5 * PAGE);
    });

    test('errors thrown by the delta valueOf propagate and change nothing', () => {
      const memory = new WA.Memory({ initial: 1 });
      const buffer = memory.buffer;
      const sentinel = new Error('from valueOf');
      assert.throws(() => memory.grow({ valueOf() { throw sentinel; } }), (e) => e === sentinel);
      assert.strictEqual(memory.buffer, buffer);
      assert.strictEqual(buffer.byteLength, PAGE);
    });

    // WPT "Stray argument"
    test('stray arguments are ignored', () => {
      const memory = new WA.Memory({ initial: 0 });
      const oldBuffer = memory.buffer;
      assert.strictEqual(memory.grow(2, {}), 0);
      assertArrayBuffer(oldBuffer, { detached: true });
      assertArrayBuffer(memory.buffer, { size: 2 });
    });

    test('grow(0) returns the size and still replaces the buffer', () => {
      const memory = new WA.Memory({ initial: 1 });
      const oldBuffer = memory.buffer;
      new Uint8Array(oldBuffer)[100] = 99;
      assert.strictEqual(memory.grow(0), 1);
      const newBuffer = memory.buffer;
      assert.notStrictEqual(newBuffer, oldBuffer);
      assertArrayBuffer(oldBuffer, { detached: true });
      assert.strictEqual(newBuffer.byteLength, PAGE);
      assert.strictEqual(new Uint8Array(newBuffer)[100], 99);
    });

    test('grow(0) on a zero-page memory detaches the empty buffer', () => {
      const memory = new WA.Memory({ initial: 0, maximum: 0 });
      const oldBuffer = memory.buffer;
      assert.strictEqual(memory.grow(0), 0);
      assert.notStrictEqual(memory.buffer, oldBuffer);
      assertArrayBuffer(oldBuffer, { detached: true });
      assertArrayBuffer(memory.buffer, { size: 0 });
      assertThrows(() => memory.grow(1), RangeError);
    });

    test('views on the old buffer see a detached buffer after grow', () => {
      const memory = new WA.Memory({ initial: 1 });
      const oldBuffer = memory.buffer;
      const u8 = new Uint8Array(oldBuffer);
      const f64 = new Float64Array(oldBuffer, 8, 4);
      const view = new DataView(oldBuffer);
      u8[5] = 7;
      memory.grow(1);

      assert.strictEqual(u8.length, 0);
      assert.strictEqual(u8.byteLength, 0);
      assert.strictEqual(u8[5], undefined);
      u8[5] = 9; // ignored
      assert.strictEqual(u8[5], undefined);
      assert.strictEqual(f64.length, 0);
      assertThrows(() => view.getUint8(0), TypeError);
      assertThrows(() => view.byteLength, TypeError);
      assertThrows(() => new Uint8Array(oldBuffer), TypeError);
      assertThrows(() => oldBuffer.slice(0), TypeError);
      assert.strictEqual(new Uint8Array(memory.buffer)[5], 7);
    });

    test('new buffer keeps old contents and the new pages are zero', () => {
      const memory = new WA.Memory({ initial: 2, maximum: 8 });
      const before = memory.buffer;
      fillPattern(before, 0, 2 * PAGE, 3);
      new DataView(before).setFloat64(2 * PAGE - 8, Math.PI, true);

      assert.strictEqual(memory.grow(3), 2);
      const after = memory.buffer;
      assert.strictEqual(after.byteLength, 5 * PAGE);
      assert.ok(checkPattern(after, 0, 2 * PAGE - 8, 3), 'old pages kept');
      assert.strictEqual(new DataView(after).getFloat64(2 * PAGE - 8, true), Math.PI);
      assert.ok(new Uint8Array(after, 2 * PAGE).every((byte) => byte === 0), 'new pages zero');
    });

    test('many successive grows keep contents and detach every older buffer', () => {
      const memory = new WA.Memory({ initial: 0, maximum: 20 });
      const buffers = [memory.buffer];
      for (let i = 0; i < 20; i++) {
        assert.strictEqual(memory.grow(1), i);
        const buffer = memory.buffer;
        new Uint32Array(buffer)[(i * PAGE) / 4] = 0xdead0000 + i;
        buffers.push(buffer);
      }
      const words = new Uint32Array(memory.buffer);
      for (let i = 0; i < 20; i++) assert.strictEqual(words[(i * PAGE) / 4], 0xdead0000 + i);
      for (const buffer of buffers.slice(0, -1)) assertArrayBuffer(buffer, { detached: true });
      assertThrows(() => memory.grow(1), RangeError);
      assert.strictEqual(memory.buffer, buffers[buffers.length - 1]);
    });

    // The delta is converted before the size is read: a valueOf that grows the
    // same memory first makes grow return the size after that inner grow.
    test('delta valueOf that grows the same memory first', () => {
      const memory = new WA.Memory({ initial: 1, maximum: 5 });
      const first = memory.buffer;
      let inner;
      let second;
      const result = memory.grow({
        valueOf() {
          inner = memory.grow(1);
          second = memory.buffer;
          return 1;
        },
      });
      assert.strictEqual(inner, 1);
      assert.strictEqual(result, 2);
      assert.strictEqual(memory.buffer.byteLength, 3 * PAGE);
      assertArrayBuffer(first, { detached: true });
      assertArrayBuffer(second, { detached: true });
      assert.notStrictEqual(memory.buffer, second);
    });

    test('delta valueOf that grows the memory to its maximum: RangeError after', () => {
      const memory = new WA.Memory({ initial: 1, maximum: 2 });
      let grown;
      assertThrows(() => memory.grow({
        valueOf() {
          memory.grow(1);
          grown = memory.buffer;
          return 1;
        },
      }), RangeError);
      assert.strictEqual(memory.buffer, grown);
      assert.strictEqual(memory.buffer.byteLength, 2 * PAGE);
    });

    test('grow is a method of the prototype and works through call', () => {
      const memory = new WA.Memory({ initial: 1 });
      assert.strictEqual(Object.hasOwn(memory, 'grow'), false);
      assert.strictEqual(WA.Memory.prototype.grow.call(memory, 1), 1);
      assert.strictEqual(Reflect.apply(WA.Memory.prototype.grow, memory, [1]), 2);
      assert.strictEqual(memory.buffer.byteLength, 3 * PAGE);
    });

    test('an own "grow" property on the instance does not matter to the method', () => {
      const memory = new WA.Memory({ initial: 1 });
      memory.grow = () => 'shadowed';
      assert.strictEqual(memory.grow(1), 'shadowed');
      assert.strictEqual(WA.Memory.prototype.grow.call(memory, 1), 1);
    });

    // WPT "Growing shared memory does not detach old buffer"
    test('growing shared memory does not detach the old buffer', () => {
      const memory = new WA.Memory({ initial: 1, maximum: 2, shared: true });
      const oldBuffer = memory.buffer;
      assertArrayBuffer(oldBuffer, { size: 1, shared: true });

      assert.strictEqual(memory.grow(1), 1);

      const newBuffer = memory.buffer;
      assert.notStrictEqual(oldBuffer, newBuffer);
      assertArrayBuffer(oldBuffer, { size: 1, shared: true });
      assertArrayBuffer(newBuffer, { size: 2, shared: true });

      // Same underlying data.
      const oldArray = new Uint8Array(oldBuffer);
      const newArray = new Uint8Array(newBuffer);
      oldArray[0] = 1;
      assert.strictEqual(newArray[0], 1);
      newArray[PAGE - 1] = 2;
      assert.strictEqual(oldArray[PAGE - 1], 2);
      assertThrows(() => memory.grow(1), RangeError);
    });
  });
}
