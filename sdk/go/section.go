package wbpf

import (
	"errors"
	"fmt"
)

// ErrStale: the embedded object does not match the bindings generated from it (a section is
// missing or changed size): the object was rebuilt without regenerating the bindings.
var ErrStale = errors.New("object does not match its bindings (regenerate them: wbpfgen go)")

// Section finds the global-variable section name (.rodata, .data, .bss, .data.NAME, ...) in the
// object's ELF section headers, so that bindings work on the object they embed, stripped or
// rebuilt, rather than on offsets recorded when they were generated. size is the section's size
// the caller expects (the bindings' variables lie within it); a missing section or another size
// is an error wrapping ErrStale.
func (o *Object) Section(name string, size uint32) (Section, error) {
	s, err := findSection(o.buf, name)
	if err != nil {
		return Section{}, fmt.Errorf("wbpf: section %s: %w", name, err)
	}
	if s.Size != size {
		return Section{}, fmt.Errorf("wbpf: section %s: %d bytes in the object, %d in the bindings: %w", name, s.Size, size, ErrStale)
	}
	return s, nil
}

// ELF64 little endian, as clang -target bpf writes on every little-endian host.
const (
	shtNoBits  = 8
	elfHdrSize = 64
	shdrSize   = 64
)

func le16(b []byte) uint64 { return uint64(b[0]) | uint64(b[1])<<8 }
func le32(b []byte) uint64 { return le16(b) | le16(b[2:])<<16 }
func le64(b []byte) uint64 { return le32(b) | le32(b[4:])<<32 }

// findSection reads the section headers of an ELF64 little-endian object; every offset is
// checked against the buffer.
func findSection(b []byte, name string) (Section, error) {
	if len(b) < elfHdrSize || string(b[:4]) != "\x7fELF" {
		return Section{}, ErrNotELF
	}
	if b[4] != 2 || b[5] != 1 {
		return Section{}, fmt.Errorf("%w (not ELF64 little endian)", ErrNotELF)
	}
	shoff, shentsize, shnum, shstrndx := le64(b[0x28:]), le16(b[0x3a:]), le16(b[0x3c:]), le16(b[0x3e:])
	n := uint64(len(b))
	if shentsize != shdrSize || shoff > n || shnum*shdrSize > n-shoff || shstrndx >= shnum {
		return Section{}, fmt.Errorf("%w (bad section headers)", ErrNotELF)
	}
	hdr := func(i uint64) []byte { return b[shoff+i*shdrSize : shoff+(i+1)*shdrSize] }
	strs := hdr(shstrndx)
	strOff, strSize := le64(strs[0x18:]), le64(strs[0x20:])
	if strOff > n || strSize > n-strOff {
		return Section{}, fmt.Errorf("%w (bad section name table)", ErrNotELF)
	}
	names := b[strOff : strOff+strSize]
	for i := uint64(0); i < shnum; i++ {
		h := hdr(i)
		at := le32(h)
		if at+uint64(len(name)) >= uint64(len(names)) || string(names[at:at+uint64(len(name))]) != name || names[at+uint64(len(name))] != 0 {
			continue
		}
		typ, off, size := le32(h[4:]), le64(h[0x18:]), le64(h[0x20:])
		if size > 1<<31 {
			return Section{}, fmt.Errorf("%w (section of %d bytes)", ErrNotELF, size)
		}
		s := Section{Name: name, Size: uint32(size), NoBits: typ == shtNoBits}
		if !s.NoBits {
			if off > n || size > n-off {
				return Section{}, fmt.Errorf("%w (section past the end of the object)", ErrNotELF)
			}
			s.Offset = uint32(off)
		}
		return s, nil
	}
	return Section{}, fmt.Errorf("not in the object: %w", ErrStale)
}

// ReadConst copies the bytes at offset off of section s into dst from the object's own bytes:
// for .rodata, which the kernel freezes at Load, they are the values the programs see, before
// and after Load, so reading cannot fail. Bytes outside the section or object read as zero.
func (o *Object) ReadConst(s Section, off uint32, dst []byte) {
	clear(dst)
	if s.NoBits || uint64(off) > uint64(s.Size) {
		return
	}
	end := uint64(s.Offset) + uint64(s.Size)
	if end > uint64(len(o.buf)) {
		return
	}
	copy(dst, o.buf[uint64(s.Offset)+uint64(off):end])
}
