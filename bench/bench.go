// Package bench measures wbpf against the native path (issue 8): event throughput from the
// kernel into a guest callback, start to attached (guests, and a bare BPF object run as
// `wbpf run APP.bpf.o`), map operations from a guest, wbpfgen against
// bpftool, and the peak memory of `wbpf run`; and (issue 12) what a consumer costs where agents
// live: a fixed-rate table (idle, 1k, 10k, 100k events/s evenly spaced and in bursts, and as
// fast as one thread produces) of CPU per event, CPU per second, context switches per poll and
// threads, taken from /proc/PID/task/*/{schedstat,status} of each side's process (rates.go).
//
// Every comparison runs its sides in one process tree, interleaved round by round (native,
// libbpf C, C guest, Go guest, then the next round in a rotated order), so a machine shared
// with other work slows all sides alike; results are medians with their spread, and ratios are taken
// within a round before their median is taken.
//
// All sides read the same BPF program (testdata/bench.bpf.c) under the same load, each as its
// own process speaking one line protocol (testdata/cguest/bench.c): the native side is
// ServeNative (cilium/ebpf), the guests run under the real `wbpf run` binary, and the libbpf C
// side (testdata/libbpfc/bench.c) is the original wasm-bpf runtime's reading loop without its
// Wasm engine — one C thread in libbpf's ring_buffer__poll — so that every row also has what
// C and libbpf achieve on the same machine in the same run: the original, which is that loop
// plus WAMR, costs at least as much.
//
// Run it with `go run ./bench/cmd/wbpfbench` (as root); TestSmoke runs every measurement once
// with tiny sizes so CI checks that the harness works.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Options size the measurements.
type Options struct {
	// Rounds is how many interleaved rounds each comparison runs.
	Rounds int
	// Batch is the number of records per throughput batch: produced while no side reads,
	// then drained and timed by the consumer. It must fit the 256 KiB ring (4681 records).
	Batch int
	// Sustained is the number of records produced per sustained run, while the consumer
	// reads concurrently.
	Sustained int
	// MapKeys is the number of keys per map-operation run.
	MapKeys int
	// StartRuns is the number of start-to-attached runs per guest and cache state.
	StartRuns int
	// HeaderRuns is the number of runs of wbpfgen and bpftool per input.
	HeaderRuns int
	// RSSRuns is the number of peak-memory runs per guest; each traces Execs short processes.
	RSSRuns, Execs int
	// OldWBPF, if set, is a second wbpf binary (an older build) whose C and Go guests run as
	// further sides, interleaved with the others, for before/after comparisons.
	OldWBPF string
	// ConsumersOnly stops after the consumer measurements (throughput, sustained load, map
	// operations).
	ConsumersOnly bool
	// StartOnly runs only start to attached and peak memory (with OldWBPF's warm,
	// --no-cache and bare starts as further variants).
	StartOnly bool
	// RateRounds is how many interleaved rounds the fixed-rate table runs (0: none);
	// RateSeconds how long each rate is produced, IdleSeconds how long the idle case lasts.
	RateRounds               int
	RateSeconds, IdleSeconds float64
	// RatesOnly runs only the fixed-rate table.
	RatesOnly bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// DefaultOptions are the sizes `make bench` uses.
func DefaultOptions() Options {
	return Options{Rounds: 15, Batch: 4096, Sustained: 200000, MapKeys: 4096, StartRuns: 15, HeaderRuns: 11, RSSRuns: 5, Execs: 100,
		RateRounds: 3, RateSeconds: 3, IdleSeconds: 10}
}

// Env is everything a run needs, built by Prepare into a work directory.
type Env struct {
	Root    string // repository root
	Work    string // build outputs and caches
	WBPF    string // the wbpf binary
	Gen     string // the wbpfgen binary
	Native  string // the native consumer (wbpfbench -serve-native)
	Object  string // bench.bpf.o
	LibbpfC string // the libbpf C consumer (testdata/libbpfc/bench.c, also -bootstrap)
	CGuest  string // the C consumer guest
	GoGst   string // the Go consumer guest

	// Bootstrap guests for start-to-attached and peak memory; GoBootstrapIsStandIn says the
	// Go one is the Go consumer guest because no Go bootstrap example exists yet.
	CBootstrap, GoBootstrap string
	GoBootstrapIsStandIn    bool
	// RustBootstrap is the Rust guest of the bootstrap example, "" when it is not built.
	RustBootstrap string
}

// Prepare builds wbpf, wbpfgen, the native consumer, the benchmark BPF object, the libbpf C
// consumer and both guests into work, with the commands a user would use.
func Prepare(ctx context.Context, root, work string, log io.Writer) (*Env, error) {
	if log == nil {
		log = io.Discard
	}
	e := &Env{
		Root:    root,
		Work:    work,
		WBPF:    filepath.Join(work, "wbpf"),
		Gen:     filepath.Join(work, "wbpfgen"),
		Native:  filepath.Join(work, "wbpfbench"),
		Object:  filepath.Join(work, "bench.bpf.o"),
		LibbpfC: filepath.Join(work, "libbpfc"),
		CGuest:  filepath.Join(work, "cguest.wasm"),
		GoGst:   filepath.Join(work, "goguest.wasm"),
	}
	run := func(dir string, env []string, argv ...string) error {
		fmt.Fprintf(log, "+ %s\n", strings.Join(argv, " "))
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, out)
		}
		return nil
	}
	td := filepath.Join(root, "bench", "testdata")
	// The BPF object includes libbpf's bpf_helpers.h and the libbpf C side links libbpf: both
	// come from libbpf-dev, which scripts/setup.sh installs (its build scope).
	for _, f := range []string{"/usr/include/bpf/libbpf.h", "/usr/include/bpf/bpf_helpers.h"} {
		if !fileExists(f) {
			return nil, fmt.Errorf("%s is missing: the benchmark BPF object and the libbpf C consumer need libbpf-dev (scripts/setup.sh build, or apt-get install libbpf-dev)", f)
		}
	}
	if err := run(root, nil, "go", "build", "-o", work+"/", "./cmd/wbpf", "./cmd/wbpfgen", "./bench/cmd/wbpfbench"); err != nil {
		return nil, err
	}
	if err := run(root, nil, "clang-19", "-O2", "-g", "-target", "bpf", "-Wall", "-Werror",
		"-I/usr/include/x86_64-linux-gnu", "-c", filepath.Join(td, "bench.bpf.c"), "-o", e.Object); err != nil {
		return nil, err
	}
	// The libbpf C consumer, built as a libbpf-tools program is (dynamically against libbpf.so,
	// which pulls in libelf and zlib).
	if err := run(root, nil, "clang-19", "-O2", "-g", "-Wall", "-Werror",
		filepath.Join(td, "libbpfc", "bench.c"), "-lbpf", "-o", e.LibbpfC); err != nil {
		return nil, fmt.Errorf("libbpf C consumer (needs libbpf-dev): %w", err)
	}
	// The documented C guest build (sdk/c/README.md).
	if err := run(root, nil, "clang-19", "--target=wasm32-wasi", "-O2", "-I", filepath.Join(root, "sdk", "c"),
		"-Wall", "-Werror", "-Wno-c23-extensions", "-mno-reference-types", "-Wl,--allow-undefined,--export-table", "--embed-dir="+work,
		filepath.Join(td, "cguest", "bench.c"), "-o", e.CGuest); err != nil {
		return nil, err
	}
	// The Go guest builds as its own module beside a copy of the object it embeds.
	gm := filepath.Join(work, "goguest")
	if err := os.MkdirAll(gm, 0o755); err != nil {
		return nil, err
	}
	src, err := os.ReadFile(filepath.Join(td, "goguest", "main.go"))
	if err != nil {
		return nil, err
	}
	obj, err := os.ReadFile(e.Object)
	if err != nil {
		return nil, err
	}
	for name, b := range map[string][]byte{
		"main.go":     src,
		"bench.bpf.o": obj,
		"go.mod":      []byte("module goguest\n\ngo 1.26\n"),
	} {
		if err := os.WriteFile(filepath.Join(gm, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	if err := run(gm, []string{"GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=mod"}, "go", "build", "-o", e.GoGst, "."); err != nil {
		return nil, err
	}

	e.CBootstrap = filepath.Join(root, "examples", "bootstrap", "bootstrap.wasm")
	if _, err := os.Stat(e.CBootstrap); err != nil {
		return nil, fmt.Errorf("C bootstrap example: %w (make -C examples bootstrap)", err)
	}
	if p := filepath.Join(root, "examples", "bootstrap", "rust", "bootstrap.wasm"); fileExists(p) {
		e.RustBootstrap = p
	}
	e.GoBootstrap, e.GoBootstrapIsStandIn = findGoBootstrap(root), false
	if e.GoBootstrap == "" {
		e.GoBootstrap, e.GoBootstrapIsStandIn = e.GoGst, true
	}
	return e, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// findGoBootstrap returns the Go build of the bootstrap example, if there is one.
func findGoBootstrap(root string) string {
	for _, p := range []string{
		"examples/bootstrap/go/bootstrap.wasm",
		"examples/bootstrap-go/bootstrap.wasm",
		"examples/bootstrap/bootstrap_go.wasm",
		"examples/bootstrap/go/main.wasm",
	} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			return filepath.Join(root, p)
		}
	}
	return ""
}

// RepoRoot finds the module root from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/wbpf/wbpf\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no github.com/wbpf/wbpf go.mod above the working directory")
		}
		dir = parent
	}
}
