package bindgen

import (
	"fmt"

	"github.com/wbpf/wbpf/btfgen/layout"
)

// Run is a run of bytes [From, To) of a struct that holds bitfields.
type Run struct{ From, To uint32 }

// SplitStruct walks a struct's members in order: each byte-aligned member with bytes to hold
// goes to plain; bitfields merge into runs of the bytes they touch, and the named ones are
// returned, for the printer's accessors. Zero-width bitfields and flexible or zero-length
// arrays hold nothing and are skipped; a plain member that starts mid-byte is an error.
func SplitStruct(c *layout.Composite, plain func(layout.Field) error) (runs []Run, bitfields []layout.Field, err error) {
	for _, f := range c.Fields {
		mb := f.Member
		if mb == nil {
			continue
		}
		if f.Bitfield {
			if f.Bits == 0 {
				continue
			}
			from, to := f.Offset/8, (f.End()+7)/8
			if n := len(runs); n > 0 && from < runs[n-1].To {
				runs[n-1].To = max(runs[n-1].To, to)
			} else {
				runs = append(runs, Run{from, to})
			}
			if mb.Name != "" {
				bitfields = append(bitfields, f)
			}
			continue
		}
		if f.Offset%8 != 0 {
			return nil, nil, fmt.Errorf("member %s starts mid-byte but is not a bitfield: %w", mb.Name, layout.ErrLayout)
		}
		if f.Bits == 0 {
			continue // flexible and zero-length arrays: nothing to hold; offsets are explicit
		}
		if err := plain(f); err != nil {
			return nil, nil, err
		}
	}
	return runs, bitfields, nil
}

// RunOf returns the index of the run holding the bitfield f, -1 if none does.
func RunOf(runs []Run, f layout.Field) int {
	at := -1
	for i, rn := range runs {
		if f.Offset/8 >= rn.From && f.Offset/8 < rn.To {
			at = i
		}
	}
	return at
}

// Pad returns items (sorted by offset) with a padding item, made by pad, before each gap
// between them and after the last one up to size.
func Pad[T any](items []T, size uint32, span func(T) (off, size uint32), pad func(off, size uint32) T) []T {
	var out []T
	var cur uint32
	for _, it := range items {
		off, n := span(it)
		if off > cur {
			out = append(out, pad(cur, off-cur))
		}
		out = append(out, it)
		cur = off + n
	}
	if cur < size {
		out = append(out, pad(cur, size-cur))
	}
	return out
}
