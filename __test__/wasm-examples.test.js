'use strict';
// The MDN WebAssembly JavaScript API examples (memory, simple, global,
// table), each written as its program would be — fetch() replaced by a
// Response with the application/wasm content type — and run under the
// built-in and ours: the printed output must be the expected one, and the
// same for both.
const { describe, test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { impls, builtin, ours, needsResponse } = require('./impls');
const { wat, watFile } = require('./wat');

const EXAMPLES = path.join(__dirname, '..', 'examples');

/** fetch('<name>.wasm'), as a server sending __test__/wat/<name>.wat compiled would answer it. */
function fetchWasm(name) {
  return Promise.resolve(new Response(watFile(name), { headers: { 'content-type': 'application/wasm' } }));
}

// Each program takes the namespace and a console.log stand-in; it returns a
// promise that settles when the program is done.
const programs = {
  // MDN "WebAssembly.Memory": accumulate ten i32s written from JS.
  memory: {
    expected: ['45'],
    run(WebAssembly, log) {
      const memory = new WebAssembly.Memory({ initial: 10, maximum: 100 });
      return WebAssembly.instantiateStreaming(fetchWasm('memory'), { js: { mem: memory } }).then((obj) => {
        const summands = new Uint32Array(memory.buffer);
        for (let i = 0; i < 10; i++) summands[i] = i;
        const sum = obj.instance.exports.accumulate(0, 10);
        log(sum);
      });
    },
  },
  // MDN "WebAssembly.instantiateStreaming()": simple.wasm calls back into JS.
  simple: {
    expected: ['42'],
    run(WebAssembly, log) {
      const importObject = { imports: { imported_func: (arg) => log(arg) } };
      return WebAssembly.instantiateStreaming(fetchWasm('simple'), importObject).then(
        (obj) => obj.instance.exports.exported_func(),
      );
    },
  },
  // The same with WebAssembly.instantiate() on the bytes.
  'simple (instantiate with bytes)': {
    expected: ['42'],
    run(WebAssembly, log) {
      const importObject = { imports: { imported_func: (arg) => log(arg) } };
      return fetchWasm('simple')
        .then((response) => response.arrayBuffer())
        .then((bytes) => WebAssembly.instantiate(bytes, importObject))
        .then((result) => result.instance.exports.exported_func());
    },
  },
  // ... and with compileStreaming() then instantiate(module).
  'simple (compileStreaming, then instantiate a Module)': {
    expected: ['42'],
    run(WebAssembly, log) {
      const importObject = { imports: { imported_func: (arg) => log(arg) } };
      return WebAssembly.compileStreaming(fetchWasm('simple'))
        .then((module) => WebAssembly.instantiate(module, importObject))
        .then((instance) => instance.exports.exported_func());
    },
  },
  // MDN "WebAssembly.Global".
  global: {
    expected: [
      'getting initial value from wasm: SUCCESS',
      'getting JS-updated value from wasm: SUCCESS',
      'getting wasm-updated value from JS: SUCCESS',
    ],
    run(WebAssembly, log) {
      const global = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
      function assertEq(msg, got, expected) {
        log(`${msg}: ${got === expected ? 'SUCCESS' : `FAIL! Got: ${got}, Expected: ${expected}`}`);
      }
      return WebAssembly.instantiateStreaming(fetchWasm('global'), { js: { global } }).then(({ instance }) => {
        assertEq('getting initial value from wasm', instance.exports.getGlobal(), 0);
        global.value = 42;
        assertEq('getting JS-updated value from wasm', instance.exports.getGlobal(), 42);
        instance.exports.incGlobal();
        assertEq('getting wasm-updated value from JS', global.value, 43);
      });
    },
  },
  // MDN "WebAssembly.Table".
  table: {
    expected: ['13', '42'],
    run(WebAssembly, log) {
      return WebAssembly.instantiateStreaming(fetchWasm('table')).then((obj) => {
        const tbl = obj.instance.exports.tbl;
        log(tbl.get(0)()); // 13
        log(tbl.get(1)()); // 42
      });
    },
  },
  // MDN "WebAssembly.Table.prototype.set()": a JS-made table filled with the
  // functions of table.wasm, passed to a module that imports it.
  'table set': {
    expected: ['2', 'null', '13', '42'],
    run(WebAssembly, log) {
      const tbl = new WebAssembly.Table({ initial: 2, element: 'anyfunc' });
      log(tbl.length);
      log(tbl.get(0));
      return WebAssembly.instantiateStreaming(fetchWasm('table')).then((obj) => {
        tbl.set(0, obj.instance.exports.tbl.get(0));
        tbl.set(1, obj.instance.exports.tbl.get(1));
        return WebAssembly.instantiateStreaming(fetchWasm('table-import'), { env: { tbl } });
      }).then(({ instance }) => {
        log(instance.exports.call(0));
        log(instance.exports.call(1));
      });
    },
  },
};

async function output(WA, program) {
  const lines = [];
  await program.run(WA, (...args) => lines.push(args.map(String).join(' ')));
  return lines;
}

for (const [name, WA] of impls) {
  describe(name, () => {
    for (const [title, program] of Object.entries(programs)) {
      test(`${title}: prints ${program.expected.join(', ')}`, { skip: needsResponse }, async () => {
        assert.deepStrictEqual(await output(WA, program), program.expected);
      });
    }
  });
}

describe('the same output from the built-in and ours', () => {
  const skip = !(builtin && ours && impls.length === 2) && 'needs both implementations';
  for (const [title, program] of Object.entries(programs)) {
    test(title, { skip }, async () => {
      assert.deepStrictEqual(await output(ours, program), await output(builtin, program));
    });
  }
});

test('examples/memory.wat is __test__/wat/memory.wat', () => {
  assert.strictEqual(fs.readFileSync(path.join(EXAMPLES, 'memory.wat'), 'utf8'),
    fs.readFileSync(path.join(__dirname, 'wat', 'memory.wat'), 'utf8'));
});

const memoryWasm = path.join(EXAMPLES, 'memory.wasm');
test('examples/memory.wasm is wat(examples/memory.wat)',
  { skip: !fs.existsSync(memoryWasm) && 'examples/memory.wasm does not exist yet (the build of the examples makes it)' },
  () => {
    const expected = wat(fs.readFileSync(path.join(EXAMPLES, 'memory.wat'), 'utf8'));
    assert.deepStrictEqual(new Uint8Array(fs.readFileSync(memoryWasm)), expected);
  });
