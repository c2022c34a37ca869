'use strict';
// Workers and process exit: the addon in several worker_threads at once;
// memories made in a worker freed when it ends (however it ends); a worker
// terminated while it holds memories and buffers; processes that exit with
// live memories and buffers. Each scenario runs in a child process, so that
// a crash or an abort is a failed test (with the child's stderr) and a hang
// is a timeout.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { spawnCollect } = require('./child');

const root = path.join(__dirname, '..');
const MiB = 2 ** 20;

/**
 * Runs `fn`, a self-contained function, in a child Node (with --expose-gc
 * unless `execArgv` says otherwise), as `fn(options)` where options.root is
 * the package. The child reports by printing `RESULT <json>`. Resolves with
 * { status, signal, timedOut, stdout, stderr, result, ms }.
 */
function runChild(fn, { options = {}, timeoutMs = 55000, wrap = true, execArgv = ['--expose-gc'] } = {}) {
  const call = `(${fn})(${JSON.stringify({ root, ...options })})`;
  const code = wrap
    ? `Promise.resolve(${call}).catch((error) => { console.error(error); process.exit(70); });`
    : `${call};`;
  return spawnCollect(process.execPath, [...execArgv, '-e', code], timeoutMs);
}

/** The child ended by itself with status 0 and wrote nothing to stderr. */
function assertClean(run, what, { needResult = true } = {}) {
  const output = `\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
  assert.ok(!run.timedOut, `${what}: no exit after ${run.ms} ms (hang)${output}`);
  assert.strictEqual(run.signal, null, `${what}: killed by ${run.signal}${output}`);
  assert.strictEqual(run.status, 0, `${what}: exit status ${run.status}${output}`);
  assert.strictEqual(run.stderr, '', `${what}: wrote to stderr${output}`);
  if (needResult) assert.notStrictEqual(run.result, undefined, `${what}: no RESULT line${output}`);
  return run.result;
}

// The body of a worker (or of the main thread) that makes, grows, writes and
// checks memories; a function so that it can be sent as source. Returns a
// summary, or throws on the first wrong byte.
function exercise({ root, id, rounds }) {
  const { Memory } = require(root);
  const { binding } = require(`${root}/internal.js`);
  const PAGE = 65536;
  let state = (id + 1) * 0x9e3779b1;
  const rand = (n) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0;
  };
  const mark = (round, page) => ((id * 131 + round * 17 + page * 7) & 0xff) || 1;
  const check = (condition, what) => {
    if (!condition) throw new Error(`worker ${id}: ${what}`);
  };
  const kept = [];
  let pagesMade = 0;
  for (let round = 0; round < rounds; round++) {
    const initial = rand(4);
    const maximum = rand(4) === 0 ? undefined : initial + 4 + rand(28);
    const memory = new Memory(maximum === undefined ? { initial } : { initial, maximum });
    let buffer = memory.buffer;
    check(buffer.byteLength === initial * PAGE, 'initial size');
    check(memory.buffer === buffer, 'buffer identity');
    const bytes = new Uint8Array(buffer);
    for (let p = 0; p < initial; p++) {
      check(bytes[p * PAGE] === 0 && bytes[p * PAGE + PAGE - 1] === 0, 'a new memory is zero');
      bytes[p * PAGE] = mark(round, p);
      bytes[p * PAGE + PAGE - 1] = mark(round, p);
    }
    const delta = rand(4);
    check(memory.grow(delta) === initial, 'grow returns the old size');
    check(buffer.byteLength === 0, 'grow detaches the old buffer');
    buffer = memory.buffer;
    check(buffer.byteLength === (initial + delta) * PAGE, 'size after grow');
    const after = new Uint8Array(buffer);
    for (let p = 0; p < initial + delta; p++) {
      const expected = p < initial ? mark(round, p) : 0;
      check(after[p * PAGE] === expected && after[p * PAGE + PAGE - 1] === expected, `contents after grow, page ${p}`);
    }
    pagesMade += initial + delta;
    kept.push({ memory, round, pages: initial });
    if (kept.length > 8) {
      // Check a memory made a while ago, then let it go.
      const old = kept.shift();
      const oldBytes = new Uint8Array(old.memory.buffer);
      for (let p = 0; p < old.pages; p++) {
        check(oldBytes[p * PAGE] === mark(old.round, p), `an older memory kept its contents, page ${p}`);
      }
    }
    if (round % 64 === 63) {
      globalThis.gc();
      binding.sweep();
    }
  }
  return { id, rounds, pagesMade };
}

test('the addon loads in 4 workers at once, each making, growing, writing and checking memories', async () => {
  async function body({ root, exercise: source, rounds }) {
    const { Worker } = require('node:worker_threads');
    const workerSource = `
      const { parentPort, workerData } = require('node:worker_threads');
      parentPort.postMessage((${source})(workerData));`;
    const results = await Promise.all([0, 1, 2, 3].map((id) => new Promise((resolve, reject) => {
      const worker = new Worker(workerSource, { eval: true, workerData: { root, id, rounds } });
      let result;
      worker.on('message', (message) => { result = message; });
      worker.on('error', reject);
      worker.on('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`worker ${id} exited with ${code}`))));
    })).concat([
      // The main thread uses the addon at the same time.
      new Promise((resolve) => setImmediate(() => resolve((0, eval)(`(${source})`)({ root, id: 4, rounds })))),
    ]));
    console.log(`RESULT ${JSON.stringify(results)}`);
  }
  const rounds = 400;
  const r = assertClean(await runChild(body, { options: { exercise: exercise.toString(), rounds } }), 'child');
  assert.deepStrictEqual(r.map(({ id, rounds: n }) => [id, n]), [[0, rounds], [1, rounds], [2, rounds], [3, rounds], [4, rounds]]);
  for (const { pagesMade } of r) assert.ok(pagesMade > rounds);
});

test('memories made in a worker are freed when it ends, however it ends', async (t) => {
  async function body({ root, impl }) {
    const { Worker } = require('node:worker_threads');
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const WA = workerData.impl === 'builtin' ? globalThis.WebAssembly : require(workerData.root);
      const PAGE = 65536;
      const keep = [];
      // ~256 MiB, every page touched: 64 MiB without a maximum, 64 MiB with
      // one, 64 MiB in small memories (1 MiB each) and 64 MiB grown into.
      keep.push(new WA.Memory({ initial: 1024 }));
      keep.push(new WA.Memory({ initial: 1024, maximum: 2048 }));
      for (let i = 0; i < 64; i++) keep.push(new WA.Memory({ initial: 16, maximum: 16 }));
      const grown = new WA.Memory({ initial: 0, maximum: 4096 });
      grown.grow(1024);
      keep.push(grown);
      const views = keep.map((memory) => new Uint8Array(memory.buffer));
      for (const view of views) for (let i = 0; i < view.length; i += 4096) view[i] = 1;
      parentPort.postMessage('ready');
      parentPort.on('message', (how) => {
        if (how === 'exit') process.exit(0);
        if (how === 'end') parentPort.close(); // nothing left to do: the worker ends by itself
        if (how === 'spin') { parentPort.postMessage('spinning'); for (;;) views[0][0]++; }
      });`;
    const rss = () => process.memoryUsage().rss;
    const settle = async () => {
      for (let i = 0; i < 3; i++) {
        globalThis.gc();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const out = {};
    for (const how of ['end', 'exit', 'terminate', 'terminate while spinning']) {
      await settle();
      const before = rss();
      const worker = new Worker(source, { eval: true, workerData: { root, impl } });
      const exited = new Promise((resolve, reject) => {
        worker.on('exit', resolve);
        worker.on('error', reject);
      });
      await new Promise((resolve) => worker.once('message', resolve));
      const peak = rss();
      if (how === 'terminate') {
        await worker.terminate();
      } else if (how === 'terminate while spinning') {
        worker.postMessage('spin');
        await new Promise((resolve) => worker.once('message', resolve));
        await worker.terminate();
      } else {
        worker.postMessage(how);
      }
      const code = await exited;
      await settle();
      out[how] = { before, peak, after: rss(), code };
    }
    console.log(`RESULT ${JSON.stringify(out)}`);
  }
  const [ours, builtin] = [
    await runChild(body, { options: { impl: 'ours' } }),
    await runChild(body, { options: { impl: 'builtin' } }),
  ];
  const mib = (bytes) => `${(bytes / MiB).toFixed(0)} MiB`;
  const b = assertClean(builtin, 'built-in');
  for (const [how, { before, peak, after }] of Object.entries(b)) {
    t.diagnostic(`built-in, worker ${how}: RSS ${mib(before)} -> ${mib(peak)} -> ${mib(after)}`);
  }
  const o = assertClean(ours, 'ours');
  for (const [how, { before, peak, after, code }] of Object.entries(o)) {
    t.diagnostic(`ours, worker ${how}: RSS ${mib(before)} -> ${mib(peak)} -> ${mib(after)} (exit code ${code})`);
    assert.ok(peak - before > 200 * MiB, `${how}: the worker's memories were resident (${mib(peak - before)})`);
    // At least three quarters of it given back once the worker is gone.
    assert.ok(after - before < 64 * MiB, `${how}: ${mib(after - before)} still resident after the worker ended`);
  }
});

