'use strict';
// The npm `install` script. In a source checkout (a clone: not inside a
// node_modules folder) it always builds, as `npm install` always has. In an
// installed package it builds only if no binary loads: neither a local build
// nor the prebuilt package for this platform (an optional dependency, which
// npm installs before running this). WASM_MEMORY_RS_BUILD_FROM_SOURCE=1
// builds in every case.
const path = require('node:path');
const { loadBinding, kBuildFromSource } = require('../lib/binding.js');

const root = path.join(__dirname, '..');
const checkout = !root.split(path.sep).includes('node_modules');
const forced = !['', '0', 'false', undefined].includes(process.env[kBuildFromSource]);

if (!checkout && !forced) {
  try {
    // Loading, not just finding, also proves the binary runs on this machine
    // (a too-old glibc, say); if it does not, a source build may.
    loadBinding();
    process.exit(0);
  } catch (error) {
    console.error(`${error.message.split('\n').slice(0, -2).join('\n')}\nBuilding from source instead.`);
  }
}
require('./build.js');
