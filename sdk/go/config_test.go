package wbpf

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func openTest(t *testing.T) *Object {
	t.Helper()
	o, err := Open([]byte("\x7fELF...."))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestConfigRecords: the setters record their changes in order, the queries report them, and
// an object without changes keeps the original load path.
func TestConfigRecords(t *testing.T) {
	o := openTest(t)
	if !o.Program("p").Autoload() || !o.Autocreate("m") || o.cfg != nil {
		t.Fatal("a fresh object reports changes")
	}
	steps := []struct {
		what string
		err  error
	}{
		{"autoload b off", o.Program("b").SetAutoload(false)},
		{"autoload a off", o.Program("a").SetAutoload(false)},
		{"autoload a on", o.Program("a").SetAutoload(true)},
		{"type b", o.Program("b").SetType(2)},
		{"attach target a", o.Program("a").SetAttachTarget("do_unlinkat")},
		{"max_entries m", o.SetMaxEntries("m", 77)},
		{"value_size m", o.SetValueSize("m", 16)},
		{"autocreate n off", o.SetAutocreate("n", false)},
	}
	for _, s := range steps {
		if s.err != nil {
			t.Errorf("%s: %v", s.what, s.err)
		}
	}
	if o.Program("b").Autoload() || !o.Program("a").Autoload() || !o.Program("c").Autoload() {
		t.Error("Autoload does not report what was set")
	}
	if o.Autocreate("n") || !o.Autocreate("m") {
		t.Error("Autocreate does not report what was set")
	}
	if got := strings.Join(o.cfg.progOrder, ","); got != "b,a" {
		t.Errorf("program order %s, want b,a (first change first)", got)
	}
	want := progConfig{off: true, typ: 2}
	if *o.cfg.progs["b"] != want {
		t.Errorf("program b: %+v, want %+v", *o.cfg.progs["b"], want)
	}
	if m := *o.cfg.maps["m"]; m != (mapConfig{maxEntries: 77, valueSize: 16}) {
		t.Errorf("map m: %+v", m)
	}
	// Outside wasm the runtime's open fails: Load went through wbpf_config.
	if err := o.Load(); !errors.Is(err, EINVAL) || !strings.Contains(err.Error(), "load: open:") {
		t.Errorf("Load of a changed object outside wasm: %v", err)
	}
}

// TestConfigErrors: bad values, a loaded and a closed object.
func TestConfigErrors(t *testing.T) {
	loaded := &Object{handle: 1, maps: map[string]*Map{}} // as OpenShared returns
	closed := openTest(t)
	closed.Close()
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"type 0", openTest(t).Program("p").SetType(0), EINVAL},
		{"attach target empty", openTest(t).Program("p").SetAttachTarget(""), EINVAL},
		{"max_entries 0", openTest(t).SetMaxEntries("m", 0), EINVAL},
		{"value_size 0", openTest(t).SetValueSize("m", 0), EINVAL},
		{"autoload loaded", loaded.Program("p").SetAutoload(false), ErrLoaded},
		{"type loaded", loaded.Program("p").SetType(2), ErrLoaded},
		{"attach target loaded", loaded.Program("p").SetAttachTarget("f"), ErrLoaded},
		{"max_entries loaded", loaded.SetMaxEntries("m", 1), ErrLoaded},
		{"value_size loaded", loaded.SetValueSize("m", 1), ErrLoaded},
		{"autocreate loaded", loaded.SetAutocreate("m", false), ErrLoaded},
		{"autoload closed", closed.Program("p").SetAutoload(false), ErrClosed},
		{"max_entries closed", closed.SetMaxEntries("m", 1), ErrClosed},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if loaded.cfg != nil {
		t.Error("a refused change was recorded")
	}
	o := openTest(t)
	if o.SetMaxEntries("m", 0) == nil || o.cfg.maps["m"] != nil && o.cfg.maps["m"].maxEntries != 0 {
		t.Error("a refused max_entries was recorded")
	}
}

