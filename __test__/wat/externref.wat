;; externref (reference types): tables, globals and functions of it.
(module
  (table (export "refs") 2 externref)
  (global (export "ref") (mut externref) (ref.null extern))
  (func (export "id") (param externref) (result externref) (local.get 0))
)
