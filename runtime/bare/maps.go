package bare

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/runtime/internal/bpf"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"golang.org/x/sys/unix"
)

// shownMap is a map the run reads: to print it, or to export it as metrics.
type shownMap struct {
	name   string
	spec   *bpfobj.Map
	m      *bpf.Map
	key    *value
	val    *value
	slots  *value // the histogram's counter array inside val; nil: not a histogram
	perCPU bool
	array  bool // array maps: entries that are all zero are left out
}

// entry is one key and its value, per-CPU values already summed.
type entry struct {
	key, val []byte
}

// histNames are the member names that make an array of counters a log2
// histogram, as libbpf-tools and eunomia-bpf name them.
var histNames = []string{"slots", "hist"}

// printable map types: the kinds whose entries are data, not descriptors.
func printableMapType(t ebpf.MapType) bool {
	switch t {
	case ebpf.Hash, ebpf.Array, ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUHash, ebpf.LRUCPUHash:
		return true
	}
	return false
}

// newShownMap plans the key and value of map spec.
func (o *Object) newShownMap(spec *bpfobj.Map) (*shownMap, error) {
	if !printableMapType(spec.Type) {
		return nil, usagef("map %s is a %s map, whose entries cannot be printed", spec.Name, spec.Type)
	}
	sm := &shownMap{name: spec.Name, spec: spec, perCPU: spec.Type == ebpf.PerCPUHash || spec.Type == ebpf.PerCPUArray || spec.Type == ebpf.LRUCPUHash,
		array: spec.Type == ebpf.Array || spec.Type == ebpf.PerCPUArray}
	var err error
	if sm.key, err = o.planOrRaw(spec.Key, spec.KeySize, "key"); err != nil {
		return nil, fmt.Errorf("map %s: key: %w", spec.Name, err)
	}
	if sm.val, err = o.planOrRaw(spec.Value, spec.ValueSize, "value"); err != nil {
		return nil, fmt.Errorf("map %s: value: %w", spec.Name, err)
	}
	sm.slots = histSlots(sm.val, spec.Name)
	return sm, nil
}

// planOrRaw plans t, or, for maps declared with sizes only, an unsigned
// integer of that size (or raw bytes).
func (o *Object) planOrRaw(t btf.Type, size uint32, name string) (*value, error) {
	if t != nil {
		v, err := o.pl.plan(t, name, 0, 0)
		if err != nil {
			return nil, err
		}
		if v.size == size {
			return v, nil
		}
	}
	switch size {
	case 1, 2, 4, 8:
		return &value{name: name, kind: kindInt, size: size}, nil
	}
	return &value{name: name, kind: kindBytes, size: size}, nil
}

// histSlots finds the array of integer counters that makes a value a log2
// histogram: a member named slots or hist, or the value itself when it is
// such an array in a map named like a histogram.
func histSlots(v *value, mapName string) *value {
	isCounters := func(a *value) bool { return a.kind == kindArray && a.elem.kind == kindInt && a.count > 1 }
	if v.kind == kindStruct {
		for _, f := range v.fields {
			if slices.Contains(histNames, f.name) && isCounters(f) {
				return f
			}
		}
		return nil
	}
	if isCounters(v) && strings.Contains(mapName, "hist") {
		return v
	}
	return nil
}

// read returns the map's entries, per-CPU values summed, sorted by key.
// Iteration stops after max_entries+1 keys, so a map that changes under it
// cannot keep it going.
func (sm *shownMap) read() ([]entry, error) {
	ks := sm.spec.KeySize
	vsize, err := sm.m.ValueSize()
	if err != nil {
		return nil, err
	}
	var out []entry
	var key []byte
	next := make([]byte, ks)
	for range sm.spec.MaxEntries + 1 {
		if err := sm.m.NextKey(key, next); err != nil {
			if errors.Is(err, unix.ENOENT) {
				break
			}
			return out, err
		}
		key = slices.Clone(next)
		buf := make([]byte, vsize)
		if err := sm.m.Lookup(key, buf, 0); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // deleted between the two calls
			}
			return out, err
		}
		if sm.perCPU {
			buf = sm.sumCPUs(buf)
		}
		if sm.array && allZero(buf) {
			continue
		}
		out = append(out, entry{key: key, val: buf})
	}
	sort.SliceStable(out, func(i, j int) bool { return lessKey(sm.key, out[i].key, out[j].key) })
	return out, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// lessKey orders scalar integer keys by value, others by their bytes.
