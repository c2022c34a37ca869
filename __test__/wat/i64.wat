;; i64 parameters and results cross to JS as BigInts.
(module
  (global $g (export "g") (mut i64) (i64.const -1))
  (global $k (export "k") i64 (i64.const 0x7fffffffffffffff))
  (func (export "add") (param i64 i64) (result i64)
    (i64.add (local.get 0) (local.get 1)))
  (func (export "id") (param i64) (result i64) (local.get 0))
  (func (export "mixed") (param i32 i64 f64) (result i64)
    (i64.add
      (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1))
      (i64.trunc_f64_s (local.get 2))))
  (func (export "wrap") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
  (func (export "extend_u") (param i32) (result i64) (i64.extend_i32_u (local.get 0)))
  (func (export "getG") (result i64) (global.get $g))
  (func (export "setG") (param i64) (global.set $g (local.get 0)))
)
