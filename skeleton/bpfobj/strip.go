package bpfobj

import (
	"bytes"
	"debug/elf"
	"fmt"
	"strings"

	"github.com/wbpf/wbpf/btfgen/layout"
)

// StripDebug returns the object without its DWARF, as `llvm-strip -g` would, for embedding: the
// bytes of every .debug_* section and of their relocation sections are dropped, everything else
// (code, maps, .BTF, .BTF.ext, symbols, relocations of the programs) stays byte for byte. The
// section header table keeps every entry, so no section index changes: the dropped sections are
// left with size 0 (a symbol or relocation naming one stays valid). An object with no DWARF is
// returned as it is. Clang's DWARF is most of a -g object: 60-80% of its bytes.
func StripDebug(data []byte) ([]byte, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: malformed ELF: %v", layout.ErrInvalid, err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || len(f.Progs) > 0 {
		return data, nil // not a relocatable BPF object as clang writes it: leave it alone
	}
	bo := f.ByteOrder
	dropped := false
	for _, s := range f.Sections {
		if isDebug(s.Name) {
			dropped = true
		}
	}
	if !dropped {
		return data, nil
	}
	const ehdrSize, shdrSize = 64, 64
	shoff := bo.Uint64(data[0x28:])
	shnum := uint64(len(f.Sections))
	if shoff > uint64(len(data)) || shnum*shdrSize > uint64(len(data))-shoff {
		return nil, fmt.Errorf("%w: section header table past the end", layout.ErrInvalid)
	}
	out := make([]byte, ehdrSize, len(data)/2)
	copy(out, data[:ehdrSize])
	shdrs := make([]byte, shnum*shdrSize)
	copy(shdrs, data[shoff:shoff+shnum*shdrSize])
	for i, s := range f.Sections {
		h := shdrs[uint64(i)*shdrSize:]
		switch {
		case i == 0 || s.Type == elf.SHT_NOBITS:
			continue
		case isDebug(s.Name):
			bo.PutUint64(h[0x18:], uint64(len(out))) // sh_offset
			bo.PutUint64(h[0x20:], 0)                // sh_size
			continue
		}
		if s.Offset > uint64(len(data)) || s.FileSize > uint64(len(data))-s.Offset {
			return nil, fmt.Errorf("%w: section %s past the end of the file", layout.ErrInvalid, s.Name)
		}
		out = pad(out, s.Addralign)
		bo.PutUint64(h[0x18:], uint64(len(out)))
		out = append(out, data[s.Offset:s.Offset+s.FileSize]...)
	}
	out = pad(out, 8)
	bo.PutUint64(out[0x28:], uint64(len(out))) // e_shoff
	return append(out, shdrs...), nil
}

func isDebug(name string) bool {
	for _, p := range []string{".debug_", ".rel.debug_", ".rela.debug_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func pad(b []byte, align uint64) []byte {
	if align > 1 {
		for uint64(len(b))%align != 0 {
			b = append(b, 0)
		}
	}
	return b
}
