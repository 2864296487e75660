;; lifecycle: loads demo.bpf.o (handed over by the test's wbpftest module),
;; makes its tracepoint report the test's process (.bss target_tgid =
;; wbpftest.pid), attaches it, tells the test, and then ends the way
;; wbpftest.mode says:
;;   0 returns from _start       1 proc_exit(7)      2 traps
;;   3 spins forever             4 polls forever     5 callback traps
;;   6 polls (blocking) until a poll returns -EINTR, then exits 16
;;   7 polls (not waiting) until a poll returns -EINTR, then exits 17
;;   8 proc_exit(-1), as C's exit(-1) or main returning -1
;; Exit 10/11/12/13: load, attach, map lookup or .bss update failed.
(module
  (import "wasm_bpf" "wasm_load_bpf_object" (func $load (param i32 i32) (result i64)))
  (import "wasm_bpf" "wasm_attach_bpf_program" (func $attach (param i64 i32 i32) (result i32)))
  (import "wasm_bpf" "wasm_bpf_map_fd_by_name" (func $map_fd (param i64 i32) (result i32)))
  (import "wasm_bpf" "wasm_bpf_buffer_poll" (func $poll (param i64 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wbpftest" "object" (func $object (param i32) (result i32)))
  (import "wbpftest" "attached" (func $attached))
  (import "wbpftest" "mode" (func $mode (result i32)))
  (import "wbpftest" "pid" (func $pid (result i32)))
  (import "wasm_bpf" "wasm_bpf_map_operate" (func $map_op (param i32 i32 i32 i32 i32 i64) (result i32)))

  (memory (export "memory") 4)
  (table (export "__indirect_function_table") 2 funcref)
  (elem (i32.const 0) $ok $trap)
  (data (i32.const 16) "wt_on_getppid\00")
  (data (i32.const 48) "\00")
  (data (i32.const 64) "wt_events\00")
  (data (i32.const 80) ".bss\00")

  (func $ok (param i32 i32 i32) (result i32) (i32.const 0))
  (func $trap (param i32 i32 i32) (result i32) (unreachable))

  (func (export "_start")
    (local $h i64) (local $len i32) (local $tok i32) (local $mode i32)
    (local.set $len (call $object (i32.const 65536)))
    (local.set $h (call $load (i32.const 65536) (local.get $len)))
    (if (i64.eqz (local.get $h)) (then (call $exit (i32.const 10))))
    ;; .bss key 0 (at 132, zero) := pid (at 128)
    (i32.store (i32.const 128) (call $pid))
    (local.set $tok (call $map_fd (local.get $h) (i32.const 80)))
    (if (call $map_op (local.get $tok) (i32.const 2) (i32.const 132) (i32.const 128) (i32.const 0) (i64.const 0))
      (then (call $exit (i32.const 13))))
    (if (call $attach (local.get $h) (i32.const 16) (i32.const 48))
      (then (call $exit (i32.const 11))))
    (local.set $tok (call $map_fd (local.get $h) (i32.const 64)))
    (if (i32.lt_s (local.get $tok) (i32.const 0)) (then (call $exit (i32.const 12))))
    (call $attached)
    (local.set $mode (call $mode))
    (if (i32.eq (local.get $mode) (i32.const 1)) (then (call $exit (i32.const 7))))
    (if (i32.eq (local.get $mode) (i32.const 8)) (then (call $exit (i32.const -1))))
    (if (i32.eq (local.get $mode) (i32.const 2)) (then (unreachable)))
    (if (i32.eq (local.get $mode) (i32.const 3)) (then (loop $spin (br $spin))))
    (if (i32.eq (local.get $mode) (i32.const 4))
      (then (loop $wait
        (drop (call $poll (local.get $h) (local.get $tok) (i32.const 0) (i32.const 0)
                          (i32.const 1024) (i32.const 64) (i32.const -1)))
        (br $wait))))
    (if (i32.eq (local.get $mode) (i32.const 5))
      (then (loop $wait
        (drop (call $poll (local.get $h) (local.get $tok) (i32.const 1) (i32.const 0)
                          (i32.const 1024) (i32.const 64) (i32.const 100)))
        (br $wait))))
    (if (i32.eq (local.get $mode) (i32.const 6))
      (then (loop $wait
        (if (i32.eq (call $poll (local.get $h) (local.get $tok) (i32.const 0) (i32.const 0)
                                (i32.const 1024) (i32.const 64) (i32.const -1))
                    (i32.const -27)) ;; -EINTR, WASI's number
          (then (call $exit (i32.const 16))))
        (br $wait))))
    (if (i32.eq (local.get $mode) (i32.const 7))
      (then (loop $wait
        (if (i32.eq (call $poll (local.get $h) (local.get $tok) (i32.const 0) (i32.const 0)
                                (i32.const 1024) (i32.const 64) (i32.const 0))
                    (i32.const -27)) ;; -EINTR, WASI's number
          (then (call $exit (i32.const 17))))
        (br $wait)))))
)
