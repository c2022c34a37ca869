// ESM entry: the same objects as the CommonJS entry (no dual-package hazard).
import { createRequire } from 'node:module';

const WebAssembly = createRequire(import.meta.url)('./index.js');

export default WebAssembly;
export const {
  compile, validate, instantiate, compileStreaming, instantiateStreaming,
  Module, Instance, Table, Memory, Global, Tag, Exception, CompileError, LinkError, RuntimeError,
} = WebAssembly;
// JSTag only where the running Node's built-in has it (undefined elsewhere).
export const JSTag = WebAssembly.JSTag;
// JSPI only where the running Node's built-in has it (undefined elsewhere).
export const { Suspending, promising, SuspendError } = WebAssembly;
