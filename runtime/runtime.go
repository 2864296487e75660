// Package runtime runs WebAssembly guests that drive eBPF through the
// wasm-bpf host interface (import modules wasm_bpf and callback-wrapper).
//
// The simplest use is one call:
//
//	cfg := runtime.NewConfig().WithArgs([]string{"app.wasm"}).WithStdout(os.Stdout).WithStderr(os.Stderr)
//	code, err := runtime.Run(ctx, wasm, cfg)
//
// To compile once and run many times (benchmarks, embedders), use a Runtime:
//
//	rt, err := runtime.NewRuntime(ctx, cfg)
//	defer rt.Close(ctx)
//	mod, err := rt.Compile(ctx, wasm)
//	code, err := rt.Run(ctx, mod, cfg)
//
// Cancelling ctx interrupts the guest: the buffer poll in progress (or the
// next) returns -EINTR and the sleep in progress returns early, so that it
// can end by itself with its own status. A guest that polls or sleeps again
// after that is stopped in that call; one that does neither is stopped at
// the end of a grace period (Config.WithInterruptGrace, 2 s by default).
// However a guest ends (return, exit, trap, interrupted or stopped), every
// link, program, map and socket it created is closed before Run returns.
//
// Errno values at the host interface are WASI's (see package abi), stdout
// is line-buffered for wasi-libc guests wherever it goes, and an embedder
// may add import modules of its own (Config.WithHostModule).
//
// Guests run concurrently with the same Group (Config.WithGroup) share
// loaded objects through the wbpf_share import module: one publishes, the
// others open, each with handles of its own; a shared object is closed when
// its last holder closes it or ends, whichever guest that is. With
// Config.WithPinDir a guest may pin objects on bpffs for other processes.
package runtime

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf/btf"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
	"github.com/wbpf/wbpf/runtime/internal/bpf"
	"github.com/wbpf/wbpf/runtime/internal/compcache"
	"github.com/wbpf/wbpf/runtime/internal/grant"
	"github.com/wbpf/wbpf/runtime/internal/guestmem"
	"github.com/wbpf/wbpf/runtime/internal/host"
	"github.com/wbpf/wbpf/runtime/internal/wasifs"
)

// Exit codes Run returns when the guest did not choose one itself.
const (
	// ExitInterrupted: the guest was stopped: it did not end within the
	// interrupt grace period after ctx was cancelled (SIGINT, SIGTERM, a
	// deadline), or Config.WithStop's channel closed; 128+SIGINT, as a
	// shell reports it. The CLI replaces it by 128+signal for the signal
	// it actually received. A guest that ends by itself within the grace
	// period keeps its own status.
	ExitInterrupted = 130
	// ExitTrap: the guest trapped (unreachable, out-of-bounds access,
	// abort()); 128+SIGABRT, as a native program that aborts. The trap is
	// described on stderr.
	ExitTrap = 134
)

// Errors of Run and Compile.
var (
	// ErrNotCommand: the module has no _start export, so it is not a WASI
	// command module.
	ErrNotCommand = errors.New("module is not a WASI command (no _start export)")
	// ErrCompileLimit: compiling the module took longer than the compile
	// limit (Config.WithCompileLimit); the module is refused.
	ErrCompileLimit = errors.New("module refused: compilation exceeds the compile limit")
)

// Runtime compiles guests and runs them. It holds the compilation cache
// and the memory limit; it is safe for concurrent use, and each Run gets its
// own guest instance with its own kernel objects.
type Runtime struct {
	r     wazero.Runtime
	cache wazero.CompilationCache
	guard *compcache.Guard // nil without a cache directory
	// core keeps CO-RE objects' kernel types beside the compilation cache
	// (bpf.CORECache), so a warm start reads no kernel BTF.
	core *bpf.CORECache
	// kernelBTF is the decoded kernel BTF the guests of this runtime
	// share (kernelbtf.go).
	kernelBTF    sharedBTF
	compileLimit time.Duration
}

// Module is a compiled guest, ready to run any number of times.
type Module struct {
	c wazero.CompiledModule
	// wasm (the caller's bytes, not a copy) is scanned for embedded BPF
	// objects by Compile and by each Run after the first
	// (bpf.PrefetchKernelBTF).
	wasm []byte
	// prefetched is the kernel BTF Compile started decoding alongside the
	// compilation, for the first Run to take if it comes within
	// prefetchFresh of the cache's making (prefetchedAt).
	prefetched   atomic.Pointer[btf.Cache]
	prefetchedAt time.Time
}

