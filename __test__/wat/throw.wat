;; A JS import that throws: the exception comes out of the export unchanged.
(module
  (import "env" "thrower" (func $thrower (param i32) (result i32)))
  (func (export "call") (param i32) (result i32)
    (i32.add (call $thrower (local.get 0)) (i32.const 1)))
)
