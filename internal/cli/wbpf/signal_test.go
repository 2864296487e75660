package wbpf

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRun_Signals sends this process SIGINT and SIGTERM while a guest
// spins: Run has them registered, stops the guest and exits 128+signal.
func TestRun_Signals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			done := make(chan int)
			var stderr bytes.Buffer
			go func() {
				done <- Run(context.Background(), []string{"run", "--no-cache", wat("spin.wasm")}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
			}()
			time.Sleep(300 * time.Millisecond) // compiled and spinning
			if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			select {
			case code := <-done:
				if code != 128+int(sig) {
					t.Errorf("exit %d, want %d; stderr: %s", code, 128+int(sig), stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("guest still running 10s after the signal")
			}
		})
	}
}
