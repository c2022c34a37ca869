'use strict';
// An unmodified program: it uses the global WebAssembly and knows nothing of
// wasm-memory-rs. Prints what it computed and which implementation ran it.
const bytes = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 2, 127, 127, 1, 127, 3, 2, 1, 0, 7, 7, 1, 3, 97, 100, 100, 0, 0,
  10, 9, 1, 7, 0, 32, 0, 32, 1, 106, 11,
]);
WebAssembly.instantiate(bytes).then(({ instance }) => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  console.log(JSON.stringify({
    sum: instance.exports.add(2, 40),
    // Our Memory has `discard`; the built-in does not.
    ours: typeof memory.discard === 'function',
    instanceOf: instance instanceof WebAssembly.Instance,
  }));
});
