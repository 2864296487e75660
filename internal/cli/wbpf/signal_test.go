package wbpf

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wbpf/wbpf/runtime"
)

// TestRun_Signals sends this process SIGINT and SIGTERM while a guest
// spins: Run has them registered, interrupts the guest, which never polls
// and so never ends by itself, stops it at the end of the grace period and
// exits 128+signal.
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

// TestRun_SecondSignal: a second signal stops a guest at once, without
// waiting for the end of the grace period, and the status is 128 + the
// signal that stopped it.
func TestRun_SecondSignal(t *testing.T) {
	done := make(chan int)
	var stderr bytes.Buffer
	go func() {
		done <- Run(context.Background(), []string{"run", "--no-cache", wat("spin.wasm")}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	time.Sleep(300 * time.Millisecond) // compiled and spinning
	first := time.Now()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case code := <-done:
		if code != 128+int(syscall.SIGTERM) {
			t.Errorf("exit %d, want %d; stderr: %s", code, 128+int(syscall.SIGTERM), stderr.String())
		}
		if took := time.Since(first); took >= runtime.DefaultInterruptGrace {
			t.Errorf("ended %v after the first signal: the second did not stop it before the grace period ended", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("guest still running 10s after the signals")
	}
}
