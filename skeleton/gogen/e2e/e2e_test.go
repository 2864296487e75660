// Package e2e runs Go bindings of skeleton/gogen/testdata/tricky.bpf.o in a Go guest on the
// kernel: every kind of SDK helper the generator emits (perf buffer of a marked sample type,
// per-CPU array, stack trace map, typed hash map, .rodata/.data/.bss accessors) must return
// what the BPF program did. Needs root and a BPF-capable kernel; internal/testutils decides
// what may skip.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/gogen"
)

func TestMain(m *testing.M) { os.Exit(testutils.Main(m)) }

const events = 5

func TestHelpersEndToEnd(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, "tk_getppid", "tk_events", "tk_counts", "tk_stacks", "tk_progs", "tricky_func_map")
	wasm := guest(t)
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, wasm)
	want := map[string]string{
		"rodata_before": strconv.Itoa(os.Getpid()), "rodata_after": strconv.Itoa(os.Getpid()),
		"key": "7", "a": "70", "b": "700",
		"received": strconv.Itoa(events), "cpus": strconv.Itoa(cpus), "percpu_sum": strconv.Itoa(events),
		"seen": strconv.Itoa(events), "last_pid": strconv.Itoa(os.Getpid()),
	}
	got := map[string]string{}
	for _, line := range out {
		if strings.HasPrefix(line, "FAIL") {
			t.Errorf("guest: %s", line)
		}
		for _, f := range strings.Fields(line) {
			if k, v, ok := strings.Cut(f, "="); ok {
				got[k] = v
			}
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("guest printed %s=%q, want %q", k, got[k], v)
		}
	}
	// A user stack of a Go thread: the kernel may fail to walk it (-EFAULT), never all of them.
	if n, _ := strconv.Atoi(got["stacks"]); n == 0 {
		t.Errorf("no stack read back from the stack trace map (stacks=%q)", got["stacks"])
	}
}

// guest builds testdata/trickyguest with freshly generated bindings for GOOS=wasip1, in a
// module on go 1.23.
func guest(t *testing.T) []byte {
	gobin := testutils.RequireTool(t, "go")
	o, err := bpfobj.Load("../testdata/tricky.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	bindings, err := gogen.Generate(o, gogen.Options{Package: "main"})
	if err != nil {
		t.Fatal(err)
	}
	main, err := os.ReadFile("../testdata/trickyguest/main.go")
	if err != nil {
		t.Fatal(err)
	}
	root := testutils.RepoRoot(t)
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"go.mod": []byte("module trickyguest\n\ngo 1.23\n\nrequire github.com/wbpf/wbpf/sdk/go v0.0.0\n\nreplace github.com/wbpf/wbpf/sdk/go => " +
			filepath.Join(root, "sdk", "go") + "\n"),
		"main.go":       main,
		"tricky_bpf.go": bindings,
		"tricky.bpf.o":  o.Bytes,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(gobin, "build", "-o", "tricky.wasm", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "tricky.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// run runs the guest with /sys/devices/system/cpu granted (the SDK reads the possible CPUs
// there), calls getppid once it has attached, and returns its output lines.
func run(t *testing.T, wasm []byte) []string {
	pr, pw := io.Pipe()
	cfg := runtime.NewConfig().
		WithArgs([]string{"tricky.wasm", strconv.Itoa(os.Getpid()), strconv.Itoa(events)}).
		WithDir("/sys/devices/system/cpu").
		WithCompilationCacheDir(filepath.Join(testutils.BuildDir(t), "wazero-cache")).
		WithStdout(pw).
		WithStderr(testWriter{t})
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := runtime.Run(context.Background(), wasm, cfg)
		pw.Close()
		done <- result{code, err}
	}()
	var lines []string
	sc := bufio.NewScanner(pr)
	timeout := time.AfterFunc(2*time.Minute, func() { pw.CloseWithError(fmt.Errorf("guest timed out")) })
	defer timeout.Stop()
	for sc.Scan() {
		line := sc.Text()
		t.Log("guest: " + line)
		lines = append(lines, line)
		if line == "attached" {
			trigger(events)
		}
	}
	res := <-done
	if res.err != nil {
		t.Fatalf("runtime.Run: %v", res.err)
	}
	if res.code != 0 {
		t.Fatalf("guest exit code %d", res.code)
	}
	return lines
}

// trigger calls getppid n times from one thread of this process.
func trigger(n int) {
	done := make(chan struct{})
	go func() {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		for range n {
			syscall.Getppid()
		}
		close(done)
	}()
	<-done
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log("stderr: " + strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
