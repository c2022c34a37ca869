'use strict';
// Runs one WASI command for wasi.test.js in a process of its own:
// `node wasi-child.js <impl> <file.wat> <options JSON> [before] [after]`.
// impl: `ours` (our WASI, main namespace), `sandbox` (our WASI, a sandbox's
// namespace) or `node` (node:wasi on the built-in). `before`/`after` are
// printed with console.log around start(). The exit code is start()'s.
const { watFile } = require('./wat.js');

const [impl, file, json, before, after] = process.argv.slice(2);
const options = JSON.parse(json);
const bytes = watFile(file);
let WA;
let WASI;
if (impl === 'node') {
  WA = globalThis.WebAssembly;
  process.removeAllListeners('warning'); // node:wasi's ExperimentalWarning
  ({ WASI } = require('node:wasi'));
} else {
  ({ WASI } = require('../lib/wasi.js'));
  WA = impl === 'sandbox'
    ? new (require('../lib/sandbox.js').Sandbox)({ timeout: 10000 }).WebAssembly
    : require('../index.js');
}
const wasi = new WASI({ version: 'preview1', ...options });
const instance = new WA.Instance(new WA.Module(bytes), wasi.getImportObject());
if (before !== undefined) console.log(before);
const code = wasi.start(instance);
if (after !== undefined) console.log(after);
process.exitCode = code;
