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
		"exec_start": {Type: 1, KeySize: 4, ValueSize: 8}, // hash; __type(key, int), __type(value, unsigned long long)
		"rb":         {Type: 27, ValueSize: 184},          // ring buffer; __type(value, struct event)
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

// FuzzObjectReaders: the ELF section and BTF map readers never panic or read out of range on
// any bytes (seeded with a real object; go test runs the seeds, go test -fuzz explores).
func FuzzObjectReaders(f *testing.F) {
	data, err := os.ReadFile("../../testdata/demo/demo.bpf.o")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := Open(b)
		if err != nil {
			return
		}
		o.Section(".rodata", 8)
		o.Section(".BTF", 0)
		o.MapDef("exec_start")
		o.MapDef("rb")
	})
}
