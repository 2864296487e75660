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
// However a guest ends (return, exit, trap, or ctx cancelled by a signal),
// every link, program, map and socket it created is closed before Run
// returns.
package runtime

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
	"github.com/wbpf/wbpf/runtime/internal/bpf"
	"github.com/wbpf/wbpf/runtime/internal/grant"
	"github.com/wbpf/wbpf/runtime/internal/host"
)

// Exit codes Run returns when the guest did not choose one itself.
const (
	// ExitInterrupted: ctx was cancelled (SIGINT, SIGTERM, a deadline)
	// before the guest finished; 128+SIGINT, as a shell reports it. The
	// CLI replaces it by 128+signal for the signal it actually received.
	ExitInterrupted = 130
	// ExitTrap: the guest trapped (unreachable, out-of-bounds access,
	// abort()); 128+SIGABRT, as a native program that aborts. The trap is
	// described on stderr.
	ExitTrap = 134
)

// ErrNotCommand: the module has no _start export, so it is not a WASI
// command module.
var ErrNotCommand = errors.New("module is not a WASI command (no _start export)")

// Runtime compiles guests and runs them. It holds the compilation cache
// and the memory limit; it is safe for concurrent use, and each Run gets its
// own guest instance with its own kernel objects.
type Runtime struct {
	r     wazero.Runtime
	cache wazero.CompilationCache
}

// Module is a compiled guest, ready to run any number of times.
type Module struct {
	c wazero.CompiledModule
}

// NewRuntime returns a Runtime using cfg's compilation cache directory and
// memory limit; the rest of cfg is ignored here.
func NewRuntime(ctx context.Context, cfg Config) (*Runtime, error) {
	rc := wazero.NewRuntimeConfig().
		// A signal cancels ctx; the guest must stop even in a busy loop.
		WithCloseOnContextDone(true)
	if cfg.memoryLimitPages > 0 {
		rc = rc.WithMemoryLimitPages(cfg.memoryLimitPages)
	}
	rt := &Runtime{}
	if cfg.cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.cacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache %s: %w", cfg.cacheDir, err)
		}
		rt.cache = cache
		rc = rc.WithCompilationCache(cache)
	}
	rt.r = wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt.r); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("wasi: %w", err)
	}
	if err := host.Instantiate(ctx, rt.r); err != nil {
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

// Compile validates and compiles a guest (or fetches it from the cache).
func (rt *Runtime) Compile(ctx context.Context, wasm []byte) (*Module, error) {
	c, err := rt.r.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	return &Module{c: c}, nil
}

// Close releases the compiled code.
func (m *Module) Close(ctx context.Context) error { return m.c.Close(ctx) }

// Run compiles wasm and runs it as a WASI command with cfg. It returns the
// guest's exit status (0 if _start returned), ExitInterrupted if ctx was
// cancelled first, or ExitTrap if the guest trapped. err is only for
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
	stderr := cfg.stderr
	if stderr == nil {
		stderr = io.Discard
	}
	grants, err := grant.New(cfg.mounts)
	if err != nil {
		return 1, err
	}
	reg := bpf.NewRegistry(bpf.Options{Stderr: stderr, Verbose: cfg.verbose, Grants: grants})
	// Whatever happened to the guest, nothing it created stays in the kernel.
	defer func() {
		if err := reg.CloseAll(); err != nil {
			fmt.Fprintf(stderr, "wbpf: closing the guest's BPF objects: %v\n", err)
		}
	}()
	in := &host.Instance{
		Registry:       reg,
		Stderr:         stderr,
		Verbose:        cfg.verbose,
		CallbackExport: cfg.callbackExport,
	}
	ictx := host.WithInstance(ctx, in)

	fsc := wazero.NewFSConfig()
	for _, mt := range grants.Mounts() {
		fsc = fsc.WithDirMount(mt.Host, mt.Guest)
	}
	mc := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(). // _start is called below, to tell link errors from guest errors
		WithArgs(cfg.args...).
		WithStdout(cfg.stdout).
		WithStderr(stderr).
		WithFSConfig(fsc).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader).
		// Sleeping guests must wake up for a signal too.
		WithNanosleep(func(ns int64) {
			t := time.NewTimer(time.Duration(ns))
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
		})
	if cfg.stdin != nil {
		mc = mc.WithStdin(cfg.stdin)
	}
	if cfg.stdout == nil {
		mc = mc.WithStdout(io.Discard)
	}
	for i := 0; i+1 < len(cfg.env); i += 2 {
		mc = mc.WithEnv(cfg.env[i], cfg.env[i+1])
	}

	mod, err := rt.r.InstantiateModule(ictx, m.c, mc)
	if err != nil {
		return 1, fmt.Errorf("instantiate: %w", err)
	}
	defer mod.Close(context.WithoutCancel(ctx))
	start := mod.ExportedFunction("_start")
	if start == nil {
		return 1, ErrNotCommand
	}
	// Polls deliver their samples through a dispatcher beside the guest:
	// one call into the guest per poll instead of one per sample.
	d, err := host.InstantiateDispatchers(ctx, rt.r, mod, in)
	if err != nil {
		return 1, err
	}
	defer d.Close(context.WithoutCancel(ctx))
	_, err = start.Call(ictx)
	return exitCode(ctx, err, stderr), nil
}

// exitCode turns the result of _start into the process's exit status.
func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeContextCanceled, sys.ExitCodeDeadlineExceeded:
			return ExitInterrupted
		}
		return int(exit.ExitCode())
	}
	if ctx.Err() != nil {
		return ExitInterrupted
	}
	fmt.Fprintf(stderr, "wbpf: guest trapped: %v\n", err)
	return ExitTrap
}