// NewRuntime returns a Runtime using cfg's compilation cache directory,
// memory limit, host modules and verbosity (source lines in trap messages);
// the rest of cfg is ignored here.
func NewRuntime(ctx context.Context, cfg Config) (*Runtime, error) {
	rc := wazero.NewRuntimeConfig().
		// When the interrupt grace ends, the guest must stop even in a
		// busy loop.
		WithCloseOnContextDone(true).
		// Source lines in trap messages only when verbose: wazero decodes a
		// guest's DWARF at its first exit, trap or stop, 15-75 ms for a
		// guest built with -g (wasi-libc's DWARF included), which every
		// Ctrl-C and every exit() would pay. Function names (the name
		// section) stay.
		WithDebugInfoEnabled(cfg.verbose)
	if cfg.memoryLimitPages > 0 {
		rc = rc.WithMemoryLimitPages(cfg.memoryLimitPages)
	}
	rt := &Runtime{compileLimit: cfg.compileLimit()}
	if cfg.cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.cacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache %s: %w", cfg.cacheDir, err)
		}
		rt.cache = cache
		rt.guard = compcache.New(cfg.cacheDir, true, cfg.stderr) // true: WithCloseOnContextDone above
		rc = rc.WithCompilationCache(cache)
		rt.core = bpf.NewCORECache(cfg.cacheDir)
	}
	rt.r = wazero.NewRuntimeWithConfig(ctx, rc)
	// Line-buffered stdout for wasi-libc guests, flushed before a read of
	// stdin (host.WithStdio).
	if _, err := wasi_snapshot_preview1.Instantiate(host.WithStdio(ctx), rt.r); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("wasi: %w", err)
	}
	if err := host.Instantiate(ctx, rt.r); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	if err := instantiateHostModules(ctx, rt.r, cfg.hostModules); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	return rt, nil
}

// Close releases the runtime, its compiled modules and its cache handle
// (the cache directory stays).
func (rt *Runtime) Close(ctx context.Context) error {
	err := rt.r.Close(ctx)
	if rt.cache != nil {
		err = errors.Join(err, rt.cache.Close(ctx))
	}
	return err
}

// Compile validates and compiles a guest (or fetches it from the cache). A damaged cache
// entry is removed and the guest compiled again, with one warning line on the config's
// stderr (internal/compcache).
//
// It returns when ctx is done (ctx's error) or when compilation takes
// longer than the compile limit (ErrCompileLimit), whichever comes first:
// wazero's compiler cannot be stopped, and a small hostile module (100,000
// nested blocks) takes minutes. The abandoned compilation runs on in the
// background until it ends; its result is released.
func (rt *Runtime) Compile(ctx context.Context, wasm []byte) (*Module, error) {
	type result struct {
		c   wazero.CompiledModule
		err error
	}
	// Without a compilation cache entry, compiling (25-30 ms for a 50 KB
	// C guest) and decoding the kernel's BTF for its CO-RE objects (~30 ms
	// without a CO-RE cache entry) are the two halves of a start: one
	// core each, side by side.
	kernelBTF, made := rt.kernelBTF.get()
	bpf.PrefetchKernelBTF(kernelBTF, wasm, rt.core)
	done := make(chan result, 1)
	go func() {
		c, err := rt.compile(context.WithoutCancel(ctx), wasm)
		done <- result{c, err}
	}()
	abandon := func() {
		go func() {
			if r := <-done; r.err == nil {
				r.c.Close(context.Background())
			}
		}()
	}
	var limit <-chan time.Time
	if rt.compileLimit > 0 {
		t := time.NewTimer(rt.compileLimit)
		defer t.Stop()
		limit = t.C
	}
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("compile: %w", r.err)
		}
		m := &Module{c: r.c, wasm: wasm}
		m.prefetched.Store(kernelBTF)
		m.prefetchedAt = made
		return m, nil
	case <-ctx.Done():
		abandon()
		return nil, fmt.Errorf("compile: %w", context.Cause(ctx))
	case <-limit:
		abandon()
		return nil, fmt.Errorf("compile: %w: not done after %v", ErrCompileLimit, rt.compileLimit)
	}
}

// compile is CompileModule through the cache guard.
func (rt *Runtime) compile(ctx context.Context, wasm []byte) (wazero.CompiledModule, error) {
	var entry string
	intact := false
	if rt.guard != nil {
		entry = rt.guard.Entry(wasm)
		intact = rt.guard.Check(entry)
	}
	c, err := rt.r.CompileModule(ctx, wasm)
	if rt.guard != nil && compcache.IsCacheError(err) && rt.guard.Damaged(entry, err) {
		intact = false
		c, err = rt.r.CompileModule(ctx, wasm)
	}
	if err == nil && rt.guard != nil && !intact {
		rt.guard.Record(entry)
	}
	return c, err
}

// Close releases the compiled code.
func (m *Module) Close(ctx context.Context) error {
	m.prefetched.Store(nil)
	return m.c.Close(ctx)
}

