;; Passive segments among active ones: memory.init copies a passive segment
;; until data.drop; an active segment is already dropped after instantiation
;; (memory.init of it traps unless the length is 0).
(module
  (memory (export "mem") 1)
  (data $a0 (i32.const 0) "active zero")
  (data $p1 "passive one")
  (data $a2 (i32.const 32) "active two")
  (data $p3 "")
  (data $a4 (i32.const 40) "active four")
  (data $p5 "\01\02\03\04\05\06\07\08")
  (func (export "init1") (param i32 i32 i32) (memory.init $p1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init3") (param i32 i32 i32) (memory.init $p3 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init5") (param i32 i32 i32) (memory.init $p5 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "initA0") (param i32 i32 i32) (memory.init $a0 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "initA4") (param i32 i32 i32) (memory.init $a4 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop1") (data.drop $p1))
  (func (export "drop5") (data.drop $p5))
  (func (export "dropA2") (data.drop $a2))
)
