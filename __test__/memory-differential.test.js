// Differential test: each scenario runs against Node's built-in
// WebAssembly.Memory and against wasm-memory-rs; return values, byte
// contents (checksums), byteLengths and the classes of thrown errors must be
// the same. A second set of tests compares the error messages, which we aim
// to match with V8's ("WebAssembly.Memory(): Property 'initial' is required").
const { describe, test } = require('node:test');
const assert = require('node:assert');
const util = require('node:util');
const { builtin, ours, onlyBuiltin, needsBuiltin } = require('./impls');
const { PAGE, PROPOSAL_KEYS, fmt, isDetached, checksum, fillPattern, errorClass } = require('./helpers');
const { knownDifferences, applies, knownDifference } = require('./known-differences');

// ---------------------------------------------------------------------------
// Recording helpers: everything a scenario returns is plain data, so that the
// two runs can be compared with deepStrictEqual.


function bufferInfo(buffer) {
  let byteLength;
  try {
    byteLength = buffer.byteLength;
  } catch (error) {
    byteLength = `throws ${errorClass(error)}`;
  }
  return {
    type: Object.prototype.toString.call(buffer),
    byteLength,
    detached: isDetached(buffer),
    frozen: Object.isFrozen(buffer),
    extensible: Object.isExtensible(buffer),
    checksum: typeof byteLength === 'number' && byteLength > 0 && !isDetached(buffer) ? checksum(buffer) : null,
  };
}

function memoryInfo(memory) {
  const buffer = memory.buffer;
  return { pages: buffer.byteLength / PAGE, stable: memory.buffer === buffer, ...bufferInfo(buffer) };
}

// A getter-logging descriptor: `log` receives every property read (the
// memory64 / multi-memory reads of newer V8s are left out).
function logged(log, props) {
  const descriptor = {};
  for (const [key, value] of Object.entries(props)) {
    Object.defineProperty(descriptor, key, {
      enumerable: true,
      get() {
        log.push(key);
        return value;
      },
    });
  }
  return new Proxy(descriptor, {
    get(target, key, receiver) {
      if (typeof key === 'string' && !PROPOSAL_KEYS.has(key) && !(key in target)) log.push(`${key} (absent)`);
      return Reflect.get(target, key, receiver);
    },
  });
}

const numberLike = (log, key, value) => ({
  valueOf() {
    log.push(`${key}.valueOf`);
    return value;
  },
});

const PROTO_NAMES = (WA) => new Map([
  [WA.Memory.prototype, 'Memory.prototype'],
  [Object.prototype, 'Object.prototype'],
  [Function.prototype, 'Function.prototype'],
  [null, 'null'],
]);

// ---------------------------------------------------------------------------
// Scenarios. Each is [title, (t) => result]; t has:
//   WA        the namespace under test
//   other     the other implementation's namespace (for cross-brand checks)
//   attempt   runs fn and returns { ok: value } or { threw: class }, noting
//             the message for the message comparison
//   memoryInfo, bufferInfo (above)

// Values tried as initial, as maximum and as a grow delta.
const probeValues = [
  undefined, NaN, Infinity, -Infinity, -1, -0.5, -0, 1.9, '2', 'abc', null, true,
  { valueOf() { return 3; } }, Symbol('s'), 1n, 0xffffffff, 2 ** 32, 65537,
];

const scenarios = [];
const scenario = (title, run, options = {}) => scenarios.push({ title, run, ...options });

for (const value of probeValues) {
  scenario(`value ${fmt(value)} as initial, maximum and grow delta`, (t) => ({
    initial: t.attempt(() => memoryInfo(new t.WA.Memory({ initial: value }))),
    maximum: t.attempt(() => memoryInfo(new t.WA.Memory({ initial: 0, maximum: value }))),
    grow: t.attempt(() => {
      const memory = new t.WA.Memory({ initial: 1, maximum: 8 });
      const result = memory.grow(value);
      return { result, ...memoryInfo(memory) };
    }),
  }));
}

// Constructor ----------------------------------------------------------------

scenario('no descriptor', (t) => t.attempt(() => new t.WA.Memory()));

scenario('called without new', (t) => [
  t.attempt(() => t.WA.Memory({ initial: 0 })),
  t.attempt(() => t.WA.Memory.call({}, { initial: 0 })),
  t.attempt(() => t.WA.Memory()),
]);

