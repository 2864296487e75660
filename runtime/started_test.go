package runtime

import (
	"context"
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
