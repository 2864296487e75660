package layout

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// decodeRaw decodes a raw BTF blob (such as /sys/kernel/btf/vmlinux) into cilium/ebpf's btf types,
// the same graph btf.LoadSpecFromReader builds.
//
// Why a decoder of our own for this one path: `wbpfgen header vmlinux` is measured against
// bpftool (issue: wall time <= 1.0x, peak memory <= 4x). cilium/ebpf's decoder inflates the
// kernel's 126k types one allocation at a time (~115 ms, ~45 MB live here), which alone uses the
// whole budget. This one allocates every kind in one slab, takes names as substrings of one copy
// of the string section and never looks a type up twice. ELF objects (small, and needing
// cilium's section fixups) still go through cilium/ebpf, and a differential test checks that
// both decoders build the same graph from the same bytes.
func decodeRaw(data []byte) ([]btf.Type, error) {
	d, err := newRawDecoder(data)
	if err != nil {
		return nil, err
	}
	if err := d.scan(); err != nil {
		return nil, err
	}
	if err := d.fill(); err != nil {
		return nil, err
	}
	return d.types, nil
}

// BTF kinds (include/uapi/linux/btf.h).
const (
	kindInt = iota + 1
	kindPtr
	kindArray
	kindStruct
	kindUnion
	kindEnum
	kindFwd
	kindTypedef
	kindVolatile
	kindConst
	kindRestrict
	kindFunc
	kindFuncProto
	kindVar
	kindDatasec
	kindFloat
	kindDeclTag
	kindTypeTag
	kindEnum64
)

const maxTypes = 1 << 24

// noFunc stands for every function of raw BTF: the model drops functions (see New), and this keeps
// the ID table whole without decoding them.
var noFunc = &btf.Func{Name: "(function)"} // far above any kernel; bounds allocations from a corrupt header

type rawDecoder struct {
	bo      binary.ByteOrder
	typeSec []byte
	strs    string // the whole string section, names are substrings of it

	offs  []uint32 // offset of each type (by ID-1) in typeSec
	types []btf.Type
	// legacy bitfields: ints with a bit offset or fewer bits than their size (old clang).
	legacy map[btf.TypeID][2]uint32
	slabs  *slabs
}

func newRawDecoder(data []byte) (*rawDecoder, error) {
	if len(data) < 24 {
		return nil, errors.New("header truncated")
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if binary.LittleEndian.Uint16(data) != 0xeb9f {
		bo = binary.BigEndian
		if bo.Uint16(data) != 0xeb9f {
			return nil, errors.New("bad magic")
		}
	}
	if data[2] != 1 {
		return nil, fmt.Errorf("unsupported version %d", data[2])
	}
	hdrLen := uint64(bo.Uint32(data[4:]))
	typeOff, typeLen := uint64(bo.Uint32(data[8:])), uint64(bo.Uint32(data[12:]))
	strOff, strLen := uint64(bo.Uint32(data[16:])), uint64(bo.Uint32(data[20:]))
	size := uint64(len(data))
	if hdrLen < 24 || hdrLen > size ||
		hdrLen+typeOff+typeLen > size || hdrLen+strOff+strLen > size {
		return nil, errors.New("section out of bounds")
	}
	strs := data[hdrLen+strOff : hdrLen+strOff+strLen]
	if len(strs) > 0 && (strs[0] != 0 || strs[len(strs)-1] != 0) {
		return nil, errors.New("malformed string table")
	}
	return &rawDecoder{
		bo:      bo,
		typeSec: data[hdrLen+typeOff : hdrLen+typeOff+typeLen],
		strs:    string(strs),
	}, nil
}

func (d *rawDecoder) name(off uint32) (string, error) {
	if off == 0 {
		return "", nil // also when the string table is empty
	}
	if int(off) >= len(d.strs) {
		return "", fmt.Errorf("name offset %d out of bounds", off)
	}
	s := d.strs[off:]
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i], nil
		}
	}
	return "", fmt.Errorf("name at %d not terminated", off)
}

