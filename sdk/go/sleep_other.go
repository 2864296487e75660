//go:build !wasm

package wbpf

import "time"

// Sleep pauses for d. Outside WebAssembly nothing interrupts it.
func Sleep(d time.Duration) error {
	time.Sleep(d)
	return nil
}