// TestSwitchedOff: a program or map switched off is refused by Attach and Map without asking
// the host.
func TestSwitchedOff(t *testing.T) {
	o := &Object{handle: 1, maps: map[string]*Map{}, cfg: &objConfig{
		progs: map[string]*progConfig{"off": {off: true}}, maps: map[string]*mapConfig{"off": {off: true}}}}
	if _, err := o.Map("off"); !errors.Is(err, ENOENT) || !strings.Contains(err.Error(), "switched off") {
		t.Errorf("Map of a map switched off: %v", err)
	}
	if _, err := o.Map("on"); !errors.Is(err, ENOSYS) {
		t.Errorf("Map of a map left on: %v", err)
	}
	err := o.Program("off").Attach()
	if !errors.Is(err, ENOENT) || !strings.Contains(err.Error(), "switched off") {
		t.Errorf("Attach of a program switched off: %v", err)
	}
	// The host is asked for the others (ENOSYS outside wasm).
	if err := o.Program("on").Attach(); !errors.Is(err, ENOSYS) {
		t.Errorf("Attach of a program left on: %v", err)
	}
}

// TestDeclaredMap: the declared map of a map switched off exists, says it is not created, and
// fails every call with ENOENT naming it, without asking the host; the others are Map's.
func TestDeclaredMap(t *testing.T) {
	o := &Object{handle: 1, maps: map[string]*Map{}, cfg: &objConfig{
		progs: map[string]*progConfig{}, maps: map[string]*mapConfig{"off": {off: true}}}}
	m, err := o.DeclaredMap("off")
	if err != nil || m.Created() {
		t.Fatalf("DeclaredMap of a map switched off: %v, created %v", err, m.Created())
	}
	typed := TypedMap[uint32, uint64]{Map: m}
	_, lookupErr := typed.Lookup(1)
	_, readerErr := m.NewReader(func([]byte) int { return 0 })
	for what, err := range map[string]error{
		"lookup": lookupErr,
		"update": typed.Update(1, 2, UpdateAny),
		"delete": m.Delete(make([]byte, 4)),
		"reader": readerErr,
	} {
		if !errors.Is(err, ENOENT) || !strings.Contains(err.Error(), "map off: "+what) || !strings.Contains(err.Error(), "SetAutocreate") {
			t.Errorf("%s on a map switched off: %v", what, err)
		}
	}
	if _, err := o.DeclaredMap("on"); !errors.Is(err, ENOSYS) {
		t.Errorf("DeclaredMap of a map left on: %v, want the host asked (ENOSYS outside wasm)", err)
	}
	var nilMap *Map
	if nilMap.Created() {
		t.Error("a nil map says it was created")
	}
	if _, err := (&Object{}).DeclaredMap("off"); !errors.Is(err, ErrNotLoaded) {
		t.Errorf("DeclaredMap before Load: %v", err)
	}
}

// TestTypedMapResized: a typed map whose value_size was set to another size than its type's
// refuses lookups and updates (the host would write the new size into the old type) without
// asking the host; one set to the type's size goes on to the host.
func TestTypedMapResized(t *testing.T) {
	o := &Object{handle: 1, maps: map[string]*Map{}, cfg: &objConfig{
		progs: map[string]*progConfig{}, maps: map[string]*mapConfig{"big": {valueSize: 24}, "same": {valueSize: 8}}}}
	big := TypedMap[uint32, uint64]{Map: &Map{obj: o, name: "big", fd: 3}}
	_, err := big.Lookup(1)
	if !errors.Is(err, EINVAL) || !strings.Contains(err.Error(), "value_size set to 24") {
		t.Errorf("lookup on a resized map: %v", err)
	}
	if err := big.Update(1, 2, UpdateAny); !errors.Is(err, EINVAL) {
		t.Errorf("update on a resized map: %v", err)
	}
	same := TypedMap[uint32, uint64]{Map: &Map{obj: o, name: "same", fd: 3}}
	if _, err := same.Lookup(1); !errors.Is(err, ENOSYS) {
		t.Errorf("lookup on a map set to its own size: %v, want the host asked (ENOSYS outside wasm)", err)
	}
}

