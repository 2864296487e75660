package wbpfgen_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWITErrors: bad input to wit behaves as for header (the same one line on stderr, the same
// exit status, no output file); the input cases share header's golden stderr files.
func TestWITErrors(t *testing.T) {
	dir := badInputs(t)
	out := filepath.Join(t.TempDir(), "out.wit")
	for _, tc := range []struct {
		name   string
		golden string
		args   []string
		code   int
	}{
		{"missing", "missing", []string{"wit", "DIR/does-not-exist.bpf.o", "-o", out}, 1},
		{"directory", "directory", []string{"wit", "DIR", "-o", out}, 1},
		{"empty", "empty", []string{"wit", "DIR/empty.o", "-o", out}, 1},
		{"not-elf", "not-elf", []string{"wit", "DIR/text.o", "-o", out}, 1},
		{"truncated-elf", "truncated-elf", []string{"wit", "DIR/truncated.o", "-o", out}, 1},
		{"corrupt-btf", "corrupt-btf", []string{"wit", "DIR/corrupt.btf", "-o", out}, 1},
		{"no-btf", "no-btf", []string{"wit", "../../../testdata/bad/nobtf.o", "-o", out}, 1},
		{"unknown-type", "unknown-type", []string{"wit", demo, "--type", "no_such_type", "-o", out}, 1},
		{"unwritable-output", "wit-unwritable-output", []string{"wit", demo, "-o", "DIR/no/such/dir/out.wit"}, 1},
		{"no-args", "wit-no-args", []string{"wit"}, 2},
		{"two-args", "wit-two-args", []string{"wit", demo, demo}, 2},
		{"bad-flag", "bad-flag", []string{"wit", "--no-such-flag", demo}, 2},
		{"bad-package", "wit-bad-package", []string{"wit", demo, "--package", "Demo", "-o", out}, 2},
		{"bad-world", "wit-bad-world", []string{"wit", demo, "--world", "--pad0", "-o", out}, 2},
		{"world-clash", "wit-world-clash", []string{"wit", demo, "--world", "types", "-o", out}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkFailure(t, dir, out, tc.golden, tc.code, tc.args)
		})
	}
}

func TestWITToFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo.wit")
	code, stdout, stderr := run("wit", demo, "-o", out, "--package", "acme:demo", "--world", "guest")
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	_, viaStdout, _ := run("wit", demo, "--package", "acme:demo", "--world", "guest")
	if string(got) != viaStdout {
		t.Error("-o and stdout outputs differ")
	}
	for _, want := range []string{"package acme:demo;\n", "record event {", "world guest {\n  import types;\n}\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("temporary files left beside the output: %v", entries)
	}
}
