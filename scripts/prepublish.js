'use strict';
// Before `npm publish` of the main package (its `prepublishOnly` script), as
// napi-rs's `napi prepublish`: list the platform packages as
// optionalDependencies, at our version, so npm installs the one whose
// os/cpu/libc fit. They are written only now, never committed, because they
// are published only with a release: in a clone, `npm install` must not look
// for them on the registry.
//
// A platform is listed when its binary has been put in npm/<platform>/
// (wasm-memory-rs.<platform>.node, by the CI job that built it); npm/<platform>/
// itself is published first (`npm publish npm/<platform>`). A platform left
// out installs by building from source.
//   node scripts/prepublish.js [package dir, default the repository root]
const fs = require('node:fs');
const path = require('node:path');
const { targetPlatform, platformPackage } = require('../lib/binding.js');

const root = path.join(__dirname, '..');

/** The platform packages of napi.targets whose binaries are in npm/, and those whose are not. */
function builtPlatforms() {
  const { napi } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const built = [];
  const missing = [];
  for (const triple of napi.targets) {
    const { platform } = targetPlatform(triple);
    const { name, file } = platformPackage(platform);
    (fs.existsSync(path.join(root, 'npm', platform, file)) ? built : missing).push(name);
  }
  return { built, missing };
}

/** Writes `names` (at the package's own version) as the optionalDependencies of dir/package.json. */
function setOptionalDependencies(dir, names) {
  const file = path.join(dir, 'package.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  manifest.optionalDependencies = Object.fromEntries(names.map((name) => [name, manifest.version]));
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

if (require.main === module) {
  const { built, missing } = builtPlatforms();
  if (built.length === 0) {
    console.error('prepublish: no binary in npm/<platform>/; build one and copy it there first');
    process.exit(1);
  }
  if (missing.length) console.warn(`prepublish: no binary for ${missing.join(', ')}: those install from source`);
  setOptionalDependencies(process.argv[2] ?? root, built);
}

module.exports = { setOptionalDependencies };
