package runtime

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestStarted: Config.WithStarted's function runs once per Run, after the
// guest attached, when it first waits; and once for a guest that ends
// without ever waiting.
func TestStarted(t *testing.T) {
	testutils.RequireKernel(t)
	for _, tc := range []struct {
		name string
		mode int32 // lifecycle.wat's modes
		code int
	}{
		{name: "never waits", mode: 0, code: 0},
		{name: "polls", mode: 6, code: 16}, // -EINTR in its poll: ends 16
	} {
		t.Run(tc.name, func(t *testing.T) {
			attached := make(chan struct{})
			rt := lifecycleRuntime(t, tc.mode, attached)
			mod, err := rt.Compile(context.Background(), readFile(t, "testdata/wat/lifecycle.wasm"))
			if err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			var afterAttach atomic.Bool
			startedCh := make(chan struct{}, 1)
			cfg := NewConfig().WithPrivileged(true).WithStarted(func() {
				select {
				case <-attached:
					afterAttach.Store(true)
				default:
				}
				calls.Add(1)
				startedCh <- struct{}{}
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.mode == 6 {
				go func() {
					select {
					case <-startedCh: // the guest is in its poll: interrupt it
					case <-time.After(10 * time.Second):
						t.Error("started not called while the guest waited in its poll")
					}
					cancel()
				}()
			}
			code, err := rt.Run(ctx, mod, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("started called %d times, want 1", n)
			}
			if !afterAttach.Load() {
				t.Error("started called before the guest attached")
			}
		})
	}
}

// TestStartedFailedStart: a guest that never instantiates (an import
// nothing provides) still counts as started, once, so that a caller
// waiting for every guest of a group is not left waiting.
func TestStartedFailedStart(t *testing.T) {
	// (module (import "nope" "f" (func)) (func (export "_start")))
	wasm := []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 4, 1, 0x60, 0, 0, // type 0: () -> ()
		2, 10, 1, 4, 'n', 'o', 'p', 'e', 1, 'f', 0, 0, // import nope.f
		3, 2, 1, 0, // function 1: type 0
		7, 10, 1, 6, '_', 's', 't', 'a', 'r', 't', 0, 1, // export _start
		10, 4, 1, 2, 0, 0x0b} // its body: end
	var calls atomic.Int32
	_, err := Run(context.Background(), wasm, NewConfig().WithStarted(func() { calls.Add(1) }))
	if err == nil {
		t.Fatal("a module importing nope.f ran")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("started called %d times, want 1 (err: %v)", n, err)
	}
}

// TestModuleRunsTwice: one compiled module run twice at once and once more
// after; only one Run takes what Compile prefetched, and each ends as the
// guest does.
func TestModuleRunsTwice(t *testing.T) {
	testutils.RequireKernel(t)
	attached := make(chan struct{})
	rt := lifecycleRuntime(t, 0, attached)
	mod, err := rt.Compile(context.Background(), readFile(t, "testdata/wat/lifecycle.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	codes := make(chan error, 3)
	run := func() {
		code, err := rt.Run(context.Background(), mod, NewConfig().WithPrivileged(true))
		if err == nil && code != 0 {
			err = fmt.Errorf("exit %d, want 0", code)
		}
		codes <- err
	}
	go run()
	go run()
	for range 2 {
		if err := <-codes; err != nil {
			t.Error(err)
		}
	}
	run()
	if err := <-codes; err != nil {
		t.Error(err)
	}
}
