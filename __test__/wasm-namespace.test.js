'use strict';
// The namespace beyond Memory: Module, Instance, validate, compile,
// instantiate, compileStreaming, instantiateStreaming and the error classes
// (WPT wasm/jsapi/interface.any.js, constructor/*, module/*, instance/*,
// error-interfaces-no-symbol-tostringtag.js, wasm-module-builder-free
// rewrites). Every test runs on the built-in first, then on ours, with the
// same assertions; where a result is data it is also compared with the
// built-in's directly.
const { describe } = require('node:test');
const assert = require('node:assert');
const { impls, builtin, needsResponse } = require('./impls');
const { assertThrows, assertFunctionName, assertFunctionLength } = require('./helpers');
const { testFor } = require('./known-differences');
const { wat, watFile } = require('./wat');

const CONSTRUCTORS = ['Module', 'Instance', 'Memory', 'Table', 'Global', 'CompileError', 'LinkError', 'RuntimeError'];
const FUNCTIONS = ['validate', 'compile', 'instantiate', 'compileStreaming', 'instantiateStreaming'];
const ERRORS = ['CompileError', 'LinkError', 'RuntimeError'];
const TAGGED = ['Module', 'Instance', 'Memory', 'Table', 'Global'];

const lazy = (fn) => {
  let value;
  return () => (value === undefined ? (value = fn()) : value);
};
const tableBytes = lazy(() => watFile('table'));
const simpleBytes = lazy(() => watFile('simple'));
const reexportBytes = lazy(() => watFile('reexport'));
const invalidBytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01]);
const emptyModuleBytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

// Values that are not BufferSources.
const notBuffers = () => [undefined, null, true, 0, 1, '', 'abc', Symbol('s'), 1n, {}, [], [0, 97, 115, 109], () => {}];

function wasmResponse(bytes, init = {}) {
  return new Response(bytes, { headers: { 'content-type': 'application/wasm' }, ...init });
}

/** How a promise settles: { resolved } or { rejected: class name }; throwing synchronously fails the test. */
async function settle(WA, fn) {
  const promise = fn();
  assert.ok(promise instanceof Promise, 'returns a Promise of this realm');
  try {
    return { resolved: await promise };
  } catch (error) {
    return { rejected: errorName(WA, error), error };
  }
}

function errorName(WA, error) {
  for (const name of ERRORS) if (error instanceof WA[name] && error.constructor === WA[name]) return `WebAssembly.${name}`;
  return error && error.constructor ? error.constructor.name : typeof error;
}

