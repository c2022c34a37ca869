;; An imported memory: the first two segments fit, the third runs past the
;; end, the fourth would fit. Instantiation fails with a RuntimeError; the
;; segments before the failing one stay written (bulk memory semantics), the
;; one after it is never applied.
(module
  (memory (import "env" "mem") 1)
  (data (i32.const 0) "first")
  (data (i32.const 65530) "second")
  (data (i32.const 65533) "\01\02\03\04")
  (data (i32.const 100) "fourth")
)
