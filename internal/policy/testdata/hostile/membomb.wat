;; Hostile test policy: grows memory until memory.grow fails, then traps
(module

  (memory (export "memory") 1)
  (data (i32.const 16) "")
  (func (export "shipgate_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "shipgate_evaluate") (param i32 i32) (result i64)
    (block $done (loop $l (br_if $done (i32.eq (memory.grow (i32.const 16)) (i32.const -1))) (br $l))) (unreachable)))
