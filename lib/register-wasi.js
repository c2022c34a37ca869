'use strict';
// Under `wasm-memory-rs/register`, `require('node:wasi')`, `require('wasi')`
// and `import ... from 'node:wasi'` give our WASI (lib/wasi.js), which
// accepts our memories (node:wasi accepts only V8's).
//
// - Node >= 22.15 / 23.5 (`module.registerHooks`): one synchronous resolve
//   hook, run in this thread, for require and import alike.
// - Older Node 20 and 22: `Module._load` is wrapped for require (the hook
//   CommonJS loaders have always had), and `module.register` (Node >= 20.6)
//   adds a resolve hook for import, in the loader thread
//   (lib/register-wasi-hooks.mjs).
// `process.getBuiltinModule('node:wasi')` (Node 22.3+) is not reached by
// either: it gives node:wasi.

const Module = require('node:module');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const kNames = new Set(['node:wasi', 'wasi']);
const kCjs = path.join(__dirname, 'wasi.js');
const kEsmUrl = pathToFileURL(path.join(__dirname, 'wasi.mjs')).href;
const kCjsUrl = pathToFileURL(kCjs).href;

function install() {
  if (typeof Module.registerHooks === 'function') {
    Module.registerHooks({
      resolve(specifier, context, nextResolve) {
        if (kNames.has(specifier)) {
          const esm = context.conditions?.includes('import');
          return { url: esm ? kEsmUrl : kCjsUrl, format: esm ? 'module' : 'commonjs', shortCircuit: true };
        }
        return nextResolve(specifier, context);
      },
    });
    return 'registerHooks';
  }
  const load = Module._load;
  Module._load = function _load(request, parent, isMain) {
    if (kNames.has(request)) return require(kCjs);
    return Reflect.apply(load, this, [request, parent, isMain]);
  };
  if (typeof Module.register === 'function') {
    Module.register(pathToFileURL(path.join(__dirname, 'register-wasi-hooks.mjs')).href, {
      data: { url: kEsmUrl },
    });
    return 'Module._load + register';
  }
  return 'Module._load';
}

module.exports = { install };
