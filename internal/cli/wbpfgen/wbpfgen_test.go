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

// TestOutputFiles: every generator's -o writes through a symlink to its target and writes
// /dev/null in place instead of replacing it.
func TestOutputFiles(t *testing.T) {
	for _, cmd := range []string{"header", "wit", "skeleton", "go"} {
		t.Run(cmd, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "target.out")
			os.WriteFile(target, []byte("old"), 0o600)
			link := filepath.Join(dir, "link.out")
			if err := os.Symlink("target.out", link); err != nil {
				t.Fatal(err)
			}
			// The same run into a plain file of the same name (the header's guard comes from it).
			ref := filepath.Join(t.TempDir(), "link.out")
			if code, _, stderr := run(cmd, demo, "-o", ref); code != 0 {
				t.Fatalf("-o file: exit %d: %s", code, stderr)
			}
			want, _ := os.ReadFile(ref)
			if code, _, stderr := run(cmd, demo, "-o", link); code != 0 {
				t.Fatalf("-o link: exit %d: %s", code, stderr)
			}
			if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
				t.Error("-o replaced the symlink by a file")
			}
			got, _ := os.ReadFile(target)
			if !bytes.Equal(got, want) {
				t.Errorf("the link's target does not hold the output (%d bytes, want %d)", len(got), len(want))
			}
			if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
				t.Errorf("target mode %v, want the 0600 it had", st.Mode())
			}
			if code, _, stderr := run(cmd, demo, "-o", "/dev/null"); code != 0 {
				t.Fatalf("-o /dev/null: exit %d: %s", code, stderr)
			}
			if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&os.ModeCharDevice == 0 {
				t.Fatalf("/dev/null is no longer a character device: %v", err)
			}
		})
	}
}
