;; Imports a funcref table and calls through it.
(module
  (type $v_i (func (result i32)))
  (import "env" "tbl" (table $t 2 funcref))
  (func (export "call") (param i32) (result i32)
    (call_indirect (type $v_i) (local.get 0)))
  (func $five (export "five") (result i32) (i32.const 5))
)
