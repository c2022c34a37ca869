;; A start function that traps: instantiation fails with a RuntimeError.
(module
  (func $start unreachable)
  (start $start)
  (func (export "never") (result i32) (i32.const 1))
)
