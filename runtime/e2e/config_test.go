package e2e

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/gogen"
)

// configNames are the kernel names of config.bpf.o's programs and maps.
var configNames = []string{"wbpfe2e_cf_prob", "wbpfe2e_cf_btf", "wbpfe2e_cf_typed", "wbpfe2e_cf_offuser",
	"wbpfe2e_cf_cnt", "wbpfe2e_cf_vs", "wbpfe2e_cf_off"}

// TestConfigKernel: a C guest on config.bpf.o's skeleton uses every wbpf_config setter before
// load, and the kernel shows each one took: the tp_btf program retargeted with
// bpf_program__set_attach_target is attached to sys_enter (its link says so, and it counts the
// test's getppid calls); bpf_program__set_type made the tc program a socket filter (which the
// default policy allows); the map resized with set_value_size and set_max_entries has
// value_size 24 and max_entries 99 and takes 24-byte values; the map switched off with
// set_autocreate exists nowhere, nor its one user, and its skeleton field gives -ENOENT. The
// guest also reports the errnos of bad input to the raw setters, checked against runtime/abi.
func TestConfigKernel(t *testing.T) {
	snap := testutils.LeakCheck(t, configNames...)
	requireTPBTF(t)
	wasm, _ := skelGuest(t, "config", "config")

	const n = 5
	args := []string{"config.wasm", strconv.Itoa(os.Getpid()), strconv.Itoa(syscall.SYS_GETPPID), strconv.Itoa(n)}
	var stderr testutils.SyncBuffer
	cfg := config(t, args...)
	cfg = cfg.WithStderr(io.MultiWriter(&testWriter{t: t, prefix: "guest stderr: "}, &stderr))
	r := start(context.Background(), t, wasm, cfg)
	r.waitFor("attached", time.Minute)
	checkConfigKernel(t, snap)
	trigger(t, n)
	code, out := r.wait(time.Minute)
	if code != 0 {
		t.Fatalf("guest exit code %d; output %q", code, out)
	}
	// The load with the map's user left on: the verifier reached a poisoned load of the map.
	const used = "program wbpfe2e_cf_offuser uses map wbpfe2e_cf_off, which was switched off with set_autocreate"
	if !strings.Contains(stderr.String(), used) {
		t.Errorf("stderr does not say %q:\n%s", used, stderr.String())
	}
	checkConfigOutput(t, out, n, "bad_unknown_map", "bad_unknown_prog", "bad_unknown_autocreate",
		"bad_value_size_0", "bad_resize_rodata", "bad_type_0", "bad_type_1000", "bad_empty_target",
		"bad_bad_handle", "bad_used_off", "bad_load", "bad_after_load", "bad_load_again",
		"skel_used_off", "off_fd", "off_find_fd")
}

// TestGoConfig is TestConfigKernel for a Go guest (testdata/goconfig) on the bindings wbpfgen go
// generates for config.bpf.o: the same settings through sdk/go, the same kernel state; the
// field of the map switched off fails with ENOENT, as Object.Map does, and the typed field of
// the resized map refuses 8-byte values with EINVAL, as does its Map given an 8-byte buffer.
func TestGoConfig(t *testing.T) {
	snap := testutils.LeakCheck(t, configNames...)
	requireTPBTF(t)
	wasm := goSkelGuest(t, "config", "goconfig")
	const n = 5
	args := []string{"goconfig.wasm", strconv.Itoa(os.Getpid()), strconv.Itoa(syscall.SYS_GETPPID), strconv.Itoa(n)}
	r := start(context.Background(), t, wasm, config(t, args...))
	r.waitFor("attached", time.Minute)
	checkConfigKernel(t, snap)
	trigger(t, n)
	code, out := r.wait(time.Minute)
	if code != 0 {
		t.Fatalf("guest exit code %d; output %q", code, out)
	}
	checkConfigOutput(t, out, n, "skel_used_off", "off_fd", "off_find_fd", "off_reader", "vs_typed", "vs_short")
}

// requireTPBTF skips, quoting the kernel, unless it loads and attaches a tp_btf program on
// sys_enter, as the config guests do (fentry, which needs trampolines, is refused here; tp_btf
// does not).
func requireTPBTF(t *testing.T) {
	t.Helper()
	testutils.Probe(t, "tp_btf/sys_enter", func() error {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Name: "wbpfe2e_cf_prob", Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp, AttachTo: "sys_enter",
			License: "GPL", Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
		})
		if err != nil {
			return err
		}
		defer p.Close()
		l, err := link.AttachTracing(link.TracingOptions{Program: p, AttachType: ebpf.AttachTraceRawTp})
		if err != nil {
			return err
		}
		return l.Close()
	})
}

// configErrnos are the errnos the config guests report, by the name they print.
var configErrnos = map[string]abi.Errno{
	"bad_unknown_map":        abi.ENOENT,
	"bad_unknown_prog":       abi.ENOENT,
	"bad_unknown_autocreate": abi.ENOENT,
	"bad_value_size_0":       abi.EINVAL,
	"bad_resize_rodata":      abi.EOPNOTSUPP,
	"bad_type_0":             abi.EINVAL,
	"bad_type_1000":          abi.EINVAL,
	"bad_empty_target":       abi.EINVAL,
	"bad_bad_handle":         abi.EBADF,
	"bad_used_off":           abi.EINVAL, // the verifier reaches a use of the map switched off
	"bad_load":               0,
	"bad_after_load":         abi.EBUSY,
	"bad_load_again":         abi.EBUSY,
	"skel_used_off":          abi.EINVAL,
	"off_fd":                 abi.ENOENT, // the skeleton's field of the map switched off
	"off_find_fd":            abi.ENOENT, // the same map by name
	"off_reader":             abi.ENOENT, // a reader of it, refused at creation (Go, Rust)
	"vs_typed":               abi.EINVAL, // the typed field of the map resized to 24 bytes
	"vs_short":               abi.EINVAL, // an 8-byte buffer for its 24-byte values (Go)
}

