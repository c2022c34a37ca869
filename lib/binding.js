'use strict';
// Finds and loads the native addon, in napi-rs's order: the local build
// (`wasm-memory-rs.node` beside index.js, made by scripts/build.js in a clone
// or by a source build at install), then the prebuilt binary package for this
// os, cpu and libc (`wasm-memory-rs-<platform>`, an optional dependency of the
// published package), else an error that says what was tried and how to build
// from source. scripts/install.js, scripts/prepublish.js and the tests use the
// same names from here.
const fs = require('node:fs');
const path = require('node:path');

const kRoot = path.join(__dirname, '..');
const kBinaryName = 'wasm-memory-rs';
const kBuildFromSource = 'WASM_MEMORY_RS_BUILD_FROM_SOURCE';

/**
 * Whether this Linux runs on musl rather than glibc, detected as napi-rs's
 * generated loader does: `ldd` is a script that names its libc; failing that,
 * Node's diagnostic report names the glibc it runs on, or lists musl's loader.
 */
function isMusl() {
  if (process.platform !== 'linux') return false;
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    // No readable /usr/bin/ldd: ask the report.
  }
  if (typeof process.report?.getReport !== 'function') return false;
  // Network interfaces are slow to list and say nothing about libc.
  process.report.excludeNetwork = true;
  const report = process.report.getReport();
  if (report.header?.glibcVersionRuntime) return false;
  return (report.sharedObjects ?? []).some((f) => f.includes('libc.musl-') || f.includes('ld-musl-'));
}

/**
 * napi-rs's name for a platform: `linux-x64-gnu`, `linux-arm64-musl`,
 * `darwin-arm64`, `win32-x64-msvc`, ...
 */
function platformName({ platform = process.platform, arch = process.arch, musl } = {}) {
  if (platform === 'linux') return `linux-${arch}-${(musl ?? isMusl()) ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

const kArch = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' };
const kOs = { linux: 'linux', darwin: 'darwin', windows: 'win32' };

/**
 * What a Rust target triple of package.json's `napi.targets` is on npm:
 * `x86_64-unknown-linux-musl` -> { platform: 'linux-x64-musl', os: 'linux',
 * cpu: 'x64', libc: 'musl' }.
 */
function targetPlatform(triple) {
  const [arch, , os, abi] = triple.split('-');
  const npmOs = kOs[os];
  const cpu = kArch[arch];
  if (npmOs === undefined || cpu === undefined) throw new Error(`unsupported target ${triple}`);
  const libc = npmOs === 'linux' ? (abi === 'musl' ? 'musl' : 'glibc') : undefined;
  const platform = platformName({ platform: npmOs, arch: cpu, musl: libc === 'musl' });
  return { triple, platform, os: npmOs, cpu, libc };
}

/** The npm package that holds the prebuilt binary for a platform, and its file. */
function platformPackage(platform) {
  return { name: `${kBinaryName}-${platform}`, file: `${kBinaryName}.${platform}.node` };
}

/** The platforms package.json's `napi.targets` lists (built by a CI that has their toolchains). */
function supportedPlatforms(root = kRoot) {
  const { napi } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  return napi.targets.map((triple) => targetPlatform(triple).platform);
}

/**
 * Loads the addon. Returns `{ binding, path }`, the path being the file
 * loaded. `root` is the package directory and `require` a require function
 * that resolves from it (both options exist for the tests).
 */
function loadBinding({ root = kRoot, require: load = require, platform } = {}) {
  const tried = [];
  // 1. The local build: development, and installs that built from source.
  const local = path.join(root, `${kBinaryName}.node`);
  if (fs.existsSync(local)) {
    try {
      return { binding: load(local), path: local };
    } catch (error) {
      tried.push(`${local}: ${error.message}`);
    }
  } else {
    tried.push(`${local}: not built`);
  }
  // 2. The prebuilt binary package, only at our own version: another version's
  // binary may not match this index.js. (The platform is worked out only
  // here: without /usr/bin/ldd it takes a diagnostic report, which a local
  // build should not pay for at every start.)
  platform ??= platformName();
  const { name, file } = platformPackage(platform);
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  let manifest;
  try {
    manifest = load.resolve(`${name}/package.json`);
  } catch {
    tried.push(`${name}: not installed`);
  }
  if (manifest !== undefined) {
    const found = JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
    const binary = path.join(path.dirname(manifest), file);
    if (found !== version) {
      tried.push(`${name}@${found}: not version ${version}`);
    } else {
      try {
        return { binding: load(binary), path: binary };
      } catch (error) {
        tried.push(`${binary}: ${error.message}`);
      }
    }
  }
  // 3. Nothing fits: say what was tried and what to do.
  const supported = supportedPlatforms(root);
  const prebuilt = supported.includes(platform)
    ? `A prebuilt binary exists for ${platform}: install ${name}@${version}, or reinstall without --omit=optional` +
      ' (a package-lock.json made on another platform can leave it out too: npm/cli#4828).'
    : `No prebuilt binary exists for ${platform} (only ${supported.join(', ')}).`;
  throw new Error(
    [
      `wasm-memory-rs: cannot load the native addon for ${platform}. Tried:`,
      ...tried.map((line) => `  - ${line}`),
      prebuilt,
      'To build it from source (needs Rust: https://rustup.rs), run in your project:',
      `  ${kBuildFromSource}=1 npm rebuild wasm-memory-rs`,
    ].join('\n'),
  );
}

module.exports = {
  loadBinding,
  isMusl,
  platformName,
  platformPackage,
  targetPlatform,
  supportedPlatforms,
  kBuildFromSource,
};
