// The WebAssembly.Memory constructor: WPT wasm/jsapi/memory/constructor.any.js
// and constructor-shared.tentative.any.js, plus WebIDL [EnforceRange]
// conversions, property read order, newTarget and subclassing.
const { describe } = require('node:test');
const assert = require('node:assert');
const { impls, needsBuiltin } = require('./impls');
const { testFor } = require('./known-differences');
const {
  PAGE, PROPOSAL_KEYS, fmt, assertThrows, assertMemory, assertArrayBuffer,
  assertFunctionName, assertFunctionLength,
} = require('./helpers');

// Values that [EnforceRange] unsigned long rejects with a TypeError.
// WPT "Out-of-range initial/maximum value in descriptor" plus more.
const notUnsignedLong = [
  NaN,
  Infinity,
  -Infinity,
  -1,
  -0.5, // the spec would truncate this to 0; V8 (all of Node 20-24) rejects it
  0x100000000, // 2**32
  0x100000000 + 0.5,
  0x1000000000,
  Number.MAX_VALUE,
  'abc',
  {},
  { valueOf() { return NaN; } },
  { valueOf() { return -1; } },
  { valueOf() { return 2 ** 32; } },
  Symbol('initial'),
  1n,
];

// Values that convert to a page count, and the count they convert to.
const convertible = [
  [0, 0],
  [-0, 0],
  [1, 1],
  [1.1, 1],
  [1.9, 1],
  [2.99999, 2],
  ['2', 2],
  ['  3  ', 3],
  ['0x2', 2],
  ['', 0],
  [null, 0],
  [false, 0],
  [true, 1],
  [[3], 3],
  [[], 0],
  [{ valueOf() { return 2; } }, 2],
  [{ toString() { return '1'; } }, 1],
  [new Number(2), 2],
];