// checkConfigOutput: the guest printed each of keys with its errno in configErrnos, and counted
// n getppid calls with the program retargeted to sys_enter, then closed.
func checkConfigOutput(t *testing.T, out []string, n int, keys ...string) {
	t.Helper()
	v := values(out)
	for _, k := range keys {
		want := configErrnos[k]
		if got := v[k]; got != strconv.Itoa(int(want)) {
			t.Errorf("%s: errno %q, want %d (%v)", k, got, want, want)
		}
	}
	if v["btf"] != strconv.Itoa(n) {
		t.Errorf("wbpfe2e_cf_btf counted %s getppid calls, want %d: not attached to sys_enter", v["btf"], n)
	}
	if len(out) == 0 || out[len(out)-1] != "closed" {
		t.Errorf("the guest did not close: last lines %q", out[max(0, len(out)-3):])
	}
}

// goSkelGuest builds testdata/<guest> (package main) for wasip1 in a module of its own, with the
// bindings wbpfgen go generates for testdata/<obj>.bpf.c and the object beside them.
func goSkelGuest(t *testing.T, obj, guest string) []byte {
	t.Helper()
	gobin := testutils.RequireTool(t, "go")
	o, err := bpfobj.Load(testutils.BuildBPF(t, filepath.Join("testdata", obj+".bpf.c")))
	if err != nil {
		t.Fatal(err)
	}
	bindings, err := gogen.Generate(o, gogen.Options{Package: "main"})
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("testdata", guest, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"go.mod": []byte("module " + guest + "\n\ngo 1.23\n\nrequire github.com/wbpf/wbpf/sdk/go v0.0.0\n\nreplace github.com/wbpf/wbpf/sdk/go => " +
			filepath.Join(testutils.RepoRoot(t), "sdk", "go") + "\n"),
		"main.go":       src,
		obj + "_bpf.go": bindings,
		obj + ".bpf.o":  o.Bytes,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command(gobin, "build", "-o", guest+".wasm", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	wasm, err := os.ReadFile(filepath.Join(dir, guest+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

// checkConfigKernel: while the guest of config.bpf.o runs, the kernel holds what its settings
// asked for.
func checkConfigKernel(t *testing.T, snap *testutils.Snapshot) {
	t.Helper()
	objs, err := snap.New(configNames...)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, ko := range objs {
		kinds[ko.Kind+" "+ko.Name]++
		switch {
		case ko.Kind == "map" && ko.Name == "wbpfe2e_cf_vs":
			m, err := ebpf.NewMapFromID(ebpf.MapID(ko.ID))
			if err != nil {
				t.Fatal(err)
			}
			info, err := m.Info()
			m.Close()
			if err != nil {
				t.Fatal(err)
			}
			if info.ValueSize != 24 || info.MaxEntries != 99 {
				t.Errorf("wbpfe2e_cf_vs: value_size %d max_entries %d, want 24 and 99 (set before load; the object says 8 and 8)", info.ValueSize, info.MaxEntries)
			}
		case ko.Kind == "prog" && ko.Name == "wbpfe2e_cf_typed":
			p, err := ebpf.NewProgramFromID(ebpf.ProgramID(ko.ID))
			if err != nil {
				t.Fatal(err)
			}
			info, err := p.Info()
			p.Close()
			if err != nil {
				t.Fatal(err)
			}
			if info.Type != ebpf.SocketFilter {
				t.Errorf("wbpfe2e_cf_typed: type %v, want SocketFilter (set before load; the section says tc)", info.Type)
			}
		case ko.Kind == "link" && ko.Name == "wbpfe2e_cf_btf":
			checkRawTracepoint(t, ko.ID, "sys_enter")
		}
	}
	want := map[string]int{"prog wbpfe2e_cf_btf": 1, "link wbpfe2e_cf_btf": 1, "prog wbpfe2e_cf_typed": 1,
		"map wbpfe2e_cf_cnt": 1, "map wbpfe2e_cf_vs": 1}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("kernel has %d of %s, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	for _, k := range []string{"map wbpfe2e_cf_off", "prog wbpfe2e_cf_offuser", "link wbpfe2e_cf_offuser", "prog wbpfe2e_cf_offu", "link wbpfe2e_cf_offu"} {
		if kinds[k] != 0 {
			t.Errorf("kernel has %s, switched off before load (all: %v)", k, kinds)
		}
	}
}

// checkRawTracepoint: link id (a tp_btf program's: the kernel makes raw tracepoint links for
// them) is attached to the tracepoint want.
func checkRawTracepoint(t *testing.T, id uint32, want string) {
	t.Helper()
	l, err := link.NewFromID(link.ID(id))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	info, err := l.Info()
	if err != nil {
		t.Fatal(err)
	}
	rt := info.RawTracepoint()
	if rt == nil {
		t.Fatalf("link %d: type %v, not a raw tracepoint link", id, info.Type)
	}
	if rt.Name != want {
		t.Errorf("link %d attached to %q, want %q: set_attach_target not applied", id, rt.Name, want)
	}
}
