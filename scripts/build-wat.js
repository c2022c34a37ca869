'use strict';
// Builds tools/wat (the dev-only `parseWat` addon that tests and benchmarks
// turn .wat text into binaries with) if it is missing or older than its
// sources, and returns the path of its .node file. Run by `npm test`'s
// `pretest` (so the build happens once, before the test files start in
// parallel) and by __test__/wat.js on first use. Never by `npm install`.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const DIR = path.join(__dirname, '..', 'tools', 'wat');
const ADDON = path.join(DIR, 'wat.node');
const SOURCES = ['Cargo.toml', 'Cargo.lock', 'build.rs', path.join('src', 'lib.rs')].map((f) => path.join(DIR, f));
const LIBRARY = { linux: 'libwasm_memory_rs_wat.so', darwin: 'libwasm_memory_rs_wat.dylib', win32: 'wasm_memory_rs_wat.dll' };

function ensureWat() {
  const built = fs.existsSync(ADDON) ? fs.statSync(ADDON).mtimeMs : 0;
  if (SOURCES.every((f) => fs.statSync(f).mtimeMs <= built)) return ADDON;
  const started = Date.now();
  console.error('building the test tool tools/wat (parseWat; once)...');
  // Output to stderr only: a test file's stdout is its TAP stream.
  const run = spawnSync(process.env.CARGO || 'cargo', ['build', '--release', '--locked', '--manifest-path', path.join(DIR, 'Cargo.toml')],
    { stdio: ['ignore', 2, 2] });
  if (run.error) throw new Error(`cannot run cargo to build tools/wat: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`building tools/wat failed (status ${run.status})`);
  const library = path.join(process.env.CARGO_TARGET_DIR || path.join(DIR, 'target'), 'release', LIBRARY[process.platform] || LIBRARY.linux);
  // Copy and rename: a process that already loaded the old file never sees it half-written.
  const temporary = `${ADDON}.${process.pid}.tmp`;
  fs.copyFileSync(library, temporary);
  fs.renameSync(temporary, ADDON);
  console.error(`built tools/wat in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ADDON;
}

module.exports = { ensureWat };

if (require.main === module) ensureWat();
