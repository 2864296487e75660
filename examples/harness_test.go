// Package examples holds the examples under examples/<name>/ and their tests. The tests build
// every example with the Makefile into a temporary directory (and check that the committed
// outputs are what the sources build), then run each one with the real `wbpf run` in a child
// process whose stdout is a pipe, make the activity the example traces (execs, opens, packets,
// connections) and check what it printed. They need root and a BPF-capable kernel; see
// internal/testutils for what may skip and when.
package examples

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
)

func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(runHelper(h, os.Args[1:]))
	}
	os.Exit(testutils.Main(m))
}

var (
	buildOnce sync.Once
	buildOut  string // the Makefile's O: <build dir>/examples
	wbpfBin   string
	buildErr  error
)

// build runs `make -C examples O=DIR` and `go build ./cmd/wbpf` once per test binary.
func build(t *testing.T) {
	t.Helper()
	testutils.RequireTool(t, testutils.Clang)
	testutils.RequireTool(t, "llvm-strip-19")
	testutils.RequireRust(t)
	makeTool := testutils.RequireTool(t, "make")
	goTool := testutils.RequireTool(t, "go")
	buildOnce.Do(func() {
		root := testutils.RepoRoot(t)
		dir := testutils.BuildDir(t)
		buildOut = filepath.Join(dir, "examples")
		wbpfBin = filepath.Join(dir, "wbpf")
		cmd := exec.Command(makeTool, "-C", filepath.Join(root, "examples"), "O="+buildOut, "GO="+goTool)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("make -C examples O=%s: %v\n%s", buildOut, err, out)
			return
		}
		cmd = exec.Command(goTool, "build", "-o", wbpfBin, "./cmd/wbpf")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/wbpf: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// built returns the path of an output of the test's build, e.g. built(t, "bootstrap/bootstrap.wasm").
func built(t *testing.T, rel string) string {
	t.Helper()
	build(t)
	return filepath.Join(buildOut, rel)
}

// guest is one `wbpf run` child process whose stdout is read line by line.
type guest struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  []string
	done chan struct{}
	err  error // from cmd.Wait
	errw *logWriter
}

// stderr returns what wbpf and the guest wrote on stderr so far.
func (g *guest) stderr() string {
	g.errw.mu.Lock()
	defer g.errw.mu.Unlock()
	return string(g.errw.all)
}

// runOpts says how to run an example.
type runOpts struct {
	netns string   // run inside this network namespace (ip netns exec)
	flags []string // wbpf run flags, e.g. --dir
	env   []string // extra environment of the wbpf process
}

// start runs `wbpf run [flags] <build>/NAME/NAME.wasm args...` (wasm may also name another
// built module, e.g. "bootstrap/go/bootstrap.wasm"). The guest's stderr goes to the test log.
func start(t *testing.T, wasm string, o runOpts, args ...string) *guest {
	t.Helper()
	testutils.RequireKernel(t)
	path := wasm
	if !filepath.IsAbs(wasm) {
		path = built(t, wasm)
	}
	cache := filepath.Join(testutils.BuildDir(t), "wazero-cache")
	argv := append([]string{wbpfBin, "run", "--cache-dir", cache}, o.flags...)
	argv = append(append(argv, path), args...)
	if o.netns != "" {
		argv = append([]string{"ip", "netns", "exec", o.netns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), o.env...)
	errw := &logWriter{t: t, prefix: filepath.Base(wasm) + " stderr: "}
	cmd.Stderr = errw
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("run: %s", strings.Join(argv, " "))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g := &guest{t: t, cmd: cmd, done: make(chan struct{}), errw: errw}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			t.Log(filepath.Base(wasm) + ": " + line)
			g.mu.Lock()
			g.out = append(g.out, line)
			g.mu.Unlock()
		}
	}()
	go func() {
		defer close(g.done)
		<-read // Wait closes the pipe: read it to the end first
		g.err = cmd.Wait()
	}()
	t.Cleanup(func() {
		select {
		case <-g.done:
		default:
			cmd.Process.Kill()
			<-g.done
		}
	})
	return g
}

// waitLine waits until the guest prints a line matching re and returns its submatches. The
// guest's stdout is a pipe: this fails if the guest does not flush its lines as it prints them.
func (g *guest) waitLine(re string, timeout time.Duration) []string {
	g.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	seen := 0
	for {
		g.mu.Lock()
		lines := g.out[seen:]
		seen = len(g.out)
		g.mu.Unlock()
		for _, l := range lines {
			if m := rx.FindStringSubmatch(l); m != nil {
				return m
			}
		}
		select {
		case <-g.done:
			g.mu.Lock()
			more := len(g.out) > seen
			g.mu.Unlock()
			if !more {
				g.t.Fatalf("guest ended (%v) before printing a line matching %q", g.err, re)
			}
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("guest printed no line matching %q within %v", re, timeout)
		}
	}
}

// lines returns everything the guest printed so far.
func (g *guest) output() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.out...)
}

// stop interrupts the guest (SIGINT, as Ctrl-C), waits for wbpf to exit and returns all output.
// Every example leaves its loop within the interrupt grace period and returns 0 from main: those
// that poll when the poll returns -EINTR, those that report every interval from a sleep loop
// (runqlat, xdp, tc) when the sleep returns early, after a final report. The exit status must
// be that 0, not wbpf's 128+SIGINT for a guest it had to stop.
func (g *guest) stop() []string {
	g.t.Helper()
	g.cmd.Process.Signal(syscall.SIGINT)
	code, out := g.wait(30 * time.Second)
	if code != 0 {
		g.t.Errorf("wbpf run exited %d after SIGINT, want 0", code)
	}
	return out
}

// wait waits for wbpf to exit by itself.
func (g *guest) wait(timeout time.Duration) (int, []string) {
	g.t.Helper()
	select {
	case <-g.done:
	case <-time.After(timeout):
		g.t.Fatalf("wbpf run still running after %v", timeout)
	}
	return g.cmd.ProcessState.ExitCode(), g.output()
}

// logWriter sends each line written to it to t.Log.
type logWriter struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
	all    []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	w.all = append(w.all, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.t.Log(w.prefix + string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// TestCommittedOutputsAreBuilt: the .bpf.o, .h, .wasm and generated _bpf.go and _bpf.rs files committed
// next to each example's sources are byte for byte what `make -C examples` builds from them.
func TestCommittedOutputsAreBuilt(t *testing.T) {
	build(t)
	root := filepath.Join(testutils.RepoRoot(t), "examples")
	err := filepath.Walk(buildOut, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(buildOut, path)
		if !committedOutput(rel) {
			return nil
		}
		want, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Errorf("%s: built but not committed: run make -C examples and commit it (%v)", rel, err)
			return nil
		}
		got, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			t.Errorf("examples/%s differs from what its sources build (%d bytes, built %d): run make -C examples", rel, len(want), len(got))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// committedOutput reports whether a build output is committed (not, e.g., the uprobe target,
// a host binary).
func committedOutput(rel string) bool {
	if strings.Contains(rel, "/target/") { // cargo's build directory
		return false
	}
	for _, ext := range []string{".bpf.o", ".h", ".wasm", "_bpf.go", "_bpf.rs"} {
		if strings.HasSuffix(rel, ext) {
			return true
		}
	}
	return false
}
