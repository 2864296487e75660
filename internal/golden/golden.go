// Package golden compares generator output with golden files, for tests. `go test -update`
// rewrites the files instead; otherwise a mismatch fails the test with a (-want +got) diff.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Update is the -update flag of every test binary that imports this package.
var Update = flag.Bool("update", false, "rewrite the golden files")

// Compare checks got against the file at path, or rewrites the file with -update.
func Compare(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// Fixtures returns the committed BPF test objects (testdata/btf and testdata/demo) as paths
// below root, the repository's top directory relative to the test; each is usually one subtest.
func Fixtures(tb testing.TB, root string) []string {
	tb.Helper()
	var out []string
	for _, pat := range []string{"testdata/btf/*.bpf.o", "testdata/demo/*.bpf.o"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, m...)
	}
	if len(out) == 0 {
		tb.Fatal("no test objects under testdata/ (run make testdata)")
	}
	return out
}

// ObjName is a fixture's name: its file name without .bpf.o.
func ObjName(path string) string { return strings.TrimSuffix(filepath.Base(path), ".bpf.o") }
