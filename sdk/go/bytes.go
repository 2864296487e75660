package wbpf

import (
	"fmt"
	"unsafe"
)

// Bytes returns the memory of *v as a byte slice, without copying. T must be a type without Go
// pointers, such as the fixed-layout types wbpfgen generates and the sized integers; the slice
// then holds exactly the bytes the BPF side reads and writes.
func Bytes[T any](v *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}

// Decode copies the first unsafe.Sizeof(*v) bytes of data into *v. A perf sample may be longer
// than the value (it is padded to 8 bytes); a shorter one is an error.
func Decode[T any](data []byte, v *T) error {
	b := Bytes(v)
	if len(data) < len(b) {
		return fmt.Errorf("wbpf: decode: %d bytes for a %d-byte value: %w", len(data), len(b), ErrRange)
	}
	copy(b, data)
	return nil
}

// GetBits returns the width bits (1..64) starting at bit off of b, as the BPF side (little
// endian) stores a bitfield: bit 0 is the least significant bit of b[0].
func GetBits(b []byte, off, width uint) uint64 {
	var v uint64
	for i := uint(0); i < width; i++ {
		bit := off + i
		v |= uint64(b[bit/8]>>(bit%8)&1) << i
	}
	return v
}

// SetBits stores the low width bits of v at bit off of b, leaving the other bits alone.
func SetBits(b []byte, off, width uint, v uint64) {
	for i := uint(0); i < width; i++ {
		bit := off + i
		if v>>i&1 != 0 {
			b[bit/8] |= 1 << (bit % 8)
		} else {
			b[bit/8] &^= 1 << (bit % 8)
		}
	}
}

// SignExtend interprets the low width bits of v as a two's-complement number.
func SignExtend(v uint64, width uint) int64 {
	shift := 64 - width
	return int64(v<<shift) >> shift
}
