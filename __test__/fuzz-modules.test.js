'use strict';
// A short, fixed-seed run of the module fuzzer (fuzz/modules.js): random
// wasm-smith modules on the built-in WebAssembly and on ours, compared call
// by call. Longer runs: `npm run fuzz:modules -- --seed 2 --iterations 100000`.
// The generator is a Cargo binary (fuzz/modules/), built here on first use.
const { test } = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { spawnCollect } = require('./child');

const fuzzer = path.join(__dirname, '..', 'fuzz', 'modules.js');
const RUNS = [
  { seed: 1, iterations: 2000, features: [] },
  // SIMD: in the built-in of every supported Node and in ours.
  { seed: 2, iterations: 500, features: ['simd'] },
];

// The built-in cannot allocate a memory under a low `ulimit -v` (impls.js): tests that compare with it skip.
const { needsBuiltin } = require('./impls');

const cargo = spawnSync(process.env.CARGO || 'cargo', ['--version']);
const noCargo = cargo.error || cargo.status !== 0
  ? 'cargo is not available: the module generator (fuzz/modules/, wasm-smith) is built with it' : false;

test('module fuzzer: build the generator (first use only)', { skip: noCargo }, async (t) => {
  // The first build compiles wasm-smith and its dependencies (~1-2 minutes).
  const run = await spawnCollect(process.execPath, [fuzzer, '--build-only'], 900000);
  t.diagnostic(`generator ready in ${(run.ms / 1000).toFixed(1)} s`);
  assert.ok(!run.timedOut, `the build did not finish\n${run.stderr}`);
  assert.strictEqual(run.status, 0, `the build failed\n${run.stderr}`);
});

for (const { seed, iterations, features } of RUNS) {
  const label = features.length ? `, features ${features.join(',')}` : '';
  test(`module fuzzer: ${iterations} modules, seed ${seed}${label}`, { skip: noCargo || needsBuiltin }, async (t) => {
    const args = [fuzzer, '--seed', String(seed), '--iterations', String(iterations)];
    if (features.length) args.push('--features', features.join(','));
    const run = await spawnCollect(process.execPath, args, 120000);
    const output = `\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
    for (const line of run.stdout.trim().split('\n').slice(-2, -1)) t.diagnostic(line);
    assert.ok(!run.timedOut, `the fuzzer did not finish${output}`);
    assert.strictEqual(run.signal, null, `the fuzzer was killed by ${run.signal}${output}`);
    assert.strictEqual(run.status, 0, `the fuzzer found a difference${output}`);
    assert.strictEqual(run.result?.modules, iterations, output);
    // The run did exercise modules: most instantiate, and their exports ran.
    assert.ok(run.result.instantiated > iterations / 2, output);
    assert.ok(run.result.calls > iterations, output);
  });
}
