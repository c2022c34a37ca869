;; WASI command: writes "hello from wasi\n" to stdout (two iovecs) and returns.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from")
  (data (i32.const 32) " wasi\n")
  (func (export "_start")
    ;; iovecs at 0: {16, 10}, {32, 6}
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 10))
    (i32.store (i32.const 8) (i32.const 32))
    (i32.store (i32.const 12) (i32.const 6))
    (if (call $fd_write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 48))
      (then unreachable))))
