;; driver: a guest that exports thin wrappers of the wasm_bpf imports so a
;; test can call them with any arguments through a real wazero instance, and provides
;; sample callbacks in its function table:
;;   0 $wrong  (i32) -> i32, the wrong type
;;   1 $record records ctx/data/size of the last call, counts, returns 0
;;   2 $stop   counts and returns -7
;;   3 $trap   traps
;;   4 $quit   calls proc_exit(3)
;;   5-7       empty
;; Built with: wat2wasm driver.wat -o driver.wasm (go generate ./runtime/internal/host)
(module
  (import "wasm_bpf" "wasm_load_bpf_object" (func $load (param i32 i32) (result i64)))
  (import "wasm_bpf" "wasm_close_bpf_object" (func $close (param i64) (result i32)))
  (import "wasm_bpf" "wasm_attach_bpf_program" (func $attach (param i64 i32 i32) (result i32)))
  (import "wasm_bpf" "wasm_bpf_map_fd_by_name" (func $map_fd (param i64 i32) (result i32)))
  (import "wasm_bpf" "wasm_bpf_map_operate" (func $map_op (param i32 i32 i32 i32 i32 i64) (result i32)))
  (import "wasm_bpf" "wasm_bpf_buffer_poll" (func $poll (param i64 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "callback-wrapper" "wasm_bpf_buffer_poll" (func $cb_poll (param i64 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  (memory (export "memory") 4)
  (table (export "__indirect_function_table") 8 funcref)
  (elem (i32.const 0) $wrong $record $stop $trap $quit)

  (global $calls (export "calls") (mut i32) (i32.const 0))
  (global $last_ctx (export "last_ctx") (mut i32) (i32.const 0))
  (global $last_data (export "last_data") (mut i32) (i32.const 0))
  (global $last_size (export "last_size") (mut i32) (i32.const 0))

  (func $wrong (param i32) (result i32) (i32.const 0))
  (func $record (param $ctx i32) (param $data i32) (param $size i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (global.set $last_ctx (local.get $ctx))
    (global.set $last_data (local.get $data))
    (global.set $last_size (local.get $size))
    (i32.const 0))
  (func $stop (param i32 i32 i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.const -7))
  (func $trap (param i32 i32 i32) (result i32) (unreachable))
  (func $quit (param i32 i32 i32) (result i32) (call $proc_exit (i32.const 3)) (i32.const 0))

  ;; The Go-style named callback.
  (func (export "go-callback") (param i32 i32 i32) (result i32)
    (call $record (local.get 0) (local.get 1) (local.get 2)))
  ;; A named export of the wrong type, for WithCallbackExport tests.
  (func (export "bad-callback") (param i32) (result i32) (i32.const 0))

  ;; Wrappers, so that the guest is the caller (a re-exported import called
  ;; from Go would see the host module, without memory, as its caller).
  (func (export "load") (param i32 i32) (result i64)
    (call $load (local.get 0) (local.get 1)))
  (func (export "close") (param i64) (result i32)
    (call $close (local.get 0)))
  (func (export "attach") (param i64 i32 i32) (result i32)
    (call $attach (local.get 0) (local.get 1) (local.get 2)))
  (func (export "map_fd") (param i64 i32) (result i32)
    (call $map_fd (local.get 0) (local.get 1)))
  (func (export "map_op") (param i32 i32 i32 i32 i32 i64) (result i32)
    (call $map_op (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5)))
  (func (export "poll") (param i64 i32 i32 i32 i32 i32 i32) (result i32)
    (call $poll (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5) (local.get 6)))
  (func (export "cb_poll") (param i64 i32 i32 i32 i32 i32) (result i32)
    (call $cb_poll (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5))))
