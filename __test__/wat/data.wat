;; Active data segments fill the exported memory; a passive one is copied in
;; by memory.init.
(module
  (memory (export "mem") 2)
  (data (i32.const 0) "hello")
  (data (i32.const 100) "\01\02\03\04")
  (data (i32.const 65534) "\aa\bb\cc")
  (data $p "passive!")
  (func (export "init") (param $dst i32) (param $off i32) (param $len i32)
    (memory.init $p (local.get $dst) (local.get $off) (local.get $len)))
  (func (export "drop") (data.drop $p))
)
