'use strict';
// A short, fixed-seed run of the differential fuzzer (fuzz/memory.js): random
// scenarios against the built-in WebAssembly.Memory and ours, compared step
// by step. Longer runs: `npm run fuzz -- --iterations 100000 --seed 2`.
const { test } = require('node:test');
const assert = require('node:assert');
const { spawnCollect } = require('./child');
const path = require('node:path');

// The built-in cannot allocate a memory under a low `ulimit -v` (impls.js): tests that compare with it skip.
const { needsBuiltin } = require('./impls');

const fuzzer = path.join(__dirname, '..', 'fuzz', 'memory.js');
const ITERATIONS = 2000;
const SEED = 1;

test(`differential fuzzing: ${ITERATIONS} iterations, seed ${SEED}`, { skip: needsBuiltin }, async (t) => {
  const args = ['--expose-gc', fuzzer, '--iterations', String(ITERATIONS), '--seed', String(SEED)];
  const run = await spawnCollect(process.execPath, args, 110000);
  const output = `\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
  for (const line of run.stdout.trim().split('\n').slice(-2)) t.diagnostic(line);
  assert.ok(!run.timedOut, `the fuzzer did not finish${output}`);
  assert.strictEqual(run.signal, null, `the fuzzer was killed by ${run.signal}${output}`);
  assert.strictEqual(run.status, 0, `the fuzzer found differences${output}`);
  assert.match(run.stdout, new RegExp(`^${ITERATIONS} passed, 0 failed$`, 'm'), output);
});
