package wbpf

import "fmt"

// MapDef is what an object's BTF says of a map defined in its .maps section: the sizes the
// kernel will give its keys and values. Bindings compare it with the sizes they were generated
// for before handing buffers of those sizes to the host.
type MapDef struct {
	Type               uint32 // the kernel's enum bpf_map_type; 0 if the definition leaves it out
	KeySize, ValueSize uint32
}

// CheckMap reports whether the map name of the object's .maps section has the key and value
// sizes the caller's buffers have; a missing map or other sizes are an error wrapping ErrStale
// (the host writes value_size bytes into a value buffer, so a smaller buffer must never reach
// it).
func (o *Object) CheckMap(name string, keySize, valueSize uint32) error {
	d, err := o.MapDef(name)
	if err != nil {
		return err
	}
	if d.KeySize != keySize || d.ValueSize != valueSize {
		return fmt.Errorf("wbpf: map %s: key %d and value %d bytes in the object, %d and %d in the bindings: %w",
			name, d.KeySize, d.ValueSize, keySize, valueSize, ErrStale)
	}
	return nil
}

// MapDef reads the definition of map name from the object's BTF (.BTF, DATASEC .maps), as
// libbpf does: __uint(key_size, N) and __type(key, T) give the key size, likewise the value.
// A size the definition leaves out is 0.
func (o *Object) MapDef(name string) (MapDef, error) {
	if o.btf == nil {
		sec, err := findSection(o.buf, ".BTF")
		if err != nil {
			return MapDef{}, fmt.Errorf("wbpf: map %s: BTF: %w", name, err)
		}
		if o.btf, err = parseBTF(o.buf[sec.Offset : sec.Offset+sec.Size]); err != nil {
			return MapDef{}, fmt.Errorf("wbpf: map %s: BTF: %w", name, err)
		}
	}
	def, ok := o.btf.mapDef(name)
	if !ok {
		return MapDef{}, fmt.Errorf("wbpf: map %s: not in the object: %w", name, ErrStale)
	}
	return def, nil
}

// BTF kinds this reader needs to walk or skip.
const (
	btfInt = iota + 1
	btfPtr
	btfArray
	btfStruct
	btfUnion
	btfEnum
	btfFwd
	btfTypedef
	btfVolatile
	btfConst
	btfRestrict
	btfFunc
	btfFuncProto
	btfVar
	btfDatasec
	btfFloat
	btfDeclTag
	btfTypeTag
	btfEnum64
)

type btfType struct {
	name, kind, vlen, sizeOrType uint32
	data                         []byte // the kind's trailing data
}

type btfInfo struct {
	types   []btfType // index = type id; 0 is void
	strings []byte
}

// parseBTF reads a .BTF section (little endian); every offset is checked.
func parseBTF(b []byte) (*btfInfo, error) {
	bad := func(what string) (*btfInfo, error) { return nil, fmt.Errorf("%s: %w", what, ErrNotELF) }
	if len(b) < 24 || le16(b) != 0xeb9f {
		return bad("no BTF header")
	}
	hdrLen := le32(b[4:])
	typeOff, typeLen, strOff, strLen := le32(b[8:]), le32(b[12:]), le32(b[16:]), le32(b[20:])
	n := uint64(len(b))
	if hdrLen > n || typeOff+typeLen > n-hdrLen || strOff+strLen > n-hdrLen {
		return bad("BTF sections out of range")
	}
	info := &btfInfo{types: []btfType{{}}, strings: b[hdrLen+strOff : hdrLen+strOff+strLen]}
	t := b[hdrLen+typeOff : hdrLen+typeOff+typeLen]
	for len(t) > 0 {
		if len(t) < 12 {
			return bad("truncated BTF type")
		}
		bt := btfType{name: uint32(le32(t)), kind: uint32(le32(t[4:])>>24) & 0x1f, vlen: uint32(le32(t[4:]) & 0xffff), sizeOrType: uint32(le32(t[8:]))}
		var extra uint64
		switch bt.kind {
		case btfInt, btfVar, btfDeclTag:
			extra = 4
		case btfArray:
			extra = 12
		case btfStruct, btfUnion, btfDatasec, btfEnum64:
			extra = 12 * uint64(bt.vlen)
		case btfEnum, btfFuncProto:
			extra = 8 * uint64(bt.vlen)
		case btfPtr, btfFwd, btfTypedef, btfVolatile, btfConst, btfRestrict, btfFunc, btfFloat, btfTypeTag:
		default:
			return bad(fmt.Sprintf("BTF kind %d", bt.kind))
		}
		if extra > uint64(len(t)-12) {
			return bad("truncated BTF type")
		}
		bt.data = t[12 : 12+extra]
		info.types = append(info.types, bt)
		t = t[12+extra:]
	}
	return info, nil
}

