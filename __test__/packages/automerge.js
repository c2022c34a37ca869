'use strict';
// @automerge/automerge (wasm-bindgen, externref and legacy exceptions): makes a document,
// changes and merges it, saves, loads, and hits a Rust error.
// Run by packages.test.js as `node automerge.js builtin|ours`: with `ours`, the
// global WebAssembly is replaced by wasm-memory-rs before the package loads.
if (process.argv[2] === 'ours') globalThis.WebAssembly = require('../..');
const A = require('@automerge/automerge');
let doc = A.from({ title: 'hello', items: [] });
doc = A.change(doc, { time: 0 }, (d) => { d.items.push('a', 'b'); d.title = 'world'; });
let other = A.clone(doc, { actor: '01234567' });
other = A.change(other, { time: 0 }, (d) => { d.items.insertAt(0, 'z'); });
doc = A.merge(doc, other);
const bytes = A.save(doc);
const loaded = A.load(bytes);
console.log(JSON.stringify(A.toJS(loaded)), bytes.length);
try { A.change(loaded, (d) => { d.items.insertAt(100, 'x'); }); } catch (e) { console.log('error', e.constructor.name, e.message); }
