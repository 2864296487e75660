package gogen_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/internal/golden"

	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/gogen"
)

func fixtures(t *testing.T) []string { return golden.Fixtures(t, filepath.Join("..", "..")) }

func objName(path string) string { return golden.ObjName(path) }

func generate(t *testing.T, path string, opts gogen.Options) []byte {
	t.Helper()
	o, err := bpfobj.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gogen.Generate(o, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compare checks got against a golden file (go test -update rewrites it).
func compare(t *testing.T, path string, got []byte) {
	t.Helper()
	golden.Compare(t, path, got)
}

// The golden files end in .go.golden, not .go, so that the go command does not build them.
func TestGolden(t *testing.T) {
	for _, path := range fixtures(t) {
		name := objName(path)
		t.Run(name, func(t *testing.T) {
			compare(t, filepath.Join("..", "..", "golden", "go", name+"_bpf.go.golden"), generate(t, path, gogen.Options{Package: name}))
		})
	}
}

func TestDeterministic(t *testing.T) {
	for _, path := range fixtures(t) {
		a := generate(t, path, gogen.Options{})
		b := generate(t, path, gogen.Options{})
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two runs differ", path)
		}
	}
}

// TestTypeSelection: --type keeps the named types, what they need and what the skeleton needs.
func TestTypeSelection(t *testing.T) {
	b := string(generate(t, "../../testdata/demo/demo.bpf.o", gogen.Options{Types: []string{"trace_event_raw_sched_process_exec"}}))
	for _, want := range []string{"type TraceEventRawSchedProcessExec struct", "type Event struct"} {
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
	if _, err := gogen.Generate(o, gogen.Options{Types: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "type nope: no type of that name in BTF") {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := gogen.Generate(o, gogen.Options{Name: "event"}); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Errorf("skeleton named like a type: %v", err)
	}
}

// sdkModule is the go.mod of a guest module on sdk/go: Go 1.24, the oldest release the bindings
// support, and sdk/go from this checkout.
func sdkModule(name, root string) string {
	return "module " + name + "\n\ngo 1.24\n\nrequire github.com/wbpf/wbpf/sdk/go v0.0.0\n\nreplace github.com/wbpf/wbpf/sdk/go => " +
		filepath.Join(root, "sdk", "go") + "\n"
}

// goModule writes a module that requires this repository through a replace directive, with
// each fixture's bindings and object in a package of its own; it returns its directory.
func goModule(t *testing.T, pkgMain bool) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, dir, "go.mod", sdkModule("wbpfgentest", root))
	for _, path := range fixtures(t) {
		name := objName(path)
		pkg := name
		if pkgMain {
			pkg = "main"
			write(t, filepath.Join(dir, name), "main.go", "package main\n\nfunc main() {}\n")
		}
		write(t, filepath.Join(dir, name), name+"_bpf.go", string(generate(t, path, gogen.Options{Package: pkg})))
		obj, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, name), name+".bpf.o", string(obj))
	}
	return dir
}

func write(t *testing.T, dir, name, data string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func goCmd(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local"}, env...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s (%s): %v\n%s", strings.Join(args, " "), strings.Join(env, " "), err, out)
	}
}

// TestCompiles: every fixture's bindings pass go vet and build for GOOS=wasip1 GOARCH=wasm (the
// layout assertions are compile-time, so this proves every size and offset), and build on the
// host too, where decoders can be unit-tested.
func TestCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go packages")
	}
	dir := goModule(t, true)
	wasm := []string{"GOOS=wasip1", "GOARCH=wasm"}
	goCmd(t, dir, wasm, "vet", "./...")
	goCmd(t, dir, wasm, "build", "-o", os.DevNull, "./...")
	goCmd(t, dir, nil, "vet", "./...")
}

// TestTinyGo builds the bindings with TinyGo for wasip1 when tinygo is installed.
func TestTinyGo(t *testing.T) {
	tinygo, err := exec.LookPath("tinygo")
	if err != nil {
		t.Skip("tinygo not on PATH: TinyGo builds of the bindings are not checked here (install TinyGo 0.34 or later to run this test)")
	}
	dir := goModule(t, true)
	for _, path := range fixtures(t) {
		name := objName(path)
		cmd := exec.Command(tinygo, "build", "-target=wasip1", "-o", filepath.Join(t.TempDir(), name+".wasm"), "./"+name)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("tinygo build %s: %v\n%s", name, err, out)
		}
	}
}
