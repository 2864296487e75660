;; bigmem: asks for 64 pages (4 MiB) of memory and does nothing.
(module
  (memory (export "memory") 64)
  (func (export "_start")))
