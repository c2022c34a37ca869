'use strict';
// `npm run test:package`: a round trip through a real npm registry. Starts
// Verdaccio (in this process, on 127.0.0.1, a free port, storage in a
// temporary directory, no uplinks: it serves only what we publish),
// publishes this platform's binary package and the main package as a release
// would (scripts/prepublish.js adds the optionalDependencies), then installs
// `wasm-memory-rs` from it in an empty directory with no cargo on PATH and
// checks that the prebuilt binary is what runs: the seed example prints 45,
// require and import give the same objects, nothing was compiled.
// Needs the release build that `npm install` makes (target/release).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { platformName, platformPackage, kBuildFromSource } = require('../lib/binding.js');
const { setOptionalDependencies } = require('./prepublish.js');

const root = path.join(__dirname, '..');
const { name, version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const platform = platformName();
const platformPkg = platformPackage(platform);
// What install and publish need: npm's own entry point (run with this node),
// whether or not this script runs under `npm run`.
const npmCli = [
  process.env.npm_execpath,
  path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
].find((file) => file && file.endsWith('npm-cli.js') && fs.existsSync(file));

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok' : 'FAILED'}: ${what}`);
  if (!ok) failures++;
}

/** Runs a command to its end (asynchronously: the registry serves from this process meanwhile). */
function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function runOk(command, args, options) {
  const result = await run(command, args, options);
  if (result.status !== 0) {
    throw new Error(
      `${path.basename(command)} ${args.join(' ')} exited ${result.status}\n${result.stdout}${result.stderr}`,
    );
  }
  return result;
}

