package examples

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
)

// sharedRust builds testdata/shared_counter.rs and shared_report.rs, examples/shared's counter
// and report on the Rust SDK (Object::publish, pin, open_shared, open_pinned, wbpf::unpin),
// with shared/counter.bpf.o embedded; their paths.
func sharedRust(t *testing.T) (counter, report string) {
	t.Helper()
	dir := t.TempDir()
	obj, err := os.ReadFile(filepath.Join("shared", "counter.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "counter.bpf.o"), obj, 0o644); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, name := range []string{"shared_counter.rs", "shared_report.rs"} {
		src, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, testutils.BuildRustGuest(t, filepath.Join(dir, name), "-D", "warnings"))
	}
	return paths[0], paths[1]
}

// sdkLine is what the Rust counter prints about the SDK's errors: publish before load, a second
// publish, asking its own publication for write access, and a name nobody published.
const sdkLine = "sdk before_load=EBADF again=EEXIST write=EACCES nobody=ENOENT"

func hasLine(out []string, want string) bool {
	for _, l := range out {
		if l == want {
			return true
		}
	}
	return false
}

// TestSharedOneRunRust: a Rust guest publishes and the C report reads the counts in the same
// run; the C counter publishes and the Rust report reads them.
func TestSharedOneRunRust(t *testing.T) {
	counter, report := sharedRust(t)
	t.Run("rust counter, C report", func(t *testing.T) {
		if out := testSharedOneRun(t, counter, "shared/report.wasm"); !hasLine(out, sdkLine) {
			t.Errorf("no line %q in the output", sdkLine)
		}
	})
	t.Run("C counter, rust report", func(t *testing.T) { testSharedOneRun(t, "shared/counter.wasm", report) })
}

// TestSharedAcrossProcessesRust: the Rust counter pins under --pin-dir and ends; the Rust
// report in another process opens the pins and prints getppid's count, and is refused without
// the grant or outside it; `wbpf unpin` removes everything. The C report reads the Rust pins too.
func TestSharedAcrossProcessesRust(t *testing.T) {
	counter, report := sharedRust(t)
	for _, r := range []struct{ name, path string }{{"rust report", report}, {"C report", "shared/report.wasm"}} {
		t.Run(r.name, func(t *testing.T) {
			if out := testSharedAcrossProcesses(t, counter, r.path); !hasLine(out, sdkLine) {
				t.Errorf("no line %q in the output", sdkLine)
			}
		})
	}
}
