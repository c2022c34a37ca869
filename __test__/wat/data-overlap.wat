;; Overlapping active segments: each later one wins where they overlap,
;; whatever their order in memory (one inside another, one across two,
;; one before an earlier one, the same range written three times).
(module
  (memory (export "mem") 1)
  (data (i32.const 16) "AAAAAAAAAAAAAAAA")
  (data (i32.const 20) "bb")
  (data (i32.const 30) "CCCCCCCC")
  (data (i32.const 10) "ddddddddd")
  (data (i32.const 64) "1111")
  (data (i32.const 64) "2222")
  (data (i32.const 64) "33")
  (data (i32.const 100) "\00\00\00\00")
  (data (i32.const 98) "zzzzzzzz")
  (data (i32.const 102) "\00\00")
)
