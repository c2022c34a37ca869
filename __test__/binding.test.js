'use strict';
// The binary loader (lib/binding.js), without a registry: platform names,
// the npm/ packages they name, the local-first order and the error when no
// binary fits. Packages are laid out by hand in a temporary directory; the
// round trip through a real registry is `npm run test:package`.
const { test } = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { loadBinding, platformName, platformPackage, targetPlatform } = require('../lib/binding.js');

const root = path.join(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
// The binary this suite runs on (the local build in a clone).
const realBinary = loadBinding().path;
const platform = platformName();

test('platform names are napi-rs names', () => {
  assert.strictEqual(platformName({ platform: 'linux', arch: 'x64', musl: false }), 'linux-x64-gnu');
  assert.strictEqual(platformName({ platform: 'linux', arch: 'arm64', musl: true }), 'linux-arm64-musl');
  assert.strictEqual(platformName({ platform: 'darwin', arch: 'arm64' }), 'darwin-arm64');
  assert.strictEqual(platformName({ platform: 'win32', arch: 'x64' }), 'win32-x64-msvc');
  assert.deepStrictEqual(targetPlatform('aarch64-unknown-linux-musl'), {
    triple: 'aarch64-unknown-linux-musl',
    platform: 'linux-arm64-musl',
    os: 'linux',
    cpu: 'arm64',
    libc: 'musl',
  });
});

test("each napi target's npm/ package is the one the loader asks for there", () => {
  assert.ok(manifest.napi.targets.includes('x86_64-unknown-linux-gnu'));
  const dirs = fs.readdirSync(path.join(root, 'npm')).sort();
  const platforms = manifest.napi.targets.map((triple) => targetPlatform(triple).platform);
  assert.deepStrictEqual(dirs, [...platforms].sort(), 'one npm/ folder per target, no other');
  for (const triple of manifest.napi.targets) {
    const t = targetPlatform(triple);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'npm', t.platform, 'package.json'), 'utf8'));
    const { name, file } = platformPackage(platformName({ platform: t.os, arch: t.cpu, musl: t.libc === 'musl' }));
    assert.strictEqual(pkg.name, name, triple);
    assert.strictEqual(pkg.version, manifest.version, `${name} has the main package's version`);
    assert.deepStrictEqual(pkg.os, [t.os], name);
    assert.deepStrictEqual(pkg.cpu, [t.cpu], name);
    assert.deepStrictEqual(pkg.libc, t.libc && [t.libc], name);
    assert.strictEqual(pkg.main, file, name);
    assert.deepStrictEqual(pkg.files, [file], name);
  }
});

test('the repository lists no optionalDependencies (scripts/prepublish.js adds them at publish)', () => {
  assert.strictEqual(manifest.optionalDependencies, undefined);
});

/**
 * A package directory laid out by hand: package.json, optionally a local
 * build, optionally node_modules/<platform package> at some version. Binaries
 * are symlinks to the real one.
 */
function layout({ local = false, pkgVersion } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-memory-rs-loader-'));
  const pkgRoot = path.join(dir, 'wasm-memory-rs');
  fs.mkdirSync(pkgRoot);
  fs.writeFileSync(
    path.join(pkgRoot, 'package.json'),
    JSON.stringify({ ...manifest, optionalDependencies: undefined }),
  );
  if (local) fs.symlinkSync(realBinary, path.join(pkgRoot, 'wasm-memory-rs.node'));
  const { name, file } = platformPackage(platform);
  if (pkgVersion !== undefined) {
    const pkgDir = path.join(dir, 'node_modules', name);
    fs.mkdirSync(pkgDir, { recursive: true });
    fs.writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name, version: pkgVersion, main: file }));
    fs.symlinkSync(realBinary, path.join(pkgDir, file));
  }
  return { dir, pkgRoot, platformBinary: path.join(dir, 'node_modules', name, file) };
}

/** Loads from `pkgRoot` in a child process (an addon loads once per process): the path loaded, or the error. */
function loadIn(pkgRoot) {
  const script = `
    const { createRequire } = require('node:module');
    const { loadBinding } = require(${JSON.stringify(path.join(root, 'lib', 'binding.js'))});
    const pkgRoot = ${JSON.stringify(pkgRoot)};
    try {
      const { binding, path } = loadBinding({ root: pkgRoot, require: createRequire(pkgRoot + '/index.js') });
      console.log(JSON.stringify({ path, works: typeof binding.createMemory === 'function' }));
    } catch (error) {
      console.log(JSON.stringify({ error: error.message }));
    }`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.strictEqual(child.status, 0, child.stderr);
  return JSON.parse(child.stdout);
}

test('the local build is loaded first, even with the platform package installed', (t) => {
  const { dir, pkgRoot } = layout({ local: true, pkgVersion: manifest.version });
  t.after(() => fs.rmSync(dir, { recursive: true }));
  assert.deepStrictEqual(loadIn(pkgRoot), { path: path.join(pkgRoot, 'wasm-memory-rs.node'), works: true });
});

test('without a local build, the platform package at our version is loaded', (t) => {
  const { dir, pkgRoot, platformBinary } = layout({ pkgVersion: manifest.version });
  t.after(() => fs.rmSync(dir, { recursive: true }));
  assert.deepStrictEqual(loadIn(pkgRoot), { path: platformBinary, works: true });
});

test('a platform package of another version is refused, and the error says so', (t) => {
  const { dir, pkgRoot } = layout({ pkgVersion: '0.0.1-other' });
  t.after(() => fs.rmSync(dir, { recursive: true }));
  const { error } = loadIn(pkgRoot);
  assert.match(error, new RegExp(`wasm-memory-rs-${platform}@0\\.0\\.1-other: not version ${manifest.version}`));
});

test('with no binary, the error lists what was tried and how to build from source', (t) => {
  const { dir, pkgRoot } = layout();
  t.after(() => fs.rmSync(dir, { recursive: true }));
  const { error } = loadIn(pkgRoot);
  const lines = error.split('\n');
  assert.strictEqual(lines[0], `wasm-memory-rs: cannot load the native addon for ${platform}. Tried:`);
  assert.strictEqual(lines[1], `  - ${path.join(pkgRoot, 'wasm-memory-rs.node')}: not built`);
  assert.strictEqual(lines[2], `  - wasm-memory-rs-${platform}: not installed`);
  assert.match(error, /https:\/\/rustup\.rs/);
  assert.match(error, /WASM_MEMORY_RS_BUILD_FROM_SOURCE=1 npm rebuild wasm-memory-rs/);
});

test('on a platform with no prebuilt binary, the error says so and names those that exist', (t) => {
  const { dir, pkgRoot } = layout();
  t.after(() => fs.rmSync(dir, { recursive: true }));
  const { createRequire } = require('node:module');
  assert.throws(
    () =>
      loadBinding({ root: pkgRoot, require: createRequire(path.join(pkgRoot, 'index.js')), platform: 'freebsd-x64' }),
    {
      message:
        /wasm-memory-rs-freebsd-x64: not installed\nNo prebuilt binary exists for freebsd-x64 \(only linux-x64-gnu, .*win32-x64-msvc\)/,
    },
  );
});
