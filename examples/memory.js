'use strict';
// The seed scenario: a 10-page memory that may grow to 100 pages, ten i32s
// written through a Uint32Array and summed, then a grow that detaches the
// old buffer. Run it with `npm run example`.
const WebAssembly = require('..');

const memory = new WebAssembly.Memory({ initial: 10, maximum: 100 });
const before = memory.buffer;
const i32 = new Uint32Array(before);
for (let i = 0; i < 10; i++) i32[i] = i;

let sum = 0;
for (let i = 0; i < 10; i++) sum += i32[i];
console.log(`sum of the first ten i32s: ${sum}`); // 45

console.log(`grow(1) returned ${memory.grow(1)} (the old size in pages)`); // 10
console.log(`old buffer: ${before.byteLength} bytes (detached), old view: ${i32.length} elements`);
console.log(`new buffer: ${memory.buffer.byteLength} bytes, still starts with ${new Uint32Array(memory.buffer).slice(0, 4).join(', ')}`);
console.log(String(memory), memory.buffer instanceof ArrayBuffer);
