;; Data segments that end exactly at the end of memory, one that starts
;; there (empty), and one of a single byte on the last byte of page 3.
(module
  (memory (export "mem") 3)
  (data (i32.const 0) "\01")
  (data (i32.const 131068) "\aa\bb\cc\dd")
  (data (i32.const 196600) "\11\22\33\44\55\66\77\88")
  (data (i32.const 196608) "")
  (data (i32.const 196607) "\ee")
)
