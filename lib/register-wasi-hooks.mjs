// The resolve hook `module.register` runs in the loader thread on Node
// versions without `module.registerHooks` (lib/register-wasi.js).
let url;

export function initialize(data) {
  ({ url } = data);
}

export function resolve(specifier, context, nextResolve) {
  if (specifier === 'node:wasi' || specifier === 'wasi') return { url, format: 'module', shortCircuit: true };
  return nextResolve(specifier, context);
}