// trailer is the number of bytes that follow a type's 12-byte header.
func trailer(kind, vlen uint32) (uint64, error) {
	v := uint64(vlen)
	switch kind {
	case kindInt, kindVar, kindDeclTag:
		return 4, nil
	case kindPtr, kindFwd, kindTypedef, kindVolatile, kindConst, kindRestrict, kindFunc, kindFloat, kindTypeTag:
		return 0, nil
	case kindArray:
		return 12, nil
	case kindStruct, kindUnion, kindDatasec, kindEnum64:
		return 12 * v, nil
	case kindEnum, kindFuncProto:
		return 8 * v, nil
	}
	return 0, fmt.Errorf("unknown kind %d", kind)
}

// counts per kind, to allocate each kind's values in one slab.
type slabs struct {
	ints     []btf.Int
	ptrs     []btf.Pointer
	arrays   []btf.Array
	structs  []btf.Struct
	unions   []btf.Union
	enums    []btf.Enum
	fwds     []btf.Fwd
	typedefs []btf.Typedef
	vols     []btf.Volatile
	consts   []btf.Const
	restrs   []btf.Restrict
	protos   []btf.FuncProto
	vars     []btf.Var
	secs     []btf.Datasec
	floats   []btf.Float
	tags     []btf.TypeTag
	members  []btf.Member
	values   []btf.EnumValue
	params   []btf.FuncParam
	secinfos []btf.VarSecinfo
}

// scan finds every type and allocates its value, without filling it.
func (d *rawDecoder) scan() error {
	var n [kindEnum64 + 1]int
	var members, values, params, secinfos int
	sec := d.typeSec
	for pos := uint64(0); pos < uint64(len(sec)); {
		if uint64(len(sec))-pos < 12 {
			return fmt.Errorf("type %d: header truncated", len(d.offs)+1)
		}
		info := d.bo.Uint32(sec[pos+4:])
		kind, vlen := (info>>24)&0x1f, info&0xffff
		t, err := trailer(kind, vlen)
		if err != nil {
			return fmt.Errorf("type %d: %w", len(d.offs)+1, err)
		}
		if pos+12+t > uint64(len(sec)) {
			return fmt.Errorf("type %d: truncated", len(d.offs)+1)
		}
		if len(d.offs) >= maxTypes {
			return errors.New("too many types")
		}
		d.offs = append(d.offs, uint32(pos))
		n[kind]++
		switch kind {
		case kindStruct, kindUnion:
			members += int(vlen)
		case kindEnum, kindEnum64:
			values += int(vlen)
		case kindFuncProto:
			params += int(vlen)
		case kindDatasec:
			secinfos += int(vlen)
		}
		pos += 12 + t
	}
	s := &slabs{
		ints: make([]btf.Int, n[kindInt]), ptrs: make([]btf.Pointer, n[kindPtr]),
		arrays: make([]btf.Array, n[kindArray]), structs: make([]btf.Struct, n[kindStruct]),
		unions: make([]btf.Union, n[kindUnion]), enums: make([]btf.Enum, n[kindEnum]+n[kindEnum64]),
		fwds: make([]btf.Fwd, n[kindFwd]), typedefs: make([]btf.Typedef, n[kindTypedef]),
		vols: make([]btf.Volatile, n[kindVolatile]), consts: make([]btf.Const, n[kindConst]),
		restrs: make([]btf.Restrict, n[kindRestrict]),
		protos: make([]btf.FuncProto, n[kindFuncProto]), vars: make([]btf.Var, n[kindVar]),
		secs: make([]btf.Datasec, n[kindDatasec]), floats: make([]btf.Float, n[kindFloat]),
		tags:    make([]btf.TypeTag, n[kindTypeTag]),
		members: make([]btf.Member, members), values: make([]btf.EnumValue, values),
		params: make([]btf.FuncParam, params), secinfos: make([]btf.VarSecinfo, secinfos),
	}
	d.types = make([]btf.Type, len(d.offs)+1)
	d.types[0] = (*btf.Void)(nil)
	for i, off := range d.offs {
		kind := (d.bo.Uint32(sec[off+4:]) >> 24) & 0x1f
		var t btf.Type
		switch kind {
		case kindInt:
			t, s.ints = &s.ints[0], s.ints[1:]
		case kindPtr:
			t, s.ptrs = &s.ptrs[0], s.ptrs[1:]
		case kindArray:
			t, s.arrays = &s.arrays[0], s.arrays[1:]
		case kindStruct:
			t, s.structs = &s.structs[0], s.structs[1:]
		case kindUnion:
			t, s.unions = &s.unions[0], s.unions[1:]
		case kindEnum, kindEnum64:
			t, s.enums = &s.enums[0], s.enums[1:]
		case kindFwd:
			t, s.fwds = &s.fwds[0], s.fwds[1:]
		case kindTypedef:
			t, s.typedefs = &s.typedefs[0], s.typedefs[1:]
		case kindVolatile:
			t, s.vols = &s.vols[0], s.vols[1:]
		case kindConst:
			t, s.consts = &s.consts[0], s.consts[1:]
		case kindRestrict:
			t, s.restrs = &s.restrs[0], s.restrs[1:]
		case kindFunc:
			t = noFunc // functions have no layout; the kernel's 56k would cost 5 MB
		case kindFuncProto:
			t, s.protos = &s.protos[0], s.protos[1:]
		case kindVar:
			t, s.vars = &s.vars[0], s.vars[1:]
		case kindDatasec:
			t, s.secs = &s.secs[0], s.secs[1:]
		case kindFloat:
			t, s.floats = &s.floats[0], s.floats[1:]
		case kindTypeTag:
			t, s.tags = &s.tags[0], s.tags[1:]
		case kindDeclTag:
			t = nil // folded into the tagged type by cilium/ebpf; no printer needs them
		}
		d.types[i+1] = t
	}
	d.slabs = s
	return nil
}

