'use strict';
// `node --require wasm-memory-rs/register` and `--import wasm-memory-rs/register`
// run an unmodified program's wasm on wasmtime (register.js, register.mjs).
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

// The built-in cannot allocate a memory under a low `ulimit -v` (impls.js): tests that compare with it skip.
const { needsBuiltin } = require('./impls');

const ROOT = path.join(__dirname, '..');
const APP = path.join(__dirname, 'register');

function run(flags, app) {
  const out = execFileSync(process.execPath, [...flags, path.join(APP, app)], { encoding: 'utf8', cwd: ROOT });
  return JSON.parse(out.trim());
}

test('without register, the program runs on the built-in', { skip: needsBuiltin }, () => {
  assert.deepStrictEqual(run([], 'app.js'), { sum: 42, ours: false, instanceOf: true });
});

test('--require wasm-memory-rs/register: CommonJS and ES module programs run on ours', () => {
  const flags = ['--require', path.join(ROOT, 'register.js')];
  assert.deepStrictEqual(run(flags, 'app.js'), { sum: 42, ours: true, instanceOf: true });
  assert.deepStrictEqual(run(flags, 'app.mjs'), { sum: 42, ours: true, instanceOf: true });
});

test('--import wasm-memory-rs/register: CommonJS and ES module programs run on ours', () => {
  const flags = ['--import', `file://${path.join(ROOT, 'register.mjs')}`];
  assert.deepStrictEqual(run(flags, 'app.js'), { sum: 42, ours: true, instanceOf: true });
  assert.deepStrictEqual(run(flags, 'app.mjs'), { sum: 42, ours: true, instanceOf: true });
});

test('the package name resolves through the exports map', () => {
  // A self-reference: resolved through package.json's exports, as in a project.
  assert.strictEqual(require.resolve('wasm-memory-rs/register'), path.join(ROOT, 'register.js'));
  assert.strictEqual(require.resolve('wasm-memory-rs/sandbox'), path.join(ROOT, 'lib', 'sandbox.js'));
  const out = execFileSync(process.execPath, ['--require', path.join(ROOT, 'register.js'), '-p',
    'const d = Object.getOwnPropertyDescriptor(globalThis, "WebAssembly"); ' +
    'JSON.stringify([d.writable, d.enumerable, d.configurable, d.value === require(process.argv[1])])', ROOT], { encoding: 'utf8' });
  assert.deepStrictEqual(JSON.parse(out), [true, false, true, true]);
});

test('register: node:wasi and wasi give wasm-memory-rs/wasi, for require and import (Node 20-26)', { skip: needsBuiltin }, () => {
  const runWasi = (flags, app) => {
    const out = execFileSync(process.execPath, [...flags, path.join(APP, app)], { encoding: 'utf8', cwd: ROOT });
    const [hello, json] = out.trim().split('\n');
    assert.strictEqual(hello, 'hello from wasi');
    return JSON.parse(json);
  };
  // Unregistered: node:wasi on the built-in.
  assert.deepStrictEqual(runWasi([], 'wasi-app.js'), { code: 0, ours: false, same: true });
  assert.deepStrictEqual(runWasi([], 'wasi-app.mjs'), { code: 0, ours: false, same: true });
  for (const flags of [['--require', path.join(ROOT, 'register.js')], ['--import', `file://${path.join(ROOT, 'register.mjs')}`]]) {
    assert.deepStrictEqual(runWasi(flags, 'wasi-app.js'), { code: 0, ours: true, same: true }, flags[0]);
    assert.deepStrictEqual(runWasi(flags, 'wasi-app.mjs'), { code: 0, ours: true, same: true }, flags[0]);
  }
  assert.strictEqual(require.resolve('wasm-memory-rs/wasi'), path.join(ROOT, 'lib', 'wasi.js'));
});
