package bare

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// kind is how a value is read and shown.
type kind int

const (
	kindInt    kind = iota // signed or unsigned integer, or a bitfield
	kindBool               // _Bool, or a 1-byte int named bool
	kindEnum               // by name, or its number when no name matches
	kindFloat              // float or double
	kindPtr                // shown in hex: a kernel or user address
	kindChars              // char array: a string up to the first NUL
	kindArray              // array of anything else
	kindStruct             // struct, with members in offset order
	kindUnion              // union: shown as its first named member
	kindBytes              // anything without a better reading: hex
)

// value is the decoding plan of one BTF type: where it sits and how to
// read it. It is built once per type from the layout model, so decoding a
// sample is a walk over offsets computed by btfgen/layout, the model every
// generated header and binding uses.
type value struct {
	name   string // member name; "" at the root
	kind   kind
	off    uint32 // bytes from the start of the enclosing root
	size   uint32 // bytes
	signed bool
	// bitOff and bits locate a bitfield inside the bytes at off (bits > 0).
	bitOff, bits uint32
	enum         *btf.Enum
	elem         *value // arrays
	count        uint32 // arrays
	fields       []*value
	typ          btf.Type
}

// planner builds value plans over one layout model.
type planner struct {
	m *layout.Model
}

// plan returns the plan of t at offset off.
func (p planner) plan(t btf.Type, name string, off uint32, depth int) (*value, error) {
	if depth > 32 {
		return nil, fmt.Errorf("%s: nested too deep", layout.Describe(t))
	}
	size, err := p.m.Size(t)
	if err != nil {
		return nil, err
	}
	v := &value{name: name, off: off, size: size, typ: t}
	switch u := layout.Underlying(t).(type) {
	case *btf.Int:
		v.kind, v.signed = kindInt, u.Encoding&btf.Signed != 0
		if u.Encoding&btf.Bool != 0 || (u.Size == 1 && isBoolName(t)) {
			v.kind = kindBool
		}
	case *btf.Enum:
		v.kind, v.enum, v.signed = kindEnum, u, u.Signed
	case *btf.Float:
		v.kind = kindFloat
	case *btf.Pointer:
		v.kind = kindPtr
	case *btf.Array:
		if isChar(u.Type) {
			v.kind = kindChars
			break
		}
		esize, err := p.m.Size(u.Type)
		if err != nil {
			return nil, err
		}
		elem, err := p.plan(u.Type, "", 0, depth+1)
		if err != nil {
			return nil, err
		}
		v.kind, v.elem, v.count = kindArray, elem, u.Nelems
		if esize == 0 {
			v.count = 0
		}
	case *btf.Struct, *btf.Union:
		c, err := p.m.Composite(u)
		if err != nil {
			return nil, err
		}
		v.kind = kindStruct
		if _, ok := u.(*btf.Union); ok {
			v.kind = kindUnion
		}
		anon := 0
		for _, f := range c.Fields {
			if f.Member == nil {
				continue // padding
			}
			mname := f.Member.Name
			if mname == "" {
				mname = fmt.Sprintf("anon%d", anon)
				anon++
			}
			child, err := p.plan(f.Member.Type, mname, off+f.Offset/8, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: member %s: %w", layout.Describe(u), mname, err)
			}
			if f.Bitfield {
				child.off = off + f.Offset/8
				child.bitOff = f.Offset % 8
				child.bits = f.Bits
				child.size = (child.bitOff + child.bits + 7) / 8
			}
			v.fields = append(v.fields, child)
		}
	default:
		v.kind = kindBytes
	}
	return v, nil
}

func isChar(t btf.Type) bool {
	i, ok := layout.Underlying(t).(*btf.Int)
	return ok && i.Size == 1 && i.Encoding&btf.Bool == 0
}

func isBoolName(t btf.Type) bool {
	for range 8 {
		td, ok := t.(*btf.Typedef)
		if !ok {
			return false
		}
		if td.Name == "bool" {
			return true
		}
		t = td.Type
	}
	return false
}

// at returns the plan's bytes in b (the whole root sample), or nil when
// the sample is too short for them (a truncated sample).
func (v *value) at(b []byte, base uint32) []byte {
	start := uint64(base) + uint64(v.off)
	end := start + uint64(v.size)
	if end > uint64(len(b)) {
		return nil
	}
	return b[start:end]
}

// uint reads an integer of n bytes (1, 2, 4, 8; native byte order).
func readUint(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.NativeEndian.Uint16(b))
	case 4:
		return uint64(binary.NativeEndian.Uint32(b))
	case 8:
		return binary.NativeEndian.Uint64(b)
	}
	// Odd sizes (bitfield storage): little-endian assembly, as on every BPF
	// host this runs on.
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	return u
}

