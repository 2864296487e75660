package bpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// Kernel BTF ahead of the guest (RATIONALE.md). Decoding the kernel's BTF
// (5.5 MB here) and the types an object's CO-RE relocations name costs
// ~30-40 ms of CPU on a guest's first CO-RE load. Guests carry their BPF
// objects in their own data (#embed, //go:embed), so the runtime can find
// them before the guest runs and do that work on another core while the
// guest instantiates and starts. The guest's load then finds it done, or
// waits on the btf.Cache's lock for the rest.

// PrefetchKernelBTF fills c, the btf.Cache a guest instance's Registry will
// use (Options.KernelBTF), in the background: it scans wasm's data for
// embedded BPF objects; if one needs kernel BTF (CO-RE relocations, or
// programs attached by BTF ID), it fills the cache with the kernel's types
// and relocates the objects' CO-RE relocations against them once, which
// leaves the types they name decoded in the cache. Nothing is loaded into
// the kernel. The result is the same cache the Registry would build on the
// guest's first load; only its timing differs.
//
// c may be shared by several guests (a btf.Cache is safe for concurrent
// use, and decodes the kernel's BTF once under its lock: a second prefetch
// or load waits for the first one's decoding and takes its types).
//
// Objects whose CO-RE types core has (corecache.go) need no kernel BTF at
// all: for them nothing is decoded.
func PrefetchKernelBTF(c *btf.Cache, wasm []byte, core *CORECache) {
	go warmKernelBTF(c, wasm, core)
}

func warmKernelBTF(c *btf.Cache, wasm []byte, core *CORECache) {
	// The guest controls every byte scanned here; a parser panic must not
	// take the runtime down. The guest's own load reports real errors.
	defer func() { _ = recover() }()
	objs := embeddedObjects(wasm)
	if core != nil {
		objs = slices.DeleteFunc(objs, func(o embeddedObject) bool { return core.Has(o.elf) })
	}
	if len(objs) == 0 {
		return
	}
	kernel, err := c.Kernel()
	if err != nil {
		return
	}
	modules, err := c.Modules()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return
	}
	targets := []*btf.Spec{kernel}
	for _, m := range modules {
		spec, err := c.Module(m)
		if err != nil {
			return
		}
		targets = append(targets, spec)
	}
	for _, o := range objs {
		if len(o.relos) == 0 {
			continue
		}
		// As cilium/ebpf's applyRelocations does, with a throwaway builder:
		// only the decoded kernel types stay, in the cache's specs.
		var b btf.Builder
		_, _ = btf.CORERelocate(o.relos, targets, o.bo, b.Add)
	}
}

type embeddedObject struct {
	elf   []byte
	relos []*btf.CORERelocation
	bo    binary.ByteOrder
}

// embeddedObjects returns the BPF objects in wasm's data segments that need
// kernel BTF. Objects that do not parse are skipped; anything in the module
// this does not understand ends the scan: it only decides whether to start
// work early.
func embeddedObjects(wasm []byte) []embeddedObject {
	// An ELF magic lies within one segment, so it is in the binary as is;
	// most modules without an object are done here.
	if !bytes.Contains(wasm, []byte(elfMagic)) {
		return nil
	}
	segs := dataSegments(wasm)
	var objs []embeddedObject
	for k := uint64(0); k < segs.n; k++ {
		seg, ok := segs.next()
		if !ok {
			break
		}
		for i := 0; ; {
			j := bytes.Index(seg.data[i:], []byte(elfMagic))
			if j < 0 {
				break
			}
			i += j + len(elfMagic)
			at := i - len(elfMagic)
			// Linkers split data into several segments (Go's, at every
			// long run of zeros), so an object can go on in the next ones.
			// A passive segment is copied wherever the guest wants it:
			// read it on its own.
			rest := segs.from(k)
			if !seg.active {
				rest = nil
			}
			if o, ok := object(seg, at, rest); ok {
				objs = append(objs, o)
			}
		}
	}
	return objs
}

const elfMagic = "\x7fELF"

