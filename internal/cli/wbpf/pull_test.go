package wbpf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wbpf/wbpf/oci/ocitest"
)

// TestPull_Output: pull never replaces an existing file without --force, never follows a
// registry's unsafe file name, writes through symlinks and writes /dev/null in place.
func TestPull_Output(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	mod, err := os.ReadFile(wat("args.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	reg := ocitest.NewHostile(t, map[string]ocitest.Repo{
		"app":     {Module: mod, Title: "app.wasm"},
		"dotfile": {Module: mod, Title: ".bashrc"},
		"newline": {Module: mod, Title: "evil\nadvz.wasm"},
		"stall":   {Module: mod, StallHeaders: true},
	})
	pull := func(args ...string) (int, string, string) {
		return runIn(t, "", append([]string{"pull", "--plain-http", "--cache-dir", ""}, args...)...)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	read := func(name string) string { b, _ := os.ReadFile(filepath.Join(dir, name)); return string(b) }

	// A registry's hidden or odd file name is not used: the repository's name is, and wbpf says so.
	os.WriteFile(".bashrc", []byte("mine"), 0o644)
	code, stdout, stderr := pull(reg.Host + "/dotfile:v1")
	if code != 0 || read(".bashrc") != "mine" || read("dotfile.wasm") != string(mod) || !strings.HasPrefix(stdout, "dotfile.wasm: ") {
		t.Errorf("title .bashrc: exit %d, stdout %q, stderr %q, .bashrc %q", code, stdout, stderr, read(".bashrc"))
	}
	if want := `wbpf: not using the file name ".bashrc" that ` + reg.Host + `/dotfile:v1 records (a hidden file name); writing dotfile.wasm` + "\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	if code, _, stderr := pull(reg.Host + "/newline:v1"); code != 0 || read("newline.wasm") != string(mod) || !strings.Contains(stderr, `"evil\nadvz.wasm"`) {
		t.Errorf("title with a newline: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat("evil\nadvz.wasm"); err == nil {
		t.Error("a file with a newline in its name was created")
	}

	// No clobbering: the same module again is fine, another file is refused, --force replaces it.
	if code, _, stderr := pull(reg.Host + "/app:v1"); code != 0 || read("app.wasm") != string(mod) {
		t.Fatalf("pull: %d %s", code, stderr)
	}
	if code, _, stderr := pull(reg.Host + "/app:v1"); code != 0 {
		t.Errorf("pull over the same module: exit %d, %s", code, stderr)
	}
	os.WriteFile("app.wasm", []byte("other"), 0o644)
	if code, _, stderr := pull(reg.Host + "/app:v1"); code != exitFailure || read("app.wasm") != "other" ||
		stderr != "wbpf: app.wasm: already exists and is not this module (--force replaces it)\n" {
		t.Errorf("pull over another file: exit %d, stderr %q, content %q", code, stderr, read("app.wasm"))
	}
	if code, _, stderr := pull("-o", "app.wasm", reg.Host+"/app:v1"); code != exitFailure || read("app.wasm") != "other" {
		t.Errorf("pull -o over another file: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := pull("--force", reg.Host+"/app:v1"); code != 0 || read("app.wasm") != string(mod) {
		t.Errorf("pull --force: exit %d, stderr %q", code, stderr)
	}

	// -o through a symlink, and onto /dev/null.
	os.Symlink("target.wasm", "link.wasm")
	if code, _, stderr := pull("-o", "link.wasm", reg.Host+"/app:v1"); code != 0 || read("target.wasm") != string(mod) {
		t.Errorf("pull -o link: exit %d, stderr %q", code, stderr)
	}
	if st, _ := os.Lstat("link.wasm"); st.Mode()&os.ModeSymlink == 0 {
		t.Error("pull -o replaced the symlink")
	}
	if code, _, stderr := pull("-o", "/dev/null", reg.Host+"/app:v1"); code != 0 {
		t.Errorf("pull -o /dev/null: exit %d, stderr %q", code, stderr)
	}
	if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a character device: %v", err)
	}

	// A registry that never answers: the timeout flag bounds the wait.
	start := time.Now()
	code, _, stderr = pull("--header-timeout", "200ms", reg.Host+"/stall:v1")
	if code != exitFailure || !strings.Contains(stderr, "registry timed out: "+reg.Host+" sent no response within 200ms (--header-timeout)") {
		t.Errorf("stalled registry: exit %d, stderr %q", code, stderr)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("stalled registry: took %v", took)
	}
	code, _, stderr = runIn(t, "", "run", "--plain-http", "--no-cache", "--header-timeout", "200ms", reg.Host+"/stall:v1")
	if code != exitFailure || !strings.Contains(stderr, "sent no response within 200ms (--header-timeout)") {
		t.Errorf("run from a stalled registry: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := pull("--idle-timeout", "-1s", reg.Host+"/app:v1"); code != exitUsage || !strings.Contains(stderr, "--idle-timeout -1s: want a positive duration") {
		t.Errorf("negative timeout: exit %d, stderr %q", code, stderr)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}
