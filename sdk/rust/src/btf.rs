//! The little of BTF the SDK reads: each map's type, key size and value size, from the `.maps`
//! section's BTF (libbpf's `__uint`/`__type` definitions) or a legacy `maps` section, so that
//! map operations can refuse buffers of the wrong size instead of letting the host write past
//! them (the host writes the map's value_size bytes wherever the guest points).

/// Map definitions by name; a Vec, not a HashMap: objects have a few maps, and std's HashMap
/// would add ~20 KB (SipHash, random seeding) to every guest.
pub(crate) type MapDefs = Vec<(String, MapDef)>;

/// The definition of the map called name.
pub(crate) fn find<'a>(defs: &'a MapDefs, name: &str) -> Option<&'a MapDef> {
    defs.iter().find(|(n, _)| n == name).map(|(_, d)| d)
}

/// A map's definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MapDef {
    pub kind: u32,
    pub key_size: u32,
    pub value_size: u32,
}

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

struct Type {
    name: u32,
    kind: u32,
    vlen: usize,
    size_or_type: u32,
    extra: usize, // offset of the kind-specific data in the type section
}

struct Btf<'a> {
    types: Vec<Type>, // index = type id - 1
    data: &'a [u8],   // the type section
    strs: &'a [u8],
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off.checked_add(4)?)?.try_into().ok()?))
}

impl<'a> Btf<'a> {
    fn parse(b: &'a [u8]) -> Option<Btf<'a>> {
        if b.len() < 24 || b[0] != 0x9f || b[1] != 0xeb {
            return None;
        }
        let hdr = u32_at(b, 4)? as usize;
        let (toff, tlen, soff, slen) = (u32_at(b, 8)? as usize, u32_at(b, 12)? as usize, u32_at(b, 16)? as usize, u32_at(b, 20)? as usize);
        let data = b.get(hdr.checked_add(toff)?..hdr.checked_add(toff)?.checked_add(tlen)?)?;
        let strs = b.get(hdr.checked_add(soff)?..hdr.checked_add(soff)?.checked_add(slen)?)?;
        let mut types = Vec::new();
        let mut off = 0;
        while off < data.len() {
            let info = u32_at(data, off + 4)?;
            let t = Type { name: u32_at(data, off)?, kind: (info >> 24) & 0x1f, vlen: (info & 0xffff) as usize, size_or_type: u32_at(data, off + 8)?, extra: off + 12 };
            let extra = match t.kind {
                KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
                KIND_ARRAY => 12,
                KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 12 * t.vlen,
                KIND_ENUM | KIND_FUNC_PROTO => 8 * t.vlen,
                0 | KIND_PTR | 7 | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | 12 | KIND_FLOAT | KIND_TYPE_TAG => 0,
                _ => return None,
            };
            off = t.extra.checked_add(extra)?;
            if off > data.len() {
                return None;
            }
            types.push(t);
        }
        Some(Btf { types, data, strs })
    }

    fn get(&self, id: u32) -> Option<&Type> {
        self.types.get((id as usize).checked_sub(1)?)
    }

    fn name(&self, off: u32) -> Option<&'a str> {
        let rest = self.strs.get(off as usize..)?;
        std::str::from_utf8(&rest[..rest.iter().position(|&c| c == 0)?]).ok()
    }