// TestMapBufferLengths: every map call checks its buffers against the sizes the object defines,
// with the value_size set before Load in place of the object's, without asking the host: a
// per-CPU map resized to another size than its type's fails with EINVAL instead of the host
// writing past the buffer, a raw call with a short value fails, and a stack map resized is
// read at its new depth (the generated Depth is the object's). Sizes that pass reach the host
// (ENOSYS outside wasm).
func TestMapBufferLengths(t *testing.T) {
	elf, err := os.ReadFile("../../skeleton/gogen/testdata/tricky.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	defer SetPossibleCPUs(possibleCPUs)
	SetPossibleCPUs(4)
	resized := func(sizes map[string]uint32) *Object {
		maps := map[string]*mapConfig{}
		for name, n := range sizes {
			maps[name] = &mapConfig{valueSize: n}
		}
		return &Object{buf: elf, handle: 1, maps: map[string]*Map{}, cfg: &objConfig{progs: map[string]*progConfig{}, maps: maps}}
	}
	o := resized(map[string]uint32{"tk_counts": 16, "tk_stacks": 200 * 8})
	plain := resized(nil)
	counts := PerCPUMap[uint32, uint64]{Map: &Map{obj: o, name: "tk_counts", fd: 3}}
	stacks := StackTraceMap{Map: &Map{obj: o, name: "tk_stacks", fd: 4}, Depth: 127}
	plainCounts := PerCPUMap[uint32, uint64]{Map: &Map{obj: plain, name: "tk_counts", fd: 3}}
	plainStacks := StackTraceMap{Map: &Map{obj: plain, name: "tk_stacks", fd: 4}, Depth: 127}
	_, countsErr := counts.Lookup(0)
	_, plainCountsErr := plainCounts.Lookup(0)
	_, stacksErr := stacks.Lookup(1)
	_, plainStacksErr := plainStacks.Lookup(1)
	raw := plainCounts.Map
	re := resized(map[string]uint32{"tk_counts": 16})
	re.cfg.maps["tk_counts"].typ, re.cfg.maps["tk_counts"].keySize = 2, 8 // BPF_MAP_TYPE_ARRAY
	retyped := &Map{obj: re, name: "tk_counts", fd: 3}
	for _, c := range []struct {
		name string
		err  error
		want error
		msg  string
	}{
		{"per-CPU lookup, resized", countsErr, EINVAL, "value of 32 bytes, the map's is 64 (value_size set to 16"},
		{"per-CPU update, resized", counts.Update(0, make([]uint64, 4), UpdateAny), EINVAL, "value of 32 bytes"},
		{"per-CPU lookup", plainCountsErr, ENOSYS, ""},
		{"stack lookup, resized", stacksErr, ENOSYS, ""},
		{"stack lookup", plainStacksErr, ENOSYS, ""},
		{"raw lookup, short value", raw.Lookup(make([]byte, 4), make([]byte, 8)), EINVAL, "value of 8 bytes, the map's is 32"},
		{"raw lookup, short key", raw.Lookup(make([]byte, 2), make([]byte, 32)), EINVAL, "key of 2 bytes, the map's is 4"},
		{"raw update", raw.Update(make([]byte, 4), make([]byte, 32), UpdateAny), ENOSYS, ""},
		{"raw delete, long key", raw.Delete(make([]byte, 8)), EINVAL, "key of 8 bytes"},
		{"raw first key", raw.NextKey(nil, make([]byte, 4)), ENOSYS, ""},
		{"raw next key, short", raw.NextKey(make([]byte, 4), make([]byte, 1)), EINVAL, "key of 1 bytes"},
		// Key size and type set before Load count as the value size does: tk_counts as a
		// plain array of 8-byte keys and 16-byte values.
		{"retyped, rekeyed: lookup", retyped.Lookup(make([]byte, 8), make([]byte, 16)), ENOSYS, ""},
		{"retyped, rekeyed: old key", retyped.Lookup(make([]byte, 4), make([]byte, 16)), EINVAL, "key of 4 bytes, the map's is 8"},
	} {
		if !errors.Is(c.err, c.want) || !strings.Contains(fmt.Sprint(c.err), c.msg) {
			t.Errorf("%s: %v, want %v saying %q", c.name, c.err, c.want, c.msg)
		}
	}
}

// TestPerCPULengthUnknownCPUs: a raw per-CPU value is refused while the number of CPUs is
// unknown (the host would write one slot per CPU), and checked once it is known.
func TestPerCPULengthUnknownCPUs(t *testing.T) {
	elf, err := os.ReadFile("../../skeleton/gogen/testdata/tricky.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	defer SetPossibleCPUs(possibleCPUs)
	possibleCPUs = 0
	m := &Map{obj: &Object{buf: elf, handle: 1, maps: map[string]*Map{}}, name: "tk_counts", fd: 3}
	if err := m.Lookup(make([]byte, 4), make([]byte, 64)); !errors.Is(err, EINVAL) || !strings.Contains(err.Error(), "CPUs unknown") {
		t.Errorf("lookup with the CPUs unknown: %v", err)
	}
	SetPossibleCPUs(2)
	if err := m.Lookup(make([]byte, 4), make([]byte, 16)); !errors.Is(err, ENOSYS) {
		t.Errorf("lookup of 2 slots for 2 CPUs: %v, want the host asked (ENOSYS outside wasm)", err)
	}
}