scenario('non-object descriptors', (t) => [undefined, null, false, '', 'test', Symbol(), 1, NaN, 1n]
  .map((descriptor) => t.attempt(() => new t.WA.Memory(descriptor))));

scenario('descriptor without initial', (t) => [
  t.attempt(() => new t.WA.Memory({})),
  t.attempt(() => new t.WA.Memory({ initial: undefined })),
  t.attempt(() => new t.WA.Memory({ maximum: 1 })),
]);

scenario('descriptor with index: "i64"', (t) => [
  t.attempt(() => memoryInfo(new t.WA.Memory({ initial: 1, index: 'i64' }))),
  t.attempt(() => memoryInfo(new t.WA.Memory({ initial: 1n, index: 'i64' }))),
]);

scenario('descriptor with minimum instead of initial', (t) => [
  t.attempt(() => memoryInfo(new t.WA.Memory({ minimum: 1 }))),
  t.attempt(() => new t.WA.Memory({ minimum: 1, initial: 1 })),
]);

scenario('initial 0, 1, 4 and 16 pages', (t) => [0, 1, 4, 16]
  .map((initial) => t.attempt(() => memoryInfo(new t.WA.Memory({ initial })))));

scenario('maximum equal to initial', (t) => {
  const memory = new t.WA.Memory({ initial: 3, maximum: 3 });
  return [memoryInfo(memory), t.attempt(() => memory.grow(0)), t.attempt(() => memory.grow(1)), memoryInfo(memory)];
});

scenario('maximum below initial', (t) => [
  t.attempt(() => new t.WA.Memory({ initial: 2, maximum: 1 })),
  t.attempt(() => new t.WA.Memory({ initial: 1, maximum: 0 })),
  t.attempt(() => new t.WA.Memory({ initial: 65536, maximum: 65535 })),
]);

scenario('page limits on initial and maximum', (t) => [
  t.attempt(() => new t.WA.Memory({ initial: 65537 })),
  t.attempt(() => new t.WA.Memory({ initial: 0, maximum: 65537 })),
  t.attempt(() => new t.WA.Memory({ initial: 65537, maximum: 65537 })),
  t.attempt(() => memoryInfo(new t.WA.Memory({ initial: 0, maximum: 65536 }))),
]);

scenario('truncation of fractional initial and maximum', (t) => {
  const memory = new t.WA.Memory({ initial: 1.99, maximum: 2.99 });
  return [memoryInfo(memory), t.attempt(() => memory.grow(1)), t.attempt(() => memory.grow(1))];
});

scenario('shared without maximum', (t) => [true, 1, 'yes', {}]
  .map((shared) => t.attempt(() => new t.WA.Memory({ initial: 1, shared }))));

scenario('shared memory with maximum', (t) => {
  const memory = new t.WA.Memory({ initial: 1, maximum: 3, shared: true });
  const before = memory.buffer;
  new Uint8Array(before)[7] = 7;
  const grown = t.attempt(() => memory.grow(1));
  return {
    before: bufferInfo(before),
    grown,
    after: memoryInfo(memory),
    replaced: memory.buffer !== before,
    tooFar: t.attempt(() => memory.grow(2)),
  };
});

scenario('falsy shared values', (t) => [false, 0, '', null, undefined, NaN]
  .map((shared) => t.attempt(() => memoryInfo(new t.WA.Memory({ initial: 1, maximum: 2, shared })))));

scenario('descriptor is a function object', (t) => {
  const descriptor = () => {};
  descriptor.initial = 2;
  descriptor.maximum = 2;
  const memory = new t.WA.Memory(descriptor);
  return [memoryInfo(memory), t.attempt(() => memory.grow(1))];
});

scenario('descriptor properties are inherited', (t) => {
  const memory = new t.WA.Memory(Object.create({ initial: 1, maximum: 2 }));
  return [memoryInfo(memory), t.attempt(() => memory.grow(1)), t.attempt(() => memory.grow(1))];
});

