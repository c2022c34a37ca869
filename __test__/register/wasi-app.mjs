// As wasi-app.js, as an ES module (import of node:wasi, default and named).
import { WASI } from 'node:wasi';
import wasiDefault from 'wasi';

process.removeAllListeners('warning');
const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 12, 2, 96, 4, 127, 127, 127, 127, 1, 127, 96, 0, 0, 2, 35, 1, 22, 119, 97, 115, 105, 95, 115, 110, 97, 112, 115, 104, 111, 116, 95, 112, 114, 101, 118, 105, 101, 119, 49, 8, 102, 100, 95, 119, 114, 105, 116, 101, 0, 0, 3, 2, 1, 1, 5, 3, 1, 0, 1, 7, 19, 2, 6, 109, 101, 109, 111, 114, 121, 2, 0, 6, 95, 115, 116, 97, 114, 116, 0, 1, 10, 46, 1, 44, 0, 65, 0, 65, 16, 54, 2, 0, 65, 4, 65, 10, 54, 2, 0, 65, 8, 65, 32, 54, 2, 0, 65, 12, 65, 6, 54, 2, 0, 65, 1, 65, 0, 65, 2, 65, 48, 16, 0, 4, 64, 0, 11, 11, 11, 27, 2, 0, 65, 16, 11, 10, 104, 101, 108, 108, 111, 32, 102, 114, 111, 109, 0, 65, 32, 11, 6, 32, 119, 97, 115, 105, 10, 0, 18, 4, 110, 97, 109, 101, 1, 11, 1, 0, 8, 102, 100, 95, 119, 114, 105, 116, 101]);
const wasi = new WASI({ version: 'preview1', returnOnExit: true });
const { instance } = await WebAssembly.instantiate(bytes, wasi.getImportObject());
const code = wasi.start(instance);
console.log(JSON.stringify({ code, ours: typeof instance.exports.memory.discard === 'function', same: WASI === wasiDefault.WASI }));
