;; A reactor-shape policy written by hand in the WebAssembly text format, to
;; show the raw ABI v1 (sdk/ABI.md). It ignores its input and always warns.
;; Build: wat2wasm policy.wat -o policy.wasm
(module
  (import "shipgate" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; the decision, at offset 16
  (data (i32.const 16) "{\"deny\":[],\"warn\":[{\"message\":\"hand-written WAT policy\",\"rule\":\"wat\"}]}")
  ;; a log line, at offset 1024
  (data (i32.const 1024) "wat policy evaluating")
  ;; bump allocator: inputs start at 64 KiB
  (global $next (mut i32) (i32.const 65536))
  (func (export "shipgate_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $next))
    ;; grow memory when the input does not fit
    (if (i32.gt_u (i32.add (local.get $p) (local.get $n))
                  (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow
        (i32.add (i32.shr_u (local.get $n) (i32.const 16)) (i32.const 1))))))
    (global.set $next (i32.add (local.get $p) (local.get $n)))
    (local.get $p))
  (func (export "shipgate_evaluate") (param $ptr i32) (param $n i32) (result i64)
    (call $log (i32.const 1) (i32.const 1024) (i32.const 21))
    ;; ptr << 32 | len  (len = 71)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 71))))
