;; Hostile test policy: exponential recursion without a single loop
;; (2^60 calls), which only a check at function entry stops.
(module
  (memory (export "memory") 1)
  (func $f (param i32)
    (if (i32.eqz (local.get 0)) (then (return)))
    (call $f (i32.sub (local.get 0) (i32.const 1)))
    (call $f (i32.sub (local.get 0) (i32.const 1))))
  (func (export "shipgate_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "shipgate_evaluate") (param i32 i32) (result i64)
    (call $f (i32.const 60)) (unreachable)))
