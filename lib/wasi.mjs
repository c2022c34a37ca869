// `import { WASI } from 'node:wasi'` under `wasm-memory-rs/register` (and
// `import ... from 'wasm-memory-rs/wasi'`): the ES module face of lib/wasi.js.
import { createRequire } from 'node:module';

const wasi = createRequire(import.meta.url)('./wasi.js');

export const { WASI } = wasi;
export default wasi;
