package wbpf

import (
	"errors"
	"os"
	"testing"
)

// TestMapDef reads the map definitions of demo.bpf.o (skeleton/gogen's tests compare every
// fixture's with cilium/ebpf, which this module does not depend on).
func TestMapDef(t *testing.T) {
	data, err := os.ReadFile("../../testdata/demo/demo.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	o, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]MapDef{
		"exec_start": {KeySize: 4, ValueSize: 8}, // __type(key, int), __type(value, unsigned long long)
		"rb":         {ValueSize: 184},           // __type(value, struct event)
	} {
		if got, err := o.MapDef(name); err != nil || got != want {
			t.Errorf("MapDef(%s) = %+v, %v; want %+v", name, got, err, want)
		}
	}
	if err := o.CheckMap("exec_start", 4, 8); err != nil {
		t.Error(err)
	}
	if err := o.CheckMap("exec_start", 4, 16); !errors.Is(err, ErrStale) {
		t.Errorf("CheckMap of another value size: %v", err)
	}
	if _, err := o.MapDef("no_such_map"); !errors.Is(err, ErrStale) {
		t.Errorf("missing map: %v", err)
	}
	// Truncated or corrupt BTF fails, never panics.
	s, err := findSection(data, ".BTF")
	if err != nil {
		t.Fatal(err)
	}
	btf := data[s.Offset : s.Offset+s.Size]
	for n := 0; n < len(btf); n += 5 {
		if b, err := parseBTF(btf[:n]); err == nil {
			b.mapDef("exec_start")
		}
	}
	for i := 24; i < len(btf); i += 3 {
		c := append([]byte(nil), btf...)
		c[i] ^= 0xff
		if b, err := parseBTF(c); err == nil {
			b.mapDef("exec_start")
			b.mapDef("rb")
		}
	}
}
