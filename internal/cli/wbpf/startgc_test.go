package wbpf

import (
	"context"
	"io"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestStartGC: the start's collector setting holds until every guest has
// started, or end; GOGC or GOMEMLIMIT in the environment leave Go's
// settings alone.
func TestStartGC(t *testing.T) {
	gcPercent := func() int { p := debug.SetGCPercent(-1); debug.SetGCPercent(p); return p }
	before, beforeLimit := gcPercent(), debug.SetMemoryLimit(-1)
	for _, tc := range []struct {
		name   string
		env    string
		guests int
	}{
		{name: "one guest", guests: 1},
		{name: "three guests", guests: 3},
		{name: "GOGC set", env: "GOGC", guests: 1},
		{name: "GOMEMLIMIT set", env: "GOMEMLIMIT", guests: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(tc.env, "200")
			}
			started, end := startGC(tc.guests)
			defer end()
			if tc.env != "" {
				if p := gcPercent(); p != before {
					t.Errorf("%s set: GC percent %d, want %d untouched", tc.env, p, before)
				}
				return
			}
			for i := 0; i < tc.guests; i++ {
				if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != -1 || l != startHeapLimit {
					t.Fatalf("after %d of %d guests started: GC percent %d, limit %d; want -1, %d", i, tc.guests, p, l, startHeapLimit)
				}
				started()
			}
			if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != before || l != beforeLimit {
				t.Errorf("all started: GC percent %d, limit %d; want %d, %d", p, l, before, beforeLimit)
			}
			end() // again, and started once more: nothing changes
			started()
			if p := gcPercent(); p != before {
				t.Errorf("after end: GC percent %d, want %d", p, before)
			}
		})
	}
	t.Run("overlapping runs", func(t *testing.T) {
		startedA, endA := startGC(1)
		startedB, endB := startGC(1)
		defer endA()
		defer endB()
		startedA()
		if p := gcPercent(); p != -1 {
			t.Errorf("one of two runs started: GC percent %d, want -1", p)
		}
		startedB()
		if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != before || l != beforeLimit {
			t.Errorf("both started: GC percent %d, limit %d; want %d, %d", p, l, before, beforeLimit)
		}
	})
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 && l != beforeLimit {
		t.Errorf("memory limit %d left behind", l)
	}
}

// gcNow reads Go's collector settings without changing them (runtime/metrics), so that a
// test can watch them while a run in another goroutine changes them.
func gcNow() (percent int, limit int64) {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64()), int64(s[1].Value.Uint64())
}

// attachedWriter is a run's stderr that notes Go's collector settings when the run says it
// has attached: by then a bare run has loaded everything, and it has not waited yet.
type attachedWriter struct {
	buf      testutils.SyncBuffer
	once     sync.Once
	attached chan [2]int64
}

func (w *attachedWriter) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), ": attached ") {
		w.once.Do(func() {
			p, l := gcNow()
			w.attached <- [2]int64{int64(p), l}
		})
	}
	return n, err
}

// TestStartGCBare: `wbpf run APP.bpf.o` keeps the start's collector setting until the object
// is loaded and attached and the run waits, then Go's settings come back while it runs; GOGC or
// GOMEMLIMIT in the environment leave them alone throughout.
func TestStartGCBare(t *testing.T) {
	noLeaks(t)
	beforeP, beforeL := gcNow()
	if beforeP < 0 {
		t.Skip("the collector is off in this test process (GOGC=off)")
	}
	for _, env := range []string{"", "GOGC", "GOMEMLIMIT"} {
		name := "no GOGC or GOMEMLIMIT"
		if env != "" {
			name = env + " set"
		}
		t.Run(name, func(t *testing.T) {
			if env != "" {
				t.Setenv(env, "200") // read by startGC; Go itself read the environment at exec
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stderr := &attachedWriter{attached: make(chan [2]int64, 1)}
			done := make(chan int, 1)
			go func() {
				done <- Run(ctx, []string{"run", "--no-cache", example("bootstrap"), "--duration", "20s"}, strings.NewReader(""), io.Discard, stderr)
			}()
			var at [2]int64
			select {
			case at = <-stderr.attached:
			case code := <-done:
				t.Fatalf("run ended (%d) before it attached: %s", code, stderr.buf.String())
			}
			wantP, wantL := int64(-1), int64(startHeapLimit)
			if env != "" {
				wantP, wantL = int64(beforeP), beforeL
			}
			if at[0] != wantP || at[1] != wantL {
				t.Errorf("when attached: GC percent %d, limit %d; want %d, %d", at[0], at[1], wantP, wantL)
			}
			// Go's settings come back once the run waits, long before its --duration ends.
			deadline := time.Now().Add(5 * time.Second)
			for p, l := gcNow(); p != beforeP || l != beforeL; p, l = gcNow() {
				if time.Now().After(deadline) {
					t.Fatalf("5 s after the attach: GC percent %d, limit %d; want %d, %d back", p, l, beforeP, beforeL)
				}
				select {
				case code := <-done:
					t.Fatalf("run ended (%d) with the start's setting still on", code)
				case <-time.After(5 * time.Millisecond):
				}
			}
			cancel()
			if code := <-done; code != 0 && code != 130 {
				t.Errorf("run interrupted: exit %d: %s", code, stderr.buf.String())
			}
		})
	}
}
