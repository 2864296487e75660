package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/internal/host"
	"github.com/wbpf/wbpf/runtime/internal/testlock"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if os.Getenv("WBPF_GROW_CHILD") != "" {
		// TestMemoryLimitBoundsRSS's child: its parent holds the lock.
		os.Exit(m.Run())
	}
	os.Exit(testlock.Main(func() int { return testutils.Main(m) }))
}

var demoNames = []string{
	"wt_on_getppid", "wt_missing_tp", "wt_raw_enter", "wt_ks_getppid", "wt_kp_openat", "wt_up_main",
	"wt_xdp_pass", "wt_tc_next", "wt_sock_none", "wt_cg_ingress", "wt_sockops_noop", "wt_perf_ev",
	"wt_events", "wt_events2", "wt_perf_events", "wt_counts", "wt_pcpu", "wt_cgroups", "wt_queue",
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// lifecycleRuntime is a Runtime with the wbpftest module lifecycle.wat
// imports: object copies demo.bpf.o into the guest, attached reports that
// the guest attached, mode says how the guest ends.
func lifecycleRuntime(t *testing.T, mode int32, attached chan<- struct{}) *Runtime {
	t.Helper()
	ctx := context.Background()
	rt, err := NewRuntime(ctx, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })
	obj := readFile(t, "testdata/bpf/demo.bpf.o")
	var attachedOnce sync.Once // a module may run more than once
	_, err = rt.r.NewHostModuleBuilder("wbpftest").
		NewFunctionBuilder().WithFunc(func(_ context.Context, m api.Module, ptr uint32) uint32 {
		m.Memory().Write(ptr, obj)
		return uint32(len(obj))
	}).Export("object").
		NewFunctionBuilder().WithFunc(func() { attachedOnce.Do(func() { close(attached) }) }).Export("attached").
		NewFunctionBuilder().WithFunc(func() int32 { return mode }).Export("mode").
		NewFunctionBuilder().WithFunc(func() int32 { return int32(os.Getpid()) }).Export("pid").
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// TestLifecycle ends a guest in every way it can end and checks its exit
// status and that the kernel holds nothing of it afterwards.
func TestLifecycle(t *testing.T) {
	testutils.RequireKernel(t)
	for _, tc := range []struct {
		name   string
		mode   int32
		cancel bool
		code   int
		stderr string
	}{
		{name: "return", mode: 0, code: 0},
		{name: "exit", mode: 1, code: 7},
		// Not 130: 0xffffffff is wazero's code for a cancelled context,
		// but only a stop by the runtime reports as one (the CLI's process
		// exits 255 with it).
		{name: "exit -1", mode: 8, code: 0xffffffff},
		{name: "trap", mode: 2, code: ExitTrap, stderr: "wbpf: guest trapped: "},
		// A guest that ignores the interruption is stopped at the end of
		// the grace period (TestInterrupt times it).
		{name: "interrupt while spinning", mode: 3, cancel: true, code: ExitInterrupted},
		{name: "interrupt while polling", mode: 4, cancel: true, code: ExitInterrupted},
		// A guest that handles -EINTR ends with its own status, whether
		// the interruption finds it in a poll or between two.
		{name: "interrupt in a poll", mode: 6, cancel: true, code: 16},
		{name: "interrupt between polls", mode: 7, cancel: true, code: 17},
		{name: "trap in callback", mode: 5, code: ExitTrap, stderr: "unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := testutils.LeakCheck(t, demoNames...)
			attached := make(chan struct{})
			rt := lifecycleRuntime(t, tc.mode, attached)
			mod, err := rt.Compile(context.Background(), readFile(t, "testdata/wat/lifecycle.wasm"))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				select {
				case <-attached:
				case <-ctx.Done():
					return
				}
				// The guest's objects exist while it runs.
				if objs, err := snap.New("wt_on_getppid"); err != nil || len(objs) == 0 {
					t.Errorf("guest's program not in the kernel while it runs: %v %v", objs, err)
				}
				if tc.mode == 5 {
					trigger()
				}
				if tc.cancel {
					time.Sleep(50 * time.Millisecond)
					cancel()
				}
			}()
			var stderr testutils.SyncBuffer
			done := make(chan struct{})
			var code int
			go func() {
				defer close(done)
				code, err = rt.Run(ctx, mod, NewConfig().WithPrivileged(true).WithStderr(&stderr))
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("guest still running after 20s")
			}
			if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if tc.stderr != "" && !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderr)
			}
		})
	}
}

