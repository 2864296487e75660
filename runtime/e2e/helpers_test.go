// Package e2e runs C guests, built from testdata/ by the tests, on the real kernel through the
// runtime and the CLI. Every test needs root and a BPF-capable kernel; see internal/testutils
// for what may skip and when.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime"
	"github.com/wbpf/wbpf/skeleton"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
)

func TestMain(m *testing.M) { os.Exit(testutils.Main(m)) }

// bpfNames are the names of every program and map in testdata/*.bpf.c: the leak checks look
// only at these, so that BPF objects of tests running in parallel in other packages do not count.
var bpfNames = []string{
	"wbpfe2e_rb_prog", "wbpfe2e_pb_prog", "wbpfe2e_rb", "wbpfe2e_pb",
	"wbpfe2e_maps", "wbpfe2e_hash", "wbpfe2e_array", "wbpfe2e_pcpu_a", "wbpfe2e_pcpu_h", "wbpfe2e_mrb",
	"wbpfe2e_al_on", "wbpfe2e_al_off", "wbpfe2e_al_cnt", "wbpfe2e_al_hash",
}

// guest builds testdata/NAME.c with the documented command and every BPF object of testdata
// available to #embed; it returns the module's bytes and path.
func guest(t *testing.T, name string) ([]byte, string) {
	t.Helper()
	var flags []string
	for _, obj := range []string{"events", "maps", "slow"} {
		o := testutils.BuildBPF(t, filepath.Join("testdata", obj+".bpf.c"))
		flags = append(flags, "--embed-dir="+filepath.Dir(o))
	}
	flags = append(flags, "-I", "testdata")
	path := testutils.BuildGuest(t, filepath.Join("testdata", name+".c"), flags...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b, path
}

// skelGuest builds testdata/GUEST.c on the C skeleton wbpfgen generates for testdata/OBJ.bpf.c
// (#include "OBJ.skel.h"); it returns the module's bytes and the skeleton's directory, for
// further builds with "-I", dir.
func skelGuest(t *testing.T, obj, guest string, flags ...string) ([]byte, string) {
	t.Helper()
	o, err := bpfobj.Load(testutils.BuildBPF(t, filepath.Join("testdata", obj+".bpf.c")))
	if err != nil {
		t.Fatal(err)
	}
	skel, err := skeleton.Generate(o, skeleton.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, obj+".skel.h"), skel, 0o644); err != nil {
		t.Fatal(err)
	}
	path := testutils.BuildGuest(t, filepath.Join("testdata", guest+".c"), append([]string{"-I", dir, "-I", "testdata"}, flags...)...)
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return wasm, dir
}

var (
	cacheOnce sync.Once
	cacheDir  string
)

// config is the base configuration of every run: a compilation cache shared by the tests of
// this binary, stderr into the test log.
func config(t *testing.T, args ...string) runtime.Config {
	cacheOnce.Do(func() { cacheDir = filepath.Join(testutils.BuildDir(t), "wazero-cache") })
	return runtime.NewConfig().
		WithArgs(args).
		WithCompilationCacheDir(cacheDir).
		WithStderr(&testWriter{t: t, prefix: "guest stderr: "})
}

// testWriter sends each line written to it to t.Log.
type testWriter struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.t.Log(w.prefix + string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// running is a guest started in the background whose stdout is read line by line.
type running struct {
	t     *testing.T
	lines chan string
	mu    sync.Mutex
	out   []string
	done  chan struct{}
	code  int
	err   error
}

// start runs wasm with cfg (its stdout replaced) in the background.
func start(ctx context.Context, t *testing.T, wasm []byte, cfg runtime.Config) *running {
	t.Helper()
	pr, pw := io.Pipe()
	r := &running{t: t, lines: make(chan string, 1024), done: make(chan struct{})}
	go func() {
		defer close(r.lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			t.Log("guest: " + line)
			r.mu.Lock()
			r.out = append(r.out, line)
			r.mu.Unlock()
			r.lines <- line
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		defer close(r.done)
		r.code, r.err = runtime.Run(ctx, wasm, cfg.WithStdout(pw))
		pw.Close()
	}()
	return r
}

// waitFor waits until the guest prints want (a whole line); it fails the test if the guest
// ends first or nothing comes within the timeout.
func (r *running) waitFor(want string, timeout time.Duration) {
	r.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-r.lines:
			if !ok {
				<-r.done
				r.t.Fatalf("guest ended (code %d, err %v) before printing %q", r.code, r.err, want)
			}
			if line == want {
				return
			}
		case <-deadline:
			r.t.Fatalf("guest did not print %q within %v", want, timeout)
		}
	}
}

// wait waits for the guest to end and returns its exit code and all its output lines.
func (r *running) wait(timeout time.Duration) (int, []string) {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		r.t.Fatalf("guest still running after %v", timeout)
	}
	for range r.lines { // drain: the reader has seen everything once lines is closed
	}
	if r.err != nil {
		r.t.Fatalf("runtime.Run: %v", r.err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.code, append([]string(nil), r.out...)
}

// run runs a guest to its end.
func run(t *testing.T, wasm []byte, cfg runtime.Config) (int, []string) {
	t.Helper()
	return start(context.Background(), t, wasm, cfg).wait(time.Minute)
}

// values collects the NAME=VALUE fields of a guest's output lines (the last one wins).
func values(lines []string) map[string]string {
	m := map[string]string{}
	for _, l := range lines {
		for _, f := range strings.Fields(l) {
			if k, v, ok := strings.Cut(f, "="); ok {
				m[k] = v
			}
		}
	}
	return m
}
