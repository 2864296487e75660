;; hostmod: calls the embedder's host function example.greet with a string
;; of its memory, and exits with what it returned (the string's length).
(module
  (import "example" "greet" (func $greet (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "wasm")
  (func (export "_start")
    (call $exit (call $greet (i32.const 16) (i32.const 4)))))
