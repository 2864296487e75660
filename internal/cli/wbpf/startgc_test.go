package wbpf

import (
	"math"
	"runtime/debug"
	"testing"
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
