//! The little of ELF the SDK reads from a BPF object before load: its sections, its programs
//! (functions in executable sections other than .text) and its global variables, so that the
//! object can be attached as a whole and its variables set by name.

const SHT_SYMTAB: u32 = 2;
const SHT_NOBITS: u32 = 8;
const SHF_EXECINSTR: u64 = 0x4;
const STT_OBJECT: u8 = 1;
const STT_FUNC: u8 = 2;
const STB_GLOBAL: u8 = 1;

/// A section of the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionHeader {
    pub name: String,
    pub kind: u32,
    pub flags: u64,
    /// File offset of the section's bytes (meaningless for NOBITS).
    pub offset: u64,
    pub size: u64,
}

impl SectionHeader {
    pub fn no_bits(&self) -> bool { self.kind == SHT_NOBITS }
}

/// A symbol of the object's symbol table.
#[derive(Clone, Debug)]
pub(crate) struct Symbol {
    pub name: String,
    pub kind: u8,
    pub bind: u8,
    pub section: usize,
    pub value: u64,
    pub size: u64,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Elf {
    pub sections: Vec<SectionHeader>,
    pub symbols: Vec<Symbol>,
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(off..off + 8)?.try_into().ok()?))
}
fn cstr_at(b: &[u8], off: usize) -> Option<String> {
    let rest = b.get(off..)?;
    let n = rest.iter().position(|&c| c == 0)?;
    Some(String::from_utf8_lossy(&rest[..n]).into_owned())
}
fn range(b: &[u8], off: u64, size: u64) -> Option<&[u8]> {
    let end = off.checked_add(size)?;
    b.get(usize::try_from(off).ok()?..usize::try_from(end).ok()?)
}

impl Elf {
    /// Parses a 64-bit little-endian ELF file (what clang -target bpf writes on x86 and arm64);
    /// None for anything else or anything out of bounds.
    pub fn parse(b: &[u8]) -> Option<Elf> {
        if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 || b[5] != 1 {
            return None;
        }
        let shoff = u64_at(b, 0x28)?;
        let shentsize = u16_at(b, 0x3a)? as u64;
        let shnum = u16_at(b, 0x3c)? as u64;
        let shstrndx = u16_at(b, 0x3e)? as u64;
        if shentsize < 64 || shstrndx >= shnum {
            return None;
        }
        let table = range(b, shoff, shentsize.checked_mul(shnum)?)?;
        let raw: Vec<(u32, u32, u64, u64, u64, u32)> = (0..shnum as usize)
            .map(|i| {
                let h = &table[i * shentsize as usize..];
                Some((u32_at(h, 0)?, u32_at(h, 4)?, u64_at(h, 8)?, u64_at(h, 24)?, u64_at(h, 32)?, u32_at(h, 40)?))
            })
            .collect::<Option<_>>()?;
        let shstr = raw[shstrndx as usize];
        let names = range(b, shstr.3, shstr.4)?;
        let mut elf = Elf::default();
        for r in &raw {
            elf.sections.push(SectionHeader { name: cstr_at(names, r.0 as usize)?, kind: r.1, flags: r.2, offset: r.3, size: r.4 });
        }
        for r in raw.iter().filter(|r| r.1 == SHT_SYMTAB) {
            let syms = range(b, r.3, r.4)?;
            let strs = raw.get(r.5 as usize)?;
            let strs = range(b, strs.3, strs.4)?;
            for s in syms.chunks_exact(24) {
                let info = s[4];
                elf.symbols.push(Symbol {
                    name: cstr_at(strs, u32_at(s, 0)? as usize)?,
                    kind: info & 0xf,
                    bind: info >> 4,
                    section: u16_at(s, 6)? as usize,
                    value: u64_at(s, 8)?,
                    size: u64_at(s, 16)?,
                });
            }
        }
        Some(elf)
    }

    /// The bytes of section i (None for NOBITS or out of bounds).
    pub fn section_bytes<'a>(&self, b: &'a [u8], i: usize) -> Option<&'a [u8]> {
        let s = self.sections.get(i).filter(|s| !s.no_bits())?;
        range(b, s.offset, s.size)
    }

    /// The symbols defined in the section called name, with their bytes.
    pub fn symbols_in<'a>(&self, b: &'a [u8], name: &str) -> Vec<(String, &'a [u8])> {
        let idx = match self.sections.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => return Vec::new(),
        };
        let data = match self.section_bytes(b, idx) {
            Some(d) => d,
            None => return Vec::new(),
        };
        self.symbols
            .iter()
            .filter(|s| s.section == idx && s.kind == STT_OBJECT && !s.name.is_empty())
            .filter_map(|s| Some((s.name.clone(), range(data, s.value, s.size)?)))
            .collect()
    }

    /// The section called name.
    pub fn section(&self, name: &str) -> Option<&SectionHeader> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The programs: (function name, section name), in symbol-table order.
    pub fn programs(&self) -> Vec<(String, String)> {
        self.symbols
            .iter()
            .filter(|s| s.kind == STT_FUNC && s.bind == STB_GLOBAL)
            .filter_map(|s| {
                let sec = self.sections.get(s.section)?;
                (sec.flags & SHF_EXECINSTR != 0 && sec.name != ".text").then(|| (s.name.clone(), sec.name.clone()))
            })
            .collect()
    }

    /// A global variable: its section, offset and size.
    pub fn variable(&self, name: &str) -> Option<(&SectionHeader, u64, u64)> {
        let s = self.symbols.iter().find(|s| s.kind == STT_OBJECT && s.name == name)?;
        let sec = self.sections.get(s.section)?;
        if !is_data_section(&sec.name) || s.value.checked_add(s.size)? > sec.size {
            return None;
        }
        Some((sec, s.value, s.size))
    }
}

/// Sections that become global-variable maps.
pub fn is_data_section(name: &str) -> bool {
    [".rodata", ".data", ".bss"].iter().any(|p| name == *p || name.starts_with(&format!("{}.", p)))
}

/// Sections the host attaches without a target (as wbpfgen's skeletons decide).
pub fn auto_attach(section: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "tracepoint/", "tp/", "raw_tracepoint/", "raw_tp/", "tp_btf/", "kprobe/", "kretprobe/",
        "kprobe.multi/", "kretprobe.multi/", "ksyscall/", "kretsyscall/", "uprobe/", "uretprobe/",
        "usdt/", "fentry/", "fexit/", "fmod_ret/", "lsm/", "iter/",
    ];
    PREFIXES.iter().any(|p| section.len() > p.len() && section.starts_with(p))
}
