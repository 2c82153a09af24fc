;; Hostile test policy: returns invalid JSON
(module

  (memory (export "memory") 1)
  (data (i32.const 16) "{\"deny\": [")
  (func (export "shipgate_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "shipgate_evaluate") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 10))))
