;; A data segment past the end of memory: instantiation fails (RuntimeError).
(module
  (memory (import "env" "mem") 1)
  (data (i32.const 65535) "\01\02")
)