// trigger makes the demo tracepoint fire in this process.
func trigger() {
	for range 3 {
		unix.Getppid()
	}
}

func TestRun_ArgsAndEnv(t *testing.T) {
	wasm := readFile(t, "testdata/wat/args.wasm")
	cfg := NewConfig().WithArgs([]string{"args.wasm", "-x", "y"}).WithEnv("A", "1")
	// Config is immutable: deriving from cfg leaves it alone.
	more := cfg.WithEnv("B", "2").WithArgs([]string{"args.wasm"})
	for _, tc := range []struct {
		cfg  Config
		want int
	}{
		{NewConfig(), 0},
		{cfg, 3*16 + 1},
		{more, 1*16 + 2},
		{cfg, 3*16 + 1},
	} {
		code, err := Run(context.Background(), wasm, tc.cfg)
		if err != nil || code != tc.want {
			t.Errorf("Run = %d, %v; want %d", code, err, tc.want)
		}
	}
}

func TestRun_HostErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Run(ctx, []byte("not wasm"), NewConfig()); err == nil || !strings.Contains(err.Error(), "compile") {
		t.Errorf("garbage module: %v", err)
	}
	if _, err := Run(ctx, readFile(t, "testdata/wat/library.wasm"), NewConfig()); !errors.Is(err, ErrNotCommand) {
		t.Errorf("module without _start: %v", err)
	}
	big := readFile(t, "testdata/wat/bigmem.wasm")
	if code, err := Run(ctx, big, NewConfig().WithMemoryLimitPages(64)); err != nil || code != 0 {
		t.Errorf("64 pages within a limit of 64: %d, %v", code, err)
	}
	if _, err := Run(ctx, big, NewConfig().WithMemoryLimitPages(16)); err == nil {
		t.Error("64 pages ran with a limit of 16")
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Run(ctx, big, NewConfig().WithCompilationCacheDir(filepath.Join(file, "cache"))); err == nil {
		t.Error("cache dir under a file accepted")
	}
}

