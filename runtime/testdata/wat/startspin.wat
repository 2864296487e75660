;; startspin: its start section spins forever, before _start could run, so
;; only a stop ends it (a guest can run code at instantiation).
(module
  (memory (export "memory") 1)
  (func $spin (loop $l (br $l)))
  (start $spin)
  (func (export "_start")))
