// Package e2e proves the generated C skeleton, Go and Rust bindings end to end: a BPF program
// fills an event holding every hard layout case with known values, and a C guest (wbpfgen
// skeleton), a Go guest (wbpfgen go) and a Rust guest (wbpfgen rust), run by the real runtime on
// the kernel, decode and print every field. Needs root and a BPF-capable kernel; internal/testutils decides what may skip.
package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/internal/testutils/guestrun"
	"github.com/wbpf/wbpf/runtime"
	"github.com/wbpf/wbpf/skeleton"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/gogen"
	"github.com/wbpf/wbpf/skeleton/rustgen"
)

func TestMain(m *testing.M) { os.Exit(testutils.Main(m)) }

const (
	src    = "../../testdata/e2e/layout.bpf.c"
	events = 3
	magic  = uint64(0x0123456789abcdef) // .rodata, set by the guest before load, echoed by BPF
)

// expected is every field of struct lay_event as layout.bpf.c fills it, as the guests print it.
func expected() map[string]string {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	return map[string]string{
		"u32a": u(0x11223344), "u64b": u(0x0102030405060708), "name": "hello-layout",
		"s8": i(-5), "s16": i(-1234), "ptr": u(0xffff888812345678), "lng": i(-123456789012),
		"bf1": u(5), "bf2": u(777), "bf3": i(-42), "bf4": u(0xabcdef1234),
		"ux": u(0xdeadbeef), "ub0": u(0xef), "ub5": u(0x77),
		"anon_u64": u(0x1111222233334444), "anon_u16": u(0x4444),
		"n1": u(7), "n2": u(0x55667788),
		"inner_a": u(0x1234), "inner_b": u(0x56), "inner_c": u(0x789abcde),
		"inners0_a": u(11), "inners1_c": u(99),
		"color": u(0x7fffffff), "small": u(200), "flag": u(1),
		"pk_a": u(0xa1a2a3a4), "pk_b": u(0xb1b2b3b4b5b6b7b8), "neg": i(-1),
		"rodata_echo": u(magic),
	}
}

// TestLayoutsEndToEnd runs both guests; each must print every field with its known value,
// distinct sequence numbers 1..N, and the .bss counter N.
func TestLayoutsEndToEnd(t *testing.T) {
	testutils.LeakCheck(t, "lay_prog", "lay_events")
	obj := testutils.BuildBPF(t, src)
	o, err := bpfobj.Load(obj)
	if err != nil {
		t.Fatal(err)
	}
	guests := map[string]func(*testing.T) []byte{
		"c":    func(t *testing.T) []byte { return cGuest(t, o) },
		"go":   func(t *testing.T) []byte { return goGuest(t, o, obj) },
		"rust": func(t *testing.T) []byte { return rustGuest(t, o, testutils.BuildRustGuest) },
		// The Rust SDK's named-export path: no function table, samples through "go-callback".
		"rust-callback-export": func(t *testing.T) []byte { return rustGuest(t, o, testutils.BuildRustGuestCallbackExport) },
	}
	for _, name := range []string{"c", "go", "rust", "rust-callback-export"} {
		t.Run(name, func(t *testing.T) {
			wasm := guests[name](t)
			out := runGuest(t, wasm)
			check(t, out)
		})
	}
}

func cGuest(t *testing.T, o *bpfobj.Object) []byte {
	skel, err := skeleton.Generate(o, skeleton.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "layout.skel.h"), skel, 0o644); err != nil {
		t.Fatal(err)
	}
	path := testutils.BuildGuest(t, "../../testdata/e2e/layout_guest.c", "-I", dir)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goGuest builds testdata/e2e/goguest with the generated bindings in a module that requires
// this repository through a replace directive, for GOOS=wasip1 GOARCH=wasm.
func goGuest(t *testing.T, o *bpfobj.Object, obj string) []byte {
	bindings, err := gogen.Generate(o, gogen.Options{Package: "main"})
	if err != nil {
		t.Fatal(err)
	}
	main, err := os.ReadFile("../../testdata/e2e/goguest/main.go")
	if err != nil {
		t.Fatal(err)
	}
	return guestrun.BuildGo(t, "layoutguest", map[string][]byte{
		"main.go":       main,
		"layout_bpf.go": bindings,
		"layout.bpf.o":  o.Bytes,
	})
}

// rustGuest builds testdata/e2e/rustguest with the bindings wbpfgen rust generates, on the wbpf
// crate, for wasm32-wasi with Debian's Rust toolchain.
func rustGuest(t *testing.T, o *bpfobj.Object, build func(testing.TB, string, ...string) string) []byte {
	bindings, err := rustgen.Generate(o, rustgen.Options{ObjectFile: "layout.bpf.o"})
	if err != nil {
		t.Fatal(err)
	}
	main, err := os.ReadFile("../../testdata/e2e/rustguest/main.rs")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"main.rs": main, "layout_bpf.rs": bindings, "layout.bpf.o": o.Bytes} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(build(t, filepath.Join(dir, "main.rs"), "-D", "warnings"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runGuest runs the guest with the runtime, fires the tracepoint once it has attached, and
// returns its output lines.
func runGuest(t *testing.T, wasm []byte) []string {
	cfg := runtime.NewConfig().
		WithArgs([]string{"layout.wasm", strconv.Itoa(os.Getpid()), strconv.FormatUint(magic, 10), strconv.Itoa(events)})
	attached := false
	return guestrun.Run(t, wasm, cfg, func(line string) {
		if line == "attached" && !attached {
			attached = true
			guestrun.Trigger(events)
		}
	})
}

func check(t *testing.T, out []string) {
	t.Helper()
	want := expected()
	seen := map[string]bool{}
	n := 0
	for _, line := range out {
		if strings.HasPrefix(line, "FAIL") {
			t.Errorf("guest: %s", line)
		}
		if !strings.HasPrefix(line, "event ") {
			continue
		}
		n++
		got := map[string]string{}
		for _, f := range strings.Fields(line)[1:] {
			k, v, _ := strings.Cut(f, "=")
			got[k] = v
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("event %d: %s=%q, want %q", n, k, got[k], v)
			}
		}
		seq := got["seq"]
		if seen[seq] {
			t.Errorf("event %d: seq %s again", n, seq)
		}
		seen[seq] = true
		if s, err := strconv.Atoi(seq); err != nil || s < 1 || s > events {
			t.Errorf("event %d: seq %q not in 1..%d", n, seq, events)
		}
		if len(got) != len(want)+1 {
			t.Errorf("event %d: %d fields, want %d", n, len(got), len(want)+1)
		}
	}
	if n != events {
		t.Errorf("%d events, want %d", n, events)
	}
	vals := map[string]string{}
	for _, line := range out {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.Contains(k, " ") {
			vals[k] = v
		}
	}
	if vals["hits"] != strconv.Itoa(events) {
		t.Errorf(".bss hits=%q, want %d", vals["hits"], events)
	}
}
