'use strict';
// Address space: in the compact layout (WASM_MEMORY_RS_MEMORY=compact, or
// automatically under ulimit -v) memories with a small maximum share slabs,
// so 100,000 of them live at once (V8 reserves ~10 GiB each and runs out
// near 13k); in the default guard layout each takes 4 GiB + 32 MiB, so
// fewer fit, and past the budget construction throws a RangeError. Either
// way, near the process's limits construction throws while there is still
// headroom, instead of V8 aborting the process. In children, so that their
// limits are their own.
const { test } = require('node:test');
const assert = require('node:assert');
const { readFileSync } = require('node:fs');
// Under ulimit -v, tests that need more address space than the limit leaves
// are skipped with this reason.
const limitedAddressSpace = /Max address space\s+\d+/.test(readFileSync('/proc/self/limits', 'utf8')) &&
  'needs more address space than this process\'s limit (ulimit -v) allows';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = JSON.stringify(path.join(__dirname, '..'));

function run(script, { ulimitKiB, layout } = {}) {
  const node = JSON.stringify(process.execPath);
  const command = ulimitKiB
    ? ['bash', ['-c', `ulimit -v ${ulimitKiB} && exec ${node} -e "$0"`, script]]
    : [process.execPath, ['-e', script]];
  const env = layout ? { ...process.env, WASM_MEMORY_RS_MEMORY: layout } : process.env;
  return spawnSync(command[0], command[1], { encoding: 'utf8', timeout: 120000, env });
}

test('compact: 100,000 live memories of {initial: 1, maximum: 16}', { skip: limitedAddressSpace }, () => {
  const child = run(`
    const { Memory } = require(${root});
    const keep = [];
    for (let i = 0; i < 100000; i++) keep.push(new Memory({ initial: 1, maximum: 16 }));
    new Uint8Array(keep[99999].buffer)[0] = 1;
    keep[0].grow(15);
    console.log(keep.length);`, { layout: 'compact' });
  assert.strictEqual(child.status, 0, child.stderr);
  assert.strictEqual(child.stdout.trim(), '100000');
});

test('guard: live small memories until a RangeError, then the process goes on', { skip: limitedAddressSpace }, () => {
  const child = run(`
    const { Memory } = require(${root});
    const { binding } = require(${JSON.stringify(path.join(__dirname, '..', 'internal.js'))});
    const keep = [];
    let error;
    try {
      for (let i = 0; i < 100000; i++) keep.push(new Memory({ initial: 1, maximum: 16 }));
    } catch (e) {
      error = e;
    }
    const count = keep.length;
    new Uint8Array(keep[count - 1].buffer)[0] = 1;
    keep[0].grow(15);
    const junk = new Array(1e6).fill(0).map((_, i) => ({ i }));
    keep.length = 0;
    const after = new Memory({ initial: 1, maximum: 16 });
    console.log(binding.memoryLayout(), count, error && error.constructor.name, junk.length, after.buffer.byteLength);`);
  assert.strictEqual(child.status, 0, child.stderr);
  const [layout, count, ...rest] = child.stdout.trim().split(' ');
  assert.strictEqual(layout, 'guard');
  // 4 GiB + 32 MiB each out of 3/4 of 128 TiB, or 2 mappings each out of
  // 3/4 of vm.max_map_count: ~24,000 on x86-64 Linux; V8 stops near 13,000.
  assert.ok(Number(count) > 10000, count);
  assert.deepStrictEqual(rest, ['RangeError', '1000000', '65536']);
});

test('memories without a maximum: a RangeError well before the process breaks', { skip: limitedAddressSpace }, () => {
  const child = run(`
    const { Memory } = require(${root});
    const keep = [];
    let error;
    try {
      for (let i = 0; i < 100000; i++) keep.push(new Memory({ initial: 1 }));
    } catch (e) {
      error = e;
    }
    // The process goes on: V8 can still allocate, and so can we once some are gone.
    const junk = new Array(1e6).fill(0).map((_, i) => ({ i }));
    keep.length = 0;
    const after = new Memory({ initial: 1 });
    console.log(error && error.constructor.name, junk.length, after.buffer.byteLength);`);
  assert.strictEqual(child.status, 0, child.stderr);
  assert.strictEqual(child.stdout.trim(), 'RangeError 1000000 65536');
});

test('under ulimit -v 8000000 our memories work, reserving only what they need', () => {
  const child = run(
    `
    const { Memory } = require(${root});
    const small = [];
    for (let i = 0; i < 1000; i++) small.push(new Memory({ initial: 1, maximum: 16 }));
    const big = new Memory({ initial: 16 });
    new Uint8Array(big.buffer).fill(1);
    big.grow(16);
    console.log(small.length, big.buffer.byteLength);`,
    { ulimitKiB: 8000000 },
  );
  assert.strictEqual(child.status, 0, child.stderr);
  assert.strictEqual(child.stdout.trim(), `1000 ${32 * 65536}`);
});

test('instances whose memories cannot be allocated: a RangeError (as V8), and later ones work', () => {
  const child = run(`
    const WA = require(${root});
    const { wat } = require(${JSON.stringify(path.join(__dirname, 'wat.js'))});
    const mod = new WA.Module(wat('(module (memory (export "m") 1))'));
    const kept = [];
    let error;
    try {
      for (let i = 0; i < 1e6; i++) kept.push(new WA.Instance(mod));
    } catch (e) {
      error = e;
    }
    if (!(error instanceof RangeError)) throw new Error('expected a RangeError, got ' + error);
    if (!/Out of memory/.test(error.message)) throw new Error(error.message);
    kept.length = 0;
    console.log(new WA.Instance(mod).exports.m.buffer.byteLength);`, { ulimitKiB: 8000000 });
  assert.strictEqual(child.status, 0, child.stderr);
  assert.strictEqual(child.stdout.trim(), '65536');
});