func (d *rawDecoder) ref(id uint32) (btf.Type, error) {
	if uint64(id) >= uint64(len(d.types)) {
		return nil, fmt.Errorf("reference to type %d out of range", id)
	}
	t := d.types[id]
	if t == nil && id != 0 {
		return nil, fmt.Errorf("reference to decl tag %d", id)
	}
	return t, nil
}

// fill decodes every type's fields and links the references.
func (d *rawDecoder) fill() error {
	sec := d.typeSec
	// Legacy bitfield ints first: members referring to them need their offset and size.
	for i, off := range d.offs {
		info := d.bo.Uint32(sec[off+4:])
		if (info>>24)&0x1f != kindInt {
			continue
		}
		enc := d.bo.Uint32(sec[off+12:])
		bits, bitOff := enc&0xff, (enc>>16)&0xff
		if bitOff > 0 || bits != d.bo.Uint32(sec[off+8:])*8 {
			if d.legacy == nil {
				d.legacy = make(map[btf.TypeID][2]uint32)
			}
			d.legacy[btf.TypeID(i+1)] = [2]uint32{bitOff, bits}
		}
	}
	for i, off := range d.offs {
		id := i + 1
		nameOff := d.bo.Uint32(sec[off:])
		info := d.bo.Uint32(sec[off+4:])
		kind, vlen, kflag := (info>>24)&0x1f, info&0xffff, info>>31 == 1
		sizeType := d.bo.Uint32(sec[off+8:])
		rest := sec[off+12:]
		name, err := d.name(nameOff)
		if err != nil {
			return fmt.Errorf("type %d: %w", id, err)
		}
		t := d.types[id]
		switch v := t.(type) {
		case *btf.Int:
			enc := d.bo.Uint32(rest)
			*v = btf.Int{Name: name, Size: sizeType, Encoding: btf.IntEncoding(enc >> 24 & 0xf)}
		case *btf.Pointer:
			v.Target, err = d.ref(sizeType)
		case *btf.Array:
			v.Type, err = d.ref(d.bo.Uint32(rest))
			if err == nil {
				v.Index, err = d.ref(d.bo.Uint32(rest[4:]))
			}
			v.Nelems = d.bo.Uint32(rest[8:])
		case *btf.Struct:
			v.Name, v.Size = name, sizeType
			v.Members, err = d.members(rest, vlen, kflag)
		case *btf.Union:
			v.Name, v.Size = name, sizeType
			v.Members, err = d.members(rest, vlen, kflag)
		case *btf.Enum:
			v.Name, v.Size, v.Signed = name, sizeType, kflag
			v.Values, err = d.enumValues(rest, vlen, kind == kindEnum64, kflag)
		case *btf.Fwd:
			v.Name = name
			if kflag {
				v.Kind = btf.FwdUnion
			}
		case *btf.Typedef:
			v.Name = name
			v.Type, err = d.ref(sizeType)
		case *btf.Volatile:
			v.Type, err = d.ref(sizeType)
		case *btf.Const:
			v.Type, err = d.ref(sizeType)
		case *btf.Restrict:
			v.Type, err = d.ref(sizeType)
		case *btf.Func:
			// noFunc: not decoded, see scan
		case *btf.FuncProto:
			v.Return, err = d.ref(sizeType)
			if err == nil {
				v.Params, err = d.funcParams(rest, vlen)
			}
		case *btf.Var:
			v.Name, v.Linkage = name, btf.VarLinkage(d.bo.Uint32(rest))
			v.Type, err = d.ref(sizeType)
		case *btf.Datasec:
			v.Name, v.Size = name, sizeType
			v.Vars, err = d.secinfos(rest, vlen)
		case *btf.Float:
			*v = btf.Float{Name: name, Size: sizeType}
		case *btf.TypeTag:
			v.Value = name
			v.Type, err = d.ref(sizeType)
		}
		if err != nil {
			return fmt.Errorf("type %d (%s): %w", id, name, err)
		}
	}
	return nil
}

