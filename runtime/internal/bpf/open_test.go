package bpf

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/internal/policy"
)

// TestOpenConfigureLoad: an opened object takes every setter, refuses the calls that need a
// loaded object, loads without the programs and maps switched off, and refuses setters after.
func TestOpenConfigureLoad(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	r, _ := newTestRegistry(t)
	h, err := r.OpenObject(readFixture(t, "demo.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Attach(h, "wt_on_getppid", ""); !errors.Is(err, ErrNotLoaded) {
		t.Errorf("attach before load: %v, want ErrNotLoaded", err)
	}
	if _, err := r.MapToken(h, "wt_counts"); !errors.Is(err, ErrNotLoaded) {
		t.Errorf("map token before load: %v, want ErrNotLoaded", err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"autoload off", r.SetAutoload(h, "wt_kp_openat", false), nil},
		{"autoload unknown", r.SetAutoload(h, "nosuch", false), ErrNotFound},
		{"type", r.SetProgramType(h, "wt_raw_enter", uint32(ebpf.RawTracepoint)), nil},
		{"type 0", r.SetProgramType(h, "wt_raw_enter", 0), ErrBadValue},
		{"attach target", r.SetAttachTarget(h, "wt_raw_enter", "sys_enter"), nil},
		{"attach target empty", r.SetAttachTarget(h, "wt_raw_enter", ""), ErrBadValue},
		{"max entries", r.SetMaxEntries(h, "wt_counts", 333), nil},
		{"max entries 0", r.SetMaxEntries(h, "wt_counts", 0), ErrBadValue},
		{"max entries unknown", r.SetMaxEntries(h, "nosuch", 1), ErrNotFound},
		{"value size", r.SetValueSize(h, "wt_queue", 16), nil},
		{"value size .bss", r.SetValueSize(h, ".bss", 64), ErrUnsupported},
		{"autocreate off", r.SetAutocreate(h, "wt_cgroups", false), nil},
		{"bad handle", r.SetAutoload(h+100, "wt_on_getppid", false), ErrBadHandle},
	} {
		if !errors.Is(tc.err, tc.want) || (tc.want == nil) != (tc.err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if err := r.LoadOpened(h); err != nil {
		t.Fatal(err)
	}
	o, err := r.object(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := o.coll.Programs["wt_kp_openat"]; ok {
		t.Error("wt_kp_openat loaded though switched off")
	}
	if _, ok := o.coll.Programs["wt_on_getppid"]; !ok {
		t.Error("wt_on_getppid not loaded")
	}
	if _, ok := o.coll.Maps["wt_cgroups"]; ok {
		t.Error("wt_cgroups created though switched off")
	}
	if _, err := r.MapToken(h, "wt_cgroups"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "set_autocreate") {
		t.Errorf("token of a map switched off: %v, want ErrNotFound saying set_autocreate", err)
	}
	if err := r.Attach(h, "wt_kp_openat", ""); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "set_autoload") {
		t.Errorf("attach of a program switched off: %v, want ErrNotFound saying set_autoload", err)
	}
	info, err := o.coll.Maps["wt_counts"].Info()
	if err != nil || info.MaxEntries != 333 {
		t.Errorf("wt_counts max_entries %v (%v), want 333", info, err)
	}
	if err := r.SetAutoload(h, "wt_on_getppid", false); !errors.Is(err, ErrLoaded) {
		t.Errorf("setter after load: %v, want ErrLoaded", err)
	}
	if err := r.LoadOpened(h); !errors.Is(err, ErrLoaded) {
		t.Errorf("second load: %v, want ErrLoaded", err)
	}
	if err := r.Attach(h, "wt_on_getppid", ""); err != nil {
		testutils.SkipIfNotSupported(t, err)
		t.Errorf("attach after load: %v", err)
	}
	if err := r.Close(h); err != nil {
		t.Error(err)
	}
}

// TestAutocreateOffUsedMap: a map switched off that a loaded program uses on a path the
// verifier reaches fails the load with the verifier's EINVAL (as under libbpf), naming program
// and map, and the object stays opened: switching the program off too then loads. (Uses in dead
// code load: TestAutocreateOffDeadUse.)
func TestAutocreateOffUsedMap(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	r, _ := newTestRegistry(t)
	h, err := r.OpenObject(readFixture(t, "demo.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(h)
	if err := r.SetAutocreate(h, "wt_counts", false); err != nil {
		t.Fatal(err)
	}
	err = r.LoadOpened(h)
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "program wt_on_getppid uses map wt_counts, which was switched off") {
		t.Fatalf("load: %v, want EINVAL naming wt_on_getppid and wt_counts", err)
	}
	t.Logf("load: %v", err)
	if err := r.SetAutoload(h, "wt_on_getppid", false); err != nil {
		t.Fatalf("the object did not stay opened: %v", err)
	}
	if err := r.LoadOpened(h); err != nil {
		t.Fatalf("load with the user switched off too: %v", err)
	}
}

// TestOpenThenClose: an object opened and never loaded closes, and its handle is gone.
func TestOpenThenClose(t *testing.T) {
	r, _ := newTestRegistry(t)
	h, err := r.OpenObject(readFixture(t, "demo.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(h); err != nil {
		t.Fatal(err)
	}
	if err := r.SetAutoload(h, "wt_on_getppid", false); !errors.Is(err, ErrBadHandle) {
		t.Errorf("after close: %v, want ErrBadHandle", err)
	}
	if _, err := r.OpenObject([]byte("not elf")); !errors.Is(err, ErrInvalidObject) {
		t.Errorf("open of garbage: %v, want ErrInvalidObject", err)
	}
}

// TestOpenObjectLimit: an opened object holds a handle and counts against the object limit;
// loading it does not count it twice.
func TestOpenObjectLimit(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	r := NewRegistry(Options{Policy: policy.Privileged(), Limits: Limits{Objects: 1}})
	defer r.CloseAll()
	h, err := r.OpenObject(readFixture(t, "demo.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.OpenObject(readFixture(t, "demo.bpf.o")); err == nil {
		t.Error("a second object opened past the limit of 1")
	}
	if err := r.LoadOpened(h); err != nil {
		t.Fatalf("loading the one opened object: %v", err)
	}
}

// TestSetMapTypeKeySize: libbpf-tools' perf fallback (a ring buffer made a perf event array
// with 4-byte key and value) and a key resize; MapInfo shows the settings before load and what
// the kernel created after: a perf event array of one entry per possible CPU.
func TestSetMapTypeKeySize(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	r, _ := newTestRegistry(t)
	h, err := r.OpenObject(readFixture(t, "demo.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(h)
	perf := uint32(ebpf.PerfEventArray)
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"type", r.SetMapType(h, "wt_events2", perf), nil},
		{"key size", r.SetKeySize(h, "wt_events2", 4), nil},
		{"value size", r.SetValueSize(h, "wt_events2", 4), nil},
		{"key size of a BTF map", r.SetKeySize(h, "wt_counts", 8), nil},
		{"type 0", r.SetMapType(h, "wt_events2", 0), ErrBadValue},
		{"type 256", r.SetMapType(h, "wt_events2", 256), ErrBadValue},
		{"type unknown map", r.SetMapType(h, "nosuch", perf), ErrNotFound},
		{"type .rodata", r.SetMapType(h, ".rodata", uint32(ebpf.Hash)), ErrUnsupported},
		{"key size 0", r.SetKeySize(h, "wt_events2", 0), ErrBadValue},
		{"key size unknown map", r.SetKeySize(h, "nosuch", 4), ErrNotFound},
		{"key size .bss", r.SetKeySize(h, ".bss", 8), ErrUnsupported},
		{"bad handle", r.SetMapType(h+100, "wt_events2", perf), ErrBadHandle},
	} {
		if !errors.Is(tc.err, tc.want) || (tc.want == nil) != (tc.err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if got, err := r.MapInfo(h, "wt_events2"); err != nil || got != (MapInfo{perf, 4, 4, 4096, 0}) {
		t.Errorf("wt_events2 before load: %+v, %v; want perf event array 4/4/4096", got, err)
	}
	if ms := r.mustOpened(t, h).spec.Maps["wt_counts"]; ms.Key != nil || ms.Value != nil {
		t.Errorf("wt_counts kept its BTF key/value (%v, %v) after a key resize", ms.Key, ms.Value)
	}
	if got, err := r.ProgramInfo(h, "wt_raw_enter"); err != nil || got.Type != uint32(ebpf.RawTracepoint) {
		t.Errorf("wt_raw_enter before load: %+v, %v", got, err)
	}
	if err := r.SetAutoload(h, "wt_kp_openat", false); err != nil {
		t.Fatal(err)
	}
	if err := r.LoadOpened(h); err != nil {
		t.Fatal(err)
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.MapInfo(h, "wt_events2"); err != nil || got != (MapInfo{perf, 4, 4, uint32(cpus), 0}) {
		t.Errorf("wt_events2 after load: %+v, %v; want perf event array 4/4/%d", got, err, cpus)
	}
	if got, err := r.MapInfo(h, "wt_counts"); err != nil || got.KeySize != 8 || got.Type != uint32(ebpf.Hash) {
		t.Errorf("wt_counts after load: %+v, %v; want a hash with 8-byte keys", got, err)
	}
	if _, err := r.ProgramInfo(h, "wt_kp_openat"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "set_autoload") {
		t.Errorf("info of a program switched off: %v, want ErrNotFound saying set_autoload", err)
	}
	if got, err := r.ProgramInfo(h, "wt_on_getppid"); err != nil || got.Type != uint32(ebpf.TracePoint) {
		t.Errorf("wt_on_getppid after load: %+v, %v", got, err)
	}
	if err := r.SetKeySize(h, "wt_counts", 4); !errors.Is(err, ErrLoaded) {
		t.Errorf("key size after load: %v, want ErrLoaded", err)
	}
}

func (r *Registry) mustOpened(t *testing.T, h uint64) *Object {
	t.Helper()
	o, err := r.opened(h)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
