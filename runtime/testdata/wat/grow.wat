;; grow: a hostile guest for the memory limit. It grows its memory one page at
;; a time until memory.grow fails (the limit), writes to every 4 KiB of it, and
;; exits with the number of MiB it got.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $p i32) (local $end i32)
    (block $full
      (loop $grow
        (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br $grow)))
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (loop $touch
      (i32.store8 (local.get $p) (i32.const 1))
      (local.set $p (i32.add (local.get $p) (i32.const 4096)))
      (br_if $touch (i32.lt_u (local.get $p) (local.get $end))))
    (call $exit (i32.div_u (memory.size) (i32.const 16)))))
