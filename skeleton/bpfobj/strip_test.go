package bpfobj

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"
)

// TestStripDebug strips every committed BPF object: the result must be much smaller, hold no
// DWARF, keep every other section's bytes and the .BTF/.BTF.ext, and parse to the same maps,
// programs and instructions.
func TestStripDebug(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/btf/*.bpf.o")
	demo, _ := filepath.Glob("../../testdata/demo/*.bpf.o")
	paths = append(paths, demo...)
	if len(paths) == 0 {
		t.Fatal("no objects")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := StripDebug(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) >= len(data) {
				t.Fatalf("%d bytes, not smaller than %d", len(got), len(data))
			}
			before, after := sections(t, data), sections(t, got)
			if len(before) != len(after) {
				t.Fatalf("%d sections, want %d", len(after), len(before))
			}
			for name, b := range before {
				a := after[name]
				if isDebug(name) {
					if len(a) != 0 {
						t.Errorf("%s: %d bytes left", name, len(a))
					}
					continue
				}
				if !bytes.Equal(a, b) {
					t.Errorf("%s: bytes changed", name)
				}
			}
			if len(after[".BTF"]) == 0 {
				t.Error("no .BTF left")
			}
			want, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			have, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("stripped object: %v", err)
			}
			for name, p := range want.Programs {
				q := have.Programs[name]
				if q == nil || q.Instructions.String() != p.Instructions.String() {
					t.Errorf("program %s differs", name)
				}
			}
			if len(have.Maps) != len(want.Maps) {
				t.Errorf("%d maps, want %d", len(have.Maps), len(want.Maps))
			}
			again, err := StripDebug(got)
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("stripping twice changed the object (err %v)", err)
			}
		})
	}
}

func sections(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string][]byte)
	for _, s := range f.Sections {
		if s.Type == elf.SHT_NOBITS || s.Type == elf.SHT_NULL {
			continue
		}
		b, err := s.Data()
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		m[s.Name] = b
	}
	return m
}