func (d *rawDecoder) members(b []byte, vlen uint32, kflag bool) ([]btf.Member, error) {
	n := int(vlen)
	ms := d.slabs.members[:n:n]
	d.slabs.members = d.slabs.members[n:]
	for i := range ms {
		rec := b[12*i:]
		name, err := d.name(d.bo.Uint32(rec))
		if err != nil {
			return nil, err
		}
		typeID := d.bo.Uint32(rec[4:])
		typ, err := d.ref(typeID)
		if err != nil {
			return nil, err
		}
		off := d.bo.Uint32(rec[8:])
		m := btf.Member{Name: name, Type: typ, Offset: btf.Bits(off)}
		if kflag {
			m.BitfieldSize = btf.Bits(off >> 24)
			m.Offset = btf.Bits(off & 0xffffff)
		} else if lb, ok := d.legacy[btf.TypeID(typeID)]; ok {
			m.Offset += btf.Bits(lb[0])
			m.BitfieldSize = btf.Bits(lb[1])
		}
		ms[i] = m
	}
	return ms, nil
}

func (d *rawDecoder) enumValues(b []byte, vlen uint32, is64, signed bool) ([]btf.EnumValue, error) {
	n := int(vlen)
	vs := d.slabs.values[:n:n]
	d.slabs.values = d.slabs.values[n:]
	stride := 8
	if is64 {
		stride = 12
	}
	for i := range vs {
		rec := b[stride*i:]
		name, err := d.name(d.bo.Uint32(rec))
		if err != nil {
			return nil, err
		}
		var val uint64
		if is64 {
			val = uint64(d.bo.Uint32(rec[8:]))<<32 | uint64(d.bo.Uint32(rec[4:]))
		} else if signed {
			val = uint64(int64(int32(d.bo.Uint32(rec[4:]))))
		} else {
			val = uint64(d.bo.Uint32(rec[4:]))
		}
		vs[i] = btf.EnumValue{Name: name, Value: val}
	}
	return vs, nil
}

func (d *rawDecoder) funcParams(b []byte, vlen uint32) ([]btf.FuncParam, error) {
	n := int(vlen)
	ps := d.slabs.params[:n:n]
	d.slabs.params = d.slabs.params[n:]
	for i := range ps {
		rec := b[8*i:]
		name, err := d.name(d.bo.Uint32(rec))
		if err != nil {
			return nil, err
		}
		typ, err := d.ref(d.bo.Uint32(rec[4:]))
		if err != nil {
			return nil, err
		}
		ps[i] = btf.FuncParam{Name: name, Type: typ}
	}
	return ps, nil
}

func (d *rawDecoder) secinfos(b []byte, vlen uint32) ([]btf.VarSecinfo, error) {
	n := int(vlen)
	vs := d.slabs.secinfos[:n:n]
	d.slabs.secinfos = d.slabs.secinfos[n:]
	for i := range vs {
		rec := b[12*i:]
		typ, err := d.ref(d.bo.Uint32(rec))
		if err != nil {
			return nil, err
		}
		vs[i] = btf.VarSecinfo{Type: typ, Offset: d.bo.Uint32(rec[4:]), Size: d.bo.Uint32(rec[8:])}
	}
	return vs, nil
}
