'use strict';
// Runs WPT's wasm/jsapi tests on the running Node's built-in WebAssembly and on
// ours, and compares them subtest by subtest. A dev tool: WPT is not vendored
// (licence; we write our own tests), so point it at a checkout:
//
//   node scripts/wpt.js <wpt-root> [filter] [--verbose] [--timeout=ms]
//
// <wpt-root> holds resources/testharness.js and wasm/jsapi/. Each
// wasm/jsapi/**/*.any.js file whose path contains [filter] runs in a fresh
// child process per implementation (the child is this script with --child):
// testharness.js, the file's `// META: script=` files and the file itself are
// evaluated in the child's main context, whose `WebAssembly` is the built-in
// or this repository's namespace, set before anything else loads. The exit
// code is 1 when some subtest passes on the built-in and fails on ours.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { spawn } = require('node:child_process');

const REPO = path.resolve(__dirname, '..');
const STATUS = ['PASS', 'FAIL', 'TIMEOUT', 'NOTRUN', 'PRECONDITION_FAILED'];
const HARNESS = ['OK', 'ERROR', 'TIMEOUT', 'PRECONDITION_FAILED'];
const MARK = '\u0001wpt ';

if (process.argv[2] === '--child') child(process.argv[3], process.argv[4], process.argv[5], Number(process.argv[6]));
else main();

// --- child: one file, one implementation ---------------------------------

function child(impl, root, file, timeoutMs) {
  const emit = (record) => fs.writeSync(1, MARK + JSON.stringify(record) + '\n');
  if (impl === 'ours') {
    // As register.js does: the built-in's descriptor, before any script runs.
    Object.defineProperty(globalThis, 'WebAssembly', {
      value: require(REPO),
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
  globalThis.self = globalThis;
  let harnessError = null;
  const fail = (what, e) => {
    if (!harnessError) harnessError = `${what}: ${e && e.stack ? e.stack : String(e)}`;
  };
  // Browsers report these to testharness as errors of the whole file.
  process.on('uncaughtException', (e) => fail('uncaught exception', e));
  process.on('unhandledRejection', (e) => fail('unhandled rejection', e));
  const load = (rel) => {
    const filename = path.join(root, rel);
    vm.runInThisContext(fs.readFileSync(filename, 'utf8'), { filename });
  };
  load('resources/testharness.js');
  const timer = setTimeout(() => {
    fail('file timeout', `${timeoutMs} ms`);
    globalThis.timeout(); // testharness: every test not done yet times out
  }, timeoutMs);
  globalThis.add_result_callback((t) => {
    emit({ name: t.name, status: STATUS[t.status], message: t.message || '' });
  });
  globalThis.add_completion_callback((tests, harness) => {
    clearTimeout(timer);
    // Let a rejection that surfaced with the last test be reported first.
    setImmediate(() => {
      let status = HARNESS[harness.status];
      let message = harness.message || '';
      if (status === 'OK' && harnessError) [status, message] = ['ERROR', harnessError];
      emit({ done: true, status, message });
      process.exit(0);
    });
  });
  try {
    for (const script of metaScripts(root, file)) load(script);
    load(file);
  } catch (e) {
    fail('error while loading', e);
    // Tests already defined still run; testharness ends once they finish.
  }
  globalThis.done(); // single-page tests end when every test has finished
}

// `// META: script=` paths: from the WPT root when they start with "/", else
// from the test's own folder. Returned relative to the root.
function metaScripts(root, file) {
  const scripts = [];
  for (const line of fs.readFileSync(path.join(root, file), 'utf8').split('\n')) {
    const m = /^\/\/ META: script=(\S+)/.exec(line);
    if (m) scripts.push(m[1].startsWith('/') ? m[1].slice(1) : path.join(path.dirname(file), m[1]));
  }
  return scripts;
}

// --- parent: every file on both, then the comparison ---------------------

function runChild(impl, root, file, timeoutMs) {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--expose-gc', __filename, '--child', impl, root, file, String(timeoutMs)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    const kill = setTimeout(() => proc.kill('SIGKILL'), timeoutMs + 10000);
    proc.on('close', (code, signal) => {
      clearTimeout(kill);
      const results = [];
      let harness = null;
      for (const line of out.split('\n')) {
        if (!line.startsWith(MARK)) continue;
        const r = JSON.parse(line.slice(MARK.length));
        if (r.done) harness = r;
        else results.push(r);
      }
      if (!harness) {
        const tail = (err || out).trim().split('\n').slice(-8).join('\n');
        harness = { status: 'ERROR', message: `child ended without completing (code ${code}, signal ${signal}):\n${tail}` };
      }
      resolve({ results, harness });
    });
  });
}

function listFiles(root, filter) {
  const base = path.join(root, 'wasm/jsapi');
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.any.js')) files.push(path.relative(root, full));
    }
  };
  walk(base);
  return files.filter((f) => !filter || f.includes(filter));
}

