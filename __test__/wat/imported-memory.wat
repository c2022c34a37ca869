;; Imports a memory (at least 1 page, at most 8) and reads and writes it: two
;; instances of this module on one Memory see each other's writes.
(module
  (memory (import "env" "mem") 1 8)
  (func (export "store") (param i32 i32)
    (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32)
    (i32.load (local.get 0)))
  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))
  (func (export "size") (result i32)
    (memory.size))
)
