package rustgen_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wbpf/wbpf/internal/golden"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/rustgen"
)

func TestMain(m *testing.M) { os.Exit(testutils.Main(m)) }

func fixtures(t *testing.T) []string { return golden.Fixtures(t, filepath.Join("..", "..")) }

func objName(path string) string { return golden.ObjName(path) }

func generate(t *testing.T, path string, opts rustgen.Options) []byte {
	t.Helper()
	o, err := bpfobj.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rustgen.Generate(o, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func goldenPath(name string) string {
	return filepath.Join("..", "..", "golden", "rust", name+"_bpf.rs")
}

func TestGolden(t *testing.T) {
	for _, path := range fixtures(t) {
		name := objName(path)
		t.Run(name, func(t *testing.T) {
			golden.Compare(t, goldenPath(name), generate(t, path, rustgen.Options{}))
		})
	}
}

func TestDeterministic(t *testing.T) {
	for _, path := range fixtures(t) {
		if !bytes.Equal(generate(t, path, rustgen.Options{}), generate(t, path, rustgen.Options{})) {
			t.Errorf("%s: two runs differ", path)
		}
	}
}

// TestTypeSelection: --type keeps the named types, what they need and what the skeleton needs;
// unknown types and skeleton names taken by a type are errors naming the fix.
func TestTypeSelection(t *testing.T) {
	b := string(generate(t, "../../testdata/demo/demo.bpf.o", rustgen.Options{Types: []string{"trace_event_raw_sched_process_exec"}}))
	for _, want := range []string{"pub struct TraceEventRawSchedProcessExec {", "pub struct Event {"} {
		if !strings.Contains(b, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(b, "TraceEventRawSchedProcessTemplate") {
		t.Error("output has a type that was not asked for")
	}
	o, err := bpfobj.Load("../../testdata/demo/demo.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts rustgen.Options
		want string
	}{
		{rustgen.Options{Types: []string{"nope"}}, "type nope: no type of that name in BTF"},
		{rustgen.Options{Name: "--"}, `skeleton name "--" has no letters or digits`},
	} {
		if _, err := rustgen.Generate(o, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.opts, err, tc.want)
		}
	}
}

// TestCompiles: every golden file compiles for wasm32-wasi with Rust 1.63 and the wbpf crate,
// without warnings (the size assertions are compile-time), and its generated #[test] of every
// field offset passes when run as a WASI program.
func TestCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Rust crates")
	}
	testutils.RequireRust(t)
	for _, path := range fixtures(t) {
		name := objName(path)
		t.Run(name, func(t *testing.T) {
			bindings, err := os.ReadFile(goldenPath(name))
			if err != nil {
				t.Fatal(err)
			}
			compileAndTest(t, name, bindings, path)
		})
	}
}

// TestNamesCompile: an object whose C names are Rust keywords, prelude names (Ok, Err, Option,
// Result, String, Vec, Box, Default, FnMut) and the bindings' own field and method names
// (bytes, bitfield0, _pad0, set_fmt), one whose section names hold quotes, line breaks and
// bidi controls, and gogen's tricky objects get bindings that compile and pass their layout
// test.
func TestNamesCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Rust crates")
	}
	testutils.RequireRust(t)
	for _, name := range []string{"clash", "hostile"} {
		obj := testutils.BuildBPF(t, "testdata/"+name+".bpf.c")
		t.Run(name, func(t *testing.T) { compileAndTest(t, name, generate(t, obj, rustgen.Options{}), obj) })
	}
	// The objects made to trip the Go bindings' names, and one with an untyped ring buffer.
	for _, name := range []string{"tricky", "untyped"} {
		obj := filepath.Join("..", "gogen", "testdata", name+".bpf.o")
		t.Run(name, func(t *testing.T) { compileAndTest(t, name, generate(t, obj, rustgen.Options{}), obj) })
	}
}

// compileAndTest compiles bindings (of the object at obj) for wasm32-wasi with Rust 1.63 and
// the wbpf crate, as a library without warnings and as a test binary whose #[test]s must all
// pass under wazero.
func compileAndTest(t *testing.T, name string, bindings []byte, obj string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, name+"_bpf.rs")
	if err := os.WriteFile(src, bindings, 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, obj, filepath.Join(dir, name+".bpf.o"))
	if err := testutils.RustCheck(t, src, filepath.Join(dir, "lib.rlib"), "--crate-type", "lib", "-D", "warnings"); err != nil {
		t.Fatal(err)
	}
	test := filepath.Join(dir, "layout_test.wasm")
	if err := testutils.RustCheck(t, src, test, "--test", "-D", "warnings"); err != nil {
		t.Fatal(err)
	}
	out, err := runWASI(t, test)
	if err != nil {
		t.Fatalf("layout test: %v\n%s", err, out)
	}
	want := fmt.Sprintf("test result: ok. %d passed; 0 failed", strings.Count(string(bindings), "#[test]"))
	if !strings.Contains(out, want) {
		t.Fatalf("layout test: want %q in its output:\n%s", want, out)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runWASI runs a WASI command module (a Rust test binary) with wazero and returns its output.
func runWASI(t *testing.T, path string) (string, error) {
	t.Helper()
	ctx := context.Background()
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	var out bytes.Buffer
	cfg := wazero.NewModuleConfig().WithStdout(&out).WithStderr(&out).WithArgs("layout_test")
	_, err = r.InstantiateWithConfig(ctx, wasm, cfg)
	var exit *sys.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 0 {
		err = nil
	}
	return out.String(), err
}
