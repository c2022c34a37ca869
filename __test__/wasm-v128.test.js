'use strict';
// Exported and imported functions with v128 in their signature (found by the
// module fuzzer, fuzz/modules.js): a call is a TypeError before anything
// runs, as the JS API says and V8 does. Ours used to run the wasm (or the JS
// import) first and fail only when converting the v128 result.
const assert = require('node:assert');
const { test } = require('node:test');
const { impls } = require('./impls');
const { wat } = require('./wat');

const bytes = wat(`(module
  (import "env" "f" (func $f (result v128)))
  (global (export "g") (mut i32) (i32.const 0))
  (func (export "result") (result v128)
    (global.set 0 (i32.const 1)) (v128.const i64x2 0 0))
  (func (export "param") (param i32 v128)
    (global.set 0 (i32.const 2)))
  (func (export "callImport")
    (global.set 0 (i32.const 3)) (drop (call $f))))`);

for (const [name, WA] of impls) {
  test(`${name}: calls of functions with v128 in their type are TypeErrors before anything runs`, () => {
    const imported = [];
    const { exports } = new WA.Instance(new WA.Module(bytes), {
      env: { f() { imported.push('called'); return 0; } },
    });
    assert.throws(() => exports.result(), TypeError);
    assert.strictEqual(exports.g.value, 0, 'the function did not run');
    const converted = [];
    assert.throws(() => exports.param({ valueOf() { converted.push('valueOf'); return 1; } }, 0), TypeError);
    assert.deepStrictEqual(converted, [], 'no argument was converted');
    assert.strictEqual(exports.g.value, 0);
    // From wasm, the import with a v128 result throws before it runs.
    assert.throws(() => exports.callImport(), TypeError);
    assert.deepStrictEqual(imported, [], 'the JS import did not run');
    assert.strictEqual(exports.g.value, 3, 'wasm ran up to the call');
  });
}
