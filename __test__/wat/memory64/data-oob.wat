;; memory64: a segment past the end of memory fails instantiation.
(module
  (memory (import "env" "mem") i64 1)
  (data (i64.const 10) "in")
  (data (i64.const 65535) "\01\02")
)