// prefetchFresh is how long after a kernel BTF cache was made a Run still
// takes it (the one Compile prefetched, or the one other guests of the
// runtime share): it lists the kernel modules' BTF as they were then, and an
// embedder that compiles at start and runs much later should see the modules
// loaded since.
const prefetchFresh = time.Minute

// testHookKernelBTF, if set, sees the kernel BTF cache each Run's guest gets.
var testHookKernelBTF func(*btf.Cache)

// Run compiles wasm and runs it as a WASI command with cfg. It returns the
// guest's exit status (0 if _start returned), ExitInterrupted if it was
// stopped (see Config.WithInterruptGrace), or ExitTrap if the guest
// trapped. err is only for
// failures on the host side: a module that does not compile or link, a
// cache directory that cannot be created.
func Run(ctx context.Context, wasm []byte, cfg Config) (int, error) {
	rt, err := NewRuntime(ctx, cfg)
	if err != nil {
		return 1, err
	}
	defer rt.Close(context.WithoutCancel(ctx))
	m, err := rt.Compile(ctx, wasm)
	if err != nil {
		return 1, err
	}
	return rt.Run(ctx, m, cfg)
}

// Run runs the compiled module m with cfg's arguments, stdio, environment,
// directories and verbosity, as the package-level Run does.
func (rt *Runtime) Run(ctx context.Context, m *Module, cfg Config) (int, error) {
	// The kernel BTF the guest's embedded CO-RE objects need is decoded in
	// the background while the guest compiles (the first Run of a module),
	// instantiates and starts (RATIONALE.md, "Kernel BTF ahead of the
	// guest").
	started := cfg.startedOnce()
	defer started() // a guest that ended, or failed to start, without waiting
	kernelBTF := m.prefetched.Swap(nil)
	if kernelBTF == nil || time.Since(m.prefetchedAt) > prefetchFresh {
		kernelBTF, _ = rt.kernelBTF.get()
		bpf.PrefetchKernelBTF(kernelBTF, m.wasm, rt.core)
	}
	if testHookKernelBTF != nil {
		testHookKernelBTF(kernelBTF)
	}
	stdout := newStdoutBuffer(io.Discard)
	if cfg.stdout != nil {
		stdout = newStdoutBuffer(cfg.stdout)
	}
	// Runs last: whatever the guest printed reaches stdout, however it ended.
	defer stdout.Flush()
	var stderr io.Writer = io.Discard
	if cfg.stderr != nil {
		stderr = cfg.stderr
	}
	stderr = flushingWriter{out: stdout, w: stderr}
	reg, grants, err := cfg.registry(stderr, kernelBTF, rt.core)
	if err != nil {
		return 1, err
	}
	// Whatever happened to the guest, nothing it created stays in the kernel.
	defer func() {
		if err := reg.CloseAll(); err != nil {
			fmt.Fprintf(stderr, "wbpf: closing the guest's BPF objects: %v\n", err)
		}
	}()
	// Two stages (RATIONALE.md, "Interruption"): ctx done interrupts the
	// guest (intr: polls return -EINTR, a sleep wakes) and starts the grace
	// period; at its end, or when cfg.stop closes, kill closes the module
	// wherever the guest is. intr derives from the kill context, so a
	// stopped guest's poll wakes too.
	killCtx, kill := context.WithCancel(context.WithoutCancel(ctx))
	defer kill()
	intr, interrupt := context.WithCancel(killCtx)
	defer interrupt()
	ended := make(chan struct{})
	defer close(ended)
	var graceEnded, stopped atomic.Bool
	go watch(ctx, cfg, interrupt, kill, ended, &graceEnded)

	in := &host.Instance{
		Registry:       reg,
		Stderr:         stderr,
		Verbose:        cfg.verbose,
		CallbackExport: cfg.callbackExport,
		Interrupt:      intr,
		Metrics:        host.NewMetrics(cfg.metrics),
		BeforeWait: func() {
			stdout.Flush()
			started()
		},
		Stop: func() {
			stopped.Store(true)
			kill()
		},
	}
	// Guest memory is one reservation, grown in place (package guestmem):
	// wazero's default copies it on growth, RSS reaching 3-4x the limit.
	ictx := experimental.WithMemoryAllocator(host.WithInstance(killCtx, in), guestmem.Allocator)

	fsc, closeFS, err := guestFS(grants)
	if err != nil {
		return 1, err
	}
	defer closeFS()
	mc := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(). // _start is called below, to tell link errors from guest errors
		WithArgs(cfg.args...).
		WithStdout(stdout).
		WithStderr(stderr).
		WithFSConfig(fsc).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader).
		WithNanosleep(sleeper(in, intr, killCtx))
	if cfg.stdin != nil {
		mc = mc.WithStdin(cfg.stdin)
	}
	for i := 0; i+1 < len(cfg.env); i += 2 {
		mc = mc.WithEnv(cfg.env[i], cfg.env[i+1])
	}

	// The guest's wasm_bpf and callback-wrapper are its own front modules,
	// whose polls call the guest from Wasm (host.InstantiateFront).
	front, err := host.InstantiateFront(ctx, rt.r, in)
	if err != nil {
		return 1, err
	}
	defer front.Close(context.WithoutCancel(ctx))
	mod, err := rt.r.InstantiateModule(experimental.WithImportResolver(ictx, front.Resolve), m.c, mc)
	if err != nil {
		// Stopped in its start section (a wasm start function that
		// spins or sleeps): a stop like any other, not a host failure.
		if killCtx.Err() != nil {
			return cfg.stopStatus(), nil
		}
		var exit *sys.ExitError
		if errors.As(err, &exit) {
			return int(exit.ExitCode()), nil
		}
		return 1, fmt.Errorf("instantiate: %w", err)
	}
	defer mod.Close(context.WithoutCancel(ctx))
	in.SetGuest(mod)
	start := mod.ExportedFunction("_start")
	if start == nil {
		return 1, ErrNotCommand
	}
	// Polls deliver their samples through a dispatcher beside the guest:
	// one call into the guest per poll instead of one per sample.
	d, err := host.InstantiateDispatchers(killCtx, rt.r, mod, in)
	if err != nil {
		return 1, err
	}
	defer d.Close(context.WithoutCancel(ctx))
	_, err = start.Call(ictx)
	if trap := in.Trap(); err != nil && trap != nil {
		err = trap // the innermost trap, not the polls it unwound
	}
	if graceEnded.Load() {
		fmt.Fprintf(stderr, "wbpf: guest still running %v after the interrupt: stopped\n", cfg.grace())
	}
	if err != nil && (stopped.Load() || killCtx.Err() != nil) {
		return cfg.stopStatus(), nil
	}
	return exitCode(err, stderr), nil
}

