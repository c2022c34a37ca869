;; Custom sections: two named "hello", one "empty", one with a non-ASCII name.
(module
  (@custom "hello" (before first) "world")
  (@custom "empty" "")
  (@custom "hello" (after func) "again")
  (@custom "h\c3\a9" "\00\01\02\ff")
  (func (export "f") (result i32) (i32.const 1))
)
