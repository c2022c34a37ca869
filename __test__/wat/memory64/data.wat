;; memory64: segments with i64 offsets, overlapping and ending at the end.
(module
  (memory (export "mem") i64 2)
  (data (i64.const 0) "sixty-four")
  (data (i64.const 3) "XX")
  (data (i64.const 131064) "\01\02\03\04\05\06\07\08")
)
