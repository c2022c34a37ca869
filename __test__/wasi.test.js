'use strict';
// wasm-memory-rs/wasi: node:wasi's API on our namespaces, run natively
// (src/wasi/). Output, arguments, environment, exit codes and misuse errors
// are compared with node:wasi on the built-in; the preopen sandbox (which
// node:wasi does not claim to be) is checked on ours alone.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const { WASI } = require('../lib/wasi.js');
const { Sandbox } = require('../lib/sandbox.js');
const { watFile, wat } = require('./wat.js');
const { binding } = require('../internal.js');

const ours = require('../index.js');
const builtin = globalThis.WebAssembly;
// node:wasi runs on the built-in, which cannot allocate a memory under a low
// `ulimit -v` (impls.js): the tests that compare with it skip there.
const { needsBuiltin } = require('./impls');
const CHILD = path.join(__dirname, 'wasi-child.js');

function child(impl, file, options = {}, extra = [], { node = process.execPath, env = {} } = {}) {
  const r = spawnSync(node, [CHILD, impl, file, JSON.stringify(options), ...extra], {
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** The environment for a nested `node --test` run (without the outer runner's NODE_TEST_CONTEXT, which would swallow its exit code). */
function nestedEnv(extra) {
  const env = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

function nodeWasi() {
  const saved = process.listeners('warning');
  process.removeAllListeners('warning');
  try {
    return require('node:wasi').WASI;
  } finally {
    for (const l of saved) process.on('warning', l);
  }
}

const namespaces = [
  ['main namespace', () => ours],
  ['sandbox namespace', () => new Sandbox({ timeout: 10000, maxMemoryBytes: 64 << 20 }).WebAssembly],
];

test('hello: stdout as node:wasi writes it, in order with console.log', { skip: needsBuiltin }, () => {
  for (const impl of ['node', 'ours', 'sandbox']) {
    const r = child(impl, 'wasi-hello', {}, ['before', 'after']);
    assert.strictEqual(r.status, 0, `${impl}: ${r.stderr}`);
    assert.strictEqual(r.stdout.toString(), 'before\nhello from wasi\nafter\n', impl);
  }
});

test('args and env round trip byte for byte as node:wasi gives them', { skip: needsBuiltin }, () => {
  const options = { args: ['prog', 'two words', 'ünïcode', ''], env: { A: '1', EMPTY: '', U: 'ü=x', SKIP: undefined } };
  const expected = child('node', 'wasi-args', options);
  assert.strictEqual(expected.status, 0, expected.stderr);
  for (const impl of ['ours', 'sandbox']) {
    const r = child(impl, 'wasi-args', options);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.deepStrictEqual(r.stdout, expected.stdout, impl);
  }
  // No options: no arguments, no environment (not the host's).
  assert.deepStrictEqual([...child('ours', 'wasi-args').stdout], [0, 0]);
});

test('exit codes: returnOnExit true returns from start(), false exits the process', { skip: needsBuiltin }, () => {
  for (const [label, make] of namespaces) {
    const WA = make();
    const wasi = new WASI({ version: 'preview1' });
    const instance = new WA.Instance(new WA.Module(watFile('wasi-exit')), wasi.getImportObject());
    assert.strictEqual(wasi.start(instance), 7, label);
    // The instance is still usable after the unwind.
    assert.strictEqual(new Uint8Array(instance.exports.memory.buffer)[0], 7);
  }
  for (const impl of ['node', 'ours', 'sandbox']) {
    assert.strictEqual(child(impl, 'wasi-exit', { returnOnExit: false }, ['x', 'not printed']).status, 7, impl);
    const r = child(impl, 'wasi-exit', {}, ['x', 'printed']);
    assert.strictEqual(r.status, 7, impl);
    assert.strictEqual(r.stdout.toString(), 'x\nprinted\n', impl);
  }
  // A command that returns: 0.
  const wasi = new WASI({ version: 'preview1', stdout: fs.openSync(os.devNull, 'w') });
  assert.strictEqual(wasi.start(new ours.Instance(new ours.Module(watFile('wasi-hello')), wasi.getImportObject())), 0);
});

function tempTree() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wasi-test-'));
  const jail = path.join(root, 'jail');
  fs.mkdirSync(path.join(jail, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(jail, 'in.txt'), 'read by wasm\n');
  fs.writeFileSync(path.join(root, 'outside.txt'), 'secret\n');
  return { root, jail };
}

test('files: write, read and list a preopened directory (as node:wasi does)', { skip: needsBuiltin }, () => {
  const results = [];
  for (const [label, WA, W] of [['node:wasi', builtin, nodeWasi()], ['ours', ours, WASI],
    ['ours (sandbox)', namespaces[1][1](), WASI]]) {
    const { root, jail } = tempTree();
    const outFile = path.join(root, 'stdout');
    const fd = fs.openSync(outFile, 'w');
    const wasi = new W({ version: 'preview1', preopens: { '/sandbox': jail }, stdout: fd });
    const instance = new WA.Instance(new WA.Module(watFile('wasi-files')), wasi.getImportObject());
    const code = wasi.start(instance);
    fs.closeSync(fd);
    assert.strictEqual(code, 0, label);
    assert.strictEqual(fs.readFileSync(path.join(jail, 'out.txt'), 'utf8'), 'written by wasm\n', label);
    const [first, ...names] = fs.readFileSync(outFile, 'utf8').split('\n');
    results.push({ first, names: names.filter(Boolean).sort() });
    fs.rmSync(root, { recursive: true });
  }
  assert.deepStrictEqual(results[0], { first: 'read by wasm', names: ['in.txt', 'out.txt', 'sub'] });
  assert.deepStrictEqual(results[1], results[0]);
  assert.deepStrictEqual(results[2], results[0]);
});

// A module that re-exports every WASI import through a wasm function of
// the same signature, so that tests can make any call from JS with any
// arguments (pointers included) and the call still crosses wasm.
function callsModule() {
  const lines = ['(module'];
  const exports = [];
  for (const entry of binding.wasiFunctions()) {
    const [name, sig] = entry.split(':');
    const params = [...sig].map((c) => (c === 'I' ? 'i64' : 'i32'));
    const result = name === 'proc_exit' ? '' : '(result i32)';
    lines.push(`(import "wasi_snapshot_preview1" "${name}" (func $${name} (param ${params.join(' ')}) ${result}))`);
    const gets = params.map((_, i) => `(local.get ${i})`).join(' ');
    exports.push(`(func (export "${name}") (param ${params.join(' ')}) ${result} (call $${name} ${gets}))`);
  }
  lines.push('(memory (export "memory") 1)', ...exports, ')');
  return wat(lines.join('\n'));
}

/** An instance of the calls module under `W` (initialize()d), with helpers. */
function caller(W, WA, options) {
  const wasi = new W({ version: 'preview1', ...options });
  const instance = new WA.Instance(new WA.Module(callsModule()), wasi.getImportObject());
  wasi.initialize(instance);
  const x = instance.exports;
  const mem = () => new Uint8Array(x.memory.buffer);
  let next = 1024;
  const str = (s) => {
    const bytes = Buffer.from(s);
    const at = next;
    mem().set(bytes, at);
    next += bytes.length + 8;
    return [at, bytes.length];
  };
  const u32 = (at) => new DataView(x.memory.buffer).getUint32(at, true);
  const open = (p, { oflags = 0, follow = 1, rights = 2n } = {}) => x.path_open(3, follow, ...str(p), oflags, rights, 0n, 0, 16);
  return { wasi, x, mem, str, u32, open };
}

const NOTCAPABLE = 76;

function escapeChecks(label) {
  const { root, jail } = tempTree();
  try {
    fs.symlinkSync('../outside.txt', path.join(jail, 'link-out'));
    fs.symlinkSync(path.join(root, 'outside.txt'), path.join(jail, 'abs-link'));
    fs.symlinkSync('/etc/passwd', path.join(jail, 'etc-link'));
    fs.symlinkSync('chain2', path.join(jail, 'chain1'));
    fs.symlinkSync('sub/../../outside.txt', path.join(jail, 'chain2'));
    fs.symlinkSync('..', path.join(jail, 'sub', 'up'));
    fs.symlinkSync('in.txt', path.join(jail, 'ok-link'));
    fs.symlinkSync('../in.txt', path.join(jail, 'sub', 'ok-up'));
    const c = caller(WASI, ours, { preopens: { '/': jail } });
    const { x, str, open } = c;
    // Allowed: inside the preopen, links that stay inside included.
    for (const p of ['in.txt', './in.txt', 'sub/../in.txt', 'ok-link', 'sub/ok-up', 'sub/up/in.txt']) {
      assert.strictEqual(open(p), 0, `${label}: ${p}`);
    }
    // Refused: everything that leads out.
    for (const p of ['..', '../outside.txt', 'sub/../../outside.txt', '/etc/passwd', '/', 'link-out', 'abs-link',
      'etc-link', 'chain1', 'chain2', 'sub/up/..', 'sub/up/../outside.txt']) {
      assert.strictEqual(open(p), NOTCAPABLE, `${label}: path_open ${p}`);
      assert.strictEqual(x.path_filestat_get(3, 1, ...str(p), 512), NOTCAPABLE, `${label}: path_filestat_get ${p}`);
    }
    assert.strictEqual(open('../created.txt', { oflags: 1, rights: 64n }), NOTCAPABLE);
    assert.strictEqual(open('link-out', { oflags: 1 | 8, rights: 64n }), NOTCAPABLE);
    assert.strictEqual(x.path_create_directory(3, ...str('../newdir')), NOTCAPABLE);
    assert.strictEqual(x.path_unlink_file(3, ...str('../outside.txt')), NOTCAPABLE);
    assert.strictEqual(x.path_remove_directory(3, ...str('sub/up/../../jail')), NOTCAPABLE);
    assert.strictEqual(x.path_rename(3, ...str('in.txt'), 3, ...str('../moved.txt')), NOTCAPABLE);
    assert.strictEqual(x.path_rename(3, ...str('../outside.txt'), 3, ...str('stolen.txt')), NOTCAPABLE);
    assert.strictEqual(x.path_link(3, 0, ...str('in.txt'), 3, ...str('../linked.txt')), NOTCAPABLE);
    assert.strictEqual(x.path_link(3, 0, ...str('../outside.txt'), 3, ...str('hard.txt')), NOTCAPABLE);
    assert.strictEqual(x.path_link(3, 1, ...str('link-out'), 3, ...str('hard2.txt')), 28);
    assert.strictEqual(x.path_symlink(...str('/etc/passwd'), 3, ...str('new-abs')), NOTCAPABLE);
    assert.strictEqual(x.path_symlink(...str('../outside.txt'), 3, ...str('new-rel')), NOTCAPABLE);
    assert.strictEqual(x.path_symlink(...str('../../x'), 3, ...str('sub/new-rel')), NOTCAPABLE);
    assert.strictEqual(x.path_symlink(...str('../in.txt'), 3, ...str('sub/fine')), 0);
    assert.strictEqual(x.path_readlink(3, ...str('../outside.txt'), 2048, 64, 16), NOTCAPABLE);
    assert.strictEqual(x.path_filestat_set_times(3, 1, ...str('link-out'), 0n, 0n, 10), NOTCAPABLE);
    // A link itself (not followed) may be looked at: it is inside.
    assert.strictEqual(x.path_filestat_get(3, 0, ...str('link-out'), 512), 0);
    assert.strictEqual(c.mem()[512 + 16], 7, 'filetype symbolic_link');
    // Nothing outside changed.
    assert.deepStrictEqual(fs.readdirSync(root).sort(), ['jail', 'outside.txt']);
    assert.strictEqual(fs.readFileSync(path.join(root, 'outside.txt'), 'utf8'), 'secret\n');
  } finally {
    fs.rmSync(root, { recursive: true });
  }
}

test('preopens are a sandbox: .., absolute paths and symlinks out are refused (ENOTCAPABLE)', () => {
  escapeChecks('openat2');
});

test('preopens: the portable component walk (macOS, kernels without openat2) refuses the same', () => {
  if (process.env.WASM_MEMORY_RS_WASI_WALK === '1') return escapeChecks('walk');
  const r = spawnSync(process.execPath, ['--test', '--test-name-pattern=portable component walk', __filename], {
    env: nestedEnv({ WASM_MEMORY_RS_WASI_WALK: '1' }),
    encoding: 'utf8',
  });
  assert.strictEqual(r.status, 0, r.stdout + r.stderr);
});

test('bad guest pointers and argument types give node:wasi\'s errno, never a crash', { skip: needsBuiltin }, () => {
  const results = [];
  for (const [W, WA] of [[nodeWasi(), builtin], [WASI, ours]]) {
    const { x } = caller(W, WA, { stdout: fs.openSync(os.devNull, 'w') });
    const dv = new DataView(x.memory.buffer);
    dv.setUint32(0, 65530, true); // an iovec that runs past the end
    dv.setUint32(4, 100, true);
    results.push([
      x.fd_write(1, 0, 1, 16),
      x.fd_write(1, 65532, 1, 16),
      x.args_sizes_get(65535, 0),
      x.args_get(70000, 0),
      x.random_get(65000, 1000),
      x.random_get(-1, 10),
      x.clock_time_get(0, 1n, 65534),
      x.clock_time_get(9, 1n, 0),
      x.fd_close(1234),
      x.fd_prestat_get(1, 0),
    ]);
  }
  assert.deepStrictEqual(results[1], results[0]);
  const { wasi } = caller(WASI, ours, {});
  const imp = wasi.wasiImport;
  assert.strictEqual(imp.clock_time_get(0, 1, 0), 28);
  assert.strictEqual(imp.fd_write(1, 0, 0), 28);
  assert.strictEqual(imp.fd_write('1', 0, 0, 0), 28);
  // Counts and lengths that overflow 32 bits once multiplied.
  const { x } = caller(WASI, ours, { preopens: { '/': os.tmpdir() } });
  assert.strictEqual(x.fd_write(1, 0, 0x20000000, 16), 61); // node:wasi allocates 8 GiB here
  // node:wasi raises the signal (SIGKILL would end this test); ours has no signals.
  assert.strictEqual(x.proc_raise(9), 52);
  assert.strictEqual(x.poll_oneoff(0, 0, 0x7fffffff, 0), 61);
  assert.strictEqual(x.poll_oneoff(0, 0, 0, 0), 28);
  assert.strictEqual(x.fd_readdir(3, 65000, 10000, 0n, 0), 61);
  assert.strictEqual(x.path_open(3, 0, 65500, 100, 0, 0n, 0n, 0, 0), 61);
});

test('memory growth between calls: each call sees the memory as it is now', () => {
  for (const [label, make] of namespaces) {
    const WA = make();
    const { x, u32 } = caller(WASI, WA, {});
    const before = x.memory.buffer;
    assert.strictEqual(x.args_sizes_get(70000, 70004), 61, label);
    x.memory.grow(1);
    assert.notStrictEqual(x.memory.buffer, before);
    assert.strictEqual(x.args_sizes_get(70000, 70004), 0, label);
    assert.strictEqual(u32(70000), 0);
  }
});

test('instances of ours call WASI natively once a memory of ours is bound; before that, the JS import answers', () => {
  const stdout = fs.openSync(os.devNull, 'w');
  for (const [label, make] of namespaces) {
    const WA = make();
    const wasi = new WASI({ version: 'preview1', stdout });
    const instance = new WA.Instance(new WA.Module(callsModule()), wasi.getImportObject());
    const x = instance.exports;
    // Not started: node:wasi's error, from the JS import.
    const before = binding.wasiNativeCalls();
    assert.throws(() => x.clock_time_get(0, 1n, 0), { code: 'ERR_WASI_NOT_STARTED' }, label);
    assert.strictEqual(binding.wasiNativeCalls(), before, label);
    wasi.initialize(instance);
    assert.strictEqual(x.clock_time_get(0, 1n, 0), 0, label);
    assert.strictEqual(x.args_sizes_get(70000, 70004), 61, label);
    assert.strictEqual(binding.wasiNativeCalls(), before + 2, `${label}: served natively`);
    // Growth by wasm or JS: the next native call sees it.
    x.memory.grow(1);
    assert.strictEqual(x.args_sizes_get(70000, 70004), 0, label);
    // JS callers of wasiImport still go through the JS function.
    assert.strictEqual(wasi.wasiImport.clock_time_get(0, 1n, 0), 0, label);
    assert.strictEqual(binding.wasiNativeCalls(), before + 3, label);
  }
});

test('finalizeBindings with another memory: calls use that memory, natively for ours (Node 24+)', { skip: typeof WASI.prototype.finalizeBindings !== 'function' && 'finalizeBindings is Node 24+' }, () => {
  const results = [];
  for (const [W, WA] of [[nodeWasi(), builtin], [WASI, ours]]) {
    const wasi = new W({ version: 'preview1', args: ['a', 'bc'] });
    const instance = new WA.Instance(new WA.Module(callsModule()), wasi.getImportObject());
    const other = new WA.Memory({ initial: 1 });
    wasi.finalizeBindings(instance, { memory: other });
    const status = instance.exports.args_sizes_get(16, 20);
    const dv = new DataView(other.buffer);
    const own = new DataView(instance.exports.memory.buffer);
    results.push([status, dv.getUint32(16, true), dv.getUint32(20, true), own.getUint32(16, true)]);
  }
  assert.deepStrictEqual(results[1], results[0]);
  assert.deepStrictEqual(results[1], [0, 2, 5, 0]);
});

test('clocks, random, poll_oneoff and sched_yield', () => {
  const { x, u32, mem } = caller(WASI, ours, {});
  const dv = () => new DataView(x.memory.buffer);
  assert.strictEqual(x.clock_time_get(0, 1n, 0), 0);
  const wall = dv().getBigUint64(0, true);
  assert.ok(Math.abs(Number(wall / 1000000n) - Date.now()) < 5000);
  assert.strictEqual(x.clock_res_get(1, 0), 0);
  assert.strictEqual(x.random_get(100, 64), 0);
  assert.ok(mem().subarray(100, 164).some((b) => b !== 0));
  // One relative clock subscription of 20 ms.
  const sub = 256;
  dv().setBigUint64(sub, 42n, true);
  mem()[sub + 8] = 0;
  dv().setUint32(sub + 16, 1, true);
  dv().setBigUint64(sub + 24, 20_000_000n, true);
  dv().setUint16(sub + 40, 0, true);
  const t0 = process.hrtime.bigint();
  assert.strictEqual(x.poll_oneoff(sub, 512, 1, 600), 0);
  assert.ok(process.hrtime.bigint() - t0 >= 19_000_000n);
  assert.strictEqual(u32(600), 1);
  assert.strictEqual(dv().getBigUint64(512, true), 42n);
  assert.strictEqual(x.sched_yield(), 0);
  assert.strictEqual(x.sock_accept(1, 0, 0), 57);
});

test('API misuse: the same errors as node:wasi', { skip: needsBuiltin }, () => {
  const NodeWASI = nodeWasi();
  const memory = (WA) => new WA.Memory({ initial: 1 });
  const cases = {
    noOptions: (W) => new W(),
    nullOptions: (W) => new W(null),
    noVersion: (W) => new W({}),
    badVersion: (W) => new W({ version: 'x' }),
    numberVersion: (W) => new W({ version: 1 }),
    args: (W) => new W({ version: 'preview1', args: 'x' }),
    env: (W) => new W({ version: 'preview1', env: 'x' }),
    preopens: (W) => new W({ version: 'preview1', preopens: 'x' }),
    returnOnExit: (W) => new W({ version: 'preview1', returnOnExit: 1 }),
    stdin: (W) => new W({ version: 'preview1', stdin: 'x' }),
    stdinFraction: (W) => new W({ version: 'preview1', stdin: 1.5 }),
    stdinNegative: (W) => new W({ version: 'preview1', stdin: -1 }),
    startNoExports: (W) => new W({ version: 'preview1' }).start({}),
    startNullExports: (W) => new W({ version: 'preview1' }).start({ exports: null }),
    startNoMemory: (W) => new W({ version: 'preview1' }).start({ exports: {} }),
    startNoStart: (W, WA) => new W({ version: 'preview1' }).start({ exports: { memory: memory(WA) } }),
    startBadStart: (W, WA) => new W({ version: 'preview1' }).start({ exports: { memory: memory(WA), _start: 1 } }),
    startWithInitialize: (W, WA) => new W({ version: 'preview1' }).start({ exports: { memory: memory(WA), _start() {}, _initialize() {} } }),
    startTwice: (W, WA) => {
      const w = new W({ version: 'preview1' });
      const i = { exports: { memory: memory(WA), _start() {} } };
      w.start(i);
      w.start(i);
    },
    initializeWithStart: (W, WA) => new W({ version: 'preview1' }).initialize({ exports: { memory: memory(WA), _start() {} } }),
    initializeBad: (W, WA) => new W({ version: 'preview1' }).initialize({ exports: { memory: memory(WA), _initialize: 1 } }),
    initializeTwice: (W, WA) => {
      const w = new W({ version: 'preview1' });
      const i = { exports: { memory: memory(WA) } };
      w.initialize(i);
      w.initialize(i);
    },
    callBeforeStart: (W) => new W({ version: 'preview1' }).wasiImport.fd_write(1, 0, 0, 0),
    importKeys: (W) => Object.keys(new W({ version: 'preview1' }).wasiImport).join(),
    importObject: (W) => Object.keys(new W({ version: 'unstable' }).getImportObject()).join(),
    prototype: (W) => Object.getOwnPropertyNames(W.prototype).join(),
    fnLength: (W) => new W({ version: 'preview1' }).wasiImport.path_open.length,
  };
  const outcome = (fn) => {
    try {
      return { value: fn() };
    } catch (e) {
      return { name: e.name, code: e.code, message: e.message };
    }
  };
  for (const [name, fn] of Object.entries(cases)) {
    const expected = outcome(() => fn(NodeWASI, builtin));
    for (const [label, make] of namespaces) {
      assert.deepStrictEqual(outcome(() => fn(WASI, make())), expected, `${name} (${label})`);
    }
  }
  // A memory of any of our namespaces, and the built-in's, is accepted;
  // anything else is node:wasi's TypeError.
  for (const WA of [ours, namespaces[1][1](), builtin]) {
    assert.doesNotThrow(() => new WASI({ version: 'preview1' }).initialize({ exports: { memory: new WA.Memory({ initial: 1 }) } }));
  }
  assert.throws(() => new WASI({ version: 'preview1' }).initialize({ exports: { memory: { buffer: new ArrayBuffer(8) } } }),
    { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: '"instance.exports.memory" property must be a WebAssembly.Memory object' });
  // A preopen that is not a directory: node:wasi's code, with the reason.
  assert.throws(() => new WASI({ version: 'preview1', preopens: { '/x': '/nonexistent-wasi-dir' } }),
    { name: 'Error', code: 'UVWASI_ENOENT', message: /^UVWASI_ENOENT, uvwasi_init/ });
});

test('Node 22, 24 and 26: hello, exit codes and the sandbox', { skip: (process.env.WASI_NESTED === '1' && 'nested run') || needsBuiltin }, () => {
  const dir = path.join(__dirname, '..', '.node-versions');
  let ran = 0;
  for (const v of ['22', '24', '26']) {
    const node = path.join(dir, v, 'package', 'bin', 'node');
    if (!fs.existsSync(node)) continue;
    const r = spawnSync(node, ['--expose-gc', '--test', __filename], {
      env: nestedEnv({ WASI_NESTED: '1' }),
      encoding: 'utf8',
    });
    assert.strictEqual(r.status, 0, `Node ${v}:\n${r.stdout}${r.stderr}`);
    ran++;
  }
  if (ran === 0) test.skip?.('no .node-versions here');
});
