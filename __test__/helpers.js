'use strict';
// Small assertion helpers shared by the conformance tests. They play the role
// of WPT's assert_ArrayBuffer / assert_Memory / assert_function_name, written
// for node:assert.

const assert = require('node:assert');

const PAGE = 65536;

// format_value-like rendering for test names and messages. Never throws: it
// may be given revoked proxies or objects whose getters throw.
function fmt(value) {
  try {
    if (typeof value === 'string') return JSON.stringify(value);
    if (typeof value === 'bigint') return `${value}n`;
    if (typeof value === 'symbol') return value.toString();
    if (Object.is(value, -0)) return '-0';
    if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
    if (value && typeof value === 'object') {
      if (Array.isArray(value)) return `[${value.map(fmt).join(', ')}]`;
      if (Object.getPrototypeOf(value) !== Object.prototype) return Object.prototype.toString.call(value);
      const keys = Object.keys(value);
      if (keys.length === 0) return 'object';
      return `{ ${keys.map((k) => {
        const desc = Object.getOwnPropertyDescriptor(value, k);
        return `${k}: ${'value' in desc ? fmt(desc.value) : '<getter>'}`;
      }).join(', ')} }`;
    }
    return String(value);
  } catch {
    return '<object>';
  }
}

// Asserts that fn throws an instance of Ctor from this realm (class compared
// by identity, not only by name), optionally with a message matching `message`.
function assertThrows(fn, Ctor, message, note) {
  assert.throws(fn, (error) => {
    assert.ok(error !== null && typeof error === 'object', `${note || ''} threw a non-object: ${fmt(error)}`);
    assert.strictEqual(error.constructor, Ctor,
      `${note || ''} expected ${Ctor.name}, got ${error.constructor && error.constructor.name}: ${error.message}`);
    assert.strictEqual(error.name, Ctor.name);
    assert.ok(error instanceof Ctor);
    if (message) assert.match(error.message, message, note);
    return true;
  }, note);
}

function isDetached(buffer) {
  if (typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer) return false;
  if ('detached' in ArrayBuffer.prototype) return buffer.detached;
  // Node 20 has no `detached` getter: a view cannot be built on a detached buffer.
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch (error) {
    return error instanceof TypeError;
  }
}

// WPT memory/assertions.js assert_ArrayBuffer, for node:assert.
function assertArrayBuffer(actual, { size = 0, shared = false, detached = false } = {}, message = 'buffer') {
  const Ctor = shared ? SharedArrayBuffer : ArrayBuffer;
  assert.strictEqual(actual.constructor, Ctor, `${message}: constructor`);
  assert.strictEqual(Object.getPrototypeOf(actual), Ctor.prototype, `${message}: prototype`);
  const tag = shared ? 'SharedArrayBuffer' : 'ArrayBuffer';
  assert.strictEqual(Object.prototype.toString.call(actual), `[object ${tag}]`, `${message}: toString`);
  if (detached) {
    let byteLength;
    try {
      byteLength = actual.byteLength;
    } catch {
      byteLength = 0;
    }
    assert.strictEqual(byteLength, 0, `${message}: detached size`);
    assert.strictEqual(isDetached(actual), true, `${message}: detached`);
  } else {
    assert.strictEqual(actual.byteLength, PAGE * size, `${message}: size`);
    if (!shared) assert.strictEqual(isDetached(actual), false, `${message}: not detached`);
    if (size > 0) {
      const array = new Uint8Array(actual);
      assert.strictEqual(array[0], 0, `${message}: first element`);
      assert.strictEqual(array[array.byteLength - 1], 0, `${message}: last element`);
    }
  }
  assert.strictEqual(Object.isFrozen(actual), shared, `${message}: frozen`);
  assert.strictEqual(Object.isExtensible(actual), !shared, `${message}: extensible`);
}

// WPT memory/assertions.js assert_Memory, for node:assert.
function assertMemory(WA, memory, { size = 0, shared = false } = {}) {
  assert.strictEqual(Object.getPrototypeOf(memory), WA.Memory.prototype, 'prototype');
  assert.ok(Object.isExtensible(memory), 'extensible');
  assert.strictEqual(memory.buffer, memory.buffer, 'buffer should be idempotent');
  assertArrayBuffer(memory.buffer, { size, shared });
}

// WPT assertions.js assert_function_name / assert_function_length.
function assertFunctionName(fn, name) {
  assert.deepStrictEqual(Object.getOwnPropertyDescriptor(fn, 'name'),
    { value: name, writable: false, enumerable: false, configurable: true });
}

function assertFunctionLength(fn, length) {
  assert.deepStrictEqual(Object.getOwnPropertyDescriptor(fn, 'length'),
    { value: length, writable: false, enumerable: false, configurable: true });
}

// FNV-1a over the bytes of a buffer (or view), for comparing contents.
function checksum(bufferOrView) {
  const bytes = ArrayBuffer.isView(bufferOrView)
    ? new Uint8Array(bufferOrView.buffer, bufferOrView.byteOffset, bufferOrView.byteLength)
    : new Uint8Array(bufferOrView);
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16);
}

// Writes a recognisable pattern of `length` bytes at `offset`.
function fillPattern(buffer, offset, length, seed = 1) {
  const bytes = new Uint8Array(buffer, offset, length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
}

function checkPattern(buffer, offset, length, seed = 1) {
  const bytes = new Uint8Array(buffer, offset, length);
  for (let i = 0; i < length; i++) {
    if (bytes[i] !== ((i * 31 + seed) & 0xff)) return false;
  }
  return true;
}

// Property reads made for proposals: 'index' (Node 22) and 'address' (Node
// 24) for memory64, which we read on every version, and 'minimum' (type
// reflection), which we read too. Order tests ignore them.
const PROPOSAL_KEYS = new Set(['index', 'address', 'minimum']);

/**
 * Values that are not a Memory, to call members on: primitives, plain and
 * exotic objects, the prototype, Proxies of `memory` (a live and a revoked
 * one) and `memory`'s buffer.
 */
function foreignReceivers(WA, memory) {
  const revocable = Proxy.revocable(new WA.Memory({ initial: 0 }), {});
  revocable.revoke();
  return [
    undefined,
    null,
    true,
    '',
    Symbol(),
    1,
    {},
    WA.Memory,
    WA.Memory.prototype,
    Object.create(WA.Memory.prototype),
    new Proxy(memory, {}),
    revocable.proxy,
    memory.buffer,
  ];
}

/**
 * The class name of a thrown value, for comparing runs as plain data:
 * "TypeError", "X (other realm)" for a look-alike of a global class, or
 * "non-object ..." for primitives.
 */
function errorClass(error) {
  if (error === null || (typeof error !== 'object' && typeof error !== 'function')) {
    return `non-object ${fmt(error)}`;
  }
  const name = error.constructor && error.constructor.name;
  // Same-realm check: an error of our realm's class, not a look-alike.
  const sameRealm = typeof globalThis[name] === 'function' && error instanceof globalThis[name];
  return sameRealm || !(name in globalThis) ? name : `${name} (other realm)`;
}

module.exports = {
  errorClass,
  PAGE,
  foreignReceivers,
  PROPOSAL_KEYS,
  fmt,
  assertThrows,
  isDetached,
  assertArrayBuffer,
  assertMemory,
  assertFunctionName,
  assertFunctionLength,
  checksum,
  fillPattern,
  checkPattern,
};
