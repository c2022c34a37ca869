// `node --import wasm-memory-rs/register app.mjs`: as register.js (which it
// runs), for programs started with --import (ESM preloading, Node 20.6+).
import './register.js';
