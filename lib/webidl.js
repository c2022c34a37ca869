'use strict';
// WebIDL for every interface of the namespace: the conversions the JS API
// uses (with V8's messages and order of checks, step numbers from WebIDL
// and the JS API), buffer sources, and the shape of interface objects.
// Stateless: each namespace (the main one, each sandbox's) shares it.
//
// Primordials: user code may replace these later; we keep the originals.

const { TypeError, Proxy: ProxyCtor, Symbol: SymbolCtor } = globalThis;
const { defineProperty, getOwnPropertyDescriptor, getPrototypeOf } = Object;
const BigIntAsIntN = BigInt.asIntN;
const MathTrunc = Math.trunc;
const NumberIsNaN = Number.isNaN;
const kUint32Max = 4294967295;
const kUint64Max = 2n ** 64n - 1n;
const uncurryThis = (fn) => Function.prototype.call.bind(fn);
const TypedArrayPrototype = getPrototypeOf(Uint8Array.prototype);
const ArrayBufferIsView = ArrayBuffer.isView;
const ArrayBufferSlice = uncurryThis(ArrayBuffer.prototype.slice);
const ArrayBufferByteLength = uncurryThis(getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get);
const TypedArrayBuffer = uncurryThis(getOwnPropertyDescriptor(TypedArrayPrototype, 'buffer').get);
const TypedArrayByteOffset = uncurryThis(getOwnPropertyDescriptor(TypedArrayPrototype, 'byteOffset').get);
const TypedArrayByteLength = uncurryThis(getOwnPropertyDescriptor(TypedArrayPrototype, 'byteLength').get);
const DataViewBuffer = uncurryThis(getOwnPropertyDescriptor(DataView.prototype, 'buffer').get);
const DataViewByteOffset = uncurryThis(getOwnPropertyDescriptor(DataView.prototype, 'byteOffset').get);
const DataViewByteLength = uncurryThis(getOwnPropertyDescriptor(DataView.prototype, 'byteLength').get);
const { isArrayBuffer, isSharedArrayBuffer, isDataView } = require('node:util').types;

/** WebIDL `object` (functions included). */
function isObject(value) {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/**
 * WebIDL `[EnforceRange] unsigned long` (https://webidl.spec.whatwg.org/#es-unsigned-long),
 * with V8's messages and V8's order of checks.
 */
function enforceRangeUint32(value, context, what) {
  // 1. Let x be ? ToNumber(V). (Unary plus: Symbols and BigInts throw a
  // TypeError here; Number(1n) would not.)
  const x = +value;
  // 2.1. If x is NaN, +Infinity or -Infinity, throw a TypeError.
  if (NumberIsNaN(x) || x === Infinity || x === -Infinity) {
    throw new TypeError(`${context}: ${what} must be convertible to a valid number`);
  }
  // 2.3. If x < lowerBound or x > upperBound, throw a TypeError. V8 checks
  // before 2.2's truncation, so -0.5 is rejected (the spec would accept 0).
  if (x < 0) throw new TypeError(`${context}: ${what} must be non-negative`);
  if (x > kUint32Max) throw new TypeError(`${context}: ${what} must be in the unsigned long range`);
  // 2.2. Set x to IntegerPart(x). (+0 for -0.)
  return MathTrunc(x) + 0;
}

/**
 * ToBigInt (ECMA-262 §7.1.13): BigInt.asIntN performs exactly that (Numbers
 * throw a TypeError, bad strings a SyntaxError) and, this wide, returns the
 * value unchanged.
 */
function toBigInt(value) {
  return BigIntAsIntN(2 ** 53 - 1, value);
}

/**
 * AddressValueToU64(v, addressType) (JS API, memory64): an
 * `[EnforceRange] unsigned long` (a Number) for i32, a BigInt in [0, 2^64)
 * for i64 (kept a BigInt, so that messages can show it exactly).
 */
function addressValueToU64(value, address, context, what) {
  if (address === 'i32') return enforceRangeUint32(value, context, what);
  // 1. Let x be ? ToBigInt(v).
  const x = toBigInt(value);
  // 2. If x < 0 or x > 2^64 - 1, throw a TypeError.
  if (x < 0n || x > kUint64Max) throw new TypeError(`${context}: ${what} must be in u64 range`);
  return x;
}

/** "Get a copy of the bytes held by the buffer source" (a Uint8Array). */
function copyBytes(source, context) {
  let buffer;
  let offset = 0;
  let length;
  if (isArrayBuffer(source)) {
    buffer = source;
    length = ArrayBufferByteLength(source);
  } else if (isDataView(source)) {
    buffer = DataViewBuffer(source);
    offset = DataViewByteOffset(source);
    length = DataViewByteLength(source);
  } else if (ArrayBufferIsView(source)) {
    buffer = TypedArrayBuffer(source);
    offset = TypedArrayByteOffset(source);
    length = TypedArrayByteLength(source);
  } else {
    throw new TypeError(`${context}: Argument 0 must be a buffer source`);
  }
  // A detached buffer holds no bytes (slice would throw).
  if (length === 0) return new Uint8Array(0);
  if (isSharedArrayBuffer(buffer)) {
    return new Uint8Array(new Uint8Array(buffer, offset, length));
  }
  return new Uint8Array(ArrayBufferSlice(buffer, offset, offset + length));
}

/**
 * The interface object users see for `Class`, shaped as WebIDL says: a
 * Proxy of the class whose only trap makes a call without `new` throw V8's
 * message (a class would throw its own; construction goes straight to the
 * class, so newTarget.prototype is read once, as the built-in does); the
 * prototype points back at it, carries the class string, and its
 * operations and attributes (`members`) are enumerable.
 */
function defineInterface(Class, name, members) {
  const Interface = new ProxyCtor(Class, {
    apply() {
      throw new TypeError(`WebAssembly.${name}(): WebAssembly.${name} must be invoked with 'new'`);
    },
  });
  const proto = Class.prototype;
  defineProperty(proto, 'constructor', { value: Interface, writable: true, enumerable: false, configurable: true });
  for (const member of members) defineProperty(proto, member, { enumerable: true });
  defineProperty(proto, SymbolCtor.toStringTag, {
    value: `WebAssembly.${name}`, writable: false, enumerable: false, configurable: true,
  });
  return Interface;
}

module.exports = {
  uncurryThis,
  isObject,
  enforceRangeUint32,
  toBigInt,
  addressValueToU64,
  copyBytes,
  defineInterface,
  ArrayBufferByteLength,
};
