package testutils

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Clang is the compiler for BPF objects and Wasm guests, as in the Makefile and sdk/c/README.md.
const Clang = "clang-19"

// GuestCFlags is the documented build of a C guest (sdk/c/README.md), less -I and -o.
var GuestCFlags = []string{"--target=wasm32-wasi", "-O2", "-mno-reference-types", "-Wl,--allow-undefined,--export-table"}

// BPFCFlags is the build of a BPF object, as in the Makefile.
var BPFCFlags = []string{"-O2", "-g", "-target", "bpf", "-Wall", "-Werror", "-I/usr/include/x86_64-linux-gnu"}

var (
	buildMu  sync.Mutex
	buildDir string
	clangOut = &buildCache{}
)

// buildCache runs each build once per test binary run, however many tests ask for it.
type buildCache struct {
	mu  sync.Mutex
	dir string // prefix of each build's directory in BuildDir
	m   map[string]*buildResult
}

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// do runs build, once for key and args, in a fresh directory of BuildDir and returns the path
// it made; a failed build fails every test that asks for it.
func (c *buildCache) do(tb testing.TB, key string, args []string, build func(outDir string) (string, error)) string {
	tb.Helper()
	dir := BuildDir(tb)
	h := sha256.Sum256([]byte(key + "\x00" + strings.Join(args, "\x00")))
	id := hex.EncodeToString(h[:8])
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*buildResult{}
	}
	r, ok := c.m[id]
	if !ok {
		r = new(buildResult)
		c.m[id] = r
	}
	c.mu.Unlock()
	r.once.Do(func() {
		outDir := filepath.Join(dir, c.dir+id)
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			r.err = err
			return
		}
		r.path, r.err = build(outDir)
	})
	if r.err != nil {
		tb.Fatal(r.err)
	}
	return r.path
}

// BuildDir is this test binary's build cache: a temporary directory made on first use and
// removed by Main.
func BuildDir(tb testing.TB) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir == "" {
		d, err := os.MkdirTemp("", "wbpf-testbuild-")
		if err != nil {
			tb.Fatal(err)
		}
		buildDir = d
	}
	return buildDir
}

// BuildGuest compiles a C guest to a Wasm module with the documented command: clang-19
// --target=wasm32-wasi -O2 -I sdk/c -mno-reference-types -Wl,--allow-undefined,--export-table, plus -Wall -Werror,
// plus flags (for example "--embed-dir="+dir so the guest can #embed a BPF object, or -D...).
// The result is cached per test binary run; it returns the .wasm path.
func BuildGuest(tb testing.TB, src string, flags ...string) string {
	tb.Helper()
	sdk := filepath.Join(RepoRoot(tb), "sdk", "c")
	args := append(append([]string{}, GuestCFlags...), "-I", sdk, "-Wall", "-Werror", "-Wno-c23-extensions")
	path := build(tb, src, ".wasm", append(args, flags...))
	RequireWAMRCompatible(tb, path)
	return path
}

// BuildBPF compiles a BPF C source with clang-19 -O2 -g -target bpf
// -I/usr/include/x86_64-linux-gnu (plus flags), cached per test binary run; it returns the
// object's path, named after the source (foo.bpf.c gives .../foo.bpf.o) so that guests can
// #embed it by name with --embed-dir=filepath.Dir(path).
func BuildBPF(tb testing.TB, src string, flags ...string) string {
	tb.Helper()
	return build(tb, src, ".o", append(append(append([]string{}, BPFCFlags...), flags...), "-c"))
}

func build(tb testing.TB, src, ext string, args []string) string {
	tb.Helper()
	clang := RequireTool(tb, Clang)
	abs, err := filepath.Abs(src)
	if err != nil {
		tb.Fatal(err)
	}
	return clangOut.do(tb, abs, args, func(outDir string) (string, error) {
		out := filepath.Join(outDir, strings.TrimSuffix(filepath.Base(abs), ".c")+ext)
		cmdArgs := append(append([]string{}, args...), abs, "-o", out)
		if b, err := exec.Command(clang, cmdArgs...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s %s: %v\n%s", Clang, strings.Join(cmdArgs, " "), err, b)
		}
		return out, nil
	})
}

// testingM is the part of *testing.M that Main needs.
type testingM interface{ Run() int }

// Main runs the tests and then removes the build cache. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testutils.Main(m)) }
func Main(m testingM) int {
	code := m.Run()
	buildMu.Lock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	buildMu.Unlock()
	return code
}

// Run runs a command in dir and fails the test with its output (cut to 8 KB) when it fails.
func Run(tb testing.TB, dir, name string, args ...string) {
	tb.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if len(out) > 8000 {
			out = append(out[:8000], "\n... (truncated)"...)
		}
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// RequireWAMRCompatible fails the test unless the module at path loads in
// the original wasm-bpf runtime's WAMR, which has reference types off: it
// rejects the reference-types encodings clang 19 emits by default (a
// call_indirect whose table index is a padded LEB, "zero byte expected"),
// and ref.*, table.* and typed select with them. wabt's validator with
// reference types disabled rejects exactly those.
func RequireWAMRCompatible(tb testing.TB, path string) {
	tb.Helper()
	validate := RequireTool(tb, "wasm-validate")
	if out, err := exec.Command(validate, "--disable-reference-types", path).CombinedOutput(); err != nil {
		tb.Errorf("%s uses reference types, which the original runtime's WAMR rejects (build with -mno-reference-types): %v\n%s", path, err, out)
	}
}

var (
	wbpfOnce sync.Once
	wbpfPath string
	wbpfErr  error
)

// BuildWbpf builds cmd/wbpf into the build cache once per test binary and returns its path,
// for tests that need a real process: signals, exit statuses, stdout that is a file or a pipe.
func BuildWbpf(tb testing.TB) string {
	tb.Helper()
	goTool := RequireTool(tb, "go")
	dir := BuildDir(tb)
	wbpfOnce.Do(func() {
		wbpfPath = filepath.Join(dir, "wbpf")
		cmd := exec.Command(goTool, "build", "-o", wbpfPath, "./cmd/wbpf")
		cmd.Dir = RepoRoot(tb)
		if out, err := cmd.CombinedOutput(); err != nil {
			wbpfErr = fmt.Errorf("go build ./cmd/wbpf: %v\n%s", err, out)
		}
	})
	if wbpfErr != nil {
		tb.Fatal(wbpfErr)
	}
	return wbpfPath
}
