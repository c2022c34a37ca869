'use strict';
// @rollup/wasm-node (wasm-bindgen, externref): bundles two small modules.
// Run by packages.test.js as `node rollup.js builtin|ours`: with `ours`, the
// global WebAssembly is replaced by wasm-memory-rs before the package loads.
if (process.argv[2] === 'ours') globalThis.WebAssembly = require('../..');
const { rollup } = require('@rollup/wasm-node');
(async () => {
  const files = { 'main.js': "import { sq } from './lib.js';\nexport const answer = sq(6) + 6;\nconsole.log(answer);\n", 'lib.js': 'export function sq(x) { return x * x; }\nexport function unused() { return 1; }\n' };
  const bundle = await rollup({ input: 'main.js', plugins: [{ name: 'mem', resolveId: (s) => s.replace('./', ''), load: (id) => files[id] }] });
  const { output } = await bundle.generate({ format: 'cjs' });
  console.log(output[0].code);
})().catch((e) => { console.error('FAIL', e); process.exit(1); });
