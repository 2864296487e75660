package bare

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// maxArrayShown is how many elements of an array a table cell shows
// before "...": a table line stays a line.
const maxArrayShown = 8

// appendJSON appends v's reading of b as JSON: numbers, booleans, strings
// (char arrays, enum names, pointers in hex), arrays and objects for nested
// structs. It allocates nothing beyond dst's growth: it runs once per event.
func (v *value) appendJSON(dst []byte, b []byte, base uint32) []byte {
	switch v.kind {
	case kindInt, kindBool:
		u, ok := v.integer(b, base)
		switch {
		case !ok:
			return append(dst, "null"...)
		case v.kind == kindBool:
			return strconv.AppendBool(dst, u != 0)
		case v.signed:
			return strconv.AppendInt(dst, int64(u), 10)
		}
		return strconv.AppendUint(dst, u, 10)
	case kindFloat:
		f, ok := v.float(b, base)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return append(dst, "null"...) // NaN and infinities have no JSON form
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	case kindChars:
		raw := v.at(b, base)
		if raw == nil {
			return append(dst, "null"...)
		}
		if i := bytes.IndexByte(raw, 0); i >= 0 {
			raw = raw[:i]
		}
		return appendJSONBytes(dst, raw)
	case kindEnum, kindPtr, kindBytes:
		if v.at(b, base) == nil {
			return append(dst, "null"...)
		}
		return appendJSONString(dst, v.text(b, base))
	case kindArray:
		dst = append(dst, '[')
		for i := uint32(0); i < v.inSample(b, base); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = v.elem.appendJSON(dst, b, base+v.off+i*v.elem.size)
		}
		return append(dst, ']')
	case kindStruct, kindUnion:
		dst = append(dst, '{')
		for i, f := range v.fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, f.name)
			dst = append(dst, ':')
			dst = f.appendJSON(dst, b, base)
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

func appendJSONString(dst []byte, s string) []byte {
	return appendJSONBytes(dst, unsafe.Slice(unsafe.StringData(s), len(s)))
}

// appendJSONBytes appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD, as
// encoding/json does.
func appendJSONBytes(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
			i++
		case c < 0x20 || c == 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			i++
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, "\\ufffd"...)
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
		}
	}
	return append(dst, '"')
}

// cell is v's reading of b as one table cell: scalars as text, arrays as
// "[1,2,3]" cut after maxArrayShown elements, structs inside arrays as
// "{...}".
func (v *value) cell(b []byte, base uint32) string {
	switch v.kind {
	case kindArray:
		var sb strings.Builder
		sb.WriteByte('[')
		for i := uint32(0); i < v.count; i++ {
			if i == maxArrayShown {
				sb.WriteString(",...(" + strconv.Itoa(int(v.count)) + ")")
				break
			}
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(v.elem.cell(b, base+v.off+i*v.elem.size))
		}
		sb.WriteByte(']')
		return sb.String()
	case kindStruct, kindUnion:
		var sb strings.Builder
		sb.WriteByte('{')
		for i, l := range v.leaves() {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(l.name + "=" + l.v.cell(b, base))
		}
		sb.WriteByte('}')
		return sb.String()
	}
	return v.text(b, base)
}

// width is the column width a leaf starts with: enough for its header and
// for typical values, so that most rows align from the first one.
func (l leaf) width() int {
	w := 0
	switch l.v.kind {
	case kindBool:
		w = 5
	case kindInt:
		switch {
		case l.v.size <= 1:
			w = 4
		case l.v.size <= 2:
			w = 6
		case l.v.size <= 4:
			w = 7
		default:
			w = 10
		}
	case kindEnum:
		for _, ev := range l.v.enum.Values {
			w = max(w, len(ev.Name))
		}
	case kindChars:
		w = min(int(l.v.size)-1, 16)
	case kindPtr:
		w = 18
	}
	return max(w, len(l.name))
}

// table prints rows as aligned columns. A cell wider than its column
// widens it for the rows after, so a long value shifts one line, not all.
type table struct {
	widths []int
}

// line formats cells padded to the column widths (the last one unpadded),
// widening columns as needed.
func (t *table) line(cells []string) string {
	if len(t.widths) < len(cells) {
		t.widths = append(t.widths, make([]int, len(cells)-len(t.widths))...)
	}
	var sb strings.Builder
	for i, c := range cells {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(c)
		n := utf8.RuneCountInString(c)
		if n > t.widths[i] {
			t.widths[i] = n
		}
		if i < len(cells)-1 {
			sb.WriteString(strings.Repeat(" ", t.widths[i]-n))
		}
	}
	sb.WriteByte('\n')
	return sb.String()
}

// inSample is how many of an array's elements lie at least partly inside
// b: the rest of a cut sample is left out, and BTF that claims a huge array
// costs no more than the sample's size.
func (v *value) inSample(b []byte, base uint32) uint32 {
	start := uint64(base) + uint64(v.off)
	if start >= uint64(len(b)) || v.elem.size == 0 {
		return 0
	}
	n := (uint64(len(b)) - start + uint64(v.elem.size) - 1) / uint64(v.elem.size)
	return uint32(min(n, uint64(v.count)))
}
