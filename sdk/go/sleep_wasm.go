//go:build wasm

package wbpf

import (
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"
)

// WASI's poll_oneoff, called directly: time.Sleep also ends up there, but the Go scheduler goes
// back to sleep when wbpf wakes it early, so the guest never hears of the interruption.
//
//go:wasmimport wasi_snapshot_preview1 poll_oneoff
func pollOneoff(in, out unsafe.Pointer, nsubscriptions uint32, nevents unsafe.Pointer) uint32

// Sleep pauses the guest for d. It returns EINTR when wbpf cut the sleep short because the run
// was interrupted (SIGINT or SIGTERM): the guest then has a grace period to report and return.
// wbpf cuts short only the sleep in progress at the interruption, or the next one.
func Sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	start := time.Now()
	// One subscription_t (48 bytes): userdata, tag 0 (clock), then subscription_clock at 16:
	// clock id 1 (monotonic), timeout at 24, precision at 32, flags 0 (relative).
	var sub [48]byte
	binary.LittleEndian.PutUint32(sub[16:], 1)
	binary.LittleEndian.PutUint64(sub[24:], uint64(d))
	var event [32]byte
	var n uint32
	if errno := pollOneoff(unsafe.Pointer(&sub[0]), unsafe.Pointer(&event[0]), 1, unsafe.Pointer(&n)); errno != 0 {
		return fmt.Errorf("poll_oneoff: WASI errno %d", errno)
	}
	if time.Since(start) < d {
		return EINTR
	}
	return nil
}
