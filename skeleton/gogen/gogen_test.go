package gogen_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/wbpf/wbpf/internal/golden"

	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/gogen"
)

// fixtures are the layout fixtures every printer runs, the demo object and the Go bindings' own
// cases in testdata/.
func fixtures(t *testing.T) []string {
	own, err := filepath.Glob(filepath.Join("testdata", "*.bpf.o"))
	if err != nil || len(own) == 0 {
		t.Fatalf("no testdata/*.bpf.o: %v", err)
	}
	return append(golden.Fixtures(t, filepath.Join("..", "..")), own...)
}

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

// TestTypeSelection: by default the types the skeleton needs, --type adds a type and what it
// needs, --all-types gives every named type.
func TestTypeSelection(t *testing.T) {
	const demo = "../../testdata/demo/demo.bpf.o"
	for _, c := range []struct {
		name      string
		opts      gogen.Options
		want, not []string
	}{
		{"default", gogen.Options{}, []string{"type Event struct"}, []string{"TraceEventRawSchedProcessExec", "TraceEventRawSchedProcessTemplate"}},
		{"--type", gogen.Options{Types: []string{"trace_event_raw_sched_process_exec"}},
			[]string{"type TraceEventRawSchedProcessExec struct", "type Event struct"}, []string{"TraceEventRawSchedProcessTemplate"}},
		{"--all-types", gogen.Options{AllTypes: true},
			[]string{"type Event struct", "type TraceEventRawSchedProcessExec struct", "type TraceEventRawSchedProcessTemplate struct"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := string(generate(t, demo, c.opts))
			for _, w := range c.want {
				if !strings.Contains(b, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(b, n) {
					t.Errorf("output has %s, which was not asked for", n)
				}
			}
		})
	}
	o, err := bpfobj.Load(demo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gogen.Generate(o, gogen.Options{Types: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "type nope: no type of that name in BTF") {
		t.Errorf("unknown type: %v", err)
	}
}

// TestNames: generation never fails on naming. The skeleton of an object named like its
// struct, or like one of its types, keeps its names; the type gives way; nothing stutters.
func TestNames(t *testing.T) {
	b := string(generate(t, "testdata/tricky.bpf.o", gogen.Options{}))
	for _, w := range []string{
		"type TrickyObjects struct", "func OpenTricky() (*TrickyObjects, error)", "type TrickyMaps struct",
		"type Tricky struct", "type TrickyMapsType struct",
		"TrickyFuncMap wbpf.TypedMap[uint32, TrickyMapsType]",
		"TkCounts      wbpf.PerCPUMap[uint32, uint64]",
		"TkStacks      wbpf.StackTraceMap", "s.Maps.TkStacks.Depth = 127",
		"TkEvents      wbpf.Buffer[Tricky]", "TkProgs       *wbpf.Map",
		"func (v TrickyRodata) TargetPid() uint32 {",
		"func (v TrickyData) LastPid() (uint32, error) {",
	} {
		if !strings.Contains(b, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	for _, n := range []string{"TrickyTricky", "MapMap", "Unused"} {
		if strings.Contains(b, n) {
			t.Errorf("output has %q", n)
		}
	}
	// A skeleton named like a type of the object: the type gets the suffix Type only where the
	// skeleton took its name.
	b = string(generate(t, "../../testdata/demo/demo.bpf.o", gogen.Options{Name: "event_objects"}))
	for _, w := range []string{"type EventObjectsObjects struct", "type Event struct"} {
		if !strings.Contains(b, w) {
			t.Errorf("--name event_objects: output lacks %q", w)
		}
	}
	b = string(generate(t, "../../testdata/demo/demo.bpf.o", gogen.Options{Name: "event"}))
	for _, w := range []string{"type EventObjects struct", "func OpenEvent() (*EventObjects, error)", "type Event struct", "wbpf.Buffer[Event]"} {
		if !strings.Contains(b, w) {
			t.Errorf("--name event: output lacks %q", w)
		}
	}
}

// sdkModule is the go.mod of a guest module on sdk/go: go 1.23, the lowest the bindings need
// (structs.HostLayout), so that TinyGo releases built on Go 1.23 resolve it, and sdk/go from
// this checkout.
func sdkModule(name, root string) string {
	return "module " + name + "\n\ngo 1.23\n\nrequire github.com/wbpf/wbpf/sdk/go v0.0.0\n\nreplace github.com/wbpf/wbpf/sdk/go => " +
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
// layout assertions are compile-time, so this proves every size and offset), also with the
// tinygo build tag (TinyGo's files of sdk/go are plain Go), and build on the host too, where
// decoders can be unit-tested.
func TestCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go packages")
	}
	dir := goModule(t, true)
	wasm := []string{"GOOS=wasip1", "GOARCH=wasm"}
	goCmd(t, dir, wasm, "vet", "./...")
	goCmd(t, dir, wasm, "build", "-o", os.DevNull, "./...")
	goCmd(t, dir, wasm, "vet", "-tags", "tinygo", "./...")
	goCmd(t, dir, wasm, "build", "-tags", "tinygo", "-o", os.DevNull, "./...")
	goCmd(t, dir, nil, "vet", "./...")
}

// TestStaleObject runs generated bindings on the host (no kernel needed: Open only reads the
// object): they find .rodata in a stripped object, and refuse another object, or the same
// rebuilt with another map value type, with a message that says to regenerate.
func TestStaleObject(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go packages")
	}
	strip, err := exec.LookPath("llvm-strip-19")
	if err != nil {
		t.Skip("llvm-strip-19 not on PATH")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, dir, "go.mod", sdkModule("staletest", root))
	write(t, dir, "demo_bpf.go", string(generate(t, "../../testdata/demo/demo.bpf.o", gogen.Options{Package: "demo"})))
	obj, err := os.ReadFile("../../testdata/demo/demo.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "demo.bpf.o", string(obj))
	// Stripping moves every section: the bindings must not care.
	if out, err := exec.Command(strip, "-g", "-R", ".BTF.ext", filepath.Join(dir, "demo.bpf.o")).CombinedOutput(); err != nil {
		t.Fatalf("llvm-strip: %v\n%s", err, out)
	}
	stripped, _ := os.ReadFile(filepath.Join(dir, "demo.bpf.o"))
	if len(stripped) == len(obj) {
		t.Fatal("llvm-strip changed nothing")
	}
	write(t, dir, "demo_test.go", `package demo

import (
	"errors"
	"testing"

	wbpf "github.com/wbpf/wbpf/sdk/go"
)

func TestRodata(t *testing.T) {
	s, err := OpenDemo()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Rodata.MinDurationNs(); got != 0 {
		t.Errorf("MinDurationNs = %d before any set", got)
	}
	if err := s.Rodata.SetMinDurationNs(5e6); err != nil {
		t.Fatal(err)
	}
	if got := s.Rodata.MinDurationNs(); got != 5e6 {
		t.Errorf("MinDurationNs = %d, want 5e6", got)
	}
}

func TestStale(t *testing.T) {
	for name, obj := range map[string][]byte{"other": otherObject, "rebuilt": rebuiltObject} {
		demoObject = obj
		_, err := OpenDemo()
		if !errors.Is(err, wbpf.ErrStale) {
			t.Fatalf("OpenDemo on the %s object: %v, want ErrStale", name, err)
		}
		t.Log(err)
	}
}
`)
	other, err := os.ReadFile("testdata/untyped.bpf.o") // no .rodata
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "other.bpf.o", string(other))
	// demo.bpf.c rebuilt with another value type for exec_start, bindings not regenerated.
	src, err := os.ReadFile("../../testdata/demo/demo.bpf.c")
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), "__type(value, unsigned long long);", "__type(value, unsigned int);", 1)
	if changed == string(src) {
		t.Fatal("demo.bpf.c no longer declares exec_start's value as unsigned long long")
	}
	write(t, dir, "rebuilt.bpf.c", changed)
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 not on PATH")
	}
	if out, err := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-I/usr/include/"+archDir(), "-c", filepath.Join(dir, "rebuilt.bpf.c"), "-o", filepath.Join(dir, "rebuilt.bpf.o")).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	os.Remove(filepath.Join(dir, "rebuilt.bpf.c"))
	write(t, dir, "other_test.go", "package demo\n\nimport _ \"embed\"\n\n//go:embed other.bpf.o\nvar otherObject []byte\n\n//go:embed rebuilt.bpf.o\nvar rebuiltObject []byte\n")
	cmd := exec.Command("go", "test", "-count=1", "-v", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test: %v\n%s", err, out)
	}
	for _, want := range []string{
		"demo.bpf.o: wbpf: map exec_start: not in the object: object does not match its bindings (regenerate them: wbpfgen go)",
		"demo.bpf.o: wbpf: map exec_start: key 4 and value 4 bytes in the object, 4 and 8 in the bindings: object does not match its bindings (regenerate them: wbpfgen go)",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("stale object: output lacks %q:\n%s", want, out)
		}
	}
}

