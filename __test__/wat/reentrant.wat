;; Re-entrancy: fact(n) calls the JS import `down`, which calls fact back.
(module
  (import "env" "down" (func $down (param i32) (result i32)))
  (memory (export "mem") 1)
  (global $depth (mut i32) (i32.const 0))
  (global $max (mut i32) (i32.const 0))
  (func (export "fact") (param $n i32) (result i32)
    (local $r i32)
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    (if (i32.gt_u (global.get $depth) (global.get $max))
      (then (global.set $max (global.get $depth))))
    ;; record the order of calls in memory: mem[4 * n] = depth
    (i32.store (i32.mul (local.get $n) (i32.const 4)) (global.get $depth))
    (if (i32.eqz (local.get $n))
      (then (local.set $r (i32.const 1)))
      (else
        (local.set $r
          (i32.mul (local.get $n) (call $down (i32.sub (local.get $n) (i32.const 1)))))))
    (global.set $depth (i32.sub (global.get $depth) (i32.const 1)))
    (local.get $r))
  (func (export "maxDepth") (result i32) (global.get $max))
)