// integer reads an int, bool, enum or bitfield value as its raw bits,
// sign-extended when signed.
func (v *value) integer(b []byte, base uint32) (uint64, bool) {
	raw := v.at(b, base)
	if raw == nil || len(raw) > 8 {
		return 0, false
	}
	u := readUint(raw)
	width := v.size * 8
	if v.bits > 0 {
		u = (u >> v.bitOff) & (1<<v.bits - 1)
		width = v.bits
	}
	if v.signed && width < 64 && u&(1<<(width-1)) != 0 {
		u |= ^uint64(0) << width
	}
	return u, true
}

// numeric reports whether a value is a number worth summing across CPUs
// or exporting as a metric value.
func (v *value) numeric() bool { return v.kind == kindInt || v.kind == kindFloat }

// float returns a numeric value as a float64.
func (v *value) float(b []byte, base uint32) (float64, bool) {
	switch v.kind {
	case kindInt, kindBool, kindEnum:
		u, ok := v.integer(b, base)
		if !ok {
			return 0, false
		}
		if v.signed {
			return float64(int64(u)), true
		}
		return float64(u), true
	case kindFloat:
		raw := v.at(b, base)
		switch len(raw) {
		case 4:
			return float64(math.Float32frombits(binary.NativeEndian.Uint32(raw))), true
		case 8:
			return math.Float64frombits(binary.NativeEndian.Uint64(raw)), true
		}
	}
	return 0, false
}

// text returns a scalar value as a string: the form the table, labels and
// map headers show. Arrays and structs are left to the printers.
func (v *value) text(b []byte, base uint32) string {
	switch v.kind {
	case kindInt:
		u, ok := v.integer(b, base)
		if !ok {
			return "?"
		}
		if v.signed {
			return strconv.FormatInt(int64(u), 10)
		}
		return strconv.FormatUint(u, 10)
	case kindBool:
		u, ok := v.integer(b, base)
		if !ok {
			return "?"
		}
		return strconv.FormatBool(u != 0)
	case kindEnum:
		u, ok := v.integer(b, base)
		if !ok {
			return "?"
		}
		return enumName(v.enum, u)
	case kindFloat:
		f, ok := v.float(b, base)
		if !ok {
			return "?"
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	case kindPtr:
		u, ok := v.integer(b, base)
		if !ok {
			return "?"
		}
		return "0x" + strconv.FormatUint(u, 16)
	case kindChars:
		raw := v.at(b, base)
		if raw == nil {
			return "?"
		}
		return printable(cstring(raw))
	case kindBytes:
		raw := v.at(b, base)
		if raw == nil {
			return "?"
		}
		return fmt.Sprintf("%x", raw)
	}
	return ""
}

// enumName is the name of the enumerator with value u, or u itself.
func enumName(e *btf.Enum, u uint64) string {
	mask := ^uint64(0)
	if e.Size < 8 {
		mask = 1<<(e.Size*8) - 1
	}
	for _, ev := range e.Values {
		if ev.Value&mask == u&mask {
			return ev.Name
		}
	}
	if e.Signed {
		return strconv.FormatInt(int64(u), 10)
	}
	return strconv.FormatUint(u&mask, 10)
}

// cstring cuts b at its first NUL.
func cstring(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// printable replaces control characters, so that a hostile or binary
// string cannot move the cursor or break a line of the table.
func printable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// find returns the member at a dotted path ("comm", "inner.x").
func (v *value) find(path string) *value {
	cur := v
	for _, part := range strings.Split(path, ".") {
		var next *value
		for _, f := range cur.fields {
			if f.name == part {
				next = f
				break
			}
		}
		if next == nil {
			return nil
		}
		cur = next
	}
	return cur
}

// leaves returns the scalar members of a struct or union, depth first,
// with dotted names ("inner.x"); a scalar is its own one leaf. Arrays and
// char arrays count as leaves; a union shows its first member.
func (v *value) leaves() []leaf {
	if v.kind != kindStruct && v.kind != kindUnion {
		return []leaf{{name: v.name, v: v}}
	}
	var out []leaf
	var walk func(v *value, name string)
	walk = func(v *value, name string) {
		switch v.kind {
		case kindStruct:
			for _, f := range v.fields {
				walk(f, join(name, f.name))
			}
		case kindUnion:
			if len(v.fields) > 0 {
				walk(v.fields[0], join(name, v.fields[0].name))
			}
		default:
			out = append(out, leaf{name: name, v: v})
		}
	}
	walk(v, "")
	return out
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// leaf is a scalar (or array) member with its dotted name.
type leaf struct {
	name string
	v    *value
}
