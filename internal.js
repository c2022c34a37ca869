'use strict';
// Test and benchmark hooks: the native binding and a way to reach a memory's
// native half. Not part of the public API.
require('./index.js');
module.exports = require.cache[require.resolve('./index.js')].wasmMemoryInternals;
