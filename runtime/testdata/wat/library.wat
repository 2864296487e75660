;; library: a module without _start, so not a WASI command.
(module
  (memory (export "memory") 1)
  (func (export "f")))
