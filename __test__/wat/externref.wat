;; externref (reference types): wasm-memory-rs does not support it (see
;; known-differences.js).
(module
  (table (export "refs") 2 externref)
  (global (export "ref") (mut externref) (ref.null extern))
  (func (export "id") (param externref) (result externref) (local.get 0))
)
