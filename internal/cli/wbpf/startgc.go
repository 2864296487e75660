package wbpf

import (
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// A start allocates most of what a run ever allocates: compiling the guest
// (or reading it back from the compilation cache), decoding the kernel's
// BTF, parsing and relocating the guest's BPF objects. Nearly all of it is
// garbage once the guest first waits, and with Go's default GOGC=100 the
// collector runs cycle after cycle through it while the heap is a few MiB.
// A --no-cache start of a 50 KB C guest took 64 ms with them and 47 ms
// without (GOGC=off GOMEMLIMIT=64MiB from outside; BENCHMARKS.md, issue 12,
// change 8). A bare object's run (wbpf run APP.bpf.o) allocates the same
// way when it decodes the kernel's BTF (change 11). Until the guests, or
// the bare object, have started, the collector runs only when the heap
// reaches startHeapLimit; then Go's defaults come back for the rest of the
// run.
const (
	startHeapLimit = 64 << 20
	// startGCMax ends the start's setting even if a guest never waits.
	startGCMax = 10 * time.Second
)

// startGC switches to the start's collector setting. started ends it once
// it has been called guests times (runtime.Config.WithStarted, once per
// guest, or once for a bare object: runtime.HostRun.Started); end ends it
// at once (deferred by the command). A GOGC or
// GOMEMLIMIT in the environment is the user's choice and is left alone.
// Runs that overlap in one process (Run called from tests) share the
// setting: the last one to end restores what was there before the first.
func startGC(guests int) (started, end func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}, func() {}
	}
	startGCState.enter()
	var once sync.Once
	timer := time.AfterFunc(startGCMax, func() { once.Do(startGCState.leave) })
	end = func() {
		once.Do(func() {
			timer.Stop()
			startGCState.leave()
		})
	}
	var left atomic.Int32
	left.Store(int32(guests))
	started = func() {
		if left.Add(-1) <= 0 {
			end()
		}
	}
	return started, end
}

// startGCState counts the starts in progress and keeps Go's settings from
// before the first.
var startGCState gcSetting

type gcSetting struct {
	mu      sync.Mutex
	n       int
	percent int
	limit   int64
}

func (g *gcSetting) enter() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n == 0 {
		g.percent = debug.SetGCPercent(-1)
		g.limit = debug.SetMemoryLimit(startHeapLimit)
	}
	g.n++
}

func (g *gcSetting) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.n == 0 {
		debug.SetGCPercent(g.percent)
		debug.SetMemoryLimit(g.limit)
	}
}
