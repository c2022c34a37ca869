'use strict';
// The package's shape: CommonJS and ESM entries give the same objects, and
// loading it touches no globals.
const { test } = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');

test('ESM default and named exports are the CommonJS objects', async () => {
  const esm = await import(path.join(root, 'index.mjs'));
  const cjs = require('..');
  assert.strictEqual(esm.default, cjs);
  assert.strictEqual(esm.Memory, cjs.Memory);
  for (const name of ['compile', 'validate', 'instantiate', 'compileStreaming', 'instantiateStreaming',
    'Module', 'Instance', 'Table', 'Global', 'Tag', 'Exception', 'JSTag', 'CompileError', 'LinkError', 'RuntimeError',
    'Suspending', 'promising', 'SuspendError']) {
    assert.strictEqual(esm[name], cjs[name], name);
  }
});

test('the package resolves by name from ESM and CommonJS', () => {
  const script = `
    import WebAssembly, { Memory } from 'wasm-memory-rs';
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    if (require('wasm-memory-rs') !== WebAssembly || WebAssembly.Memory !== Memory) process.exit(1);
    console.log(new Memory({ initial: 1 }).buffer.byteLength);`;
  // Self-reference by package name works inside the package directory.
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  assert.strictEqual(child.status, 0, child.stderr);
  assert.strictEqual(child.stdout.trim(), '65536');
});

test('loading touches no globals and leaves the built-in WebAssembly alone', () => {
  const script = `
    const before = Reflect.ownKeys(globalThis).map(String).sort().join();
    const builtin = globalThis.WebAssembly;
    const ours = require(${JSON.stringify(root)});
    new ours.Memory({ initial: 1 }).grow(1);
    const after = Reflect.ownKeys(globalThis).map(String).sort().join();
    if (before !== after) { console.error(before, '!==', after); process.exit(1); }
    if (globalThis.WebAssembly !== builtin || ours === builtin) process.exit(2);
    if (typeof globalThis.gc !== 'undefined') process.exit(3);`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.strictEqual(child.status, 0, child.stderr);
});
