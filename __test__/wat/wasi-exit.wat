;; WASI command: exits with the code stored at address 0 (7 unless the test
;; writes another), never reaching the `unreachable` after proc_exit.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\07")
  (func (export "_start")
    (call $proc_exit (i32.load (i32.const 0)))
    unreachable))
