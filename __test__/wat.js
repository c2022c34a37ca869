'use strict';
// wat(text) -> Uint8Array: the WebAssembly text format to a binary module,
// through the dev-only addon tools/wat (the `wat` crate), which
// scripts/build-wat.js builds on first use. The library itself has no text
// parser: a user's build does not pay for a test tool.

const fs = require('node:fs');
const path = require('node:path');

let parseWat;
function parser() {
  if (!parseWat) ({ parseWat } = require(require('../scripts/build-wat.js').ensureWat()));
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
