'use strict';
// Real packages that need externref and exception handling, each run in a
// child process per implementation (__test__/packages/<name>.js, which swaps
// globalThis.WebAssembly for ours before the package loads): the output of
// a small real workload must be byte for byte the built-in's.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { ours } = require('./impls');

const packages = [
  ['@rollup/wasm-node', 'rollup.js'],
  ['@automerge/automerge', 'automerge.js'],
  ['web-ifc', 'web-ifc.js'],
];

function run(script, impl) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(__dirname, 'packages', script), impl], { timeout: 300000 },
      (error, stdout, stderr) => resolve({ code: error ? error.code ?? error.signal : 0, stdout, stderr }));
  });
}

function installed(name) {
  try {
    require.resolve(name, { paths: [__dirname] });
    return true;
  } catch {
    return false;
  }
}

for (const [name, script] of packages) {
  const skip = (!ours && 'the addon is not loaded') ||
    (!installed(name) && `${name} is not installed (npm install: it is a devDependency)`);
  test(`${name}: the same output on ours as on the built-in`, { skip, timeout: 600000 }, async (t) => {
    const reference = await run(script, 'builtin');
    if (reference.code !== 0) {
      t.skip(`this Node's built-in cannot run ${name}: ${reference.stderr.split('\n').find((l) => l.trim()) || reference.code}`);
      return;
    }
    const result = await run(script, 'ours');
    assert.strictEqual(result.code, 0, result.stderr);
    assert.ok(reference.stdout.length > 0);
    assert.strictEqual(result.stdout, reference.stdout);
    assert.strictEqual(result.stderr, reference.stderr);
  });
}
