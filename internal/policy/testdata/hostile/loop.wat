;; Hostile test policy: an endless loop
(module

  (memory (export "memory") 1)
  (data (i32.const 16) "")
  (func (export "shipgate_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "shipgate_evaluate") (param i32 i32) (result i64)
    (loop $l (br $l)) (unreachable)))
