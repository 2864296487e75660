package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/tetratelabs/wazero"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/gogen"
)

// TestSetAutoload: a guest on a generated skeleton switches one of two programs off with
// bpf_program__set_autoload and resizes a map before load (wbpf_config). The kernel then holds
// the program left on, attached and counting, and not the other; the map has the new size; the
// skeleton's __attach skipped the program switched off, and attaching it by hand fails.
func TestSetAutoload(t *testing.T) {
	snap := testutils.LeakCheck(t, bpfNames...)
	wasm, _ := skelGuest(t, "autoload", "autoload")

	checkConfigImports(t, wasm)

	const n = 5
	r := start(context.Background(), t, wasm, config(t, "autoload.wasm", strconv.Itoa(os.Getpid()), strconv.Itoa(n)))
	r.waitFor("attached", 30*time.Second)

	checkAutoloadKernel(t, snap)

	trigger(t, n)
	code, out := r.wait(time.Minute)
	if code != 0 {
		t.Fatalf("guest exit code %d; output %q", code, out)
	}
	v := values(out)
	if v["on"] != strconv.Itoa(n) || v["off"] != "0" {
		t.Errorf("counters on=%s off=%s, want on=%d off=0", v["on"], v["off"], n)
	}
}

// TestGoSetAutoload: the same on a Go guest, testdata/goautoload, with the bindings wbpfgen go
// generates for autoload.bpf.o: Program.SetAutoload(false) and Object.SetMaxEntries before Load
// (sdk/go through wbpf_config), the bindings' Attach skipping the program switched off.
func TestGoSetAutoload(t *testing.T) {
	snap := testutils.LeakCheck(t, bpfNames...)
	gobin := testutils.RequireTool(t, "go")
	o, err := bpfobj.Load(testutils.BuildBPF(t, filepath.Join("testdata", "autoload.bpf.c")))
	if err != nil {
		t.Fatal(err)
	}
	bindings, err := gogen.Generate(o, gogen.Options{Package: "main"})
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("testdata", "goautoload", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"go.mod": []byte("module goautoload\n\ngo 1.23\n\nrequire github.com/wbpf/wbpf/sdk/go v0.0.0\n\nreplace github.com/wbpf/wbpf/sdk/go => " +
			filepath.Join(testutils.RepoRoot(t), "sdk", "go") + "\n"),
		"main.go":         src,
		"autoload_bpf.go": bindings,
		"autoload.bpf.o":  o.Bytes,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command(gobin, "build", "-o", "goautoload.wasm", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	wasm, err := os.ReadFile(filepath.Join(dir, "goautoload.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	checkConfigImports(t, wasm)

	const n = 5
	r := start(context.Background(), t, wasm, config(t, "goautoload.wasm", strconv.Itoa(os.Getpid()), strconv.Itoa(n)))
	r.waitFor("attached", time.Minute)
	checkAutoloadKernel(t, snap)
	trigger(t, n)
	code, out := r.wait(time.Minute)
	if code != 0 {
		t.Fatalf("guest exit code %d; output %q", code, out)
	}
	v := values(out)
	if v["on"] != strconv.Itoa(n) || v["off"] != "0" || out[len(out)-1] != "closed" {
		t.Errorf("counters on=%s off=%s, last line %q; want on=%d off=0, closed", v["on"], v["off"], out[len(out)-1], n)
	}
}

// checkAutoloadKernel: while the guest of autoload.bpf.o runs, the kernel holds wbpfe2e_al_on,
// loaded and attached (one link), and not wbpfe2e_al_off, neither program nor link; the hash map
// has the max_entries the guest set before load (77, the object says 16).
func checkAutoloadKernel(t *testing.T, snap *testutils.Snapshot) {
	t.Helper()
	objs, err := snap.New("wbpfe2e_al_on", "wbpfe2e_al_off", "wbpfe2e_al_hash")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, ko := range objs {
		kinds[ko.Kind+" "+ko.Name]++
		if ko.Kind == "map" && ko.Name == "wbpfe2e_al_hash" {
			m, err := ebpf.NewMapFromID(ebpf.MapID(ko.ID))
			if err != nil {
				t.Fatal(err)
			}
			info, err := m.Info()
			m.Close()
			if err != nil {
				t.Fatal(err)
			}
			if info.MaxEntries != 77 {
				t.Errorf("wbpfe2e_al_hash: max_entries %d, want 77 (set before load)", info.MaxEntries)
			}
		}
	}
	want := map[string]int{"prog wbpfe2e_al_on": 1, "link wbpfe2e_al_on": 1, "map wbpfe2e_al_hash": 1}
	if len(kinds) != len(want) || kinds["prog wbpfe2e_al_on"] != 1 || kinds["link wbpfe2e_al_on"] != 1 || kinds["map wbpfe2e_al_hash"] != 1 {
		t.Errorf("kernel objects %v, want %v: wbpfe2e_al_on loaded and attached, wbpfe2e_al_off neither, the hash map created", kinds, want)
	}
}

// checkConfigImports: the guest's wbpf_config imports are runtime/abi's ConfigFuncs, with their
// signatures, and it uses every one it needs for this test.
func checkConfigImports(t *testing.T, wasm []byte) {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	m, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]abi.Func{}
	for _, f := range abi.ConfigFuncs {
		table[f.Name] = f
	}
	seen := map[string]bool{}
	for _, def := range m.ImportedFunctions() {
		mod, fn, _ := def.Import()
		if mod != abi.ConfigModule {
			continue
		}
		want, ok := table[fn]
		if !ok {
			t.Errorf("guest imports %s.%s, which runtime/abi does not have", mod, fn)
			continue
		}
		seen[fn] = true
		var params []abi.ValueType
		for _, p := range want.Params {
			params = append(params, p.Type)
		}
		if got := def.ParamTypes(); string(got) != string(valueTypes(params)) {
			t.Errorf("%s: params %v, runtime/abi %v", fn, got, params)
		}
		if got := def.ResultTypes(); len(got) != 1 || got[0] != byte(want.Result.Type) {
			t.Errorf("%s: results %v, runtime/abi %v", fn, got, want.Result.Type)
		}
	}
	for _, f := range []abi.Func{abi.ConfigOpen, abi.ConfigLoad, abi.ConfigSetAutoload, abi.ConfigSetMaxEntries} {
		if !seen[f.Name] {
			t.Errorf("guest does not import %s", f.Name)
		}
	}
}
