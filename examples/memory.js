'use strict';
// MDN's WebAssembly.Memory example (https://developer.mozilla.org/docs/WebAssembly/JavaScript_interface/Memory),
// with only the `require` and the source of the bytes changed: memory.wasm
// (built from memory.wat) imports `js.mem` and sums i32s from it, running on
// wasmtime against the same bytes JS writes. Run it with `npm run example`.
const fs = require('node:fs');
const path = require('node:path');
const WebAssembly = require('wasm-memory-rs');

const memory = new WebAssembly.Memory({ initial: 10, maximum: 100 });
WebAssembly.instantiateStreaming(
  new Response(fs.readFileSync(path.join(__dirname, 'memory.wasm')), {
    headers: { 'content-type': 'application/wasm' },
  }),
  { js: { mem: memory } },
).then((obj) => {
  const i32 = new Uint32Array(memory.buffer);
  for (let i = 0; i < 10; i++) i32[i] = i;
  console.log(obj.instance.exports.accumulate(0, 10)); // 45
});
