package bare

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrBadValue: a value given for a variable does not fit its type.
var ErrBadValue = errors.New("bad value")

// Var is one global variable of .rodata or .data, settable before load as a
// command-line flag. It implements pflag.Value (String, Set, Type): Set
// writes the value into the object's bytes, where the loader takes the
// section's initial contents from, exactly as a guest writes its .rodata
// before it loads the object.
type Var struct {
	// Name is the C name, e.g. "min_duration_ns".
	Name string
	// Section is ".rodata", ".data", ".rodata.NAME"...
	Section string
	// Default is the value in the object as compiled, in the form Set takes.
	Default string

	v   *value
	buf []byte // the variable's bytes inside the object's copy
}

// Flag is the flag name: the C name with '-' for '_' ("min-duration-ns").
func (v *Var) Flag() string { return strings.ReplaceAll(v.Name, "_", "-") }

// IsBool reports whether the flag takes no argument.
func (v *Var) IsBool() bool { return v.v.kind == kindBool }

// String returns the current value.
func (v *Var) String() string {
	if v.v.kind == kindArray {
		parts := make([]string, v.v.count)
		for i := range parts {
			parts[i] = v.v.elem.text(v.buf, uint32(i)*v.v.elem.size)
		}
		return strings.Join(parts, ",")
	}
	return v.v.text(v.buf, 0)
}

// Type names the value's type for help: bool, int32, uint64, float64,
// string[16], an enum's constants, or an array "int32[4]".
func (v *Var) Type() string {
	if v.v.kind == kindArray {
		return scalarType(v.v.elem) + "[" + strconv.Itoa(int(v.v.count)) + "]"
	}
	return scalarType(v.v)
}

func scalarType(v *value) string {
	switch v.kind {
	case kindBool:
		return "bool"
	case kindInt:
		if v.signed {
			return "int" + strconv.Itoa(int(v.size*8))
		}
		return "uint" + strconv.Itoa(int(v.size*8))
	case kindFloat:
		return "float" + strconv.Itoa(int(v.size*8))
	case kindChars:
		return "string[" + strconv.Itoa(int(v.size)) + "]"
	case kindEnum:
		names := make([]string, len(v.enum.Values))
		for i, ev := range v.enum.Values {
			names[i] = ev.Name
		}
		if len(names) <= 6 {
			return strings.Join(names, "|")
		}
		return "enum " + v.enum.Name
	}
	return "?"
}

// Range describes the accepted values for help, e.g. "0..255"; "" when
// the type says it all.
func (v *Var) Range() string {
	e := v.v
	if e.kind == kindArray {
		e = e.elem
	}
	switch e.kind {
	case kindInt:
		lo, hi := intRange(e)
		if e.signed {
			return fmt.Sprintf("%d..%d", int64(lo), int64(hi))
		}
		return fmt.Sprintf("0..%d", hi)
	case kindChars:
		return fmt.Sprintf("at most %d bytes", e.size-1)
	case kindEnum:
		if len(e.enum.Values) > 6 {
			names := make([]string, len(e.enum.Values))
			for i, ev := range e.enum.Values {
				names[i] = ev.Name
			}
			return strings.Join(names, ", ")
		}
	}
	return ""
}

func intRange(v *value) (lo, hi uint64) {
	bits := v.size * 8
	if v.signed {
		return ^uint64(0) << (bits - 1), 1<<(bits-1) - 1
	}
	if bits == 64 {
		return 0, math.MaxUint64
	}
	return 0, 1<<bits - 1
}

// Set parses s for the variable's type and stores it. Arrays take
// comma-separated elements; missing ones are zero.
func (v *Var) Set(s string) error {
	if v.v.kind == kindArray {
		parts := strings.Split(s, ",")
		if s == "" {
			parts = nil
		}
		if len(parts) > int(v.v.count) {
			return fmt.Errorf("%w: %d elements, the array holds %d", ErrBadValue, len(parts), v.v.count)
		}
		out := make([]byte, len(v.buf))
		for i, p := range parts {
			esz := v.v.elem.size
			if err := encode(v.v.elem, strings.TrimSpace(p), out[uint32(i)*esz:uint32(i+1)*esz]); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		copy(v.buf, out)
		return nil
	}
	out := make([]byte, len(v.buf))
	if err := encode(v.v, s, out); err != nil {
		return err
	}
	copy(v.buf, out)
	return nil
}

// encode writes s, read as e's type, into dst (len(dst) == e.size).
func encode(e *value, s string, dst []byte) error {
	switch e.kind {
	case kindBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%w: %q is not true or false", ErrBadValue, s)
		}
		if b {
			dst[0] = 1
		}
		return nil
	case kindInt:
		u, err := parseInt(e, s)
		if err != nil {
			return err
		}
		putUint(dst, u)
		return nil
	case kindEnum:
		for _, ev := range e.enum.Values {
			if strings.EqualFold(ev.Name, s) {
				putUint(dst, ev.Value)
				return nil
			}
		}
		u, err := parseInt(e, s)
		if err != nil {
			names := make([]string, len(e.enum.Values))
			for i, ev := range e.enum.Values {
				names[i] = ev.Name
			}
			return fmt.Errorf("%w: %q is none of %s", ErrBadValue, s, strings.Join(names, ", "))
		}
		putUint(dst, u)
		return nil
	case kindFloat:
		f, err := strconv.ParseFloat(s, int(e.size*8))
		if err != nil {
			return fmt.Errorf("%w: %q is not a number", ErrBadValue, s)
		}
		if e.size == 4 {
			binary.NativeEndian.PutUint32(dst, math.Float32bits(float32(f)))
		} else {
			binary.NativeEndian.PutUint64(dst, math.Float64bits(f))
		}
		return nil
	case kindChars:
		if len(s) >= len(dst) {
			return fmt.Errorf("%w: %d bytes, at most %d fit (and the NUL)", ErrBadValue, len(s), len(dst)-1)
		}
		copy(dst, s)
		return nil
	}
	return fmt.Errorf("%w: variables of this type cannot be set", ErrBadValue)
}

// parseInt reads a decimal, 0x hex, 0o octal or 0b binary integer within
// e's range.
func parseInt(e *value, s string) (uint64, error) {
	lo, hi := intRange(e)
	bits := int(e.size * 8)
	if e.signed {
		n, err := strconv.ParseInt(s, 0, bits)
		if err != nil {
			return 0, fmt.Errorf("%w: %q is not an integer from %d to %d", ErrBadValue, s, int64(lo), int64(hi))
		}
		return uint64(n), nil
	}
	n, err := strconv.ParseUint(s, 0, bits)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not an integer from 0 to %d", ErrBadValue, s, hi)
	}
	return n, nil
}

func putUint(dst []byte, u uint64) {
	switch len(dst) {
	case 1:
		dst[0] = byte(u)
	case 2:
		binary.NativeEndian.PutUint16(dst, uint16(u))
	case 4:
		binary.NativeEndian.PutUint32(dst, uint32(u))
	case 8:
		binary.NativeEndian.PutUint64(dst, u)
	}
}

// settable reports whether a variable of plan v can be a flag.
func settable(v *value) bool {
	switch v.kind {
	case kindBool, kindInt, kindEnum, kindFloat, kindChars:
		return v.bits == 0 && (v.kind != kindInt || v.size == 1 || v.size == 2 || v.size == 4 || v.size == 8)
	case kindArray:
		return v.count > 0 && v.elem.kind != kindArray && v.elem.kind != kindChars && settable(v.elem)
	}
	return false
}
