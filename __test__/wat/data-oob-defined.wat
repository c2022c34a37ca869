;; A memory of its own, exported, with segments that fit and then one past
;; its end: instantiation fails with a RuntimeError and no instance (nor its
;; memory) is ever handed out.
(module
  (memory (export "mem") 1)
  (func (export "f") (result i32) (i32.const 7))
  (data (i32.const 0) "fits")
  (data (i32.const 65536) "\01")
)
