package wbpf

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/oci/ocitest"
)

// TestPull_Progress: a large pull draws a progress line when stderr is a terminal (the real
// binary under script(1)'s pseudo-terminal), and nothing when it is not.
func TestPull_Progress(t *testing.T) {
	script := testutils.RequireTool(t, "script")
	reg := ocitest.New(t)
	dockerConfig(t, reg.Host)
	big := filepath.Join(t.TempDir(), "big.wasm")
	// A module with one 3 MiB custom section (id 0, size as LEB128, empty name).
	const n = 3 << 20
	mod := []byte("\x00asm\x01\x00\x00\x00\x00")
	for v := uint32(n); ; v >>= 7 {
		if v < 0x80 {
			mod = append(mod, byte(v))
			break
		}
		mod = append(mod, byte(v&0x7f|0x80))
	}
	mod = append(mod, 0) // name length
	os.WriteFile(big, append(mod, make([]byte, n-1)...), 0o644)
	ref := reg.Host + "/big:v1"
	if code, _, stderr := runIn(t, "", "push", "--plain-http", big, ref); code != 0 {
		t.Fatalf("push: %s", stderr)
	}
	if code, _, stderr := runIn(t, "", "pull", "--plain-http", "--cache-dir", t.TempDir(), "-o", filepath.Join(t.TempDir(), "x.wasm"), ref); code != 0 || stderr != "" {
		t.Errorf("pull without a terminal = %d, stderr %q; want nothing on stderr", code, stderr)
	}

	bin := filepath.Join(t.TempDir(), "wbpf")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(testutils.RepoRoot(t), "cmd", "wbpf")).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out := filepath.Join(t.TempDir(), "x.wasm")
	cmd := exec.Command(script, "-qc", strings.Join([]string{bin, "pull", "--plain-http", "--cache-dir", t.TempDir(), "-o", out, ref}, " "), "/dev/null")
	var tty bytes.Buffer
	cmd.Stdout, cmd.Stderr = &tty, &tty
	if err := cmd.Run(); err != nil {
		t.Fatalf("wbpf pull under script: %v\n%q", err, tty.String())
	}
	if s := tty.String(); !strings.Contains(s, "\rpulling ") || !strings.Contains(s, "/ 3.0 MiB 100%") {
		t.Errorf("no progress line on the terminal: %q", s)
	}
}
