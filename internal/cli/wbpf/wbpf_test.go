package wbpf

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run drives the real command line in-process.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func wat(name string) string {
	return filepath.Join("..", "..", "..", "runtime", "testdata", "wat", name)
}

func TestRun_GuestStatus(t *testing.T) {
	cache := t.TempDir()
	// args.wasm exits with argc*16 + envc. Flags after APP.wasm are the
	// guest's: -v and --env here are arguments, not wbpf flags.
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"run", "--cache-dir", cache, wat("args.wasm")}, 16},
		{[]string{"run", "--no-cache", wat("args.wasm"), "-v", "--env", "X=1"}, 4 * 16},
		{[]string{"run", "--cache-dir", cache, "--env", "A=1", "--env", "B=", wat("args.wasm"), "x"}, 2*16 + 2},
		{[]string{"run", "-v", "--memory-limit", "4MiB", "--cache-dir", cache, wat("bigmem.wasm")}, 0},
		{[]string{"run", "--dir", t.TempDir(), "--dir", t.TempDir() + ":/data", "--cache-dir", cache, wat("args.wasm")}, 16},
	} {
		code, _, stderr := run(t, tc.args...)
		if code != tc.want {
			t.Errorf("wbpf %v = %d, want %d; stderr: %s", tc.args, code, tc.want, stderr)
		}
		if code != 0 && stderr != "" {
			t.Errorf("wbpf %v printed %q for a guest's own status", tc.args, stderr)
		}
	}
	if entries, _ := os.ReadDir(cache); len(entries) == 0 {
		t.Error("--cache-dir left empty")
	}
}

func TestRun_Errors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("not wasm"), 0o644)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"run"}, exitUsage, "wbpf: run: missing APP.wasm or APP.bpf.o\nRun 'wbpf --help' for usage.\n"},
		{[]string{"run", "--bogus", "x.wasm"}, exitUsage, "unknown flag: --bogus"},
		{[]string{"run", "--memory-limit", "lots", "x.wasm"}, exitUsage, `--memory-limit: "lots"`},
		{[]string{"run", "--memory-limit", "5GiB", "x.wasm"}, exitUsage, "more than 4GiB"},
		{[]string{"run", "--env", "NOEQUALS", "x.wasm"}, exitUsage, `--env "NOEQUALS": want K=V`},
		{[]string{"run", "--dir", "/no/such/dir", "x.wasm"}, exitUsage, "not a directory"},
		{[]string{"run", "--no-cache", "/no/such/app.wasm"}, exitFailure, "wbpf: /no/such/app.wasm: no such file (nor a wbpf command or an OCI reference)\n"},
		{[]string{"run", "--no-cache", file}, exitFailure, "wbpf: " + file + ": compile: "},
		{[]string{"run", "--no-cache", wat("bigmem.wasm"), "--memory-limit", "1"}, 0, ""},
		{[]string{"run", "--no-cache", "--memory-limit", "1", wat("bigmem.wasm")}, exitFailure, "wbpf: "},
		// Not a command: run like "run", which says what it tried.
		{[]string{"frobnicate"}, exitFailure, "wbpf: frobnicate: no such file (nor a wbpf command or an OCI reference)\n"},
	} {
		code, _, stderr := run(t, tc.args...)
		if code != tc.code {
			t.Errorf("wbpf %v = %d, want %d; stderr: %s", tc.args, code, tc.code, stderr)
		}
		if !strings.Contains(stderr, tc.stderr) {
			t.Errorf("wbpf %v stderr %q lacks %q", tc.args, stderr, tc.stderr)
		}
		if strings.Count(stderr, "wbpf: ") > 1 {
			t.Errorf("wbpf %v printed its error more than once: %q", tc.args, stderr)
		}
	}
}

func TestRun_Help(t *testing.T) {
	code, stdout, _ := run(t, "run", "--help")
	if code != 0 {
		t.Fatalf("--help = %d", code)
	}
	for _, want := range []string{"--verbose", "--memory-limit", "--cache-dir", "--no-cache", "--dir HOST[:GUEST[:ro]]", "--env K=V", "--net IFACE", "--allow prog:TYPE", "--privileged", "--max-objects", "--max-map-memory", "--max-attachments", "--max-descriptors", "--max-maps", "APP.wasm [ARGS...]"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, stdout)
		}
	}
}

func TestParsePages(t *testing.T) {
	for in, want := range map[string]uint32{
		"1": 1, "65536": 65536, "64KiB": 1, "65KiB": 2, "1MiB": 16, "64M": 1024, "4GiB": 65536, "1G": 16384,
	} {
		if got, err := parsePages(in); err != nil || got != want {
			t.Errorf("parsePages(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.5MiB", "65537", "5GiB", "MiB", "1TB"} {
		if got, err := parsePages(in); err == nil {
			t.Errorf("parsePages(%q) = %d, want an error", in, got)
		}
	}
}