/** Every PATH directory that holds an executable `cargo`. */
function cargoDirs(PATH) {
  return PATH.split(path.delimiter).filter((dir) => {
    try {
      fs.accessSync(path.join(dir, 'cargo'), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Whether an ELF64 little-endian file still has a symbol table (a section of
 * type SHT_SYMTAB): `strip = "symbols"` removes it, and with it a fifth of
 * the binary.
 */
function hasSymbolTable(file) {
  const elf = fs.readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error(`${file}: not ELF64 LE`);
  const offset = Number(elf.readBigUInt64LE(0x28));
  const size = elf.readUInt16LE(0x3a);
  const count = elf.readUInt16LE(0x3c);
  for (let i = 0; i < count; i++) if (elf.readUInt32LE(offset + i * size + 4) === 2) return true;
  return false;
}

/** Verdaccio, listening on 127.0.0.1 at a port the system picks. */
async function startRegistry(tmp) {
  const config = path.join(tmp, 'verdaccio.yaml');
  // No `uplinks` and no `proxy`: a package we did not publish is a 404.
  fs.writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(path.join(tmp, 'storage'))}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(path.join(tmp, 'htpasswd'))}`,
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      // The platform package is ~7 MB gzipped, ~10 MB as base64 in the publish request.
      'max_body_size: 100mb',
      'web:',
      '  enable: false',
      'log:',
      '  type: stdout',
      '  format: pretty',
      '  level: error',
      '',
    ].join('\n'),
  );
  const { runServer } = require('verdaccio');
  const server = await runServer(config);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

/** A user on the registry (publishing needs one), as `npm adduser` makes it; returns its token. */
async function addUser(url) {
  const user = 'ci';
  const response = await fetch(new URL(`-/user/org.couchdb.user:${user}`, url), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: user, password: 'test-package', type: 'user', roles: [] }),
  });
  const body = await response.json();
  if (!body.token) throw new Error(`cannot add a user to the registry: ${JSON.stringify(body)}`);
  return body.token;
}

/** `npm pack` of a directory into `dest`: the tarball's path, size and file list. */
async function pack(dir, dest, env) {
  const { stdout } = await runOk(
    process.execPath,
    [npmCli, 'pack', '--json', '--ignore-scripts', '--pack-destination', dest],
    {
      cwd: dir,
      env,
    },
  );
  const [info] = JSON.parse(stdout);
  return { tarball: path.join(dest, info.filename), size: info.size, files: info.files.map((f) => f.path) };
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;

async function main() {
  if (!npmCli) throw new Error("cannot find npm's npm-cli.js beside this node");
  const library = path.join(
    process.env.CARGO_TARGET_DIR || path.join(root, 'target'),
    'release',
    'libwasm_memory_rs.so',
  );
  if (process.platform !== 'linux') {
    console.log(
      `skipped: this test publishes the binary built here, which it finds only on Linux (this is ${platform})`,
    );
    return;
  }
  if (!fs.existsSync(library))
    throw new Error(`no release build at ${library}: run \`npm install\` (or \`npm run build\`) first`);
  if (!fs.existsSync(path.join(root, 'npm', platform, 'package.json'))) {
    throw new Error(`${platform} is not in package.json's napi.targets (no npm/${platform}/)`);
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-memory-rs-package-'));
  let registry;
  try {
    registry = await startRegistry(tmp);
    const token = await addUser(registry.url);
    console.log(`registry: Verdaccio at ${registry.url}, storage in ${tmp}`);

    // npm's configuration for everything below, in the temporary directory:
    // the user's ~/.npmrc and cache are not read or touched. npm_* variables
    // of an enclosing `npm run` (its prefix, cache, config) are dropped.
    const npmrc = path.join(tmp, 'npmrc');
    const host = registry.url.replace(/^http:/, '');
    fs.writeFileSync(
      npmrc,
      [
        `registry=${registry.url}`,
        `${host}:_authToken=${token}`,
        'audit=false',
        'fund=false',
        'update-notifier=false',
        '',
      ].join('\n'),
    );
    const env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) => !/^npm_/i.test(key) && !/^CARGO/.test(key) && key !== kBuildFromSource,
      ),
    );
    Object.assign(env, { npm_config_userconfig: npmrc, npm_config_cache: path.join(tmp, 'npm-cache') });
    const npm = (args, cwd) => runOk(process.execPath, [npmCli, ...args], { cwd, env });

    // 1. The platform package: its package.json and the stripped release binary.
    const platformDir = path.join(tmp, 'stage', platform);
    fs.mkdirSync(platformDir, { recursive: true });
    fs.copyFileSync(path.join(root, 'npm', platform, 'package.json'), path.join(platformDir, 'package.json'));
    check(!hasSymbolTable(library), `the release binary is stripped (${path.relative(root, library)})`);
    fs.copyFileSync(library, path.join(platformDir, platformPkg.file));
    const platformTar = await pack(platformDir, tmp, env);
    check(
      platformTar.files.length === 2 && platformTar.files.includes(platformPkg.file),
      `${platformPkg.name} holds package.json and ${platformPkg.file}`,
    );
    await npm(['publish', platformTar.tarball], tmp);

    // 2. The main package as `npm publish` makes it: `files` only, plus the
    // optionalDependencies scripts/prepublish.js writes.
    const packed = await pack(root, tmp, env);
    const mainDir = path.join(tmp, 'stage', 'main');
    fs.mkdirSync(mainDir);
    await runOk('tar', ['xzf', packed.tarball, '-C', mainDir, '--strip-components=1'], {});
    fs.rmSync(packed.tarball);
    setOptionalDependencies(mainDir, [platformPkg.name]);
    const mainTar = await pack(mainDir, tmp, env);
    const stray = mainTar.files.filter(
      (f) => /^(__test__|bench|fuzz|tools|examples|target|npm)\//.test(f) || f.endsWith('.node'),
    );
    check(
      stray.length === 0,
      `${name} holds no tests, benches, fuzzers, build output or binaries${stray.length ? `: ${stray}` : ''}`,
    );
    check(
      ['src/lib.rs', 'Cargo.toml', 'Cargo.lock', 'scripts/build.js'].every((f) => mainTar.files.includes(f)),
      `${name} holds the Rust sources for the source fallback`,
    );
    await npm(['publish', mainTar.tarball], tmp);

    // 3. A user's install: an empty project, no cargo anywhere on PATH (node
    // is linked into a directory of its own for npm's scripts).
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const cargo = new Set(cargoDirs(env.PATH ?? ''));
    const PATH = [bin, ...(env.PATH ?? '').split(path.delimiter).filter((dir) => dir && !cargo.has(dir))].join(
      path.delimiter,
    );
    const userEnv = { ...env, PATH };
    check(cargoDirs(PATH).length === 0, 'no cargo on the PATH of the install');
    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), '{ "name": "app", "private": true }\n');
    const start = process.hrtime.bigint();
    const install = await run(process.execPath, [npmCli, 'install', name, '--registry', registry.url], {
      cwd: app,
      env: userEnv,
    });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    check(
      install.status === 0,
      `npm install ${name} from the registry${install.status === 0 ? '' : `\n${install.stdout}${install.stderr}`}`,
    );
    if (install.status !== 0) return;

    // 4. Nothing compiled: no local build, no target/, the binary is the platform package's.
    const installed = path.join(app, 'node_modules', name);
    const binary = path.join(app, 'node_modules', platformPkg.name, platformPkg.file);
    check(
      !fs.existsSync(path.join(installed, 'wasm-memory-rs.node')),
      'no wasm-memory-rs.node was built into the package',
    );
    check(!fs.existsSync(path.join(installed, 'target')), 'no target/ in the package (cargo never ran)');
    check(fs.existsSync(binary), `${platformPkg.name} is installed with its binary`);
    const versions = [name, platformPkg.name].map(
      (pkg) => JSON.parse(fs.readFileSync(path.join(app, 'node_modules', pkg, 'package.json'), 'utf8')).version,
    );
    check(
      versions.every((v) => v === version),
      `both packages installed at version ${version} (${versions})`,
    );

    // 5. The seed example, unchanged, from the user's project.
    for (const file of ['memory.js', 'memory.wasm'])
      fs.copyFileSync(path.join(root, 'examples', file), path.join(app, file));
    const example = await run(process.execPath, ['memory.js'], { cwd: app, env: userEnv });
    check(
      example.status === 0 && example.stdout.trim() === '45',
      `the seed example prints 45 (printed ${JSON.stringify(example.stdout.trim())}${example.stderr})`,
    );

    // 6. require and import give the same objects; the one addon loaded is the platform package's.
    fs.writeFileSync(
      path.join(app, 'smoke.mjs'),
      `import WebAssembly, { Memory, Module } from '${name}';
import { createRequire } from 'node:module';
const cjs = createRequire(import.meta.url)('${name}');
const same = cjs === WebAssembly && cjs.Memory === Memory && cjs.Module === Module;
const bytes = new Memory({ initial: 1 }).buffer.byteLength;
process.report.excludeNetwork = true;
const addons = process.report.getReport().sharedObjects.filter((f) => f.endsWith('.node'));
console.log(JSON.stringify({ same, bytes, addons }));
`,
    );
    const smoke = await run(process.execPath, ['smoke.mjs'], { cwd: app, env: userEnv });
    let result = {};
    try {
      result = JSON.parse(smoke.stdout);
    } catch {
      console.log(smoke.stdout, smoke.stderr);
    }
    check(result.same === true && result.bytes === 65536, 'require and import give the same working objects');
    check(
      result.addons?.length === 1 && fs.realpathSync(result.addons[0]) === fs.realpathSync(binary),
      `the addon loaded is ${path.relative(app, binary)} (loaded: ${result.addons})`,
    );

    // 7. The source fallback, where it must build: with the variable set, and
    // with no platform package (--omit=optional). There is no cargo here, so
    // each must fail, saying why and what to install.
    const forced = await run(process.execPath, [npmCli, 'rebuild', name], {
      cwd: app,
      env: { ...userEnv, [kBuildFromSource]: '1' },
    });
    const forcedOut = forced.stdout + forced.stderr;
    check(
      forced.status !== 0 && /needs Rust's cargo/.test(forcedOut) && /rustup\.rs/.test(forcedOut),
      `${kBuildFromSource}=1 npm rebuild builds from source (here: fails, naming rustup)`,
    );
    const bare = path.join(tmp, 'app-no-optional');
    fs.mkdirSync(bare);
    fs.writeFileSync(path.join(bare, 'package.json'), '{ "name": "app", "private": true }\n');
    const omitted = await run(process.execPath, [npmCli, 'install', name, '--omit=optional'], {
      cwd: bare,
      env: userEnv,
    });
    const omittedOut = omitted.stdout + omitted.stderr;
    check(
      omitted.status !== 0 &&
        omittedOut.includes(`${platformPkg.name}: not installed`) &&
        /Building from source instead/.test(omittedOut) &&
        /rustup\.rs/.test(omittedOut),
      'with the platform package omitted, install builds from source (here: fails, saying what was tried and naming rustup)',
    );

    // 8. The registry served only what we published (no uplinks).
    const unpublished = await fetch(new URL('verdaccio', registry.url));
    check(unpublished.status === 404, `a package we did not publish is not served (${unpublished.status})`);

    console.log(`install from the registry: ${seconds.toFixed(1)} s (target <= 15 s)`);
    console.log(
      `tarballs: ${name} ${mb(mainTar.size)} (target <= 1 MB), ${platformPkg.name} ${mb(platformTar.size)} (target <= 20 MB)`,
    );
    check(mainTar.size <= 1e6 && platformTar.size <= 20e6, 'tarball sizes within their targets');
  } finally {
    // In-process: the registry ends with this script whatever happens; close it now.
    if (registry) await new Promise((resolve) => registry.server.close(resolve));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => {
    console.log(`${failures === 0 ? 'test:package passed' : `test:package: ${failures} check(s) FAILED`}`);
    // Verdaccio's timers would keep the process alive after the server closed.
    process.exit(failures === 0 ? 0 : 1);
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
