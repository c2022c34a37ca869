'use strict';
// wat(text) -> Uint8Array: the WebAssembly text format to a binary module,
// through the addon's parser (the `wat` crate): binding.parseWat. Tests that
// run against the built-in only (WASM_MEMORY_RS_ONLY_BUILTIN=1) use it too.
//
// While the binding has no parseWat (an addon built before it), set
// WAT2WASM=/path/to/wat2wasm (WABT) to parse with that instead; otherwise
// this throws, saying so. (WABT 1.0.32 drops `@custom` annotations: the
// custom-section tests need parseWat.)

const fs = require('node:fs');
const path = require('node:path');

let parseWat;
function parser() {
  if (parseWat) return parseWat;
  let binding = null;
  let loadError = null;
  try {
    ({ binding } = require('../internal.js'));
  } catch (error) {
    loadError = error;
  }
  if (binding && typeof binding.parseWat === 'function') {
    parseWat = (text) => binding.parseWat(text);
  } else if (process.env.WAT2WASM) {
    const { execFileSync } = require('node:child_process');
    const os = require('node:os');
    parseWat = (text) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wat-'));
      try {
        fs.writeFileSync(path.join(dir, 'm.wat'), text);
        execFileSync(process.env.WAT2WASM, ['m.wat', '-o', 'm.wasm'], { cwd: dir, stdio: 'pipe' });
        return new Uint8Array(fs.readFileSync(path.join(dir, 'm.wasm')));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
  } else {
    throw new Error('wat(): the wasm-memory-rs binding has no parseWat (rebuild the addon), and WAT2WASM is not set' +
      (loadError ? `; loading the addon failed: ${loadError.message}` : ''));
  }
  return parseWat;
}

/** The binary of the module written in `text` (WebAssembly text format). */
function wat(text) {
  const bytes = parser()(text);
  if (!(bytes instanceof Uint8Array)) throw new TypeError('parseWat did not return a Uint8Array');
  return bytes;
}

const WAT_DIR = path.join(__dirname, 'wat');

/** The binary of __test__/wat/<name>.wat. */
function watFile(name) {
  return wat(fs.readFileSync(path.join(WAT_DIR, name.endsWith('.wat') ? name : `${name}.wat`), 'utf8'));
}

module.exports = { wat, watFile, WAT_DIR };
