;; Hostile test policy: a short loop around a 32 MiB memory.fill, where
;; counting code bytes alone would take minutes to run out of fuel.
(module
  (memory (export "memory") 512)
  (func (export "shipgate_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "shipgate_evaluate") (param i32 i32) (result i64)
    (loop $l (memory.fill (i32.const 0) (i32.const 7) (i32.const 33554432)) (br $l))
    (unreachable)))
