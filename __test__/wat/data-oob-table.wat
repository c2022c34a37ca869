;; Element segments run before data segments: a function of this instance
;; lands in the imported table, then a data segment fails instantiation.
;; The function stays reachable through the table and sees the segments
;; applied before the failing one (bulk memory semantics).
(module
  (table (import "env" "table") 1 funcref)
  (memory 1)
  (func $read (result i32) (i32.load (i32.const 0)))
  (elem (i32.const 0) $read)
  (data (i32.const 0) "\2a\00\00\00")
  (data (i32.const 4) "more")
  (data (i32.const 65535) "\01\02")
)