// TestTinyGo builds the bindings with TinyGo for wasip1 when tinygo is installed.
func TestTinyGo(t *testing.T) {
	tinygo, err := exec.LookPath("tinygo")
	if err != nil {
		t.Skip("tinygo not on PATH: TinyGo builds of the bindings are not checked here (install TinyGo 0.33 with LLVM 19, or later, to run this test)")
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

// archDir is the Debian multiarch include directory of the host (asm/types.h for BPF builds).
func archDir() string {
	if goruntime.GOARCH == "arm64" {
		return "aarch64-linux-gnu"
	}
	return "x86_64-linux-gnu"
}

// TestHostileNames: names come from the object (ELF symbols, BTF); whatever they hold, the
// bindings stay one valid Go file that does what the object says: names in string literals are
// quoted, names in comments lose line breaks and invisible characters, an odd object file name
// is quoted for //go:embed. The result must vet.
func TestHostileNames(t *testing.T) {
	o, err := bpfobj.Load("../../testdata/demo/demo.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	const evil = "x\");\n\tos.Exit(1) // \u202e\x7f%d"
	o.Maps[0].Name = evil
	o.Programs[0].Name = evil
	o.Programs[0].Section = "tracepoint/\"\n*/"
	o.Sections[0].Vars[0].Name = "v\nfunc init() { panic(1) }"
	for _, t := range o.Model.Types() {
		if s, ok := t.(*btf.Struct); ok && s.Name == "event" {
			s.Members[0].Name = "pid\u202e\n// evil"
		}
	}
	b, err := gogen.Generate(o, gogen.Options{Package: "demo", ObjectFile: "my demo.bpf.o"})
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	for i, r := range src {
		if r == 0x202e || r == 0x7f {
			t.Fatalf("output has %U at byte %d", r, i)
		}
	}
	for _, want := range []string{
		`obj.Program("x\");\n\tos.Exit(1) // \u202e\x7f%d")`,
		`s.Object.DeclaredMap("x\");\n\tos.Exit(1) // \u202e\x7f%d")`,
		`//go:embed "my demo.bpf.o"`,
		`fmt.Errorf("set v\nfunc init() { panic(1) }: %w", wbpf.ErrLoaded)`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	if strings.Contains(src, "\nfunc init()") || strings.Contains(src, "\n\tos.Exit(1)") {
		t.Error("a name reached the code outside a string literal or comment")
	}
	if _, err := gogen.Generate(o, gogen.Options{ObjectFile: "a\nb.o"}); err == nil {
		t.Error("an object file name with a newline was accepted for //go:embed")
	}
	if testing.Short() {
		return
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, dir, "go.mod", sdkModule("hostile", root))
	write(t, dir, "demo_bpf.go", src)
	write(t, dir, "my demo.bpf.o", string(o.Bytes))
	goCmd(t, dir, []string{"GOOS=wasip1", "GOARCH=wasm"}, "vet", ".")
}