test('terminating workers that hold memories and buffers neither crashes nor hangs', async (t) => {
  async function body({ root }) {
    const { Worker } = require('node:worker_threads');
    const { Memory } = require(root);
    let sharedSupported = true;
    try {
      new Memory({ initial: 1, maximum: 1, shared: true });
    } catch {
      sharedSupported = false;
    }
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { Memory } = require(workerData.root);
      const { binding } = require(workerData.root + '/internal.js');
      const keep = [];
      const buffers = [];
      if (workerData.shared) {
        // A shared memory whose SharedArrayBuffer the parent keeps.
        const shared = new Memory({ initial: 1, maximum: 4, shared: true });
        new Uint8Array(shared.buffer)[5] = 55;
        keep.push(shared);
        parentPort.postMessage({ sab: shared.buffer });
      }
      parentPort.postMessage('started');
      // Busy until terminated: make, grow, write, keep and drop memories.
      for (let i = 0; ; i++) {
        const memory = new Memory(i % 3 === 0 ? { initial: 1 } : { initial: i % 5, maximum: 16 });
        buffers.push(memory.buffer);
        if (i % 2) memory.grow(1);
        new Uint8Array(memory.buffer).fill(i & 0xff, 0, Math.min(memory.buffer.byteLength, 1024));
        keep.push(memory);
        if (keep.length > 32) keep.shift();
        if (buffers.length > 32) buffers.shift();
        if (workerData.gc && i % 50 === 0) { globalThis.gc(); binding.sweep(); }
      }`;
    const withTimeout = (promise, ms, what) => Promise.race([
      promise,
      new Promise((resolve, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms).unref()),
    ]);
    const start = (options) => {
      const worker = new Worker(source, { eval: true, workerData: { root, ...options } });
      const messages = [];
      const started = new Promise((resolve, reject) => {
        worker.on('message', (message) => {
          messages.push(message);
          if (message === 'started') resolve();
        });
        worker.on('error', reject);
      });
      return { worker, started, messages };
    };
    const out = { terminated: 0, sharedSupported };
    // One at a time, at various moments: while loading the addon, right
    // after starting, and after a while of work.
    for (const delay of [-1, 0, 5, 20, 100]) {
      const { worker, started } = start({ gc: delay === 100 });
      if (delay >= 0) {
        await withTimeout(started, 20000, 'start');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
      await withTimeout(worker.terminate(), 10000, `terminate after ${delay} ms`);
      out.terminated++;
    }
    // Four at once, terminated together.
    const four = [0, 1, 2, 3].map((i) => start({ gc: i % 2 === 0 }));
    await withTimeout(Promise.all(four.map(({ started }) => started)), 20000, 'start four');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await withTimeout(Promise.all(four.map(({ worker }) => worker.terminate())), 10000, 'terminate four');
    out.terminated += 4;
    // A shared memory's buffer outlives the worker that made it.
    if (sharedSupported) {
      const { worker, started, messages } = start({ shared: true });
      await withTimeout(started, 20000, 'start shared');
      const sab = messages.find((m) => m && m.sab).sab;
      await withTimeout(worker.terminate(), 10000, 'terminate shared');
      out.terminated++;
      globalThis.gc();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const view = new Uint8Array(sab);
      out.sharedAfter = [view.length, view[5]];
      view[6] = 66;
    }
    // The addon still works here.
    const memory = new Memory({ initial: 1, maximum: 2 });
    new Uint8Array(memory.buffer)[0] = 1;
    out.afterwards = memory.grow(1);
    console.log(`RESULT ${JSON.stringify(out)}`);
  }
  const r = assertClean(await runChild(body), 'child');
  t.diagnostic(`terminated ${r.terminated} workers; shared memories ${r.sharedSupported ? 'tested' : 'not supported on this Node'}`);
  assert.strictEqual(r.terminated, r.sharedSupported ? 10 : 9);
  if (r.sharedSupported) assert.deepStrictEqual(r.sharedAfter, [65536, 55]);
  assert.strictEqual(r.afterwards, 1);
});

// Sweeps force a full garbage collection when a memory they stopped holding
// may be garbage (src/memory/reclaim.rs). Once, that was a `gc` function made
// in a new context while a V8 flag was set: a worker terminated while making
// it made V8 print to stderr, and workers toggling the process-wide flag at
// once left one without `gc`. Here workers churn memories (every sweep then
// forces a collection) and are terminated at many moments, in processes
// with and without --expose-gc; afterwards no context has gained a `gc`.
for (const execArgv of [['--expose-gc'], []]) {
  const how = execArgv.length ? 'with --expose-gc' : 'without --expose-gc';
  test(`workers terminated in the middle of sweeps, ${how}: no crash, no output, no V8 flag changed`, async () => {
    async function body({ root }) {
      const { Worker } = require('node:worker_threads');
      const vm = require('node:vm');
      const v8 = require('node:v8');
      let flagChanges = 0;
      const setFlags = v8.setFlagsFromString;
      v8.setFlagsFromString = (flags) => {
        flagChanges++;
        return setFlags(flags);
      };
      const { Memory } = require(root);
      const source = `
        const { parentPort, workerData } = require('node:worker_threads');
        const { Memory } = require(workerData.root);
        parentPort.postMessage('started');
        // Memories whose buffers were read, dropped at once: sweeps must
        // collect garbage to free them.
        for (let i = 0; ; i++) new Uint8Array(new Memory({ initial: 1 + (i & 3) }).buffer)[i & 0xffff] = i;`;
      const hadGc = vm.runInNewContext('typeof gc');
      let terminated = 0;
      for (let round = 0; round < 12; round++) {
        const workers = [0, 1].map(() => new Worker(source, { eval: true, workerData: { root } }));
        await Promise.all(workers.map((worker, i) => new Promise((resolve, reject) => {
          worker.on('error', reject);
          const delay = (round * 7 + i * 13) % 40;
          // Half of them at once, before they have even loaded the addon.
          if (round % 2 === 0 && i === 0) return worker.terminate().then(resolve, reject);
          worker.once('message', () => setTimeout(() => worker.terminate().then(resolve, reject), delay));
        })));
        terminated += workers.length;
      }
      // The main thread churns too, then still works.
      for (let i = 0; i < 2000; i++) new Uint8Array(new Memory({ initial: 1 }).buffer)[i] = 1;
      const memory = new Memory({ initial: 1, maximum: 2 });
      console.log(`RESULT ${JSON.stringify({ terminated, flagChanges, hadGc, gcNow: vm.runInNewContext('typeof gc'), grew: memory.grow(1) })}`);
    }
    const r = assertClean(await runChild(body, { execArgv }), 'child');
    assert.strictEqual(r.terminated, 24);
    assert.strictEqual(r.flagChanges, 0, 'the addon changed V8 flags');
    assert.strictEqual(r.gcNow, r.hadGc, 'new contexts gained or lost `gc`');
    assert.strictEqual(r.hadGc, execArgv.length ? 'function' : 'undefined');
    assert.strictEqual(r.grew, 1);
  });
}

test('a process that exits with live memories and buffers exits with status 0', async () => {
  // Shared by the scenarios: memories of every kind, with buffers and views.
  function makeLive(root) {
    const { Memory } = require(root);
    const live = [];
    live.push(new Memory({ initial: 0 }));
    live.push(new Memory({ initial: 1 }));
    live.push(new Memory({ initial: 2, maximum: 16 }));
    live.push(new Memory({ initial: 64, maximum: 1024 }));
    const grown = new Memory({ initial: 1, maximum: 8 });
    const oldBuffer = grown.buffer;
    grown.grow(2);
    live.push(grown, oldBuffer);
    for (const memory of live.filter((m) => m instanceof Memory)) {
      const view = new Uint8Array(memory.buffer);
      view.fill(7);
      live.push(view, memory.buffer);
    }
    try {
      live.push(new Memory({ initial: 1, maximum: 2, shared: true }).buffer);
    } catch {
      // not on this Node
    }
    // A buffer whose Memory is gone.
    live.push(new Memory({ initial: 1 }).buffer);
    if (typeof ArrayBuffer.prototype.transfer === 'function') {
      live.push(new Memory({ initial: 1 }).buffer.transfer()); // the known-difference path
    }
    globalThis.keepAlive = live;
    return live;
  }
  const scenarios = {
    'natural end': `makeLive(root); setTimeout(() => console.log('RESULT "done"'), 10);`,
    'process.exit(0) at once': `makeLive(root); console.log('RESULT "done"'); process.exit(0);`,
    'process.exit() in a timer': `makeLive(root); setTimeout(() => { console.log('RESULT "done"'); process.exit(); }, 10);`,
    'process.exit() during a constructor (in valueOf)': `
      makeLive(root);
      const { Memory } = require(root);
      console.log('RESULT "done"');
      new Memory({ initial: { valueOf() { process.exit(0); } } });`,
    'process.exit() during grow (in valueOf)': `
      const live = makeLive(root);
      console.log('RESULT "done"');
      live[2].grow({ valueOf() { process.exit(0); } });`,
    'process.exit() while a worker holds memories': `
      makeLive(root);
      const { Worker } = require('node:worker_threads');
      const worker = new Worker(\`
        const { parentPort } = require('node:worker_threads');
        const { Memory } = require(\${JSON.stringify(root)});
        const keep = [];
        for (let i = 0; i < 50; i++) keep.push(new Memory({ initial: 1, maximum: 4 }), new Memory({ initial: 1 }).buffer);
        parentPort.postMessage('ready');
        for (let i = 0; ; i++) keep[i % 100] = new Memory({ initial: 1 }).buffer;\`, { eval: true });
      worker.once('message', () => { console.log('RESULT "done"'); process.exit(0); });`,
    'natural end after a worker with memories ended': `
      makeLive(root);
      const { Worker } = require('node:worker_threads');
      const worker = new Worker(\`
        const { Memory } = require(\${JSON.stringify(root)});
        globalThis.keep = [new Memory({ initial: 1 }), new Memory({ initial: 2, maximum: 3 }).buffer];\`, { eval: true });
      worker.on('exit', () => console.log('RESULT "done"'));`,
  };
  const runs = await Promise.all(Object.entries(scenarios).map(async ([name, code]) => {
    // The scenario's code runs with `root` and `makeLive` in scope.
    const fn = new Function('options', `const root = options.root; ${makeLive.toString()}; ${code}`);
    return [name, await runChild(fn, { wrap: false, timeoutMs: 30000 })];
  }));
  for (const [name, run] of runs) {
    assert.strictEqual(assertClean(run, name), 'done', name);
  }
});