// Subtests keyed by name; a repeated name gets its occurrence number.
function byName(results) {
  const map = new Map();
  const seen = new Map();
  for (const r of results) {
    const n = (seen.get(r.name) || 0) + 1;
    seen.set(r.name, n);
    map.set(n > 1 ? `${r.name} #${n}` : r.name, r);
  }
  return map;
}

async function main() {
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose');
  const t = args.find((a) => a.startsWith('--timeout='));
  const timeoutMs = t ? Number(t.slice(10)) : 60000;
  const [root, filter] = args.filter((a) => !a.startsWith('--'));
  if (!root || !fs.existsSync(path.join(root, 'resources/testharness.js'))) {
    console.error('usage: node scripts/wpt.js <wpt-root> [filter] [--verbose] [--timeout=ms]\n' + '<wpt-root> must hold resources/testharness.js and wasm/jsapi/');
    process.exit(2);
  }
  const files = listFiles(root, filter);
  const counts = { total: 0, builtin: 0, ours: 0 };
  const onlyBuiltin = [];
  const onlyOurs = [];
  console.log(`Node ${process.version}, ${files.length} files, timeout ${timeoutMs} ms per file`);
  for (const file of files) {
    const long = /^\/\/ META: timeout=long/m.test(fs.readFileSync(path.join(root, file), 'utf8'));
    const ms = long ? timeoutMs * 3 : timeoutMs;
    const [b, o] = await Promise.all([runChild('builtin', root, file, ms), runChild('ours', root, file, ms)]);
    const bm = byName(b.results);
    const om = byName(o.results);
    const names = [...new Set([...bm.keys(), ...om.keys()])];
    console.log(`\n== ${file}: ${bm.size} subtests; harness ${b.harness.status} / ${o.harness.status}`);
    for (const [label, h] of [['built-in', b.harness], ['ours', o.harness]]) {
      if (h.status !== 'OK') console.log(`  ${label} harness ${h.status}: ${h.message.split('\n').slice(0, 6).join('\n    ')}`);
    }
    // The file as a whole counts as one more "subtest": a harness error on
    // ours is a failure, not a skip.
    const entries = names.map((n) => [n, bm.get(n), om.get(n)]);
    entries.push(['[harness]', { status: b.harness.status === 'OK' ? 'PASS' : 'FAIL', message: b.harness.message }, { status: o.harness.status === 'OK' ? 'PASS' : 'FAIL', message: o.harness.message }]);
    for (const [name, br, or] of entries) {
      const bs = br ? br.status : 'MISSING';
      const os = or ? or.status : 'MISSING';
      counts.total++;
      if (bs === 'PASS') counts.builtin++;
      if (os === 'PASS') counts.ours++;
      if (bs === 'PASS' && os !== 'PASS') onlyBuiltin.push({ file, name, status: os, message: or ? or.message : '' });
      if (os === 'PASS' && bs !== 'PASS') onlyOurs.push({ file, name, status: bs, message: br ? br.message : '' });
      if (verbose || bs !== os) {
        const msg = bs !== os && os !== 'PASS' && or && or.message ? `  (ours: ${or.message.split('\n')[0]})` : '';
        console.log(`  ${bs.padEnd(8)} ${os.padEnd(8)} ${name}${msg}`);
      }
    }
  }
  const list = (items) => items.map((x) => `  ${x.file}: ${x.name}: ${x.status}${x.message ? ` (${x.message.split('\n')[0].slice(0, 200)})` : ''}`).join('\n');
  console.log(`\n== Summary (Node ${process.version})`);
  console.log(`subtests (harness status of each file counted as one): ${counts.total}`);
  console.log(`built-in passes: ${counts.builtin}; ours passes: ${counts.ours}`);
  console.log(`\nbuilt-in passes, ours fails: ${onlyBuiltin.length}\n${list(onlyBuiltin)}`);
  console.log(`\nours passes, built-in fails: ${onlyOurs.length}\n${list(onlyOurs)}`);
  process.exitCode = onlyBuiltin.length ? 1 : 0;
}
