package wbpf

import (
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestSection finds every section of the repository's BPF objects as debug/elf does, and turns
// a missing section or another size into ErrStale.
func TestSection(t *testing.T) {
	paths, err := filepath.Glob("../../testdata/btf/*.bpf.o")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	paths = append(paths, "../../testdata/demo/demo.bpf.o")
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := elf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		o, err := Open(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range f.Sections {
			if sh.Name == "" {
				continue
			}
			s, err := o.Section(sh.Name, uint32(sh.Size))
			if err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			want := Section{Name: sh.Name, Size: uint32(sh.Size), NoBits: sh.Type == elf.SHT_NOBITS}
			if !want.NoBits {
				want.Offset = uint32(sh.Offset)
			}
			if s != want {
				t.Errorf("%s: section %s = %+v, want %+v", path, sh.Name, s, want)
			}
		}
		f.Close()
		if _, err := o.Section(".rodata.nope", 8); !errors.Is(err, ErrStale) {
			t.Errorf("%s: missing section: %v", path, err)
		}
	}
	data, _ := os.ReadFile("../../testdata/demo/demo.bpf.o")
	o, _ := Open(data)
	if _, err := o.Section(".rodata", 16); !errors.Is(err, ErrStale) {
		t.Errorf(".rodata of another size: %v", err)
	}
	// Truncated objects fail, never panic.
	for n := 0; n < len(data); n += 97 {
		o, err := Open(data[:n])
		if err != nil {
			continue
		}
		if _, err := o.Section(".rodata", 8); err == nil && n < len(data)/2 {
			t.Errorf("%d-byte prefix: .rodata found", n)
		}
	}
}

func TestReadConst(t *testing.T) {
	data, _ := os.ReadFile("../../testdata/demo/demo.bpf.o")
	o, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := o.Section(".rodata", 8)
	if err != nil {
		t.Fatal(err)
	}
	v := uint64(123456789)
	if err := o.WriteVar(s, 0, Bytes(&v)); err != nil {
		t.Fatal(err)
	}
	var got uint64
	o.ReadConst(s, 0, Bytes(&got))
	if got != v {
		t.Errorf("ReadConst = %d, want %d", got, v)
	}
	got = 1
	o.ReadConst(s, 4, Bytes(&got)) // half outside: the rest reads as zero
	if got != v>>32 {
		t.Errorf("ReadConst past the end = %#x, want %#x", got, v>>32)
	}
}

func TestParseCPUList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{{"0\n", 1}, {"0-3\n", 4}, {"0-3,8-11\n", 12}, {"0,2,5", 6}} {
		if got, err := parseCPUList(c.in); err != nil || got != c.want {
			t.Errorf("parseCPUList(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "x", "3-1", "-1", "0-70000"} {
		if _, err := parseCPUList(bad); !errors.Is(err, EINVAL) {
			t.Errorf("parseCPUList(%q) = %v, want EINVAL", bad, err)
		}
	}
}

func TestPerCPUSlot(t *testing.T) {
	if got := perCPUSlot[uint32](); got != 8 {
		t.Errorf("slot of uint32 = %d", got)
	}
	if got := perCPUSlot[[9]byte](); got != 16 {
		t.Errorf("slot of [9]byte = %d", got)
	}
}
