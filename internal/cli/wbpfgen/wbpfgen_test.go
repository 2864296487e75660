package wbpfgen_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/internal/golden"

	"github.com/wbpf/wbpf/internal/cli/wbpfgen"
)

const demo = "../../../testdata/demo/demo.bpf.o"

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = wbpfgen.Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// badInputs writes the malformed inputs the error cases read.
func badInputs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	obj, err := os.ReadFile(demo)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"empty.o":     nil,
		"text.o":      []byte("this is not an object file\n"),
		"truncated.o": obj[:len(obj)/3],
		// Raw BTF: magic, version, flags, header length, then offsets pointing far out of the file.
		"corrupt.btf": {0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0},
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestErrors: bad input gives one line on stderr naming the file and the reason, exit status 1
// (2 for usage errors), and no output file.
func TestErrors(t *testing.T) {
	dir := badInputs(t)
	out := filepath.Join(t.TempDir(), "out.h")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"missing", []string{"header", "DIR/does-not-exist.bpf.o", "-o", out}, 1},
		{"directory", []string{"header", "DIR", "-o", out}, 1},
		{"empty", []string{"header", "DIR/empty.o", "-o", out}, 1},
		{"not-elf", []string{"header", "DIR/text.o", "-o", out}, 1},
		{"truncated-elf", []string{"header", "DIR/truncated.o", "-o", out}, 1},
		{"corrupt-btf", []string{"header", "DIR/corrupt.btf", "-o", out}, 1},
		{"no-btf", []string{"header", "../../../testdata/bad/nobtf.o", "-o", out}, 1},
		{"unknown-type", []string{"header", demo, "--type", "no_such_type", "-o", out}, 1},
		{"unwritable-output", []string{"header", demo, "-o", "DIR/no/such/dir/out.h"}, 1},
		{"no-args", []string{"header"}, 2},
		{"two-args", []string{"header", demo, demo}, 2},
		{"bad-target", []string{"header", demo, "--target", "arm64"}, 2},
		{"bad-flag", []string{"header", "--no-such-flag", demo}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkFailure(t, dir, out, tc.name, tc.code, tc.args)
		})
	}
}

// checkFailure runs wbpfgen with args (DIR replaced by dir) and checks the contract for bad
// input: exit status code, nothing on stdout, one line on stderr equal to testdata/GOLDEN.stderr
// (with dir shown as DIR), and no output file at out.
func checkFailure(t *testing.T, dir, out, golden string, code int, args []string) {
	t.Helper()
	args = slices.Clone(args)
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "DIR", dir)
	}
	got, stdout, stderr := run(args...)
	if got != code {
		t.Errorf("exit status %d, want %d (stderr %q)", got, code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout not empty: %q", stdout)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "wbpfgen: ") {
		t.Errorf("want one line on stderr, got %q", stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("output file %s was written", out)
	}
	compare(t, filepath.Join("testdata", golden+".stderr"), strings.ReplaceAll(stderr, dir, "DIR"))
}

func TestHeaderToFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo.wasm.h")
	code, stdout, stderr := run("header", demo, "-o", out)
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	_, viaStdout, _ := run("header", demo)
	if string(got) != viaStdout {
		t.Error("-o and stdout outputs differ")
	}
	if !bytes.Contains(got, []byte("struct event {")) {
		t.Errorf("header lacks struct event:\n%s", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("temporary files left beside the output: %v", entries)
	}
}

// compare checks got against a golden file (go test -update rewrites it).
func compare(t *testing.T, path, got string) {
	t.Helper()
	golden.Compare(t, path, []byte(got))
}