func lessKey(k *value, a, b []byte) bool {
	if k.kind == kindInt && k.bits == 0 {
		x, _ := k.integer(a, 0)
		y, _ := k.integer(b, 0)
		if k.signed {
			return int64(x) < int64(y)
		}
		return x < y
	}
	return string(a) < string(b)
}

// sumCPUs folds a per-CPU value (one value_size slot, 8-byte aligned, per
// possible CPU) into one: integer counters are summed, everything else is
// taken from the first CPU.
func (sm *shownMap) sumCPUs(buf []byte) []byte {
	stride := (int(sm.spec.ValueSize) + 7) &^ 7
	out := slices.Clone(buf[:sm.spec.ValueSize])
	for cpu := 1; (cpu+1)*stride <= len(buf); cpu++ {
		addInto(sm.val, out, buf[cpu*stride:cpu*stride+int(sm.spec.ValueSize)], 0)
	}
	return out
}

// addInto adds the integer members of src to those of dst (same plan).
func addInto(v *value, dst, src []byte, base uint32) {
	switch v.kind {
	case kindInt:
		if v.bits > 0 {
			return
		}
		a, ok1 := v.integer(dst, base)
		b, ok2 := v.integer(src, base)
		if ok1 && ok2 {
			putUint(v.at(dst, base), a+b)
		}
	case kindArray:
		for i := uint32(0); i < v.count; i++ {
			addInto(v.elem, dst, src, base+v.off+i*v.elem.size)
		}
	case kindStruct:
		for _, f := range v.fields {
			addInto(f, dst, src, base)
		}
	}
}

// counts returns the histogram's slot counters of one value.
func (sm *shownMap) counts(val []byte) []uint64 {
	c := make([]uint64, sm.slots.count)
	for i := range c {
		c[i], _ = sm.slots.elem.integer(val, sm.slots.off+uint32(i)*sm.slots.elem.size)
	}
	return c
}

// labels returns the names and values that tell one entry from another:
// the key's members and the value's strings and enums (a histogram's comm).
func (sm *shownMap) labels(e entry) (names, values []string) {
	for _, l := range sm.key.leaves() {
		names = append(names, l.name)
		values = append(values, l.v.cell(e.key, 0))
	}
	if sm.val.kind == kindStruct {
		for _, l := range sm.val.leaves() {
			if l.v.kind == kindChars || l.v.kind == kindEnum {
				names = append(names, l.name)
				values = append(values, l.v.text(e.val, 0))
			}
		}
	}
	return names, values
}

