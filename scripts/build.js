'use strict';
// Builds the addon from source: `cargo build --release`, then copies the
// shared library to `wasm-memory-rs.node` beside index.js (which loads it
// before any prebuilt binary). Run by scripts/install.js (the npm `install`
// script) and `npm run build`; needs nothing but Node and a Rust toolchain.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const profile = process.argv.includes('--debug') ? 'debug' : 'release';
const args = ['build', '--locked', ...(profile === 'release' ? ['--release'] : [])];
const cargo = spawnSync(process.env.CARGO || 'cargo', args, { cwd: root, stdio: 'inherit' });
if (cargo.error) {
  console.error(
    [
      `wasm-memory-rs: building from source needs Rust's cargo, which could not be run (${cargo.error.message}).`,
      'Install Rust (stable, with cargo) from https://rustup.rs:',
      "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh",
      'then open a new shell (so ~/.cargo/bin is on PATH; or set CARGO to cargo\'s path) and install again:',
      '`npm rebuild wasm-memory-rs` in your project (`npm install` in a clone of this repository).',
      'Linking also needs a C toolchain (Debian: apt-get install build-essential; macOS: xcode-select --install).',
    ].join('\n'),
  );
  process.exit(1);
}
if (cargo.status !== 0) process.exit(cargo.status ?? 1);

const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
const names = { linux: 'libwasm_memory_rs.so', darwin: 'libwasm_memory_rs.dylib', win32: 'wasm_memory_rs.dll' };
const built = path.join(targetDir, profile, names[process.platform] || names.linux);
const dest = path.join(root, 'wasm-memory-rs.node');
// Copy to a temporary name and rename, so a running process that has the old
// file mapped never sees it half-written.
fs.copyFileSync(built, `${dest}.tmp`);
fs.renameSync(`${dest}.tmp`, dest);
