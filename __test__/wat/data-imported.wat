;; Segments into an imported memory: overlapping and at its end. Bytes the
;; segments do not cover keep what JS wrote before instantiation.
(module
  (memory (import "env" "mem") 2)
  (data (i32.const 8) "abcdefgh")
  (data (i32.const 12) "XY")
  (data (i32.const 4000) "\ff\fe")
  (data (i32.const 131070) "\10\20")
)
