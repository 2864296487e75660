package bpf

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
)

// wasmWithData builds a wasm binary with one data section holding segs.
func wasmWithData(segs ...[]byte) []byte {
	uleb := func(b []byte, v uint64) []byte {
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if v != 0 {
				b = append(b, c|0x80)
				continue
			}
			return append(b, c)
		}
	}
	var sec []byte
	sec = uleb(sec, uint64(len(segs)))
	for _, s := range segs {
		sec = append(sec, s...)
	}
	w := []byte("\x00asm\x01\x00\x00\x00")
	// An unrelated custom section first, to be skipped.
	w = append(w, 0, 4, 1, 'x', 'y', 'z')
	w = append(w, 11)
	w = uleb(w, uint64(len(sec)))
	return append(w, sec...)
}

// active is an active segment at addr; passive one without address.
func active(addr uint32, data []byte) []byte {
	s := []byte{0, 0x41}
	// sleb128 of addr
	v := int64(addr)
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			s = append(s, c)
			break
		}
		s = append(s, c|0x80)
	}
	s = append(s, 0x0b)
	s = binary.AppendUvarint(s, uint64(len(data)))
	return append(s, data...)
}

func passive(data []byte) []byte {
	return append(binary.AppendUvarint([]byte{1}, uint64(len(data))), data...)
}

// splitAtZeros cuts obj into active segments at every run of 8 or more
// zero bytes, as Go's wasm linker lays out data.
func splitAtZeros(addr uint32, obj []byte) [][]byte {
	var segs [][]byte
	start := 0
	for i := 0; i < len(obj); {
		if obj[i] != 0 {
			i++
			continue
		}
		j := i
		for j < len(obj) && obj[j] == 0 {
			j++
		}
		if j-i >= 8 {
			if i > start {
				segs = append(segs, active(addr+uint32(start), obj[start:i]))
			}
			start = j
		}
		i = j
	}
	if start < len(obj) {
		segs = append(segs, active(addr+uint32(start), obj[start:]))
	}
	return segs
}

func readExample(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutils.RepoRoot(t), path))
	if err != nil {
		t.Skip(err)
	}
	return b
}

func TestEmbeddedObjects(t *testing.T) {
	core := readExample(t, "examples/bootstrap/bootstrap.bpf.o") // 5 CO-RE relocations
	demo := readFixture(t, "demo.bpf.o")                         // 1 CO-RE relocation
	junk := append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...)

	split := splitAtZeros(0x10000, core)
	if len(split) < 3 {
		t.Fatalf("object split into %d segments, want several", len(split))
	}
	for _, tc := range []struct {
		name  string
		wasm  []byte
		relos int
	}{
		{"one active segment", wasmWithData(active(1024, []byte("hello")), active(4096, core)), 5},
		{"split at runs of zeros", wasmWithData(append([][]byte{active(16, junk)}, split...)...), 5},
		{"passive", wasmWithData(passive(append([]byte("pad"), core...))), 5},
		{"two objects", wasmWithData(active(4096, core), active(65536, core)), 10},
		{"other object", wasmWithData(active(4096, demo)), 1},
		{"no object", wasmWithData(active(4096, []byte("hello"))), 0},
		{"cut short", wasmWithData(active(4096, core))[:2000], 0},
		{"object cut short", wasmWithData(active(4096, core[:len(core)-100])), 0},
		{"not wasm", core, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			for _, o := range embeddedObjects(tc.wasm) {
				n += len(o.relos)
			}
			if n != tc.relos {
				t.Errorf("found %d CO-RE relocations, want %d", n, tc.relos)
			}
		})
	}
}

// The examples embed their objects as a C and a Go guest would: #embed in
// one segment, //go:embed split by Go's linker.
func TestEmbeddedObjectsInExamples(t *testing.T) {
	for _, p := range []string{"examples/bootstrap/bootstrap.wasm", "examples/bootstrap/go/bootstrap.wasm"} {
		objs := embeddedObjects(readExample(t, p))
		if len(objs) != 1 || len(objs[0].relos) != 5 {
			t.Errorf("%s: %d objects (%v), want one with 5 CO-RE relocations", p, len(objs), objs)
		}
	}
}

// Whatever the bytes, the scan neither panics nor loops: every prefix and
// a sweep of single-byte changes of a module with a split object.
func TestEmbeddedObjectsMalformed(t *testing.T) {
	w := wasmWithData(splitAtZeros(0x10000, readExample(t, "examples/bootstrap/bootstrap.bpf.o"))...)
	for i := 0; i < len(w); i += 7 {
		embeddedObjects(w[:i])
		c := bytes.Clone(w)
		c[i] ^= 0xff
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("byte %d flipped: panic %v", i, p)
				}
			}()
			embeddedObjects(c)
		}()
	}
}

func FuzzEmbeddedObjects(f *testing.F) {
	f.Add(wasmWithData(active(16, []byte("\x7fELF\x02\x01\x01\x00"))))
	f.Fuzz(func(t *testing.T, b []byte) { embeddedObjects(b) })
}
