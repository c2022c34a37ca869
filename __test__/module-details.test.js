'use strict';
// Module details found by WPT wasm/jsapi: custom section names compared as
// JS strings (module/customSections.any.js), the %AbstractModuleSource%
// parent of Module where the running Node's built-in has it
// (abstract-module-source.any.js), and modules with a shared memory where
// this Node cannot make one. Run on the built-in and ours with the same
// assertions.
const { describe } = require('node:test');
const assert = require('node:assert');
const { impls, builtin } = require('./impls');
const { assertThrows, assertFunctionName, assertFunctionLength } = require('./helpers');
const { testFor } = require('./known-differences');
const { wat } = require('./wat');

/** A module whose one custom section is named by the UTF-8 `nameBytes`. */
function customSectionModule(nameBytes) {
  const payload = [nameBytes.length, ...nameBytes, 1, 2, 3];
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, payload.length, ...payload]);
}

const GiB = 1024 * 1024 * 1024;
const node20 = Number(process.versions.node.split('.')[0]) < 22;

const builtinHasSource = builtin !== undefined &&
  Object.getPrototypeOf(builtin.Module.prototype) !== Object.prototype;

for (const [name, WA] of impls) {
  describe(name, () => {
    const test = testFor('module-details', WA);

    test('customSections: a name with a lone surrogate matches no section (not even U+FFFD\'s)', () => {
      const module = new WA.Module(customSectionModule([0xef, 0xbf, 0xbd])); // "\uFFFD"
      assert.strictEqual(WA.Module.customSections(module, '\uFFFD').length, 1);
      for (const lone of ['\uD800', '\uDC00', 'a\uD83D', '\uDE00b']) {
        assert.deepStrictEqual(WA.Module.customSections(module, lone), [], JSON.stringify(lone));
      }
      // A well-formed pair is one code point, compared as UTF-8.
      const emoji = new WA.Module(customSectionModule([0xf0, 0x9f, 0x98, 0x80]));
      assert.strictEqual(WA.Module.customSections(emoji, '\uD83D\uDE00').length, 1);
      assert.strictEqual(WA.Module.customSections(emoji, '\uD83D').length, 0);
    });

    test('Module\'s parents: %AbstractModuleSource% where the running Node\'s built-in has it', () => {
      const source = Object.getPrototypeOf(WA.Module);
      const sourceProto = Object.getPrototypeOf(WA.Module.prototype);
      if (!builtinHasSource) {
        assert.strictEqual(source, Function.prototype);
        assert.strictEqual(sourceProto, Object.prototype);
        return;
      }
      // abstract-module-source.any.js
      assert.strictEqual(typeof globalThis.AbstractModuleSource, 'undefined');
      assert.notStrictEqual(source, Function);
      assert.strictEqual(source.prototype, sourceProto);
      assert.strictEqual(Object.getPrototypeOf(sourceProto), Object.prototype);
      assert.strictEqual(Object.getPrototypeOf(source), Function.prototype);
      assertFunctionName(source, 'AbstractModuleSource');
      assertFunctionLength(source, 0);
      assert.deepStrictEqual(Reflect.ownKeys(source), ['length', 'name', 'prototype']);
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(source, 'prototype'),
        { value: sourceProto, writable: false, enumerable: false, configurable: false });
      assert.deepStrictEqual(Reflect.ownKeys(sourceProto), ['constructor', Symbol.toStringTag]);
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(sourceProto, 'constructor'),
        { value: source, writable: true, enumerable: false, configurable: true });
      assertThrows(() => new source(), TypeError, /Illegal invocation/);
      assertThrows(() => source(), TypeError, /Illegal invocation/);
      const tag = Object.getOwnPropertyDescriptor(sourceProto, Symbol.toStringTag);
      assert.strictEqual(tag.set, undefined);
      assert.strictEqual(tag.enumerable, false);
      assert.strictEqual(tag.configurable, true);
      assertFunctionName(tag.get, 'get [Symbol.toStringTag]');
      assertFunctionLength(tag.get, 0);
      assert.ok(!('prototype' in tag.get));
      const module = new WA.Module(customSectionModule([0x61]));
      assert.ok(module instanceof source);
      assert.strictEqual(tag.get.call(module), 'WebAssembly.Module');
      for (const other of [undefined, null, 1, 'x', {}, Object.create(WA.Module.prototype), WA.Module.prototype]) {
        assert.strictEqual(tag.get.call(other), undefined);
      }
      assert.strictEqual(Object.prototype.toString.call(module), '[object WebAssembly.Module]');
    });

    test('a module with a shared memory validates and compiles', async () => {
      for (const text of [
        '(module (memory 1 1 shared))',
        '(module (import "m" "memory" (memory 1 1 shared)))',
        '(module (memory (export "memory") 1 2 shared) (func (result i32) (i32.atomic.load (i32.const 0))))',
      ]) {
        const bytes = wat(text);
        assert.strictEqual(WA.validate(bytes), true, text);
        assert.ok(new WA.Module(bytes) instanceof WA.Module, text);
        assert.ok((await WA.compile(bytes)) instanceof WA.Module, text);
      }
    });

    // JS API "Limits": a module of more than 1 GiB is not compiled.
    test('a module of 1 GiB + 1 byte is a CompileError and does not validate; one of 1 GiB validates (Node 22+)', {
      skip: WA === builtin && node20 && "Node 20's validate throws a RangeError (known difference module-size-validate-node20)",
    }, async () => {
      let bytes = moduleOfSize(GiB);
      assert.strictEqual(WA.validate(bytes), true);
      bytes = moduleOfSize(GiB + 1);
      const message = `buffer source exceeds maximum size of ${GiB} (is ${GiB + 1})`;
      assert.strictEqual(WA.validate(bytes), false);
      assert.throws(() => new WA.Module(bytes), (e) => e instanceof WA.CompileError && e.message === `WebAssembly.Module(): ${message}`);
      await assert.rejects(WA.compile(bytes), (e) => e instanceof WA.CompileError && e.message === `WebAssembly.compile(): ${message}`);
      await assert.rejects(WA.instantiate(bytes), (e) => e instanceof WA.CompileError && e.message === `WebAssembly.instantiate(): ${message}`);
    });

    // JS API "Limits": an embedding accepts up to 100,000 tables and
    // 10,000,000 element segments (WPT limits.any.js, the spec repository's).
    test('a module with 101 tables, and one with 100,001 element segments, validates and compiles', () => {
      for (const bytes of [manyTables(101), manyElementSegments(100001)]) {
        assert.strictEqual(WA.validate(bytes), true);
        assert.ok(new WA.Module(bytes) instanceof WA.Module);
      }
    });
  });
}

/**
 * A module of `size` bytes: the header and one custom section of an empty
 * name whose contents are zeros.
 */
function moduleOfSize(size) {
  const bytes = new Uint8Array(size);
  const header = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0];
  bytes.set(header);
  // The section's length is what is left after its own LEB128 encoding.
  let length = size - header.length - 1;
  while (header.length + leb(length).length + length !== size) length--;
  bytes.set(leb(length), header.length);
  bytes[header.length + leb(length).length] = 0; // the name: ""
  return bytes;
}

/** A module that defines `n` funcref tables of no elements. */
function manyTables(n) {
  return section(4, n, (out) => { for (let i = 0; i < n; i++) out.push(0x70, 0, 0); });
}

/** A module with `n` passive element segments of no funcref. */
function manyElementSegments(n) {
  return section(9, n, (out) => { for (let i = 0; i < n; i++) out.push(1, 0, 0); });
}

/** A module of one section `id` whose `count` items `items` writes. */
function section(id, count, items) {
  const body = [...leb(count)];
  items(body);
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, id, ...leb(body.length), ...body]);
}

function leb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}