// printTable writes the map as libbpf-tools would: log2 tables for
// histograms, else aligned key and value columns.
func (sm *shownMap) printTable(w io.Writer, entries []entry, now time.Time, unit string) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%s %s", now.Format("15:04:05"), sm.name)
	if len(entries) == 0 {
		sb.WriteString(": no entries\n")
		_, err := io.WriteString(w, sb.String())
		return err
	}
	if sm.slots != nil {
		sb.WriteString("\n")
		for _, e := range entries {
			names, values := sm.labels(e)
			var parts []string
			for i := range names {
				if values[i] != "" && !(len(entries) == 1 && i < len(sm.key.leaves())) {
					parts = append(parts, names[i]+" = "+values[i])
				}
			}
			if len(parts) > 0 {
				sb.WriteString("\n" + strings.Join(parts, " ") + "\n")
			}
			writeLog2Hist(&sb, sm.counts(e.val), unit)
		}
		_, err := io.WriteString(w, sb.String())
		return err
	}
	if len(entries) == 1 {
		sb.WriteString(" (1 entry)\n")
	} else {
		fmt.Fprintf(&sb, " (%d entries)\n", len(entries))
	}
	keys, vals := sm.key.leaves(), sm.val.leaves()
	var t table
	header := make([]string, 0, len(keys)+len(vals))
	for _, l := range append(slices.Clone(keys), vals...) {
		header = append(header, strings.ToUpper(l.name))
	}
	for _, l := range append(slices.Clone(keys), vals...) {
		t.widths = append(t.widths, l.width())
	}
	sb.WriteString(t.line(header))
	for _, e := range entries {
		cells := make([]string, 0, len(header))
		for _, l := range keys {
			cells = append(cells, l.v.cell(e.key, 0))
		}
		for _, l := range vals {
			cells = append(cells, l.v.cell(e.val, 0))
		}
		sb.WriteString(t.line(cells))
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// printJSON writes the map as one JSON line:
// {"time":..., "map":..., "entries":[{"key":...,"value":...}]}.
func (sm *shownMap) printJSON(w io.Writer, entries []entry, now time.Time) error {
	b := []byte(`{"time":`)
	b = appendJSONString(b, now.Format(time.RFC3339Nano))
	b = append(b, `,"map":`...)
	b = appendJSONString(b, sm.name)
	b = append(b, `,"entries":[`...)
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b = sm.key.appendJSON(b, e.key, 0)
		b = append(b, `,"value":`...)
		b = sm.val.appendJSON(b, e.val, 0)
		b = append(b, '}')
	}
	b = append(b, "]}\n"...)
	_, err := w.Write(b)
	return err
}

// clear removes the entries just printed, so that the next print covers one interval, as
// libbpf-tools' runqlat does: hash entries are deleted, array entries zeroed. What the
// programs add between the read and the clear is lost, as it is there.
func (sm *shownMap) clear(entries []entry) error {
	vsize, err := sm.m.ValueSize()
	if err != nil {
		return err
	}
	zero := make([]byte, vsize)
	for _, e := range entries {
		if sm.array {
			err = sm.m.Update(e.key, zero, 0)
		} else {
			err = sm.m.Delete(e.key, 0)
		}
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("map %s: clear: %w", sm.name, err)
		}
	}
	return nil
}

// writeLog2Hist prints counts as libbpf-tools' print_log2_hist does.
func writeLog2Hist(sb *strings.Builder, vals []uint64, unit string) {
	idxMax := -1
	var valMax uint64
	for i, v := range vals {
		if v > 0 {
			idxMax = i
		}
		valMax = max(valMax, v)
	}
	if idxMax < 0 {
		sb.WriteString("     (empty)\n")
		return
	}
	wide := idxMax > 32
	pad, typeWidth, width, stars := 5, 19, 10, 40
	if wide {
		pad, typeWidth, width, stars = 15, 29, 20, 20
	}
	fmt.Fprintf(sb, "%*s%-*s : count    distribution\n", pad, "", typeWidth, unit)
	for i := 0; i <= idxMax; i++ {
		low, high := log2Range(i)
		fmt.Fprintf(sb, "%*d -> %-*d : %-8d |", width, low, width, high, vals[i])
		n := int(min(vals[i], valMax) * uint64(stars) / valMax)
		sb.WriteString(strings.Repeat("*", n) + strings.Repeat(" ", stars-n))
		sb.WriteString("|\n")
	}
}

// log2Range is slot i's range as BPF tools count: 0..1, 2..3, 4..7, ...
func log2Range(i int) (low, high uint64) {
	if i >= 63 {
		return 1 << 63, math.MaxUint64
	}
	low, high = (uint64(1)<<(i+1))>>1, uint64(1)<<(i+1)-1
	if low == high {
		low--
	}
	return low, high
}