    /// The type id after typedefs and qualifiers.
    fn resolve(&self, mut id: u32) -> Option<u32> {
        for _ in 0..32 {
            match self.get(id)?.kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => id = self.get(id)?.size_or_type,
                _ => return Some(id),
            }
        }
        None
    }

    /// The size in bytes of a type (pointers are 8 bytes on the BPF side).
    fn size(&self, id: u32, depth: u32) -> Option<u64> {
        if depth > 32 {
            return None;
        }
        let t = self.get(self.resolve(id)?)?;
        match t.kind {
            KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 | KIND_FLOAT => Some(t.size_or_type as u64),
            KIND_PTR => Some(8),
            KIND_ARRAY => {
                let elem = u32_at(self.data, t.extra)?;
                let n = u32_at(self.data, t.extra + 8)? as u64;
                self.size(elem, depth + 1)?.checked_mul(n)
            }
            _ => None,
        }
    }

    /// libbpf's `__uint(name, N)` is `int (*name)[N]`: N.
    fn uint_member(&self, id: u32) -> Option<u32> {
        let p = self.get(self.resolve(id)?)?;
        if p.kind != KIND_PTR {
            return None;
        }
        let a = self.get(self.resolve(p.size_or_type)?)?;
        if a.kind != KIND_ARRAY {
            return None;
        }
        u32_at(self.data, a.extra + 8)
    }

    /// libbpf's `__type(name, T)` is `typeof(T) *name`: sizeof(T).
    fn type_member(&self, id: u32) -> Option<u32> {
        let p = self.get(self.resolve(id)?)?;
        if p.kind != KIND_PTR {
            return None;
        }
        u32::try_from(self.size(p.size_or_type, 0)?).ok()
    }

    /// The maps defined in the `.maps` section, by name.
    fn maps(&self) -> MapDefs {
        let mut out = MapDefs::new();
        for t in self.types.iter().filter(|t| t.kind == KIND_DATASEC) {
            if self.name(t.name) != Some(".maps") {
                continue;
            }
            for i in 0..t.vlen {
                let var_id = match u32_at(self.data, t.extra + 12 * i) {
                    Some(v) => v,
                    None => continue,
                };
                if let Some(nd) = self.map_var(var_id) {
                    out.push(nd);
                }
            }
        }
        out
    }

    fn map_var(&self, var_id: u32) -> Option<(String, MapDef)> {
        let var = self.get(var_id)?;
        if var.kind != KIND_VAR {
            return None;
        }
        let name = self.name(var.name)?.to_string();
        let s = self.get(self.resolve(var.size_or_type)?)?;
        if s.kind != KIND_STRUCT {
            return None;
        }
        let mut def = MapDef { kind: 0, key_size: 0, value_size: 0 };
        for i in 0..s.vlen {
            let m = s.extra + 12 * i;
            let (mname, mtype) = (self.name(u32_at(self.data, m)?)?, u32_at(self.data, m + 4)?);
            match mname {
                "type" => def.kind = self.uint_member(mtype)?,
                "key_size" => def.key_size = self.uint_member(mtype)?,
                "value_size" => def.value_size = self.uint_member(mtype)?,
                "key" => def.key_size = self.type_member(mtype)?,
                "value" => def.value_size = self.type_member(mtype)?,
                _ => {}
            }
        }
        Some((name, def))
    }
}

/// The map definitions of an object: its BTF-defined maps (`.BTF` holds their `.maps` section),
/// and legacy `struct bpf_map_def` maps of a `maps` section (type, key_size, value_size at the
/// start of each symbol's definition).
pub(crate) fn map_defs(btf: Option<&[u8]>, legacy: &[(String, &[u8])]) -> MapDefs {
    let mut out = btf.and_then(Btf::parse).map(|b| b.maps()).unwrap_or_default();
    for (name, def) in legacy {
        if let (Some(kind), Some(key_size), Some(value_size)) = (u32_at(def, 0), u32_at(def, 4), u32_at(def, 8)) {
            if find(&out, name).is_none() {
                out.push((name.clone(), MapDef { kind, key_size, value_size }));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::Elf;

    #[test]
    fn bootstrap_maps() {
        let b = include_bytes!("../../../examples/bootstrap/bootstrap.bpf.o");
        let elf = Elf::parse(b).unwrap();
        let i = elf.sections.iter().position(|s| s.name == ".BTF").unwrap();
        let defs = map_defs(elf.section_bytes(b, i), &[]);
        assert_eq!(find(&defs, "exec_start"), Some(&MapDef { kind: 1, key_size: 4, value_size: 8 }));
        // __type(value, struct event): a ring buffer with a value type, as bootstrap.bpf.c declares
        assert_eq!(find(&defs, "rb"), Some(&MapDef { kind: 27, key_size: 0, value_size: 168 }));
        assert_eq!(find(&defs, "nope"), None);
    }

    #[test]
    fn legacy_and_garbage() {
        let def = [6u8, 0, 0, 0, 4, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0];
        let defs = map_defs(Some(b"not btf at all, too short?"), &[("old".to_string(), &def[..])]);
        assert_eq!(find(&defs, "old"), Some(&MapDef { kind: 6, key_size: 4, value_size: 16 }));
        assert!(Btf::parse(&[0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0]).is_none());
    }
}
