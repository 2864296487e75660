package witgen

import (
	"strconv"
	"strings"
)

// wtype is a WIT type expression with its size and alignment in linear memory under the
// component model's canonical ABI. The printer needs both to decide where a BTF member can keep
// its type and where it must become bytes: the canonical ABI aligns every field naturally and
// rounds every record up to its alignment, exactly what a packed struct does not do.
type wtype struct {
	expr        string // "" for a type with no value (void, functions, declared-only structs)
	size, align uint32 // bytes
}

var (
	tBool = wtype{"bool", 1, 1}
	tU8   = wtype{"u8", 1, 1}
	tS8   = wtype{"s8", 1, 1}
	tU16  = wtype{"u16", 2, 2}
	tS16  = wtype{"s16", 2, 2}
	tU32  = wtype{"u32", 4, 4}
	tS32  = wtype{"s32", 4, 4}
	tU64  = wtype{"u64", 8, 8}
	tS64  = wtype{"s64", 8, 8}
	tF32  = wtype{"f32", 4, 4}
	tF64  = wtype{"f64", 8, 8}
)

// intType is the WIT integer of n bytes; ok is false for widths WIT has no integer for.
func intType(n uint32, signed bool) (wtype, bool) {
	switch n {
	case 1:
		return pick(signed, tS8, tU8), true
	case 2:
		return pick(signed, tS16, tU16), true
	case 4:
		return pick(signed, tS32, tU32), true
	case 8:
		return pick(signed, tS64, tU64), true
	}
	return wtype{}, false
}

func pick(c bool, a, b wtype) wtype {
	if c {
		return a
	}
	return b
}

func alignUp(n, a uint32) uint32 { return (n + a - 1) / a * a }

// tupleOf lays elems out as the canonical ABI lays out a tuple (a record of unnamed fields).
func tupleOf(elems []wtype) wtype {
	var b strings.Builder
	b.WriteString("tuple<")
	var size, align uint32 = 0, 1
	for i, e := range elems {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.expr)
		size = alignUp(size, e.align) + e.size
		align = max(align, e.align)
	}
	b.WriteString(">")
	return wtype{b.String(), alignUp(size, align), align}
}

// repeat is a tuple of n copies of e.
func repeat(e wtype, n uint32) wtype {
	elems := make([]wtype, n)
	for i := range elems {
		elems[i] = e
	}
	return tupleOf(elems)
}

// enumSize is the canonical size of a WIT enum of n cases: its discriminant.
func enumSize(n int) uint32 {
	switch {
	case n <= 1<<8:
		return 1
	case n <= 1<<16:
		return 2
	}
	return 4
}

// flagsSize is the canonical size of WIT flags with n members (0 when WIT 1.0 has none: > 32).
func flagsSize(n int) uint32 {
	switch {
	case n <= 8:
		return 1
	case n <= 16:
		return 2
	case n <= 32:
		return 4
	}
	return 0
}

// goodUnit reports whether n bytes at offset off can be one WIT integer.
func goodUnit(off, n uint32) bool {
	switch n {
	case 1, 2, 4, 8:
		return off%n == 0
	}
	return false
}

// bytesLevels: raw byte arrays are tuples of u8 and of named chunks bytes16 = 16 x u8,
// bytes256 = 16 x bytes16, ..., so a kernel's 64 KiB buffer is a handful of elements, not 65536.
const bytesLevels = 7

func chunkSize(level int) uint32 {
	n := uint32(1)
	for range level {
		n *= 16
	}
	return n
}

func bytesName(level int) string { return "bytes" + strconv.FormatUint(uint64(chunkSize(level)), 10) }