for (const [name, WA] of impls) {
  describe(name, () => {
    const test = testFor('wasm-namespace', WA);

    // Namespace -------------------------------------------------------------

    test('namespace: constructors are writable, non-enumerable, configurable', () => {
      for (const key of CONSTRUCTORS) {
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA, key),
          { value: WA[key], writable: true, enumerable: false, configurable: true }, key);
        assert.strictEqual(typeof WA[key], 'function', key);
      }
    });

    test('namespace: functions are writable, enumerable, configurable', () => {
      for (const key of FUNCTIONS) {
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA, key),
          { value: WA[key], writable: true, enumerable: true, configurable: true }, key);
      }
    });

    // (Node 24's also has `promising`, JSPI.)
    test('namespace: the five functions are enumerable, in order; the classes are not', () => {
      const keys = Object.keys(WA);
      assert.deepStrictEqual(keys.filter((key) => FUNCTIONS.includes(key)), FUNCTIONS.slice().sort((a, b) =>
        Object.keys(builtin).indexOf(a) - Object.keys(builtin).indexOf(b)));
      for (const key of CONSTRUCTORS) assert.ok(!keys.includes(key), key);
    });

    test('namespace: the built-in\'s own keys, in its order', () => {
      assert.deepStrictEqual(Reflect.ownKeys(WA), Reflect.ownKeys(builtin));
      for (const key of ['Tag', 'Exception', 'JSTag']) {
        assert.strictEqual(Object.hasOwn(WA, key), Object.hasOwn(builtin, key), key);
      }
    });

    test('namespace functions: name, length, not constructors', () => {
      for (const key of FUNCTIONS) {
        assertFunctionName(WA[key], key);
        assertFunctionLength(WA[key], 1);
        assert.strictEqual(Object.getPrototypeOf(WA[key]), Function.prototype, key);
        assert.strictEqual(Object.hasOwn(WA[key], 'prototype'), false, key);
        assertThrows(() => new WA[key](tableBytes()), TypeError, undefined, key);
      }
    });

    test('constructors: name, length, prototype and prototype.constructor', () => {
      for (const key of CONSTRUCTORS) {
        const Ctor = WA[key];
        assertFunctionName(Ctor, key);
        assertFunctionLength(Ctor, 1);
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(Ctor, 'prototype'),
          { value: Ctor.prototype, writable: false, enumerable: false, configurable: false }, key);
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(Ctor.prototype, 'constructor'),
          { value: Ctor, writable: true, enumerable: false, configurable: true }, key);
      }
    });

    test('constructors of Module, Instance, Table and Global are new-only', () => {
      assertThrows(() => WA.Module(tableBytes()), TypeError);
      assertThrows(() => WA.Module.call({}, tableBytes()), TypeError);
      assertThrows(() => WA.Instance(new WA.Module(tableBytes())), TypeError);
      assertThrows(() => WA.Table({ element: 'anyfunc', initial: 1 }), TypeError);
      assertThrows(() => WA.Global({ value: 'i32' }, 0), TypeError);
    });

    test('Symbol.toStringTag of the prototypes', () => {
      for (const key of TAGGED) {
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA[key].prototype, Symbol.toStringTag),
          { value: `WebAssembly.${key}`, writable: false, enumerable: false, configurable: true }, key);
        assert.strictEqual(Object.prototype.toString.call(WA[key].prototype), `[object WebAssembly.${key}]`);
      }
      const module = new WA.Module(tableBytes());
      const instance = new WA.Instance(module);
      assert.strictEqual(String(module), '[object WebAssembly.Module]');
      assert.strictEqual(String(instance), '[object WebAssembly.Instance]');
      assert.strictEqual(String(instance.exports.tbl), '[object WebAssembly.Table]');
      assert.strictEqual(String(new WA.Global({ value: 'i32' }, 0)), '[object WebAssembly.Global]');
    });

    test('own keys of the prototypes, as the built-in', () => {
      for (const key of ['Module', 'Instance', 'Table', 'Global']) {
        assert.deepStrictEqual(Reflect.ownKeys(WA[key].prototype), Reflect.ownKeys(builtin[key].prototype), key);
      }
      assert.deepStrictEqual(Reflect.ownKeys(WA.Module.prototype), ['constructor', Symbol.toStringTag]);
      assert.deepStrictEqual(Reflect.ownKeys(WA.Instance.prototype), ['constructor', 'exports', Symbol.toStringTag]);
    });

    // Error classes -----------------------------------------------------------

    test('error classes: Error subclasses with their own prototype chain', () => {
      for (const key of ERRORS) {
        const Ctor = WA[key];
        assert.strictEqual(Object.getPrototypeOf(Ctor), Error, key);
        assert.strictEqual(Object.getPrototypeOf(Ctor.prototype), Error.prototype, key);
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(Ctor.prototype, 'name'),
          { value: key, writable: true, enumerable: false, configurable: true }, key);
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(Ctor.prototype, 'message'),
          { value: '', writable: true, enumerable: false, configurable: true }, key);
        assert.strictEqual(Object.hasOwn(Ctor.prototype, Symbol.toStringTag), false, key);
        assert.strictEqual(Object.prototype.toString.call(new Ctor()), '[object Error]', key);
        assert.notStrictEqual(Ctor.prototype, Error.prototype, key);
      }
      assert.notStrictEqual(WA.CompileError, WA.LinkError);
      assert.notStrictEqual(WA.LinkError, WA.RuntimeError);
    });

    test('error classes: new without arguments', () => {
      for (const key of ERRORS) {
        const error = new WA[key]();
        assert.strictEqual(error.constructor, WA[key], key);
        assert.ok(error instanceof Error, key);
        assert.strictEqual(error.name, key);
        assert.strictEqual(error.message, '');
        assert.strictEqual(Object.hasOwn(error, 'message'), false, key);
        assert.strictEqual(typeof error.stack, 'string', key);
        assert.strictEqual(String(error), key);
      }
    });

    test('error classes: message and cause', () => {
      for (const key of ERRORS) {
        const error = new WA[key]('msg', { cause: 7 });
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(error, 'message'),
          { value: 'msg', writable: true, enumerable: false, configurable: true }, key);
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(error, 'cause'),
          { value: 7, writable: true, enumerable: false, configurable: true }, key);
        assert.strictEqual(String(error), `${key}: msg`);
        assert.strictEqual(new WA[key](12).message, '12');
        assert.strictEqual(new WA[key]({ toString: () => 'str' }).message, 'str');
      }
    });

    test('error classes: called without new they still construct', () => {
      for (const key of ERRORS) {
        const error = WA[key]('called');
        assert.strictEqual(error.constructor, WA[key], key);
        assert.strictEqual(Object.getPrototypeOf(error), WA[key].prototype, key);
        assert.strictEqual(error.message, 'called', key);
      }
    });

    test('error classes: subclassable', () => {
      for (const key of ERRORS) {
        class Sub extends WA[key] {}
        const error = new Sub('sub');
        assert.ok(error instanceof WA[key], key);
        assert.ok(error instanceof Error, key);
        assert.strictEqual(Object.getPrototypeOf(error), Sub.prototype, key);
        assert.strictEqual(error.name, key);
      }
    });

    // validate -----------------------------------------------------------------

    test('validate: true and false', () => {
      assert.strictEqual(WA.validate(tableBytes()), true);
      assert.strictEqual(WA.validate(emptyModuleBytes), true);
      assert.strictEqual(WA.validate(invalidBytes), false);
      assert.strictEqual(WA.validate(new Uint8Array(0)), false);
      assert.strictEqual(WA.validate(new ArrayBuffer(8)), false);
    });

    test('validate: ArrayBuffers, typed arrays and Buffers', () => {
      const bytes = tableBytes();
      const copy = () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      assert.strictEqual(WA.validate(copy()), true, 'ArrayBuffer');
      assert.strictEqual(WA.validate(Buffer.from(bytes)), true, 'Buffer');
      assert.strictEqual(WA.validate(new Int8Array(copy())), true, 'Int8Array');
      // A view is its own bytes only.
      const padded = new Uint8Array(bytes.byteLength + 8);
      padded.set(bytes, 4);
      assert.strictEqual(WA.validate(padded), false, 'padded');
      assert.strictEqual(WA.validate(padded.subarray(4, 4 + bytes.byteLength)), true, 'subarray');
    });

    // V8 takes an ArrayBuffer or a typed array only; the spec's BufferSource
    // also has DataView. The project follows V8 where the two disagree.
    test('validate, Module, compile: a DataView is a TypeError (V8)', async () => {
      const bytes = tableBytes();
      const view = new DataView(bytes.slice().buffer);
      assertThrows(() => WA.validate(view), TypeError);
      assertThrows(() => new WA.Module(view), TypeError);
      assert.strictEqual((await settle(WA, () => WA.compile(view))).rejected, 'TypeError');
      assert.strictEqual((await settle(WA, () => WA.instantiate(view))).rejected, 'TypeError');
    });

    test('validate: TypeError for values that are not BufferSources', () => {
      assertThrows(() => WA.validate(), TypeError);
      for (const value of notBuffers()) assertThrows(() => WA.validate(value), TypeError);
    });

    test('validate: a detached buffer is empty bytes', () => {
      const buffer = new ArrayBuffer(8);
      structuredClone(buffer, { transfer: [buffer] });
      assert.strictEqual(WA.validate(buffer), false);
    });

    // Module -------------------------------------------------------------------------

    test('Module: from ArrayBuffer, typed arrays and Buffer', () => {
      const bytes = tableBytes();
      const copy = () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const padded = new Uint8Array(bytes.byteLength + 16);
      padded.set(bytes, 8);
      for (const [label, source] of [
        ['ArrayBuffer', copy()],
        ['Uint8Array', new Uint8Array(copy())],
        ['Int32Array', bytes.byteLength % 4 === 0 ? new Int32Array(copy()) : new Uint8Array(copy())],
        ['Buffer', Buffer.from(bytes)],
        ['subarray', padded.subarray(8, 8 + bytes.byteLength)],
      ]) {
        const module = new WA.Module(source);
        assert.strictEqual(Object.getPrototypeOf(module), WA.Module.prototype, label);
        assert.deepStrictEqual(WA.Module.exports(module), [{ name: 'tbl', kind: 'table' }], label);
      }
    });

    test('Module: TypeError without an argument or for non-BufferSources', () => {
      assertThrows(() => new WA.Module(), TypeError);
      for (const value of notBuffers()) assertThrows(() => new WA.Module(value), TypeError);
    });

    test('Module: CompileError for invalid, empty and detached bytes', () => {
      assertThrows(() => new WA.Module(invalidBytes), WA.CompileError);
      assertThrows(() => new WA.Module(new ArrayBuffer(0)), WA.CompileError);
      const buffer = tableBytes().slice().buffer;
      structuredClone(buffer, { transfer: [buffer] });
      assertThrows(() => new WA.Module(buffer), WA.CompileError);
    });

    test('Module: the bytes are copied', () => {
      const bytes = tableBytes().slice();
      const module = new WA.Module(bytes);
      bytes.fill(0);
      assert.strictEqual(new WA.Instance(module).exports.tbl.get(1)(), 42);
    });

    test('Module: instances are extensible objects with no own keys', () => {
      const module = new WA.Module(tableBytes());
      assert.deepStrictEqual(Reflect.ownKeys(module), []);
      assert.strictEqual(Object.isExtensible(module), true);
    });

    test('Module: structuredClone gives a working Module', () => {
      const clone = structuredClone(new WA.Module(tableBytes()));
      assert.ok(clone instanceof WA.Module);
      assert.deepStrictEqual(WA.Module.exports(clone), [{ name: 'tbl', kind: 'table' }]);
    });

    test('Module: subclassing and new.target', () => {
      class Sub extends WA.Module {}
      const module = new Sub(tableBytes());
      assert.strictEqual(Object.getPrototypeOf(module), Sub.prototype);
      assert.deepStrictEqual(WA.Module.exports(module), [{ name: 'tbl', kind: 'table' }]);
      const other = Reflect.construct(WA.Module, [tableBytes()], Object);
      assert.strictEqual(Object.getPrototypeOf(other), Object.prototype);
      assert.deepStrictEqual(WA.Module.exports(other), [{ name: 'tbl', kind: 'table' }]);
    });

    test('Module statics: descriptors, names and lengths', () => {
      for (const [key, length] of [['exports', 1], ['imports', 1], ['customSections', 2]]) {
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(WA.Module, key),
          { value: WA.Module[key], writable: true, enumerable: true, configurable: true }, key);
        assertFunctionName(WA.Module[key], key);
        assertFunctionLength(WA.Module[key], length);
        assertThrows(() => new WA.Module[key](new WA.Module(tableBytes())), TypeError, undefined, key);
      }
    });

    test('Module.exports and Module.imports: kinds, order, plain entries', () => {
      const module = new WA.Module(reexportBytes());
      const imports = WA.Module.imports(module);
      const exports = WA.Module.exports(module);
      assert.deepStrictEqual(imports, [
        { module: 'env', name: 'f', kind: 'function' },
        { module: 'env', name: 'mem', kind: 'memory' },
        { module: 'env', name: 'tbl', kind: 'table' },
        { module: 'env', name: 'g', kind: 'global' },
        { module: 'env', name: 'c', kind: 'global' },
      ]);
      assert.deepStrictEqual(exports.map((e) => `${e.name}:${e.kind}`), [
        'f:function', 'mem:memory', 'tbl:table', 'g:global', 'c:global', 'f2:function',
        'callF:function', 'callTable:function', 'getG:function', 'setG:function', 'getC:function',
      ]);
      for (const entry of [...imports, ...exports]) {
        assert.strictEqual(Object.getPrototypeOf(entry), Object.prototype);
        for (const key of Reflect.ownKeys(entry)) {
          assert.deepStrictEqual(Object.getOwnPropertyDescriptor(entry, key),
            { value: entry[key], writable: true, enumerable: true, configurable: true });
        }
      }
      assert.deepStrictEqual(imports.map(Reflect.ownKeys), imports.map(() => ['module', 'name', 'kind']));
      assert.deepStrictEqual(exports.map(Reflect.ownKeys), exports.map(() => ['name', 'kind']));
      // The same as the built-in's.
      const theirs = new builtin.Module(reexportBytes());
      assert.deepStrictEqual(imports, builtin.Module.imports(theirs));
      assert.deepStrictEqual(exports, builtin.Module.exports(theirs));
    });

    test('Module.exports and Module.imports: fresh arrays, extensible and unfrozen', () => {
      const module = new WA.Module(simpleBytes());
      for (const fn of [WA.Module.exports, WA.Module.imports]) {
        const a = fn(module);
        const b = fn(module);
        assert.notStrictEqual(a, b);
        assert.notStrictEqual(a[0], b[0]);
        assert.ok(Array.isArray(a));
        assert.strictEqual(Object.getPrototypeOf(a), Array.prototype);
        assert.strictEqual(Object.isFrozen(a), false);
        a.push('x');
        a[0].name = 'changed';
        assert.deepStrictEqual(fn(module), b);
      }
      assert.deepStrictEqual(WA.Module.imports(new WA.Module(emptyModuleBytes)), []);
      assert.deepStrictEqual(WA.Module.exports(new WA.Module(emptyModuleBytes)), []);
    });

    test('Module.exports, imports and customSections: TypeError for non-Modules', () => {
      const instance = new WA.Instance(new WA.Module(tableBytes()));
      for (const value of [undefined, null, 1, 'module', {}, WA.Module.prototype, instance, tableBytes(),
        Object.create(WA.Module.prototype)]) {
        assertThrows(() => WA.Module.exports(value), TypeError);
        assertThrows(() => WA.Module.imports(value), TypeError);
        assertThrows(() => WA.Module.customSections(value, 'name'), TypeError);
      }
      assertThrows(() => WA.Module.exports(), TypeError);
    });

    test('Module.customSections: a module with none, and argument conversion', () => {
      const module = new WA.Module(emptyModuleBytes);
      assert.deepStrictEqual(WA.Module.customSections(module, 'name'), []);
      assert.deepStrictEqual(WA.Module.customSections(module, ''), []);
      assertThrows(() => WA.Module.customSections(module), TypeError);
      assertThrows(() => WA.Module.customSections(module, Symbol('name')), TypeError);
      // V8: an explicit undefined is a missing argument too.
      assertThrows(() => WA.Module.customSections(module, undefined), TypeError);
      assert.deepStrictEqual(WA.Module.customSections(module, null), []);
      assert.deepStrictEqual(WA.Module.customSections(module, { toString: () => 'name' }), []);
    });

    test('Module.customSections: sections by name, in order, as fresh ArrayBuffers', () => {
      const module = new WA.Module(watFile('custom'));
      const hello = WA.Module.customSections(module, 'hello');
      assert.strictEqual(hello.length, 2);
      for (const b of hello) assert.strictEqual(Object.getPrototypeOf(b), ArrayBuffer.prototype);
      assert.deepStrictEqual(hello.map((b) => Buffer.from(b).toString()), ['world', 'again']);
      new Uint8Array(hello[0])[0] = 0;
      assert.deepStrictEqual(WA.Module.customSections(module, 'hello').map((b) => Buffer.from(b).toString()), ['world', 'again']);
      assert.notStrictEqual(WA.Module.customSections(module, 'hello')[0], WA.Module.customSections(module, 'hello')[0]);
      assert.deepStrictEqual(WA.Module.customSections(module, 'empty').map((b) => b.byteLength), [0]);
      assert.deepStrictEqual(WA.Module.customSections(module, 'hé').map((b) => [...new Uint8Array(b)]), [[0, 1, 2, 255]]);
      assert.deepStrictEqual(WA.Module.customSections(module, 'he\u0301'), []);
      assert.deepStrictEqual(WA.Module.customSections(module, 'nothing'), []);
    });

    // Instance -----------------------------------------------------------------------

    test('Instance: TypeError for non-Modules and bad import objects', () => {
      assertThrows(() => new WA.Instance(), TypeError);
      for (const value of [undefined, null, 1, {}, tableBytes(), WA.Module.prototype, Object.create(WA.Module.prototype)]) {
        assertThrows(() => new WA.Instance(value), TypeError);
      }
      const module = new WA.Module(simpleBytes());
      for (const imports of [undefined, null, 1, 'x', {}, { imports: 1 }]) assertThrows(() => new WA.Instance(module, imports), TypeError);
      assertThrows(() => new WA.Instance(module, { imports: {} }), WA.LinkError);
    });

    test('Instance: the import object may be a function; a module without imports ignores it', () => {
      const module = new WA.Module(simpleBytes());
      const imports = () => {};
      imports.imports = { imported_func() {} };
      assert.strictEqual(new WA.Instance(module, imports).exports.exported_func(), undefined);
      const table = new WA.Module(tableBytes());
      for (const value of [undefined, {}, () => {}]) assert.ok(new WA.Instance(table, value));
      assertThrows(() => new WA.Instance(table, 1), TypeError);
      assertThrows(() => new WA.Instance(table, null), TypeError);
    });

    test('Instance.prototype.exports: an enumerable getter with a brand check', () => {
      const desc = Object.getOwnPropertyDescriptor(WA.Instance.prototype, 'exports');
      assert.strictEqual(typeof desc.get, 'function');
      assert.strictEqual(desc.set, undefined);
      assert.strictEqual(desc.enumerable, true);
      assert.strictEqual(desc.configurable, true);
      assertFunctionName(desc.get, 'get exports');
      assertFunctionLength(desc.get, 0);
      for (const receiver of [undefined, null, {}, WA.Instance.prototype, new WA.Module(tableBytes())]) {
        assertThrows(() => desc.get.call(receiver), TypeError);
      }
      const instance = new WA.Instance(new WA.Module(tableBytes()));
      assert.strictEqual(instance.exports, desc.get.call(instance));
      assert.deepStrictEqual(Reflect.ownKeys(instance), []);
      assert.strictEqual(Object.getPrototypeOf(instance), WA.Instance.prototype);
      assert.throws(() => { 'use strict'; instance.exports = {}; }, TypeError);
    });

    test('Instance exports: frozen, null prototype, the same object each time', () => {
      const instance = new WA.Instance(new WA.Module(reexportBytes()), {
        env: {
          f: (x) => x,
          mem: new WA.Memory({ initial: 1 }),
          tbl: new WA.Table({ element: 'anyfunc', initial: 2 }),
          g: new WA.Global({ value: 'i32', mutable: true }, 0),
          c: new WA.Global({ value: 'f64' }, 0),
        },
      });
      const { exports } = instance;
      assert.strictEqual(instance.exports, exports);
      assert.strictEqual(Object.getPrototypeOf(exports), null);
      assert.strictEqual(Object.isFrozen(exports), true);
      assert.deepStrictEqual(Object.keys(exports), ['f', 'mem', 'tbl', 'g', 'c', 'f2', 'callF', 'callTable', 'getG', 'setG', 'getC']);
      for (const key of Object.keys(exports)) {
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(exports, key),
          { value: exports[key], writable: false, enumerable: true, configurable: false }, key);
      }
      assert.throws(() => { 'use strict'; exports.x = 1; }, TypeError);
      assert.ok(exports.mem instanceof WA.Memory);
      assert.ok(exports.tbl instanceof WA.Table);
      assert.ok(exports.g instanceof WA.Global);
    });

    test('exported functions: name is the function index, length the arity', () => {
      const exports = new WA.Instance(new WA.Module(watFile('traps'))).exports;
      const expected = {
        unreachable: ['2', 0], div_s: ['3', 2], div_u: ['4', 2], rem_s: ['5', 2], div_s64: ['6', 2], trunc: ['7', 1],
        load: ['9', 1], store: ['11', 2], call_v_i: ['12', 1], call_i_i: ['13', 2], recurse: ['14', 1],
      };
      for (const [key, [fname, length]] of Object.entries(expected)) {
        const fn = exports[key];
        assert.strictEqual(typeof fn, 'function', key);
        assertFunctionName(fn, fname);
        assertFunctionLength(fn, length);
        assert.strictEqual(Object.getPrototypeOf(fn), Function.prototype, key);
        assert.strictEqual(Object.hasOwn(fn, 'prototype'), false, key);
        assertThrows(() => new fn(), TypeError, undefined, key);
      }
      assert.strictEqual(exports.div_s, exports.div_s);
    });

    test('exported functions: a function exported twice is one object; each instance has its own', () => {
      const module = new WA.Module(tableBytes());
      const a = new WA.Instance(module).exports.tbl;
      const b = new WA.Instance(module).exports.tbl;
      assert.strictEqual(a.get(0), a.get(0));
      assert.notStrictEqual(a.get(0), b.get(0));
    });

    // compile and instantiate -----------------------------------------------------------

    test('compile: resolves to a Module', async () => {
      const { resolved } = await settle(WA, () => WA.compile(tableBytes()));
      assert.strictEqual(Object.getPrototypeOf(resolved), WA.Module.prototype);
      assert.deepStrictEqual(WA.Module.exports(resolved), [{ name: 'tbl', kind: 'table' }]);
    });

    test('compile: settles in a later task, not a microtask', async () => {
      const order = [];
      const compiled = WA.compile(tableBytes()).then(() => order.push('compiled'));
      const bad = WA.compile(invalidBytes).catch((e) => order.push(e.constructor.name));
      for (let i = 0; i < 10; i++) await null;
      assert.deepStrictEqual(order, []);
      await Promise.all([compiled, bad]);
      assert.deepStrictEqual(order.sort(), ['CompileError', 'compiled']);
    });

    test('compile: the bytes are copied before it returns', async () => {
      const bytes = tableBytes().slice();
      const promise = WA.compile(bytes);
      bytes.fill(0);
      const module = await promise;
      assert.strictEqual(new WA.Instance(module).exports.tbl.get(0)(), 13);
    });

    test('compile: rejects with TypeError for non-BufferSources, CompileError for bad bytes', async () => {
      for (const value of [undefined, ...notBuffers()]) {
        assert.strictEqual((await settle(WA, () => WA.compile(value))).rejected, 'TypeError');
      }
      assert.strictEqual((await settle(WA, () => WA.compile())).rejected, 'TypeError');
      assert.strictEqual((await settle(WA, () => WA.compile(invalidBytes))).rejected, 'WebAssembly.CompileError');
      assert.strictEqual((await settle(WA, () => WA.compile(new ArrayBuffer(0)))).rejected, 'WebAssembly.CompileError');
    });

    test('instantiate(bytes, imports): resolves to { module, instance }', async () => {
      const calls = [];
      const { resolved } = await settle(WA, () => WA.instantiate(simpleBytes(), { imports: { imported_func: (x) => calls.push(x) } }));
      assert.strictEqual(Object.getPrototypeOf(resolved), Object.prototype);
      assert.deepStrictEqual(Reflect.ownKeys(resolved), ['module', 'instance']);
      for (const key of ['module', 'instance']) {
        assert.deepStrictEqual(Object.getOwnPropertyDescriptor(resolved, key),
          { value: resolved[key], writable: true, enumerable: true, configurable: true });
      }
      assert.strictEqual(Object.getPrototypeOf(resolved.module), WA.Module.prototype);
      assert.strictEqual(Object.getPrototypeOf(resolved.instance), WA.Instance.prototype);
      resolved.instance.exports.exported_func();
      assert.deepStrictEqual(calls, [42]);
    });

    test('instantiate(module, imports): resolves to an Instance', async () => {
      const module = new WA.Module(tableBytes());
      const { resolved } = await settle(WA, () => WA.instantiate(module));
      assert.strictEqual(Object.getPrototypeOf(resolved), WA.Instance.prototype);
      assert.strictEqual(resolved.exports.tbl.get(1)(), 42);
      const again = await WA.instantiate(module, {});
      assert.notStrictEqual(again, resolved);
    });

    test('instantiate: rejection classes', async () => {
      const cases = [
        [() => WA.instantiate(), 'TypeError'],
        [() => WA.instantiate({}), 'TypeError'],
        [() => WA.instantiate(1), 'TypeError'],
        [() => WA.instantiate(invalidBytes), 'WebAssembly.CompileError'],
        [() => WA.instantiate(tableBytes(), 1), 'TypeError'],
        [() => WA.instantiate(tableBytes(), null), 'TypeError'],
        [() => WA.instantiate(simpleBytes()), 'TypeError'],
        [() => WA.instantiate(simpleBytes(), {}), 'TypeError'],
        [() => WA.instantiate(simpleBytes(), { imports: {} }), 'WebAssembly.LinkError'],
        [() => WA.instantiate(new WA.Module(simpleBytes()), { imports: { imported_func: 1 } }), 'WebAssembly.LinkError'],
        [() => WA.instantiate(new WA.Module(simpleBytes())), 'TypeError'],
        [() => WA.instantiate(watFile('start-trap')), 'WebAssembly.RuntimeError'],
      ];
      for (const [fn, expected] of cases) assert.strictEqual((await settle(WA, fn)).rejected, expected, String(fn));
    });

    // An exported function takes its arguments as a JS function does, with
    // nothing user code can replace in between.
    test('an exported function of 5 parameters does not run Array.prototype[Symbol.iterator]', () => {
      const { exports } = new WA.Instance(new WA.Module(wat(`(module (func (export "sum")
        (param i32 i32 i32 i32 i32) (result i32)
        (i32.add (i32.add (i32.add (i32.add (local.get 0) (local.get 1)) (local.get 2)) (local.get 3)) (local.get 4))))`)));
      const saved = Array.prototype[Symbol.iterator];
      let sum;
      Array.prototype[Symbol.iterator] = function* () { throw new Error('iterated'); };
      try {
        sum = exports.sum(1, 2, 3, 4, 5);
      } finally {
        Array.prototype[Symbol.iterator] = saved;
      }
      assert.strictEqual(sum, 15);
      assert.strictEqual(exports.sum.length, 5);
    });

    test('instantiate: a Module of the other implementation is not a Module', async () => {
      const other = impls.find(([, impl]) => impl !== WA);
      if (!other) return;
      const foreign = new other[1].Module(tableBytes());
      assertThrows(() => new WA.Instance(foreign), TypeError);
      assertThrows(() => WA.Module.exports(foreign), TypeError);
      assert.strictEqual((await settle(WA, () => WA.instantiate(foreign))).rejected, 'TypeError');
    });

    // compileStreaming and instantiateStreaming ------------------------------------------

    test('compileStreaming: a Response, and a promise of one', { skip: needsResponse }, async () => {
      for (const source of [wasmResponse(tableBytes()), Promise.resolve(wasmResponse(tableBytes()))]) {
        const { resolved } = await settle(WA, () => WA.compileStreaming(source));
        assert.strictEqual(Object.getPrototypeOf(resolved), WA.Module.prototype);
        assert.deepStrictEqual(WA.Module.exports(resolved), [{ name: 'tbl', kind: 'table' }]);
      }
    });

    test('compileStreaming: content type must be exactly application/wasm', { skip: needsResponse }, async () => {
      for (const type of ['text/plain', 'application/wasm; charset=utf-8', 'application/wasm;', 'text/wasm', 'application/octet-stream', '']) {
        const response = new Response(tableBytes(), { headers: { 'content-type': type } });
        assert.strictEqual((await settle(WA, () => WA.compileStreaming(response))).rejected, 'TypeError', type);
      }
      assert.strictEqual((await settle(WA, () => WA.compileStreaming(new Response(tableBytes())))).rejected, 'TypeError');
    });

    // Node checks the header with ===; the Web API spec (and WPT
    // webapi/contenttype.any.js) match it byte-case-insensitively.
    test('compileStreaming: application/wasm in other letter cases is a TypeError (Node)', { skip: needsResponse }, async () => {
      for (const type of ['Application/WASM', 'APPLICATION/wasm']) {
        const response = new Response(tableBytes(), { headers: { 'content-type': type } });
        assert.strictEqual((await settle(WA, () => WA.compileStreaming(response))).rejected, 'TypeError', type);
      }
    });

    test('compileStreaming: TypeError for what is not a Response', { skip: needsResponse }, async () => {
      for (const source of [undefined, null, 1, 'memory.wasm', {}, tableBytes(), new ArrayBuffer(8), Promise.resolve(tableBytes()),
        new Blob([tableBytes()]), { headers: { get: () => 'application/wasm' }, arrayBuffer: async () => tableBytes().buffer }]) {
        assert.strictEqual((await settle(WA, () => WA.compileStreaming(source))).rejected, 'TypeError');
      }
      assert.strictEqual((await settle(WA, () => WA.compileStreaming())).rejected, 'TypeError');
    });

    test('compileStreaming: a rejected promise rejects with its reason', async () => {
      const reason = new SyntaxError('network');
      const { error } = await settle(WA, () => WA.compileStreaming(Promise.reject(reason)));
      assert.strictEqual(error, reason);
    });

    test('compileStreaming: a failed response, a used body, bad bytes', { skip: needsResponse }, async () => {
      assert.strictEqual((await settle(WA, () => WA.compileStreaming(wasmResponse(tableBytes(), { status: 404 })))).rejected, 'TypeError');
      const used = wasmResponse(tableBytes());
      await used.arrayBuffer();
      assert.strictEqual((await settle(WA, () => WA.compileStreaming(used))).rejected, 'TypeError');
      assert.strictEqual((await settle(WA, () => WA.compileStreaming(wasmResponse(invalidBytes)))).rejected, 'WebAssembly.CompileError');
      assert.strictEqual((await settle(WA, () => WA.compileStreaming(wasmResponse(new Uint8Array(0))))).rejected, 'WebAssembly.CompileError');
    });

    test('compileStreaming: a body in several chunks', { skip: needsResponse }, async () => {
      const bytes = tableBytes();
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 5) controller.enqueue(bytes.slice(i, i + 5));
          controller.close();
        },
      });
      const module = await WA.compileStreaming(new Response(stream, { headers: { 'content-type': 'application/wasm' } }));
      assert.strictEqual(new WA.Instance(module).exports.tbl.get(0)(), 13);
    });

    test('instantiateStreaming: resolves to { module, instance }', { skip: needsResponse }, async () => {
      const calls = [];
      for (const source of [wasmResponse(simpleBytes()), Promise.resolve(wasmResponse(simpleBytes()))]) {
        const { resolved } = await settle(WA, () => WA.instantiateStreaming(source, { imports: { imported_func: (x) => calls.push(x) } }));
        assert.deepStrictEqual(Reflect.ownKeys(resolved), ['module', 'instance']);
        assert.strictEqual(Object.getPrototypeOf(resolved.module), WA.Module.prototype);
        assert.strictEqual(Object.getPrototypeOf(resolved.instance), WA.Instance.prototype);
        resolved.instance.exports.exported_func();
      }
      assert.deepStrictEqual(calls, [42, 42]);
    });

    test('instantiateStreaming: rejection classes', { skip: needsResponse }, async () => {
      const cases = [
        [() => WA.instantiateStreaming(new Response(simpleBytes())), 'TypeError'],
        [() => WA.instantiateStreaming(simpleBytes(), { imports: { imported_func() {} } }), 'TypeError'],
        [() => WA.instantiateStreaming(wasmResponse(invalidBytes)), 'WebAssembly.CompileError'],
        [() => WA.instantiateStreaming(wasmResponse(simpleBytes())), 'TypeError'],
        [() => WA.instantiateStreaming(wasmResponse(simpleBytes()), 1), 'TypeError'],
        [() => WA.instantiateStreaming(wasmResponse(simpleBytes()), { imports: {} }), 'WebAssembly.LinkError'],
        [() => WA.instantiateStreaming(wasmResponse(watFile('start-trap'))), 'WebAssembly.RuntimeError'],
        [() => WA.instantiateStreaming(wasmResponse(tableBytes(), { status: 500 })), 'TypeError'],
      ];
      for (const [fn, expected] of cases) assert.strictEqual((await settle(WA, fn)).rejected, expected, String(fn));
    });
  });
}
