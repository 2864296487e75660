// Package guestrun builds and runs Go guests for the end-to-end tests of generated bindings
// (skeleton/gogen/e2e, btfgen/e2e): a go build for wasip1 in a scratch module on this
// repository's sdk/go, and a run through the real runtime whose output lines the test reads.
// It stands apart from testutils because it imports the runtime, whose own tests use testutils.
package guestrun

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime"
)

// BuildGo writes files into a fresh module named module (go 1.23, requiring sdk/go of this
// repository through a replace directive), builds it for GOOS=wasip1 GOARCH=wasm and returns
// the Wasm module.
func BuildGo(t *testing.T, module string, files map[string][]byte) []byte {
	t.Helper()
	gobin := testutils.RequireTool(t, "go")
	root := testutils.RepoRoot(t)
	dir := t.TempDir()
	gomod := "module " + module + "\n\ngo 1.23\n\nrequire github.com/wbpf/wbpf/sdk/go v0.0.0\n\nreplace github.com/wbpf/wbpf/sdk/go => " +
		filepath.Join(root, "sdk", "go") + "\n"
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gobin, "build", "-o", module+".wasm", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, module+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Run runs wasm with cfg, the test binary's compilation cache and the guest's stdout and
// stderr to the test log; it calls onLine with each line the guest prints and returns them all.
// A runtime error, a non-zero exit code or no end within two minutes fails the test.
func Run(t *testing.T, wasm []byte, cfg runtime.Config, onLine func(string)) []string {
	t.Helper()
	pr, pw := io.Pipe()
	cfg = cfg.
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
		onLine(line)
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

// Trigger calls getppid n times from one thread of this process, firing the tracepoints the
// guests attach to.
func Trigger(n int) {
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
	w.t.Log("guest stderr: " + strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