scenario('property reads of a Proxy descriptor', (t) => {
  const traps = [];
  const proxy = new Proxy({ initial: 1, maximum: 2 }, {
    get(target, key, receiver) {
      if (!PROPOSAL_KEYS.has(key)) traps.push(`get ${String(key)}`);
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      traps.push(`has ${String(key)}`);
      return Reflect.has(target, key);
    },
    getOwnPropertyDescriptor(target, key) {
      traps.push(`getOwnPropertyDescriptor ${String(key)}`);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
  return { result: t.attempt(() => memoryInfo(new t.WA.Memory(proxy))), traps };
});

scenario('order of reads and conversions', (t) => {
  const log = [];
  const descriptor = logged(log, {
    initial: numberLike(log, 'initial', 1),
    maximum: numberLike(log, 'maximum', 2),
    shared: false,
  });
  return { result: t.attempt(() => memoryInfo(new t.WA.Memory(descriptor))), log };
});

scenario('order of reads when initial fails conversion (TypeError)', (t) => {
  const log = [];
  const descriptor = logged(log, { initial: numberLike(log, 'initial', NaN), maximum: 1, shared: false });
  return { result: t.attempt(() => new t.WA.Memory(descriptor)), log };
});

scenario('order of reads when initial is too large (RangeError)', (t) => {
  const log = [];
  const descriptor = logged(log, { initial: numberLike(log, 'initial', 65537), maximum: 1, shared: false });
  return { result: t.attempt(() => new t.WA.Memory(descriptor)), log };
});

scenario('order of reads when maximum is too large (RangeError)', (t) => {
  const log = [];
  const descriptor = logged(log, { initial: 0, maximum: numberLike(log, 'maximum', 70000), shared: false });
  return { result: t.attempt(() => new t.WA.Memory(descriptor)), log };
});

scenario('order of reads when maximum is below initial (RangeError)', (t) => {
  const log = [];
  const descriptor = logged(log, { initial: 3, maximum: numberLike(log, 'maximum', 2), shared: false });
  return { result: t.attempt(() => new t.WA.Memory(descriptor)), log };
});

scenario('order of reads for shared without maximum (TypeError)', (t) => {
  const log = [];
  const descriptor = logged(log, { initial: 1, shared: true });
  return { result: t.attempt(() => new t.WA.Memory(descriptor)), log };
});

scenario('errors thrown by descriptor getters and valueOf propagate unchanged', (t) => {
  class Custom extends Error {}
  const sentinel = new Custom('custom');
  const same = (fn) => {
    try {
      fn();
      return 'no throw';
    } catch (error) {
      return error === sentinel ? 'sentinel' : errorClass(error);
    }
  };
  return [
    same(() => new t.WA.Memory({ get initial() { throw sentinel; } })),
    same(() => new t.WA.Memory({ initial: { valueOf() { throw sentinel; } } })),
    same(() => new t.WA.Memory({ initial: 0, get maximum() { throw sentinel; } })),
    same(() => new t.WA.Memory({ initial: 0, maximum: { valueOf() { throw sentinel; } } })),
    same(() => new t.WA.Memory({ initial: 0, get shared() { throw sentinel; } })),
    same(() => new t.WA.Memory({ initial: 0 }).grow({ valueOf() { throw sentinel; } })),
  ];
});

scenario('valueOf and toString returning objects', (t) => {
  const bad = { valueOf() { return {}; }, toString() { return {}; } };
  return [
    t.attempt(() => new t.WA.Memory({ initial: bad })),
    t.attempt(() => new t.WA.Memory({ initial: 0, maximum: bad })),
    t.attempt(() => new t.WA.Memory({ initial: 0 }).grow(bad)),
  ];
});

scenario('Reflect.construct with a newTarget', (t) => {
  function NewTarget() {}
  const memory = Reflect.construct(t.WA.Memory, [{ initial: 1 }], NewTarget);
  const getter = Object.getOwnPropertyDescriptor(t.WA.Memory.prototype, 'buffer').get;
  return {
    protoIsNewTarget: Object.getPrototypeOf(memory) === NewTarget.prototype,
    grow: t.attempt(() => t.WA.Memory.prototype.grow.call(memory, 1)),
    buffer: t.attempt(() => bufferInfo(getter.call(memory))),
    tag: Object.prototype.toString.call(memory),
  };
});

scenario('Reflect.construct with newTargets whose prototype is not an object', (t) => {
  const names = PROTO_NAMES(t.WA);
  return [1, null, undefined, 'x'].map((proto) => {
    function NewTarget() {}
    NewTarget.prototype = proto;
    const memory = Reflect.construct(t.WA.Memory, [{ initial: 0 }], NewTarget);
    return names.get(Object.getPrototypeOf(memory)) || 'other';
  }).concat([(() => {
    const bound = function Target() {}.bind(null); // no prototype property
    return names.get(Object.getPrototypeOf(Reflect.construct(t.WA.Memory, [{ initial: 0 }], bound))) || 'other';
  })()]);
});

scenario('subclass of Memory', (t) => {
  class Sub extends t.WA.Memory {
    constructor(descriptor) {
      super(descriptor);
      this.extra = true;
    }
  }
  const memory = new Sub({ initial: 1, maximum: 2 });
  return {
    proto: Object.getPrototypeOf(memory) === Sub.prototype,
    instance: memory instanceof t.WA.Memory,
    keys: Reflect.ownKeys(memory),
    info: memoryInfo(memory),
    grow: [t.attempt(() => memory.grow(1)), t.attempt(() => memory.grow(1))],
    tag: String(memory),
    bad: t.attempt(() => new Sub({ initial: -1 })),
  };
});

scenario('stray constructor and grow arguments', (t) => {
  const memory = new t.WA.Memory({ initial: 0 }, { initial: 5 }, 7);
  return [memoryInfo(memory), t.attempt(() => memory.grow(1, 100)), memoryInfo(memory)];
});

// grow -----------------------------------------------------------------------

scenario('grow() without argument', (t) => {
  const memory = new t.WA.Memory({ initial: 1 });
  return [t.attempt(() => memory.grow()), memoryInfo(memory)];
});

scenario('sequence of grows up to the maximum and past it', (t) => {
  const memory = new t.WA.Memory({ initial: 0, maximum: 3 });
  const steps = [];
  for (let i = 0; i < 5; i++) {
    const before = memory.buffer;
    steps.push({ grow: t.attempt(() => memory.grow(1)), old: bufferInfo(before), now: memoryInfo(memory) });
  }
  return steps;
});

scenario('grow(0) returns the size and replaces the buffer', (t) => {
  const memory = new t.WA.Memory({ initial: 2 });
  const before = memory.buffer;
  fillPattern(before, 0, 4096, 2);
  const result = memory.grow(0);
  return { result, replaced: memory.buffer !== before, old: bufferInfo(before), now: memoryInfo(memory) };
});

scenario('grow(0) on a zero-page memory with maximum 0', (t) => {
  const memory = new t.WA.Memory({ initial: 0, maximum: 0 });
  const before = memory.buffer;
  return {
    zero: t.attempt(() => memory.grow(0)),
    one: t.attempt(() => memory.grow(1)),
    old: bufferInfo(before),
    now: memoryInfo(memory),
  };
});

scenario('failed grow past the maximum keeps buffer and contents', (t) => {
  const memory = new t.WA.Memory({ initial: 1, maximum: 2 });
  const before = memory.buffer;
  fillPattern(before, 0, PAGE, 5);
  return {
    results: [2, 3, 65536, 0xffffffff].map((delta) => t.attempt(() => memory.grow(delta))),
    same: memory.buffer === before,
    now: memoryInfo(memory),
  };
});

scenario('grow past 65536 pages without a maximum', (t) => {
  const memory = new t.WA.Memory({ initial: 1 });
  const before = memory.buffer;
  return {
    results: [65536, 65537, 0xffffffff].map((delta) => t.attempt(() => memory.grow(delta))),
    same: memory.buffer === before,
    now: memoryInfo(memory),
  };
});

scenario('delta conversions that succeed', (t) => {
  const memory = new t.WA.Memory({ initial: 0, maximum: 100 });
  const results = [0.5, 1.5, '1', ' 2 ', '0x1', true, false, null, [1], [], -0, new Number(1)]
    .map((delta) => t.attempt(() => memory.grow(delta)));
  return { results, now: memoryInfo(memory) };
});

scenario('delta valueOf grows the same memory first', (t) => {
  const memory = new t.WA.Memory({ initial: 1, maximum: 5 });
  const log = [];
  const result = t.attempt(() => memory.grow({
    valueOf() {
      log.push(memory.grow(1));
      return 2;
    },
  }));
  return { result, log, now: memoryInfo(memory) };
});

scenario('delta valueOf grows the memory to its maximum first', (t) => {
  const memory = new t.WA.Memory({ initial: 1, maximum: 2 });
  const result = t.attempt(() => memory.grow({
    valueOf() {
      memory.grow(1);
      return 1;
    },
  }));
  return { result, now: memoryInfo(memory) };
});

scenario('contents survive grow; new pages are zero', (t) => {
  const memory = new t.WA.Memory({ initial: 3, maximum: 10 });
  const view = new DataView(memory.buffer);
  for (let i = 0; i < 3 * PAGE; i += 997) view.setUint32(i, i * 2654435761, true);
  view.setFloat64(3 * PAGE - 8, -0.1, false);
  const before = memoryInfo(memory);
  const result = memory.grow(4);
  new Uint16Array(memory.buffer)[(5 * PAGE) / 2] = 0xbeef;
  return { before, result, after: memoryInfo(memory) };
});

scenario('views on a detached buffer', (t) => {
  const memory = new t.WA.Memory({ initial: 1 });
  const buffer = memory.buffer;
  const u8 = new Uint8Array(buffer);
  const dv = new DataView(buffer);
  u8[3] = 3;
  memory.grow(1);
  u8[4] = 4;
  return {
    length: u8.length,
    byteLength: u8.byteLength,
    read: u8[3],
    getUint8: t.attempt(() => dv.getUint8(0)),
    construct: t.attempt(() => new Uint8Array(buffer)),
    slice: t.attempt(() => buffer.slice(0)),
    now: memoryInfo(memory),
  };
});

scenario('grow brand checks', (t) => {
  const memory = new t.WA.Memory({ initial: 0 });
  const revocable = Proxy.revocable(memory, {});
  revocable.revoke();
  const untouched = { valueOf() { throw new Error('argument converted'); } };
  const thisValues = [undefined, null, true, '', Symbol(), 1, {}, t.WA.Memory, t.WA.Memory.prototype,
    Object.create(t.WA.Memory.prototype), new Proxy(memory, {}), revocable.proxy, memory.buffer];
  return thisValues.map((thisValue) => t.attempt(() => t.WA.Memory.prototype.grow.call(thisValue, untouched)));
});

scenario('buffer getter brand checks', (t) => {
  const memory = new t.WA.Memory({ initial: 0 });
  const revocable = Proxy.revocable(memory, {});
  revocable.revoke();
  const getter = Object.getOwnPropertyDescriptor(t.WA.Memory.prototype, 'buffer').get;
  const thisValues = [undefined, null, true, '', Symbol(), 1, {}, t.WA.Memory, t.WA.Memory.prototype,
    Object.create(t.WA.Memory.prototype), new Proxy(memory, {}), revocable.proxy, memory.buffer];
  return thisValues.map((thisValue) => t.attempt(() => getter.call(thisValue)));
});

scenario("the other implementation's memory fails the brand checks", (t) => {
  const foreign = new t.other.Memory({ initial: 1 });
  const getter = Object.getOwnPropertyDescriptor(t.WA.Memory.prototype, 'buffer').get;
  return {
    grow: t.attempt(() => t.WA.Memory.prototype.grow.call(foreign, 1)),
    buffer: t.attempt(() => getter.call(foreign)),
    instanceOf: foreign instanceof t.WA.Memory,
    foreign: memoryInfo(foreign),
  };
});

// buffer ---------------------------------------------------------------------

scenario('buffer identity across reads and failed grows', (t) => {
  const memory = new t.WA.Memory({ initial: 1, maximum: 2 });
  const buffer = memory.buffer;
  const same = [memory.buffer === buffer];
  t.attempt(() => memory.grow(5));
  same.push(memory.buffer === buffer);
  t.attempt(() => memory.grow(NaN));
  same.push(memory.buffer === buffer);
  memory.grow(1);
  same.push(memory.buffer === buffer);
  return same;
});

scenario('buffer object properties', (t) => {
  const buffer = new t.WA.Memory({ initial: 2 }).buffer;
  const result = {
    info: bufferInfo(buffer),
    proto: Object.getPrototypeOf(buffer) === ArrayBuffer.prototype,
    keys: Reflect.ownKeys(buffer).map(String),
    resizable: buffer.resizable,
    maxByteLength: buffer.maxByteLength,
    sealed: Object.isSealed(buffer),
    isView: ArrayBuffer.isView(buffer),
    types: [util.types.isArrayBuffer(buffer), util.types.isSharedArrayBuffer(buffer)],
    resize: t.attempt(() => buffer.resize(0)),
  };
  buffer.custom = 1;
  result.custom = buffer.custom;
  return result;
});

scenario('setting buffer in sloppy and strict mode', (t) => {
  const memory = new t.WA.Memory({ initial: 1 });
  const buffer = memory.buffer;
  const other = new ArrayBuffer(8);
  const sloppy = t.attempt(() => Function('m', 'v', 'm.buffer = v; return 1;')(memory, other));
  const strict = t.attempt(() => Function('m', 'v', '"use strict"; m.buffer = v; return 1;')(memory, other));
  return { sloppy, strict, reflect: Reflect.set(memory, 'buffer', other), same: memory.buffer === buffer, keys: Reflect.ownKeys(memory) };
});

scenario('toString of a memory', (t) => {
  const memory = new t.WA.Memory({ initial: 0 });
  return [Object.prototype.toString.call(memory), String(memory), `${memory}`, JSON.stringify(memory),
    Object.prototype.toString.call(t.WA.Memory.prototype), Object.prototype.toString.call(t.WA)];
});

scenario('util.inspect of a memory and of grow', (t) => {
  const memory = new t.WA.Memory({ initial: 0 });
  return [util.inspect(memory), util.inspect(t.WA.Memory.prototype.grow)];
});

scenario('util.inspect of Memory', (t) => util.inspect(t.WA.Memory));

scenario('Function.prototype.toString of Memory and its members', (t) => {
  const getter = Object.getOwnPropertyDescriptor(t.WA.Memory.prototype, 'buffer').get;
  return [String(t.WA.Memory), String(t.WA.Memory.prototype.grow), String(getter)];
});

scenario('property descriptors of Memory, its prototype and the namespace', (t) => {
  const describeKeys = (object) => Reflect.ownKeys(object).map((key) => {
    const desc = Object.getOwnPropertyDescriptor(object, key);
    const out = { key: String(key) };
    for (const field of ['writable', 'enumerable', 'configurable']) if (field in desc) out[field] = desc[field];
    for (const field of ['value', 'get', 'set']) {
      if (!(field in desc)) continue;
      const v = desc[field];
      out[field] = typeof v === 'function' ? `function ${v.name}/${v.length}` : (typeof v === 'object' && v !== null ? 'object' : v);
    }
    return out;
  });
  const memoryDesc = Object.getOwnPropertyDescriptor(t.WA, 'Memory');
  return {
    namespaceMemory: { writable: memoryDesc.writable, enumerable: memoryDesc.enumerable, configurable: memoryDesc.configurable },
    namespaceTag: Object.getOwnPropertyDescriptor(t.WA, Symbol.toStringTag),
    // Own arguments and caller: a scenario of their own, below.
    constructor: describeKeys(t.WA.Memory).filter(({ key }) => key !== 'arguments' && key !== 'caller'),
    // Members from proposals: a scenario of their own, below.
    prototype: describeKeys(t.WA.Memory.prototype).filter(({ key }) => !PROPOSAL_MEMBERS.includes(key)),
  };
});

const PROPOSAL_MEMBERS = ['toFixedLengthBuffer', 'toResizableBuffer', 'type', 'discard'];
scenario('members of Memory.prototype from proposals', (t) => PROPOSAL_MEMBERS
  .map((key) => typeof Object.getOwnPropertyDescriptor(t.WA.Memory.prototype, key)?.value));

scenario('toResizableBuffer() of a memory with a maximum', (t) => {
  const memory = new t.WA.Memory({ initial: 1, maximum: 2 });
  const buffer = t.attempt(() => {
    const b = memory.toResizableBuffer();
    return [b.byteLength, b.resizable, b.maxByteLength];
  });
  return { buffer, now: memoryInfo(memory) };
});

scenario('own arguments and caller of Memory', (t) => ['arguments', 'caller']
  .map((key) => Object.getOwnPropertyDescriptor(t.WA.Memory, key) || 'absent'));

scenario('new on grow and on the buffer getter', (t) => {
  const getter = Object.getOwnPropertyDescriptor(t.WA.Memory.prototype, 'buffer').get;
  return [t.attempt(() => new t.WA.Memory.prototype.grow(1)), t.attempt(() => new getter())];
});

scenario('structuredClone of a buffer', (t) => {
  const memory = new t.WA.Memory({ initial: 1 });
  fillPattern(memory.buffer, 0, 1024, 9);
  const copy = t.attempt(() => bufferInfo(structuredClone(memory.buffer)));
  return { copy, now: memoryInfo(memory) };
});

scenario('structuredClone with the buffer in the transfer list', (t) => {
  const memory = new t.WA.Memory({ initial: 1 });
  const buffer = memory.buffer;
  fillPattern(buffer, 0, 1024, 9);
  const clone = t.attempt(() => bufferInfo(structuredClone(buffer, { transfer: [buffer] })));
  return { clone, old: bufferInfo(buffer), same: memory.buffer === buffer, now: memoryInfo(memory) };
});

scenario('ArrayBuffer transfer methods on a memory buffer', (t) => {
  const memory = new t.WA.Memory({ initial: 1 });
  const buffer = memory.buffer;
  const call = (method) => (typeof buffer[method] === 'function'
    ? t.attempt(() => bufferInfo(buffer[method]()))
    : 'absent');
  return { transfer: call('transfer'), fixed: call('transferToFixedLength'), now: memoryInfo(memory), old: bufferInfo(buffer) };
});

scenario('slices and out-of-range views', (t) => {
  const memory = new t.WA.Memory({ initial: 1 });
  fillPattern(memory.buffer, 0, PAGE, 4);
  const buffer = memory.buffer;
  return [
    t.attempt(() => bufferInfo(buffer.slice(10, 300))),
    t.attempt(() => bufferInfo(buffer.slice(-100))),
    t.attempt(() => new Uint8Array(buffer, PAGE + 1)),
    t.attempt(() => new Uint32Array(buffer, 2)),
    t.attempt(() => new Uint8Array(buffer, PAGE - 1, 2)),
    t.attempt(() => new DataView(buffer).getUint16(PAGE - 1)),
    t.attempt(() => new Uint8Array(buffer, PAGE, 0).length),
  ];
});

scenario('typed-array writes of every element type', (t) => {
  const memory = new t.WA.Memory({ initial: 1 });
  const types = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
    Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
  types.forEach((Type, i) => {
    const view = new Type(memory.buffer, i * 512, 8);
    for (let j = 0; j < 8; j++) view[j] = Type.name.startsWith('Big') ? BigInt(j * 1000 - 3000) * 12345n : (j * 1000 - 3000) * 1.25;
  });
  return memoryInfo(memory);
});

scenario('Atomics on a memory buffer', (t) => {
  const memory = new t.WA.Memory({ initial: 1 });
  const i32 = new Int32Array(memory.buffer);
  return [
    t.attempt(() => Atomics.add(i32, 0, 5)),
    t.attempt(() => Atomics.exchange(i32, 0, 7)),
    t.attempt(() => Atomics.load(i32, 0)),
    t.attempt(() => Atomics.wait(i32, 0, 7, 0)),
    memoryInfo(memory),
  ];
});

scenario('zero-page buffer before and after grow(0)', (t) => {
  const memory = new t.WA.Memory({ initial: 0 });
  const before = memory.buffer;
  const first = [bufferInfo(before), t.attempt(() => new Uint8Array(before).length), t.attempt(() => before.slice(0).byteLength)];
  memory.grow(0);
  const second = [bufferInfo(before), t.attempt(() => new Uint8Array(before).length), t.attempt(() => before.slice(0).byteLength)];
  return { first, second, now: memoryInfo(memory) };
});

scenario('independent memories', (t) => {
  const memories = [1, 2, 3].map((pages) => new t.WA.Memory({ initial: pages, maximum: 6 }));
  memories.forEach((memory, i) => fillPattern(memory.buffer, i * 100, 1000, i + 1));
  memories[1].grow(2);
  new Uint8Array(memories[2].buffer).fill(0xaa, PAGE, 2 * PAGE);
  return memories.map(memoryInfo);
});

scenario('expando properties on memories and buffers', (t) => {
  const memory = new t.WA.Memory({ initial: 1 });
  memory.tag = 'm';
  const buffer = memory.buffer;
  buffer.tag = 'b';
  const frozen = Object.freeze(new t.WA.Memory({ initial: 0 }));
  return {
    memoryTag: memory.tag,
    bufferTag: memory.buffer.tag,
    frozenGrow: t.attempt(() => frozen.grow(1)),
    frozenInfo: memoryInfo(frozen),
    keys: Reflect.ownKeys(memory),
  };
});

// ---------------------------------------------------------------------------

function runScenario(WA, other, { run }) {
  const messages = [];
  const attempt = (fn) => {
    try {
      const value = fn();
      return { ok: value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype
        ? Object.prototype.toString.call(value)
        : value };
    } catch (error) {
      messages.push(error && typeof error === 'object' ? `${errorClass(error)}: ${error.message}` : fmt(error));
      return { threw: errorClass(error) };
    }
  };
  let result;
  try {
    result = { ok: run({ WA, other, attempt }) };
  } catch (error) {
    messages.push(error && typeof error === 'object' ? `${errorClass(error)}: ${error.message}` : fmt(error));
    result = { threw: errorClass(error), unexpected: true };
  }
  return { result, messages };
}

if (onlyBuiltin || needsBuiltin) {
  test('differential: built-in vs wasm-memory-rs',
    { skip: needsBuiltin || 'WASM_MEMORY_RS_ONLY_BUILTIN=1: wasm-memory-rs is not loaded, nothing to compare the built-in with' },
    () => {});
} else {
  // A scenario listed in known-differences.js runs its entry's assertion on
  // ours instead of the comparison.
  const knownDifferenceTest = (entry, title) =>
    test(`known difference: ${entry.id} (replaces: ${title})`, () => entry.ours(ours, assert));

  describe('results and error classes match the built-in', () => {
    for (const s of scenarios) {
      const known = knownDifference(`differential: ${s.title}`);
      if (known) {
        knownDifferenceTest(known, s.title);
        continue;
      }
      test(s.title, () => {
        const expected = runScenario(builtin, ours, s).result;
        const actual = runScenario(ours, builtin, s).result;
        assert.deepStrictEqual(actual, expected);
      });
    }
  });

  describe('error messages match the built-in', () => {
    for (const s of scenarios) {
      // Only scenarios where the built-in throws have messages to compare.
      if (runScenario(builtin, ours, s).messages.length === 0) continue;
      // Already replaced by its known-difference test above.
      if (knownDifference(`differential: ${s.title}`)) continue;
      const known = knownDifference(`differential messages: ${s.title}`);
      if (known) {
        knownDifferenceTest(known, s.title);
        continue;
      }
      test(s.title, () => {
        const expected = runScenario(builtin, ours, s).messages;
        const actual = runScenario(ours, builtin, s).messages;
        assert.deepStrictEqual(actual, expected);
      });
    }
  });

  // If we fix a known difference, this tells us to take it off the list.
  describe('known differences still differ from the built-in', () => {
    const listed = (entry, prefix) => entry.tests
      .filter((key) => key.startsWith(prefix))
      .map((key) => scenarios.find((s) => s.title === key.slice(prefix.length)) || key);
    for (const entry of knownDifferences) {
      const skip = applies(entry) ? false : `applies to Node ${entry.node} only; this is Node ${process.versions.node}`;
      test(`known difference: ${entry.id}`, { skip }, () => {
        const results = listed(entry, 'differential: ');
        const messages = listed(entry, 'differential messages: ');
        assert.ok(results.length + messages.length > 0, 'list a differential scenario that shows the difference');
        for (const [part, list] of [['result', results], ['messages', messages]]) {
          for (const s of list) {
            assert.strictEqual(typeof s, 'object', `no differential scenario for "${s}"`);
            const pick = part === 'result' ? (run) => run.result : (run) => run.messages;
            assert.notDeepStrictEqual(pick(runScenario(ours, builtin, s)), pick(runScenario(builtin, ours, s)),
              `"${s.title}": ours now gives the built-in's ${part}; remove it from known-differences.js`);
          }
        }
      });
    }
  });
}
