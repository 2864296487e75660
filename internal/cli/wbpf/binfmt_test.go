package wbpf

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestImplicitRun: a first argument that is not a command runs like "run", flags of run
// before it included; help and the commands are left alone.
func TestImplicitRun(t *testing.T) {
	cache := t.TempDir()
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{wat("args.wasm")}, 16},
		{[]string{wat("args.wasm"), "a", "-v"}, 3 * 16},
		{[]string{"--cache-dir", cache, "--env", "A=1", wat("args.wasm")}, 16 + 1},
		{[]string{"-v", wat("args.wasm")}, 16},
	} {
		if code, _, stderr := run(t, tc.args...); code != tc.want {
			t.Errorf("wbpf %v = %d, want %d; stderr: %s", tc.args, code, tc.want, stderr)
		}
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"help", "run"}, {"binfmt", "--help"}} {
		code, stdout, stderr := run(t, args...)
		if code != 0 || !strings.Contains(stdout, "Usage:") {
			t.Errorf("wbpf %v = %d, stdout %q, stderr %q; want its help", args, code, stdout, stderr)
		}
	}
}

// TestBinfmt registers a binfmt_misc handler (under a name of its own), runs an executable
// module as ./app.wasm ARGS, and unregisters it.
func TestBinfmt(t *testing.T) {
	testutils.RequireRoot(t)
	bin := testutils.BuildWbpf(t)
	name := fmt.Sprintf("wbpf-test-%d", os.Getpid())
	wbpf := func(args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := wbpf("binfmt", "status", "--name", name); code != exitFailure || !strings.Contains(out, "not registered") {
		t.Fatalf("status before install: exit %d, %q", code, out)
	}
	if out, code := wbpf("binfmt", "install", "--name", name, "--interpreter", bin); code != 0 {
		t.Fatalf("install: exit %d, %q", code, out)
	}
	t.Cleanup(func() { wbpf("binfmt", "uninstall", "--name", name) })
	if out, code := wbpf("binfmt", "install", "--name", name, "--interpreter", bin); code != exitFailure || !strings.Contains(out, "registered already") {
		t.Errorf("second install: exit %d, %q", code, out)
	}
	if out, code := wbpf("binfmt", "status", "--name", name); code != 0 || !strings.Contains(out, "enabled, interpreter "+bin) {
		t.Errorf("status: exit %d, %q", code, out)
	}

	dir := t.TempDir()
	app := filepath.Join(dir, "app.wasm")
	b, err := os.ReadFile(wat("args.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(app, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("./app.wasm", "x", "y")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
	out, _ := cmd.CombinedOutput()
	// args.wasm exits argc*16: ./app.wasm x y is argc 3.
	if code := cmd.ProcessState.ExitCode(); code != 3*16 {
		t.Errorf("./app.wasm x y: exit %d, want 48; output %q", code, out)
	}

	if out, code := wbpf("binfmt", "uninstall", "--name", name); code != 0 {
		t.Fatalf("uninstall: exit %d, %q", code, out)
	}
	if _, err := os.Stat(filepath.Join(binfmtDir, name)); !os.IsNotExist(err) {
		t.Errorf("still registered after uninstall: %v", err)
	}
	cmd = exec.Command("./app.wasm")
	cmd.Dir = dir
	if err := cmd.Run(); err == nil || !strings.Contains(err.Error(), "exec format error") {
		t.Errorf("./app.wasm after uninstall: %v, want exec format error", err)
	}
}

// TestBinfmtErrors: bad names and calls are usage errors.
func TestBinfmtErrors(t *testing.T) {
	for _, args := range [][]string{{"binfmt"}, {"binfmt", "frob"}, {"binfmt", "status", "--name", "a/b"}, {"binfmt", "status", "--name", "register"}} {
		if code, _, stderr := run(t, args...); code != exitUsage {
			t.Errorf("wbpf %v = %d, want %d; stderr %q", args, code, exitUsage, stderr)
		}
	}
}
