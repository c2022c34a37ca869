;; A start function: runs during instantiation, calls an import and sets state.
(module
  (import "env" "log" (func $log (param i32)))
  (global $ran (mut i32) (i32.const 0))
  (func $start
    (call $log (i32.const 7))
    (global.set $ran (i32.add (global.get $ran) (i32.const 1))))
  (start $start)
  (func (export "ran") (result i32) (global.get $ran))
)
