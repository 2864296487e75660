package witgen_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/golden"

	"github.com/cilium/ebpf/btf"

	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/witgen"
)

const vmlinux = "/sys/kernel/btf/vmlinux"

// jcoPath is where scripts/setup.sh installs the reference WIT parser (jco 1.10.0 bundles
// wit-parser; later jco releases cannot read files under Node 20).
const jcoPath = "../.tools/node_modules/.bin/jco"

// fixtures are the committed test objects, golden.Fixtures.
func fixtures(t *testing.T) []string { return golden.Fixtures(t, "..") }

func objName(path string) string { return golden.ObjName(path) }

func generate(t testing.TB, path string, opts witgen.Options) []byte {
	t.Helper()
	m, err := layout.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	opts.Source = path
	out, err := witgen.Generate(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compare checks got against a golden file (go test -update rewrites it).
func compare(t *testing.T, path string, got []byte) {
	t.Helper()
	golden.Compare(t, path, got)
}

func TestGolden(t *testing.T) {
	for _, obj := range fixtures(t) {
		t.Run(objName(obj), func(t *testing.T) {
			got := generate(t, obj, witgen.Options{})
			if again := generate(t, obj, witgen.Options{}); !bytes.Equal(got, again) {
				t.Fatal("output differs between two runs")
			}
			compare(t, filepath.Join("../golden/wit", objName(obj)+".wit"), got)
		})
	}
	t.Run("demo-event", func(t *testing.T) {
		got := generate(t, "../testdata/demo/demo.bpf.o", witgen.Options{
			Package: "acme:tracer@0.1.0", World: "guest", Types: []string{"event"},
		})
		compare(t, "../golden/wit/demo.event.wit", got)
	})
	t.Run("ringbuf-skeleton", func(t *testing.T) {
		compare(t, "../golden/wit/ringbuf.skeleton.wit", skeletonWIT(t, "../testdata/btf/ringbuf.bpf.o"))
	})
}

// skeletonWIT is what wbpfgen wit prints for a BPF object by default: the skeleton's types.
func skeletonWIT(t *testing.T, path string) []byte {
	t.Helper()
	o, err := bpfobj.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := o.SkeletonTypes(nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := witgen.Generate(o.Model, witgen.Options{Source: path, Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSelectionKeepsNames: a --type selection prints the same declarations, with the same names,
// as the full output.
func TestSelectionKeepsNames(t *testing.T) {
	obj := "../testdata/btf/anon.bpf.o"
	full := string(generate(t, obj, witgen.Options{}))
	sel := string(generate(t, obj, witgen.Options{Types: []string{"an_outer"}}))
	body := sel[strings.Index(sel, "interface types {"):strings.Index(sel, "\n}\n")]
	for _, block := range strings.Split(body, "\n\n") {
		block = strings.TrimPrefix(block, "interface types {\n")
		if !strings.Contains(full, block) {
			t.Errorf("selected declaration not in the full output:\n%s", block)
		}
	}
	if strings.Contains(sel, "record an-same-shape") {
		t.Error("selection printed a type an_outer does not use")
	}
}

func TestErrors(t *testing.T) {
	m, err := layout.Load("../testdata/demo/demo.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts witgen.Options
		want error
	}{
		{witgen.Options{Types: []string{"no_such_type"}}, witgen.ErrUnknownType},
		{witgen.Options{Package: "Bad:Name"}, witgen.ErrName},
		{witgen.Options{Package: "nocolon"}, witgen.ErrName},
		{witgen.Options{World: "--pad0"}, witgen.ErrName},
		{witgen.Options{World: "types"}, witgen.ErrName},
	} {
		if _, err := witgen.Generate(m, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.opts, err, tc.want)
		}
	}
}

// jco returns the path of the WIT parser; in CI (CI=true) its absence fails the test.
func jco(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(jcoPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		msg := fmt.Sprintf("WIT parser not installed at %s (run scripts/setup.sh, which installs @bytecodealliance/jco@1.10.0 there)", abs)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node not found (run scripts/setup.sh)")
		}
		t.Skip("node not found (run scripts/setup.sh)")
	}
	return abs
}

// parse runs the parser on each file, several at a time; it returns one error per failing file.
func parse(t *testing.T, jcoBin string, files []string) map[string]error {
	t.Helper()
	var mu sync.Mutex
	errs := make(map[string]error)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out := filepath.Join(filepath.Dir(f), "ts-"+filepath.Base(f))
			cmd := exec.Command(jcoBin, "types", f, "-o", out)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				mu.Lock()
				errs[f] = fmt.Errorf("%v: %s", err, firstLines(stderr.String(), 8))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// TestParserAcceptsOutput: every generated file (every test object, a --type selection, and the
// running kernel's BTF) is read by the reference WIT parser.
func TestParserAcceptsOutput(t *testing.T) {
	bin := jco(t)
	dir := t.TempDir()
	var files []string
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	for _, obj := range fixtures(t) {
		write(objName(obj)+".wit", generate(t, obj, witgen.Options{}))
	}
	write("ringbuf.skeleton.wit", skeletonWIT(t, "../testdata/btf/ringbuf.bpf.o"))
	write("demo.event.wit", generate(t, "../testdata/demo/demo.bpf.o", witgen.Options{
		Package: "acme:tracer@0.1.0", World: "guest", Types: []string{"event"},
	}))
	if _, err := os.Stat(vmlinux); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("kernel BTF: %v", err)
		}
		t.Logf("kernel BTF not available, vmlinux not checked: %v", err)
	} else {
		start := time.Now()
		write("vmlinux.wit", generate(t, vmlinux, witgen.Options{}))
		t.Logf("vmlinux: generated in %v", time.Since(start).Round(time.Millisecond))
	}
	start := time.Now()
	for f, err := range parse(t, bin, files) {
		t.Errorf("%s: rejected by the WIT parser: %v", filepath.Base(f), err)
	}
	t.Logf("%d files parsed in %v", len(files), time.Since(start).Round(time.Millisecond))
}

// TestParserRejects proves the check above has teeth: what the parser refuses, it reports.
func TestParserRejects(t *testing.T) {
	bin := jco(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.wit")
	src := "package a:b;\ninterface types {\n  record r {\n    --pad0: u8,\n  }\n}\nworld w {\n  import types;\n}\n"
	if err := os.WriteFile(bad, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if errs := parse(t, bin, []string{bad}); errs[bad] == nil {
		t.Fatal("the parser accepted an invalid identifier")
	}
}

// TestFlags: one-bit bitfields from bit 0 become WIT flags (no fixture object has them; the
// kernel's task_struct does). The BTF is built here: struct fl { u8 a:1, b:1, c:1; u8 d; }.
func TestFlags(t *testing.T) {
	u8 := &btf.Int{Name: "unsigned char", Size: 1}
	s := &btf.Struct{Name: "fl", Size: 2, Members: []btf.Member{
		{Name: "a", Type: u8, Offset: 0, BitfieldSize: 1},
		{Name: "b", Type: u8, Offset: 1, BitfieldSize: 1},
		{Name: "type", Type: u8, Offset: 2, BitfieldSize: 1},
		{Name: "d", Type: u8, Offset: 8},
	}}
	m := model(t, s)
	got, err := witgen.Generate(m, witgen.Options{Source: "flags.btf"})
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "../golden/wit/flags.wit", got)
	if bin := jcoIfPresent(); bin != "" {
		f := filepath.Join(t.TempDir(), "flags.wit")
		if err := os.WriteFile(f, got, 0o644); err != nil {
			t.Fatal(err)
		}
		if errs := parse(t, bin, []string{f}); errs[f] != nil {
			t.Fatal(errs[f])
		}
	}
}

func jcoIfPresent() string {
	abs, err := filepath.Abs(jcoPath)
	if err != nil {
		return ""
	}
	if _, err := os.Stat(abs); err != nil {
		return ""
	}
	return abs
}
