;; stdin: reads its standard input until end of file, then exits 0; blocked
;; in fd_read while the input stays open and empty.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; iovec at 0: buf 64, len 1024; nread at 16
  (data (i32.const 0) "\40\00\00\00\00\04\00\00")
  (func (export "_start")
    (loop $l
      (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
      (br_if $l (i32.load (i32.const 16))))))