for (const [name, WA] of impls) {
  describe(name, () => {
    // Our tests listed in known-differences.js assert the difference instead.
    const test = testFor('constructor', WA);

    // WPT "name"
    test('Memory.name is "Memory"', () => {
      assertFunctionName(WA.Memory, 'Memory');
    });

    // WPT "length"
    test('Memory.length is 1', () => {
      assertFunctionLength(WA.Memory, 1);
    });

    // WPT "No arguments"
    test('no arguments: TypeError', () => {
      assertThrows(() => new WA.Memory(), TypeError);
    });

    // WPT "Calling"
    test('calling without new: TypeError', () => {
      const argument = { initial: 0 };
      assertThrows(() => WA.Memory(argument), TypeError, /new/);
      assertThrows(() => WA.Memory.call({}, argument), TypeError, /new/);
      assertThrows(() => WA.Memory.apply(undefined, [argument]), TypeError, /new/);
      assertThrows(() => Reflect.apply(WA.Memory, WA, [argument]), TypeError, /new/);
    });

    test('calling without new does not read the descriptor', () => {
      const reads = [];
      const descriptor = { get initial() { reads.push('initial'); return 0; } };
      assertThrows(() => WA.Memory(descriptor), TypeError);
      assert.deepStrictEqual(reads, []);
    });

    // WPT "Invalid descriptor argument"
    for (const invalid of [undefined, null, false, true, '', 'test', Symbol(), 1, NaN, 1n, {}]) {
      test(`invalid descriptor ${fmt(invalid)}: TypeError`, () => {
        assertThrows(() => new WA.Memory(invalid), TypeError);
      });
    }

    // WPT "Undefined initial value in descriptor"
    test('missing or undefined initial: TypeError', () => {
      assertThrows(() => new WA.Memory({}), TypeError, /initial/);
      assertThrows(() => new WA.Memory({ initial: undefined }), TypeError, /initial/);
      assertThrows(() => new WA.Memory({ maximum: 1 }), TypeError, /initial/);
      assertThrows(() => new WA.Memory({ initial: undefined, maximum: 1 }), TypeError, /initial/);
    });

    // WPT "Out-of-range initial value in descriptor" / "Out-of-range maximum
    // value in descriptor", extended with the other [EnforceRange] failures.
    for (const value of notUnsignedLong) {
      test(`initial ${fmt(value)}: TypeError`, () => {
        assertThrows(() => new WA.Memory({ initial: value }), TypeError);
      });

      test(`maximum ${fmt(value)}: TypeError`, () => {
        assertThrows(() => new WA.Memory({ initial: 0, maximum: value }), TypeError);
      });
    }

    test('initial or maximum valueOf returning an object: TypeError', () => {
      const bad = { valueOf() { return {}; }, toString() { return {}; } };
      assertThrows(() => new WA.Memory({ initial: bad }), TypeError);
      assertThrows(() => new WA.Memory({ initial: 0, maximum: bad }), TypeError);
    });

    test('conversion errors thrown by user code propagate unchanged', () => {
      class Custom extends Error {}
      const sentinel = new Custom('from valueOf');
      const throwing = { valueOf() { throw sentinel; } };
      assert.throws(() => new WA.Memory({ initial: throwing }), (e) => e === sentinel);
      assert.throws(() => new WA.Memory({ initial: 0, maximum: throwing }), (e) => e === sentinel);
      const fromGetter = new Custom('from getter');
      assert.throws(() => new WA.Memory({ get initial() { throw fromGetter; } }), (e) => e === fromGetter);
      assert.throws(() => new WA.Memory({ initial: 0, get maximum() { throw fromGetter; } }),
        (e) => e === fromGetter);
      assert.throws(() => new WA.Memory({ initial: 0, maximum: 1, get shared() { throw fromGetter; } }),
        (e) => e === fromGetter);
    });

    // [EnforceRange] unsigned long: values are truncated towards zero.
    for (const [value, pages] of convertible) {
      test(`initial ${fmt(value)} converts to ${pages} page(s)`, () => {
        const memory = new WA.Memory({ initial: value });
        assertMemory(WA, memory, { size: pages });
      });
    }

    test('maximum is truncated too (maximum 1.9 allows 1 page)', () => {
      const memory = new WA.Memory({ initial: 0, maximum: 1.9 });
      assert.strictEqual(memory.grow(1), 0);
      assertThrows(() => memory.grow(1), RangeError);
      assert.strictEqual(memory.buffer.byteLength, PAGE);
    });

    test('maximum: undefined is the same as no maximum', () => {
      const memory = new WA.Memory({ initial: 1, maximum: undefined });
      assertMemory(WA, memory, { size: 1 });
      assert.strictEqual(memory.grow(3), 1);
      assert.strictEqual(memory.buffer.byteLength, 4 * PAGE);
    });

    // Limits: 65536 pages.
    for (const value of [65537, 100000, 0xffffffff]) {
      test(`initial ${value} (> 65536 pages): RangeError`, () => {
        assertThrows(() => new WA.Memory({ initial: value }), RangeError, /initial/);
      });

      test(`maximum ${value} (> 65536 pages): RangeError`, () => {
        assertThrows(() => new WA.Memory({ initial: 0, maximum: value }), RangeError, /maximum/);
      });
    }

    test('maximum 65536 is allowed', () => {
      const memory = new WA.Memory({ initial: 0, maximum: 65536 });
      assertMemory(WA, memory, { size: 0 });
    });

    // WPT "Initial value exceeds maximum"
    test('maximum below initial: RangeError', () => {
      assertThrows(() => new WA.Memory({ initial: 10, maximum: 9 }), RangeError, /maximum/);
      assertThrows(() => new WA.Memory({ initial: 1, maximum: 0 }), RangeError, /maximum/);
    });

    test('maximum equal to initial is allowed', () => {
      const memory = new WA.Memory({ initial: 2, maximum: 2 });
      assertMemory(WA, memory, { size: 2 });
      assert.strictEqual(memory.grow(0), 2);
      assertThrows(() => memory.grow(1), RangeError);
    });

    // WPT "Proxy descriptor": only [[Get]] is used, never [[HasProperty]].
    test('descriptor is read with [[Get]] only', () => {
      const gets = [];
      const proxy = new Proxy({}, {
        has(target, key) {
          assert.fail(`[[HasProperty]] called with ${String(key)}`);
        },
        get(target, key) {
          gets.push(key);
          switch (key) {
            case 'shared': return false;
            case 'initial':
            case 'maximum': return 0;
            default: return undefined;
          }
        },
        getOwnPropertyDescriptor(target, key) {
          assert.fail(`[[GetOwnProperty]] called with ${String(key)}`);
        },
        ownKeys() {
          assert.fail('[[OwnPropertyKeys]] called');
        },
      });
      const memory = new WA.Memory(proxy);
      assertMemory(WA, memory, { size: 0 });
      assert.deepStrictEqual(gets.filter((k) => !PROPOSAL_KEYS.has(k)), ['initial', 'maximum', 'shared']);
    });

    // WPT "Order of evaluation for descriptor": each property is read, then
    // converted, before the next one is read.
    test('order of evaluation for descriptor', () => {
      const order = [];
      const record = (key, value) => ({
        valueOf() {
          order.push(`${key} valueOf`);
          return value;
        },
      });
      const descriptor = new Proxy({
        get maximum() { return record('maximum', 1); },
        get initial() { return record('initial', 1); },
        get shared() { return false; },
      }, {
        get(target, key, receiver) {
          if (!PROPOSAL_KEYS.has(key)) order.push(key);
          return Reflect.get(target, key, receiver);
        },
      });
      new WA.Memory(descriptor);
      assert.deepStrictEqual(order, ['initial', 'initial valueOf', 'maximum', 'maximum valueOf', 'shared']);
    });

    // WPT constructor-shared.tentative.any.js "Order of evaluation for
    // descriptor (with shared)": `shared` is only ToBoolean'd, so the valueOf
    // of an object value is never called (and the object makes it true).
    test('order of evaluation for descriptor (with shared)', () => {
      const order = [];
      new WA.Memory({
        get maximum() {
          order.push('maximum');
          return { valueOf() { order.push('maximum valueOf'); return 1; } };
        },
        get initial() {
          order.push('initial');
          return { valueOf() { order.push('initial valueOf'); return 1; } };
        },
        get shared() {
          order.push('shared');
          return { valueOf() { order.push('shared valueOf'); return false; } };
        },
      });
      assert.deepStrictEqual(order, ['initial', 'initial valueOf', 'maximum', 'maximum valueOf', 'shared']);
    });

    test('order of evaluation matches the built-in of this Node', { skip: needsBuiltin }, () => {
      const run = (Memory) => {
        const order = [];
        const descriptor = {};
        for (const key of ['shared', 'maximum', 'initial', 'index', 'address']) {
          Object.defineProperty(descriptor, key, {
            get() {
              order.push(key);
              if (key === 'shared') return false;
              if (key === 'index' || key === 'address') return undefined;
              return { valueOf() { order.push(`${key} valueOf`); return 1; } };
            },
          });
        }
        new Memory(descriptor);
        return order.filter((k) => !PROPOSAL_KEYS.has(k));
      };
      assert.deepStrictEqual(run(WA.Memory), run(globalThis.WebAssembly.Memory));
    });

    test('a TypeError converting initial stops before maximum is read', () => {
      for (const bad of [NaN, -1, 2 ** 32, Symbol(), 1n]) {
        const order = [];
        const descriptor = {
          get initial() { order.push('initial'); return bad; },
          get maximum() { order.push('maximum'); return 1; },
          get shared() { order.push('shared'); return false; },
        };
        assertThrows(() => new WA.Memory(descriptor), TypeError, undefined, fmt(bad));
        assert.deepStrictEqual(order, ['initial'], fmt(bad));
      }
    });

    test('a TypeError converting maximum stops before shared is read', () => {
      const order = [];
      const descriptor = {
        get initial() { order.push('initial'); return 0; },
        get maximum() { order.push('maximum'); return NaN; },
        get shared() { order.push('shared'); return false; },
      };
      assertThrows(() => new WA.Memory(descriptor), TypeError, /maximum/);
      assert.deepStrictEqual(order, ['initial', 'maximum']);
    });

    test('reads made before a RangeError follow the built-in of this Node', () => {
      const run = (Memory, initial, maximum) => {
        const order = [];
        const descriptor = {
          get initial() { order.push('initial'); return initial; },
          get maximum() { order.push('maximum'); return maximum; },
          get shared() { order.push('shared'); return false; },
        };
        let error;
        try {
          new Memory(descriptor);
        } catch (e) {
          error = e;
        }
        return { order, error: error && error.constructor };
      };
      for (const [initial, maximum] of [[65537, 1], [1, 65537], [2, 1]]) {
        const ours = run(WA.Memory, initial, maximum);
        assert.strictEqual(ours.error, RangeError);
        assert.deepStrictEqual(ours, run(globalThis.WebAssembly.Memory, initial, maximum),
          `initial ${initial}, maximum ${maximum}`);
      }
    });

    test('descriptor may be a function object', () => {
      const descriptor = function descriptor() {};
      descriptor.initial = 1;
      descriptor.maximum = 2;
      const memory = new WA.Memory(descriptor);
      assertMemory(WA, memory, { size: 1 });
      assert.strictEqual(memory.grow(1), 1);
      assertThrows(() => memory.grow(1), RangeError);
    });

    test('descriptor properties may be inherited', () => {
      const descriptor = Object.create(Object.create({ maximum: 3 }, {
        initial: { get() { return 2; }, enumerable: false },
      }));
      const memory = new WA.Memory(descriptor);
      assertMemory(WA, memory, { size: 2 });
      assert.strictEqual(memory.grow(1), 2);
      assertThrows(() => memory.grow(1), RangeError);
    });

    test('descriptor may be an array or another exotic object', () => {
      const array = [];
      array.initial = 1;
      assertMemory(WA, new WA.Memory(array), { size: 1 });
      const date = new Date();
      date.initial = 2;
      assertMemory(WA, new WA.Memory(date), { size: 2 });
    });

    test('getters on the descriptor see the descriptor as this', () => {
      const descriptor = {
        pages: 3,
        get initial() { return this.pages; },
      };
      assertMemory(WA, new WA.Memory(descriptor), { size: 3 });
    });

    // WPT "Zero initial"
    test('zero initial: empty ArrayBuffer', () => {
      const memory = new WA.Memory({ initial: 0 });
      assertMemory(WA, memory, { size: 0 });
      assert.strictEqual(memory.buffer.byteLength, 0);
    });

    // WPT "Non-zero initial"
    test('non-zero initial: pages * 65536 zeroed bytes', () => {
      const memory = new WA.Memory({ initial: 4 });
      assertMemory(WA, memory, { size: 4 });
      assert.ok(new Uint8Array(memory.buffer).every((byte) => byte === 0));
    });

    // WPT "Stray argument"
    test('stray arguments are ignored', () => {
      const memory = new WA.Memory({ initial: 0 }, {}, 'extra', 1);
      assertMemory(WA, memory, { size: 0 });
    });

    test('the descriptor is not kept or modified', () => {
      const descriptor = { initial: 1, maximum: 3 };
      const memory = new WA.Memory(descriptor);
      descriptor.maximum = 1;
      assert.deepStrictEqual(Object.keys(descriptor), ['initial', 'maximum']);
      assert.strictEqual(memory.grow(2), 1);
    });

    test('each construction makes a distinct memory and buffer', () => {
      const a = new WA.Memory({ initial: 1 });
      const b = new WA.Memory({ initial: 1 });
      assert.notStrictEqual(a, b);
      assert.notStrictEqual(a.buffer, b.buffer);
      new Uint8Array(a.buffer)[0] = 42;
      assert.strictEqual(new Uint8Array(b.buffer)[0], 0);
    });

    test('a new memory has no own properties and is extensible', () => {
      const memory = new WA.Memory({ initial: 0 });
      assert.deepStrictEqual(Reflect.ownKeys(memory), []);
      assert.ok(Object.isExtensible(memory));
      memory.extra = 1;
      assert.strictEqual(memory.extra, 1);
    });

    test('Reflect.construct with a newTarget: prototype comes from newTarget', () => {
      function NewTarget() {}
      const memory = Reflect.construct(WA.Memory, [{ initial: 1 }], NewTarget);
      assert.strictEqual(Object.getPrototypeOf(memory), NewTarget.prototype);
      // Still a real Memory: the brand checks pass.
      assert.strictEqual(WA.Memory.prototype.grow.call(memory, 1), 1);
      const getter = Object.getOwnPropertyDescriptor(WA.Memory.prototype, 'buffer').get;
      assert.strictEqual(getter.call(memory).byteLength, 2 * PAGE);
    });

    test('Reflect.construct reads newTarget.prototype as the built-in does (once, before the descriptor)', { skip: needsBuiltin }, () => {
      const order = [];
      const newTarget = new Proxy(function NewTarget() {}, {
        get(target, key, receiver) {
          order.push(`newTarget.${String(key)}`);
          return Reflect.get(target, key, receiver);
        },
      });
      const descriptor = { get initial() { order.push('initial'); return 0; } };
      Reflect.construct(WA.Memory, [descriptor], newTarget);
      const run = (Memory) => {
        const builtinOrder = [];
        const nt = new Proxy(function NewTarget() {}, {
          get(target, key, receiver) {
            builtinOrder.push(`newTarget.${String(key)}`);
            return Reflect.get(target, key, receiver);
          },
        });
        Reflect.construct(Memory, [{ get initial() { builtinOrder.push('initial'); return 0; } }], nt);
        return builtinOrder;
      };
      assert.deepStrictEqual(order, run(globalThis.WebAssembly.Memory));
    });

    test('Reflect.construct with a newTarget whose prototype is not an object', { skip: needsBuiltin }, () => {
      // The spec falls back to %WebAssembly.Memory.prototype%; V8 falls back
      // to %Object.prototype%. Follow the built-in of this Node.
      const fallback = (Memory) => {
        function NewTarget() {}
        NewTarget.prototype = 1;
        return Object.getPrototypeOf(Reflect.construct(Memory, [{ initial: 0 }], NewTarget));
      };
      const builtinProto = fallback(globalThis.WebAssembly.Memory);
      const expected = builtinProto === globalThis.WebAssembly.Memory.prototype
        ? WA.Memory.prototype
        : builtinProto;
      assert.strictEqual(fallback(WA.Memory), expected);
    });

    test('subclassing with class extends Memory', () => {
      class MyMemory extends WA.Memory {
        constructor(descriptor) {
          super(descriptor);
          this.label = 'mine';
        }

        pages() {
          return this.buffer.byteLength / PAGE;
        }
      }
      const memory = new MyMemory({ initial: 1, maximum: 3 });
      assert.strictEqual(Object.getPrototypeOf(memory), MyMemory.prototype);
      assert.ok(memory instanceof MyMemory);
      assert.ok(memory instanceof WA.Memory);
      assert.strictEqual(memory.label, 'mine');
      assert.strictEqual(memory.pages(), 1);
      assertArrayBuffer(memory.buffer, { size: 1 });
      assert.strictEqual(memory.grow(2), 1);
      assert.strictEqual(memory.pages(), 3);
      assertThrows(() => memory.grow(1), RangeError);
      assert.strictEqual(Object.prototype.toString.call(memory), '[object WebAssembly.Memory]');
      // Errors from the base constructor surface through super().
      assertThrows(() => new MyMemory({}), TypeError);
      assertThrows(() => new MyMemory({ initial: 2, maximum: 1 }), RangeError);
    });

    test('a subclass that does not call super has no memory', () => {
      class NoSuper extends WA.Memory {
        constructor() {
          return Object.create(NoSuper.prototype);
        }
      }
      const fake = new NoSuper();
      assertThrows(() => fake.grow(1), TypeError);
      assertThrows(() => fake.buffer, TypeError);
    });

    // WPT constructor-shared.tentative.any.js "Shared memory without maximum"
    test('shared: true without maximum: TypeError', () => {
      assertThrows(() => new WA.Memory({ initial: 10, shared: true }), TypeError);
      assertThrows(() => new WA.Memory({ initial: 0, maximum: undefined, shared: true }), TypeError);
      // `shared` is converted with ToBoolean.
      assertThrows(() => new WA.Memory({ initial: 0, shared: 'no' }), TypeError);
    });

    test('falsy shared values make an ordinary memory', () => {
      for (const shared of [false, 0, '', null, undefined, NaN]) {
        assertMemory(WA, new WA.Memory({ initial: 1, shared }), { size: 1 });
      }
    });

    // WPT constructor-shared.tentative.any.js "Shared memory"
    test('shared: true with maximum: SharedArrayBuffer', () => {
      const memory = new WA.Memory({ initial: 4, maximum: 10, shared: true });
      assertMemory(WA, memory, { size: 4, shared: true });
    });
  });
}
