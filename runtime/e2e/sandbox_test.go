package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestFileEscapes runs testdata/escape_fs.c, a guest that tries every file-system escape of
// issue 17 (links out made by the guest or found in the grant, relative and absolute, ..
// chains, /proc/self/root) and the uses that must keep working (links inside, read-only
// grants). The guest checks each errno itself; here we check it ran every step and that
// nothing appeared outside the grants.
func TestFileEscapes(t *testing.T) {
	path := testutils.BuildGuest(t, filepath.Join("testdata", "escape_fs.c"), "-I", "testdata")
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	g, r := filepath.Join(dir, "g"), filepath.Join(dir, "r")
	for _, d := range []string{filepath.Join(g, "sub"), r} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, content := range map[string]string{filepath.Join(g, "sub", "f"): "inside", filepath.Join(r, "f"): "read-only"} {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{
		"up": strings.Repeat("../", 12), "abs": "/etc", "proc": "/proc/self/root", "in": "sub",
	} {
		if err := os.Symlink(target, filepath.Join(g, name)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config(t, "escape_fs.wasm").
		WithDirMount(g, "/g").
		WithReadOnlyDirMount(r, "/r").
		WithDirMount("/proc", "/proc")
	code, out := run(t, wasm, cfg)
	var oks int
	for _, l := range out {
		if strings.HasPrefix(l, "FAIL") {
			t.Error(l)
		}
		if strings.HasPrefix(l, "ok ") {
			oks++
		}
	}
	if code != 0 || oks != 30 || values(out)["fails"] != "0" {
		t.Errorf("exit %d, %d steps ok (want 30), output %q", code, oks, out)
	}
	for _, p := range []string{"/tmp/wbpf-escaped", "/tmp/wbpf-escaped-dir", filepath.Join(dir, "x")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s exists: the guest wrote outside its grant", p)
		}
	}
	if _, err := os.Stat(filepath.Join(g, "sub", "new")); err != nil {
		t.Errorf("the file the guest created inside its grant: %v", err)
	}
}