func (b *btfInfo) str(off uint32) string {
	if uint64(off) >= uint64(len(b.strings)) {
		return ""
	}
	s := b.strings[off:]
	for i, c := range s {
		if c == 0 {
			return string(s[:i])
		}
	}
	return ""
}

func (b *btfInfo) typ(id uint32) (btfType, bool) {
	if id == 0 || uint64(id) >= uint64(len(b.types)) {
		return btfType{}, false
	}
	return b.types[id], true
}

// skipMods follows typedefs and qualifiers.
func (b *btfInfo) skipMods(id uint32) (btfType, bool) {
	for i := 0; i < 64; i++ {
		t, ok := b.typ(id)
		if !ok {
			return btfType{}, false
		}
		switch t.kind {
		case btfTypedef, btfVolatile, btfConst, btfRestrict, btfTypeTag:
			id = t.sizeOrType
		default:
			return t, true
		}
	}
	return btfType{}, false
}

// size is the byte size of type id, 0 when it has none.
func (b *btfInfo) size(id uint32, depth int) uint64 {
	t, ok := b.skipMods(id)
	if !ok || depth > 64 {
		return 0
	}
	switch t.kind {
	case btfInt, btfStruct, btfUnion, btfEnum, btfEnum64, btfFloat, btfDatasec:
		return uint64(t.sizeOrType)
	case btfPtr:
		return 8
	case btfArray:
		return uint64(le32(t.data[8:])) * b.size(uint32(le32(t.data)), depth+1)
	}
	return 0
}

// mapDef finds the variable name in DATASEC .maps and reads key and value sizes from its
// struct: a member key_size/value_size is a pointer to an array of N elements (__uint), a
// member key/value a pointer to the type (__type).
func (b *btfInfo) mapDef(name string) (MapDef, bool) {
	for _, sec := range b.types {
		if sec.kind != btfDatasec || b.str(sec.name) != ".maps" {
			continue
		}
		for i := uint32(0); i < sec.vlen; i++ {
			v, ok := b.typ(uint32(le32(sec.data[12*i:])))
			if !ok || v.kind != btfVar || b.str(v.name) != name {
				continue
			}
			st, ok := b.skipMods(v.sizeOrType)
			if !ok || st.kind != btfStruct {
				return MapDef{}, false
			}
			var d MapDef
			for j := uint32(0); j < st.vlen; j++ {
				m := st.data[12*j:]
				ptr, ok := b.skipMods(uint32(le32(m[4:])))
				if !ok || ptr.kind != btfPtr {
					continue
				}
				switch b.str(uint32(le32(m))) {
				case "type", "key_size", "value_size":
					arr, ok := b.skipMods(ptr.sizeOrType)
					if !ok || arr.kind != btfArray {
						continue
					}
					n := uint32(le32(arr.data[8:]))
					switch b.str(uint32(le32(m))) {
					case "type":
						d.Type = n
					case "key_size":
						d.KeySize = n
					default:
						d.ValueSize = n
					}
				case "key":
					d.KeySize = uint32(b.size(ptr.sizeOrType, 0))
				case "value":
					d.ValueSize = uint32(b.size(ptr.sizeOrType, 0))
				}
			}
			return d, true
		}
	}
	return MapDef{}, false
}