// object parses the BPF ELF object at offset at of seg, reading on through
// the active segments rest (which follow seg in the module) with zeros
// between them, if there is one.
func object(seg segment, at int, rest *segments) (embeddedObject, bool) {
	const ehdrSize = 64 // ELF64
	h := read(seg, at, ehdrSize, rest)
	if h == nil || h[4] != 2 /* ELFCLASS64 */ {
		return embeddedObject{}, false
	}
	var bo binary.ByteOrder
	switch h[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return embeddedObject{}, false
	}
	if bo.Uint16(h[16:]) != 1 /* ET_REL */ || bo.Uint16(h[18:]) != 247 /* EM_BPF */ {
		return embeddedObject{}, false
	}
	// clang puts the section headers last: they end the object.
	shoff, shentsize, shnum := bo.Uint64(h[40:]), uint64(bo.Uint16(h[58:])), uint64(bo.Uint16(h[60:]))
	size := shoff + shentsize*shnum
	if shoff < ehdrSize || size > 64<<20 {
		return embeddedObject{}, false
	}
	elf := read(seg, at, int(size), rest)
	if elf == nil {
		return embeddedObject{}, false
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(elf))
	if err != nil {
		return embeddedObject{}, false
	}
	o := embeddedObject{elf: elf, bo: bo}
	needs := false
	for _, p := range spec.Programs {
		switch p.Type {
		case ebpf.Tracing, ebpf.LSM, ebpf.StructOps, ebpf.Extension:
			needs = true // attach targets are looked up by BTF ID
		}
		iter := p.Instructions.Iterate()
		for iter.Next() {
			if r := btf.CORERelocationMetadata(iter.Ins); r != nil {
				o.relos = append(o.relos, r)
			}
		}
	}
	return o, needs || len(o.relos) > 0
}

// read returns n bytes of memory from offset at of seg on, continuing
// through the active segments of rest at their addresses (zeros between
// them), or nil if they end first or go backwards.
func read(seg segment, at, n int, rest *segments) []byte {
	if at+n <= len(seg.data) {
		return seg.data[at : at+n]
	}
	if rest == nil {
		return nil
	}
	walk := *rest // rest stays at its start for the next read
	out := make([]byte, n)
	copy(out, seg.data[at:])
	base := seg.addr + uint64(at) // address of out[0]
	end := seg.addr + uint64(len(seg.data))
	for end < base+uint64(n) {
		s, ok := walk.next()
		if !ok || !s.active || s.addr < end {
			return nil
		}
		if s.addr >= base+uint64(n) {
			break // zeros to the end
		}
		copy(out[s.addr-base:], s.data)
		end = s.addr + uint64(len(s.data))
	}
	return out
}

type segment struct {
	addr   uint64 // in linear memory; active segments only
	data   []byte
	active bool
}

// segments walks the data segments of a wasm binary.
type segments struct {
	r reader
	n uint64 // segments in the section
	k uint64 // segments read
}

// dataSegments finds the data section of a wasm binary (an empty walk if
// there is none or the binary is malformed).
func dataSegments(wasm []byte) *segments {
	r := reader{b: wasm}
	if len(wasm) < 8 || !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		return &segments{}
	}
	r.i = 8
	for r.i < len(r.b) {
		id := r.byte()
		size := r.uleb()
		if r.bad || size > uint64(len(r.b)-r.i) {
			return &segments{}
		}
		if id != 11 { // data
			r.i += int(size)
			continue
		}
		r.b = r.b[:r.i+int(size)]
		n := r.uleb()
		if r.bad || n > size {
			return &segments{}
		}
		return &segments{r: r, n: n}
	}
	return &segments{}
}

// from returns a walk of the segments after the first k+1.
func (s *segments) from(k uint64) *segments {
	c := *s
	if c.k != k+1 {
		return nil // not at k: the caller's bug; scan no further
	}
	return &c
}

func (s *segments) next() (segment, bool) {
	if s.k >= s.n || s.r.bad {
		return segment{}, false
	}
	s.k++
	r := &s.r
	var seg segment
	switch flags := r.uleb(); flags {
	case 0, 2:
		if flags == 2 {
			r.uleb() // memory index
		}
		// A constant offset: i32.const N end (i64.const for memory64).
		op := r.byte()
		v := r.sleb()
		if end := r.byte(); end == 0x0b && (op == 0x41 || op == 0x42) && v >= 0 {
			seg.addr, seg.active = uint64(v), true
		}
	case 1:
	default:
		r.bad = true
		return segment{}, false
	}
	l := r.uleb()
	if r.bad || l > uint64(len(r.b)-r.i) {
		r.bad = true
		return segment{}, false
	}
	seg.data = r.b[r.i : r.i+int(l)]
	r.i += int(l)
	return seg, true
}

type reader struct {
	b   []byte
	i   int
	bad bool
}

func (r *reader) byte() byte {
	if r.i >= len(r.b) {
		r.bad = true
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

func (r *reader) uleb() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		c := r.byte()
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.bad = true
	return 0
}

func (r *reader) sleb() int64 {
	var v int64
	for shift := 0; shift < 64; {
		c := r.byte()
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
	r.bad = true
	return 0
}