func TestRun_CompilationCache(t *testing.T) {
	dir := t.TempDir()
	wasm := readFile(t, "testdata/wat/args.wasm")
	for range 2 {
		if code, err := Run(context.Background(), wasm, NewConfig().WithCompilationCacheDir(dir)); err != nil || code != 0 {
			t.Fatalf("Run = %d, %v", code, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) == 0 {
		t.Error("cache directory stayed empty")
	}
}

// TestInterrupt times the two stages of an interruption: a guest that
// ignores -EINTR (polling on) or never polls (spinning) is stopped at the
// end of the grace period, not before and not much after; closing the
// stop channel (the CLI's second signal) or a grace of 0 stops it at once;
// a guest that handles -EINTR keeps its own status even with a grace
// shorter than the time it was given.
func TestInterrupt(t *testing.T) {
	testutils.RequireKernel(t)
	const grace = 500 * time.Millisecond
	for _, tc := range []struct {
		name     string
		mode     int32
		grace    time.Duration
		stop     bool // close the stop channel right after cancelling
		code     int
		min, max time.Duration // time from the cancellation to the end
		stderr   string
	}{
		// Polling again after -EINTR stops it in that poll, long before
		// the grace period ends.
		{name: "ignores EINTR", mode: 4, grace: time.Minute, code: ExitInterrupted, max: 100 * time.Millisecond},
		{name: "spins", mode: 3, grace: grace, code: ExitInterrupted, min: grace, max: grace + time.Second, stderr: "still running 500ms after the interrupt"},
		{name: "second signal", mode: 4, grace: time.Minute, stop: true, code: ExitInterrupted, max: time.Second},
		{name: "no grace", mode: 3, grace: 0, code: ExitInterrupted, max: time.Second},
		{name: "handles EINTR", mode: 6, grace: time.Minute, code: 16, max: time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := testutils.LeakCheck(t, demoNames...)
			attached := make(chan struct{})
			rt := lifecycleRuntime(t, tc.mode, attached)
			mod, err := rt.Compile(context.Background(), readFile(t, "testdata/wat/lifecycle.wasm"))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := make(chan struct{})
			var stderr testutils.SyncBuffer
			cfg := NewConfig().WithPrivileged(true).WithStderr(&stderr).WithInterruptGrace(tc.grace).WithStop(stop)
			done := make(chan int, 1)
			go func() {
				code, err := rt.Run(ctx, mod, cfg)
				if err != nil {
					t.Error(err)
				}
				done <- code
			}()
			select {
			case <-attached:
			case <-time.After(20 * time.Second):
				t.Fatal("guest did not attach within 20s")
			}
			time.Sleep(50 * time.Millisecond) // in its loop
			cancelled := time.Now()
			cancel()
			if tc.stop {
				close(stop)
			}
			var code int
			select {
			case code = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("guest still running 20s after the interrupt")
			}
			took := time.Since(cancelled)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if took < tc.min || took > tc.max {
				t.Errorf("ended %v after the interrupt, want between %v and %v", took, tc.min, tc.max)
			}
			if tc.stderr != "" && !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderr)
			}
			// Maps go once the kernel's deferred frees have run.
			if err := snap.WaitGone(5*time.Second, demoNames...); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSleeper: the sleep in progress when the run is interrupted returns
// early and tells the guest; a sleep after that stops the guest there
// (Stop is called and the sleep ends the guest with an exit); the kill
// wakes any sleep.
func TestSleeper(t *testing.T) {
	kill, stop := context.WithCancel(context.Background())
	defer stop()
	intr, interrupt := context.WithCancel(kill)
	var stopped atomic.Bool
	in := &host.Instance{Interrupt: intr, Stop: func() { stopped.Store(true) }}
	sleep := sleeper(in, intr, kill)
	timed := func(d time.Duration) (took time.Duration, exited bool) {
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				var exit *sys.ExitError
				if err, ok := p.(error); !ok || !errors.As(err, &exit) {
					panic(p)
				}
				took, exited = time.Since(start), true
			}
		}()
		sleep(int64(d))
		return time.Since(start), false
	}
	if took, _ := timed(20 * time.Millisecond); took < 20*time.Millisecond {
		t.Errorf("a 20ms sleep took %v", took)
	}
	time.AfterFunc(50*time.Millisecond, interrupt)
	if took, exited := timed(time.Minute); took > 10*time.Second || exited {
		t.Errorf("the sleep in progress at the interrupt took %v (exited: %v)", took, exited)
	}
	took, exited := timed(time.Minute)
	if !exited || took > 100*time.Millisecond || !stopped.Load() {
		t.Errorf("a sleep after the interrupt: took %v, exited %v, stopped %v; want stopped at once", took, exited, stopped.Load())
	}
}

// TestSleeperKill: the kill wakes the sleep in progress, and a sleep woken
// by the kill does not count as telling the guest.
func TestSleeperKill(t *testing.T) {
	kill, stop := context.WithCancel(context.Background())
	intr, interrupt := context.WithCancel(kill)
	defer interrupt()
	in := &host.Instance{Interrupt: intr}
	sleep := sleeper(in, intr, kill)
	time.AfterFunc(50*time.Millisecond, stop)
	start := time.Now()
	sleep(int64(time.Minute))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the sleep in progress at the kill took %v", took)
	}
}

// TestHostModuleErrors: an embedder's module may not take a name the
// runtime uses, nor be defined twice or be malformed.
func TestHostModuleErrors(t *testing.T) {
	fn := HostFunc{Name: "f", Fn: func(context.Context, api.Module, []uint64) {}}
	for _, tc := range []struct {
		mods []HostModule
		want string
	}{
		{[]HostModule{{Name: "wasm_bpf", Funcs: []HostFunc{fn}}}, "the name is the runtime's"},
		{[]HostModule{{Name: "wasi_snapshot_preview1"}}, "the name is the runtime's"},
		{[]HostModule{{Name: "wbpf-dispatch-host"}}, "the name is the runtime's"},
		{[]HostModule{{Name: "wbpf_share"}}, "the name is the runtime's"},
		{[]HostModule{{Name: ""}}, "empty name"},
		{[]HostModule{{Name: "a"}, {Name: "a"}}, "defined twice"},
		{[]HostModule{{Name: "a", Funcs: []HostFunc{fn, fn}}}, "function f defined twice"},
		{[]HostModule{{Name: "a", Funcs: []HostFunc{{Name: "g"}}}}, "want a name and an implementation"},
		{[]HostModule{{Name: "a", Funcs: []HostFunc{{Name: "g", Fn: fn.Fn, ParamNames: []string{"x"}}}}}, "1 parameter names for 0 parameters"},
	} {
		cfg := NewConfig()
		for _, m := range tc.mods {
			cfg = cfg.WithHostModule(m)
		}
		rt, err := NewRuntime(context.Background(), cfg)
		if err == nil {
			rt.Close(context.Background())
			t.Errorf("%+v: no error, want %q", tc.mods, tc.want)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.mods, err, tc.want)
		}
	}
}
