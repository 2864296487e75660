;; flood: writes lines to its standard output forever; blocked in fd_write
;; once nobody reads the pipe.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; iovec at 0: buf 64, len 4096; nwritten at 16; 4 KiB of 'x' at 64
  (data (i32.const 0) "\40\00\00\00\00\10\00\00")
  (func (export "_start")
    (memory.fill (i32.const 64) (i32.const 120) (i32.const 4096))
    (loop $l
      (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (br $l))))
