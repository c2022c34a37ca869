// The shape of the namespace and of WebAssembly.Memory: the Memory parts of
// WPT wasm/jsapi/interface.any.js, and memory/toString.any.js.
const { describe } = require('node:test');
const assert = require('node:assert');
const { impls } = require('./impls');
const { assertThrows, assertFunctionName, assertFunctionLength } = require('./helpers');
const { testFor } = require('./known-differences');

const builtinProtoKeys = Reflect.ownKeys(globalThis.WebAssembly.Memory.prototype);

for (const [name, WA] of impls) {
  describe(name, () => {
    const test = testFor('interface', WA);
    test('the namespace is a plain, non-callable object', () => {
      assert.strictEqual(typeof WA, 'object');
      assert.strictEqual(Object.getPrototypeOf(WA), Object.prototype);
      // WPT "WebAssembly: calling" / "WebAssembly: constructing"
      assertThrows(() => WA(), TypeError);
      assertThrows(() => new WA(), TypeError);
    });

    test('namespace [Symbol.toStringTag] is "WebAssembly"', () => {
      assert.strictEqual(WA[Symbol.toStringTag], 'WebAssembly');
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA, Symbol.toStringTag),
        { value: 'WebAssembly', writable: false, enumerable: false, configurable: true });
      assert.strictEqual(Object.prototype.toString.call(WA), '[object WebAssembly]');
    });

    // WPT "WebAssembly.Memory: property descriptor"
    test('WebAssembly.Memory property descriptor', () => {
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA, 'Memory'),
        { value: WA.Memory, writable: true, enumerable: false, configurable: true });
      assert.strictEqual(typeof WA.Memory, 'function');
      assert.strictEqual(Object.getPrototypeOf(WA.Memory), Function.prototype);
    });

    test('Memory.name and Memory.length', () => {
      assertFunctionName(WA.Memory, 'Memory');
      assertFunctionLength(WA.Memory, 1);
    });

    // WPT "WebAssembly.Memory: prototype"
    test('Memory.prototype property descriptor', () => {
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA.Memory, 'prototype'),
        { value: WA.Memory.prototype, writable: false, enumerable: false, configurable: false });
      assert.strictEqual(Object.getPrototypeOf(WA.Memory.prototype), Object.prototype);
    });

    // WPT "WebAssembly.Memory: prototype.constructor"
    test('Memory.prototype.constructor property descriptor', () => {
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA.Memory.prototype, 'constructor'),
        { value: WA.Memory, writable: true, enumerable: false, configurable: true });
    });

    test('own keys of Memory.prototype, in order (as the built-in)', () => {
      const keys = Reflect.ownKeys(WA.Memory.prototype);
      assert.deepStrictEqual(keys, builtinProtoKeys);
      // The standard members come first, in this order, and the class string last, on every Node so far
      // (Node 26 adds toFixedLengthBuffer and toResizableBuffer before it).
      assert.deepStrictEqual(keys.slice(0, 3), ['constructor', 'grow', 'buffer']);
      assert.strictEqual(keys.at(-1), Symbol.toStringTag);
    });

    // WPT "WebAssembly.Memory.grow"
    test('grow property descriptor', () => {
      const desc = Object.getOwnPropertyDescriptor(WA.Memory.prototype, 'grow');
      assert.strictEqual(typeof desc.value, 'function');
      assert.deepStrictEqual(desc,
        { value: WA.Memory.prototype.grow, writable: true, enumerable: true, configurable: true });
    });

    // WPT "WebAssembly.Memory.grow: name" / ": length"
    test('grow.name is "grow" and grow.length is 1', () => {
      assertFunctionName(WA.Memory.prototype.grow, 'grow');
      assertFunctionLength(WA.Memory.prototype.grow, 1);
    });

    test('grow is not a constructor', () => {
      const memory = new WA.Memory({ initial: 0 });
      assertThrows(() => new memory.grow(1), TypeError);
      assert.strictEqual(Object.hasOwn(WA.Memory.prototype.grow, 'prototype'), false);
      assert.deepStrictEqual(Reflect.ownKeys(WA.Memory.prototype.grow), ['length', 'name']);
    });

    // WPT "WebAssembly.Memory.buffer"
    test('buffer property descriptor: enumerable, configurable accessor', () => {
      const desc = Object.getOwnPropertyDescriptor(WA.Memory.prototype, 'buffer');
      assert.strictEqual(typeof desc, 'object');
      assert.strictEqual(desc.enumerable, true);
      assert.strictEqual(desc.configurable, true);
      assert.strictEqual(Object.hasOwn(desc, 'value'), false);
      assert.strictEqual(Object.hasOwn(desc, 'writable'), false);
    });

    // WPT "WebAssembly.Memory.buffer: getter"
    test('buffer getter: name "get buffer", length 0', () => {
      const { get } = Object.getOwnPropertyDescriptor(WA.Memory.prototype, 'buffer');
      assert.strictEqual(typeof get, 'function');
      assertFunctionName(get, 'get buffer');
      assertFunctionLength(get, 0);
      assertThrows(() => new get(), TypeError);
      assert.deepStrictEqual(Reflect.ownKeys(get), ['length', 'name']);
    });

    // WPT "WebAssembly.Memory.buffer: setter"
    test('buffer has no setter', () => {
      const desc = Object.getOwnPropertyDescriptor(WA.Memory.prototype, 'buffer');
      assert.strictEqual(Object.hasOwn(desc, 'set'), true);
      assert.strictEqual(desc.set, undefined);
    });

    // memory/toString.any.js "@@toStringTag exists on the prototype with the
    // appropriate descriptor"
    test('Memory.prototype[Symbol.toStringTag]', () => {
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA.Memory.prototype, Symbol.toStringTag),
        { value: 'WebAssembly.Memory', writable: false, enumerable: false, configurable: true });
    });

    // memory/toString.any.js "Object.prototype.toString on an Memory"
    test('Object.prototype.toString on a Memory', () => {
      const memory = new WA.Memory({ initial: 0 });
      assert.strictEqual(Object.prototype.toString.call(memory), '[object WebAssembly.Memory]');
      assert.strictEqual(String(memory), '[object WebAssembly.Memory]');
      assert.strictEqual(`${memory}`, '[object WebAssembly.Memory]');
      assert.strictEqual(memory + '', '[object WebAssembly.Memory]');
      assert.strictEqual(Object.prototype.toString.call(WA.Memory.prototype), '[object WebAssembly.Memory]');
    });

    test('instances inherit everything from Memory.prototype', () => {
      const memory = new WA.Memory({ initial: 0 });
      assert.strictEqual(Object.getPrototypeOf(memory), WA.Memory.prototype);
      assert.ok(memory instanceof WA.Memory);
      assert.strictEqual(memory.constructor, WA.Memory);
      assert.strictEqual(memory.grow, WA.Memory.prototype.grow);
      assert.deepStrictEqual(Reflect.ownKeys(memory), []);
      assert.deepStrictEqual(Object.keys(memory), []);
      const enumerated = [];
      for (const key in memory) enumerated.push(key);
      // The prototype's string keys but `constructor`: every member is enumerable.
      assert.deepStrictEqual(enumerated, builtinProtoKeys.filter((key) => typeof key === 'string' && key !== 'constructor'));
    });
  });
}