// guestFS mounts every grant as a file system that resolves beneath it
// (package wasifs), not wazero's DirFS, which follows symbolic links out.
func guestFS(grants *grant.Grants) (wazero.FSConfig, func(), error) {
	fsc := wazero.NewFSConfig()
	var opened []*wasifs.FS
	closeAll := func() {
		for _, f := range opened {
			f.Close()
		}
	}
	for _, mt := range grants.Mounts() {
		f, err := wasifs.New(mt.Host)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		opened = append(opened, f)
		var sf experimentalsys.FS = f
		if mt.ReadOnly {
			sf = wasifs.ReadOnly(f)
		}
		fsc = fsc.(sysfs.FSConfig).WithSysFSMount(sf, mt.Guest)
	}
	return fsc, closeAll, nil
}

// watch runs the two stages of an interruption until the guest has ended:
// when ctx is done it interrupts the guest and gives it cfg's grace period;
// at its end (graceEnded), or at once when cfg.stop closes, it kills the
// guest.
func watch(ctx context.Context, cfg Config, interrupt, kill func(), ended <-chan struct{}, graceEnded *atomic.Bool) {
	select {
	case <-ctx.Done():
	case <-cfg.stop:
		kill()
		return
	case <-ended:
		return
	}
	interrupt()
	grace := cfg.grace()
	if grace <= 0 {
		kill()
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-t.C:
		graceEnded.Store(true)
	case <-cfg.stop:
	case <-ended:
		return
	}
	kill()
}

// sleeper is the guest's nanosleep. The sleep in progress when the run is
// interrupted, or the first one after, returns early: a guest that reports
// every interval (runqlat) can report once more and see from its clock
// that it was woken. A guest that sleeps again after that is stopped there
// (host.Instance.Wait): the original wasm-bpf guests loop on sleep()
// waiting for a signal handler that never runs in WASI. The kill wakes
// every sleep.
func sleeper(in *host.Instance, intr, kill context.Context) func(ns int64) {
	return func(ns int64) {
		in.Wait()
		t := time.NewTimer(time.Duration(ns))
		defer t.Stop()
		select {
		case <-t.C:
		case <-intr.Done():
			select {
			case <-t.C:
				// The sleep had run its full time too: the guest cannot tell it was
				// interrupted, so keep the wakeup for its next sleep.
			default:
				if kill.Err() == nil {
					in.Tell()
				}
			}
		}
	}
}

// exitCode turns the result of _start, for a guest that was not stopped,
// into its exit status: the guest's own, the full 32 bits WASI's proc_exit
// takes (main returning -1 is 0xffffffff, which a process exit turns into
// 255, as natively), or ExitTrap. A guest's 0xffffffff is its own status,
// although wazero uses the same code for a cancelled context: only a stop
// by the runtime reports as one.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return int(exit.ExitCode())
	}
	fmt.Fprintf(stderr, "wbpf: guest trapped: %v\n", err)
	return ExitTrap
}
