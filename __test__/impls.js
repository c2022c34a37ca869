'use strict';
// The implementations every conformance test runs against, with the same
// assertions: Node's built-in WebAssembly namespace first (so that each test
// is proven on the reference), then this package.
//
// WASM_MEMORY_RS_ONLY_BUILTIN=1 runs the suite on the built-in only (used
// while the addon is not built yet).

const builtin = globalThis.WebAssembly;
const onlyBuiltin = process.env.WASM_MEMORY_RS_ONLY_BUILTIN === '1';

function loadOurs() {
  try {
    return require('..');
  } catch (error) {
    error.message =
      `cannot load wasm-memory-rs (build it first, or set ` +
      `WASM_MEMORY_RS_ONLY_BUILTIN=1 to test the built-in only): ${error.message}`;
    throw error;
  }
}

// Loaded lazily: never touched when only the built-in is tested.
const ours = onlyBuiltin ? null : loadOurs();

// Under a low address-space limit (ulimit -v 8000000, say) the built-in
// cannot allocate even one memory: it reserves ~10 GiB per memory. Then the
// suite runs against ours alone, and tests that compare with the built-in
// are skipped with this reason.
function canAllocate() {
  try {
    new builtin.Memory({ initial: 1 });
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}
const builtinUsable = canAllocate();
const needsBuiltin = !builtinUsable &&
  'the built-in WebAssembly.Memory cannot allocate memory under this address-space limit';

// Node's own Response (undici) compiles its HTTP parser with the built-in as
// it loads, in a promise nobody handles: under such a limit, the first
// Response made rejects it and fails the file. Tests that make one skip.
const needsResponse = !builtinUsable &&
  'Node\'s Response (undici) compiles its HTTP parser with the built-in WebAssembly, which cannot allocate under this address-space limit';

const impls = [];
if (builtinUsable) impls.push(['builtin', builtin]);
if (ours) impls.push(['wasm-memory-rs', ours]);

module.exports = { impls, builtin, ours, onlyBuiltin, builtinUsable, needsBuiltin, needsResponse };
