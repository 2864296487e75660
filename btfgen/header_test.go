package btfgen_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wbpf/wbpf/internal/golden"
	"github.com/wbpf/wbpf/internal/testutils"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wbpf/wbpf/btfgen"
	"github.com/wbpf/wbpf/btfgen/layout"
)

const vmlinux = "/sys/kernel/btf/vmlinux"

func fixtures(t *testing.T) []string { return golden.Fixtures(t, "..") }

func objName(path string) string { return golden.ObjName(path) }

func load(t testing.TB, path string) *layout.Model {
	t.Helper()
	m, err := layout.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	vmlinuxOnce  sync.Once
	vmlinuxModel *layout.Model
	vmlinuxErr   error
)

// loadVmlinux loads the running kernel's BTF once for all tests.
func loadVmlinux(t *testing.T) *layout.Model {
	t.Helper()
	vmlinuxOnce.Do(func() { vmlinuxModel, vmlinuxErr = layout.Load(vmlinux) })
	if vmlinuxErr != nil {
		t.Fatalf("kernel BTF: %v", vmlinuxErr)
	}
	return vmlinuxModel
}

// compare checks got against a golden file (go test -update rewrites it).
func compare(t *testing.T, path string, got []byte) {
	t.Helper()
	golden.Compare(t, path, got)
}

func header(t testing.TB, m *layout.Model, src string, target btfgen.Target) []byte {
	t.Helper()
	h, err := btfgen.Header(m, btfgen.Options{Target: target, Source: src})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHeaderGolden(t *testing.T) {
	for _, obj := range fixtures(t) {
		t.Run(objName(obj), func(t *testing.T) {
			m := load(t, obj)
			for _, target := range []btfgen.Target{btfgen.Wasm32, btfgen.Native} {
				got := header(t, m, obj, target)
				again := header(t, load(t, obj), obj, target)
				if !bytes.Equal(got, again) {
					t.Fatalf("%s: output differs between two runs", target)
				}
				compare(t, filepath.Join("../golden/header", objName(obj)+"."+target.String()+".h"), got)
			}
		})
	}
}

func TestHeaderTypeSelection(t *testing.T) {
	m := load(t, "../testdata/demo/demo.bpf.o")
	got, err := btfgen.Header(m, btfgen.Options{Target: btfgen.Wasm32, Source: "demo.bpf.o", Types: []string{"event"}})
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "../golden/header/demo.event.wasm32.h", got)

	// Native: what the selection points to is declared, not defined.
	m = load(t, "../testdata/btf/pointers.bpf.o")
	got, err = btfgen.Header(m, btfgen.Options{Target: btfgen.Native, Source: "pointers.bpf.o", Types: []string{"ptr_basic"}})
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "../golden/header/pointers.ptr_basic.native.h", got)

	// Both selections stand alone.
	dir := t.TempDir()
	write(t, dir, "native.h", got)
	run(t, dir, clangPath(t), "--target=bpf", "-fsyntax-only", "-x", "c", "native.h")
	write(t, dir, "wasm.h", mustRead(t, "../golden/header/demo.event.wasm32.h"))
	run(t, dir, clangPath(t), "--target=wasm32-wasi", "-fsyntax-only", "-x", "c", "wasm.h")

	_, err = btfgen.Header(m, btfgen.Options{Types: []string{"no_such_type"}})
	if err == nil || !strings.Contains(err.Error(), "no_such_type") {
		t.Fatalf("unknown --type: got %v", err)
	}
}

func TestLayoutCheck(t *testing.T) {
	for _, obj := range fixtures(t) {
		t.Run(objName(obj), func(t *testing.T) {
			t.Parallel()
			m := load(t, obj)
			for _, target := range []btfgen.Target{btfgen.Wasm32, btfgen.Native} {
				layoutCheck(t, m, obj, target)
			}
		})
	}
}

// TestLayoutCheckVmlinux checks the header for the running kernel's whole BTF.
func TestLayoutCheckVmlinux(t *testing.T) {
	if _, err := os.Stat(vmlinux); err != nil {
		t.Skipf("kernel has no BTF: %v", err)
	}
	m := loadVmlinux(t)
	for _, target := range []btfgen.Target{btfgen.Wasm32, btfgen.Native} {
		t.Run(target.String(), func(t *testing.T) {
			layoutCheck(t, m, vmlinux, target)
		})
	}
}

// layoutCheck compiles the header with a check generated from BTF alone, for the target's ABI,
// and runs the bitfield checks: wasm32 in wazero, native as an x86_64 program.
func layoutCheck(t *testing.T, m *layout.Model, src string, target btfgen.Target) {
	t.Helper()
	dir := t.TempDir()
	h := header(t, m, src, target)
	check, err := btfgen.LayoutCheck(m, target, "gen.h")
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "gen.h", h)
	write(t, dir, "check.c", check)
	write(t, dir, "main.c", []byte(btfgen.LayoutCheckMain))

	clang := clangPath(t)
	switch target {
	case btfgen.Wasm32:
		write(t, dir, "libc.c", btfgen.LibcCoexistence("gen.h"))
		run(t, dir, clang, "--target=wasm32-wasi", "-fsyntax-only", "-Werror", "libc.c")
		run(t, dir, clang, "--target=wasm32-wasi", "-O0", "-Wno-bitfield-constant-conversion", "-o", "check.wasm", "check.c", "main.c")
		out, code := runWasm(t, filepath.Join(dir, "check.wasm"))
		if code != 0 {
			t.Fatalf("wasm32 layout check failed:\n%s", out)
		}
	case btfgen.Native:
		// The native header is the BPF side's ABI: check it as x86-64 (LP64 like BPF) code.
		run(t, dir, clang, "--target=x86_64-linux-gnu", "-O0", "-DBPF_NO_PRESERVE_ACCESS_INDEX",
			"-Wno-bitfield-constant-conversion", "-c", "-o", "check.o", "check.c")
		run(t, dir, clang, "--target=x86_64-linux-gnu", "-o", "check", "check.o", "main.c")
		out, err := exec.Command(filepath.Join(dir, "check")).CombinedOutput()
		if err != nil {
			t.Fatalf("native layout check failed: %v\n%s", err, out)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func write(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func clangPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("clang-19")
	if err != nil {
		t.Fatalf("clang-19 is required (bash scripts/setup.sh installs it): %v", err)
	}
	return p
}

func run(t *testing.T, dir, name string, args ...string) { testutils.Run(t, dir, name, args...) }

// runWasm runs a WASI command module and returns its output and exit status.
func runWasm(t *testing.T, path string) (string, uint32) {
	t.Helper()
	ctx := context.Background()
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	var out bytes.Buffer
	_, err = r.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithStdout(&out).WithStderr(&out))
	if err == nil {
		return out.String(), 0
	}
	if exit, ok := err.(*sys.ExitError); ok {
		return out.String(), exit.ExitCode()
	}
	t.Fatalf("run %s: %v", path, err)
	return "", 0
}
