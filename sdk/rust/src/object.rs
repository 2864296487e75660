//! The BPF object: its bytes (patchable until load), then the host's handle to it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::btf::{self, MapDef};
use crate::config::Setting;
use crate::elf::{self, Elf};
use crate::errno::{self, check, Error, ErrorKind, Result};
use crate::map::Map;
use crate::pod::{bytes_of, bytes_of_mut, zeroed, Pod};
use crate::sys;

/// What an [`Object`] and the maps and readers made from it share: the bytes and the handle.
pub(crate) struct Inner {
    pub buf: RefCell<Vec<u8>>,
    pub handle: Cell<u64>, // 0 until loaded and after close
    pub closed: Cell<bool>,
    pub elf: Elf,
    /// Section names handed out as &'static str by Object::section, each leaked once.
    pub names: RefCell<Vec<&'static str>>,
    /// Every map's type, key and value size, from the object's BTF (or legacy maps section) and
    /// its global-variable sections: map operations check buffers against them
    /// ([`Object::set_value_size`] changes one before load).
    pub defs: RefCell<btf::MapDefs>,
    /// The settings made before load ([`crate::config`]); none: the original's one-call load.
    pub config: RefCell<Vec<Setting>>,
    /// The object opened through wbpf_config for the getters before load ([`Object::map_info`]);
    /// 0: none. Closed at load and close.
    pub peek: Cell<u64>,
}

impl Inner {
    /// The handle, or why there is none.
    pub fn loaded(&self, what: &dyn Fn() -> String) -> Result<u64> {
        if self.closed.get() {
            return Err(Error::new(ErrorKind::Closed, errno::EBADF, what()));
        }
        match self.handle.get() {
            0 => Err(Error::new(ErrorKind::NotLoaded, errno::EBADF, what())),
            h => Ok(h),
        }
    }
}

impl Inner {
    /// The parsed object, not loaded: the ELF's sections and symbols and every map's layout.
    pub fn parse(elf_bytes: &[u8], what: &str) -> Result<Inner> {
        let elf = Elf::parse(elf_bytes).ok_or_else(|| Error::new(ErrorKind::NotElf, errno::ENOEXEC, what))?;
        if elf_bytes.len() > i32::MAX as usize {
            return Err(Error::new(ErrorKind::Range, errno::E2BIG, what));
        }
        let btf_idx = elf.sections.iter().position(|s| s.name == ".BTF");
        let mut defs = btf::map_defs(btf_idx.and_then(|i| elf.section_bytes(elf_bytes, i)), &elf.symbols_in(elf_bytes, "maps"));
        for s in elf.sections.iter().filter(|s| elf::is_data_section(&s.name)) {
            // A global-variable section is an array of one value: the whole section.
            let value_size = u32::try_from(s.size).unwrap_or(u32::MAX);
            if btf::find(&defs, &s.name).is_none() {
                defs.push((s.name.clone(), MapDef { kind: 2, key_size: 4, value_size }));
            }
        }
        Ok(Inner {
            buf: RefCell::new(elf_bytes.to_vec()),
            handle: Cell::new(0),
            closed: Cell::new(false),
            elf,
            names: RefCell::new(Vec::new()),
            defs: RefCell::new(defs),
            config: RefCell::new(Vec::new()),
            peek: Cell::new(0),
        })
    }
}

/// A NUL-terminated copy of s; interior NULs are refused.
pub(crate) fn cstring(s: &str, what: &dyn Fn() -> String) -> Result<Vec<u8>> {
    if s.as_bytes().contains(&0) {
        return Err(Error::new(ErrorKind::Range, errno::EINVAL, format!("{}: name contains NUL", what())));
    }
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    Ok(v)
}

fn attach(obj: &Inner, name: &str, target: &str) -> Result<()> {
    let what = || if target.is_empty() { format!("attach {}", name) } else { format!("attach {} to {}", name, target) };
    let h = obj.loaded(&what)?;
    let (n, t) = (cstring(name, &what)?, cstring(target, &what)?);
    check(unsafe { sys::wasm_attach_bpf_program(h, n.as_ptr(), t.as_ptr()) }, what)?;
    Ok(())
}

/// A program of an object, by its C function's name ([`Object::program`]). Attaching needs the
/// object loaded and not closed.
#[derive(Clone)]
pub struct Program {
    obj: Rc<Inner>,
    name: String,
}

impl core::fmt::Debug for Program {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result { f.debug_tuple("Program").field(&self.name).finish() }
}

impl Program {
    /// The program's function name.
    pub fn name(&self) -> &str { &self.name }
    /// Attaches the program as its section says; it stays attached until the object closes.
    pub fn attach(&self) -> Result<()> { attach(&self.obj, &self.name, "") }
    /// Attaches the program to a network interface or a granted cgroup v2 directory.
    pub fn attach_target(&self, target: &str) -> Result<()> { attach(&self.obj, &self.name, target) }
}

/// A program of an object: its function name, its ELF section, and whether the section says
/// where it attaches (tracepoints, raw tracepoints, uprobes, ...; not xdp, tc, cgroup, socket).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramInfo {
    pub name: String,
    pub section: String,
    pub auto_attach: bool,
}

/// Where a global-variable section (.rodata, .data, .bss, .data.NAME, ...) is in the object;
/// `wbpfgen rust` generates these, [`Object::section`] finds them by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// The section's and its map's name.
    pub name: &'static str,
    /// File offset of its bytes (0 for .bss).
    pub offset: u32,
    pub size: u32,
    /// .bss: no bytes in the object.
    pub no_bits: bool,
}

/// An ELF BPF object. Nothing reaches the kernel before [`Object::load`], so .rodata and .data
/// can be set first; dropping the object closes it in the kernel (every program detached,
/// every map closed).
pub struct Object {
    pub(crate) inner: Rc<Inner>,
}

impl Object {
    /// Copies an ELF BPF object.
    pub fn open(elf_bytes: &[u8]) -> Result<Object> { Ok(Object { inner: Rc::new(Inner::parse(elf_bytes, "open")?) }) }

    /// Whether [`Object::load`] succeeded and the object is not closed.
    pub fn is_loaded(&self) -> bool { self.inner.handle.get() != 0 }

    /// Hands the object to the host, which creates its maps and loads its programs (CO-RE
    /// relocated against the running kernel). On failure the runtime wrote the verifier's or the
    /// kernel's reason to its stderr. Without settings ([`Object::set_autoload`] and the others)
    /// this is wasm_bpf's one-call load, which the original runtime has, and the errno is EINVAL;
    /// with settings it goes through wbpf_config (open, apply each, load) and the errno is the
    /// host's (ENOENT for a name the object lacks, EINVAL for a value the kernel refuses).
    pub fn load(&mut self) -> Result<()> {
        if self.inner.closed.get() {
            return Err(Error::new(ErrorKind::Closed, errno::EBADF, "load"));
        }
        if self.is_loaded() {
            return Err(Error::new(ErrorKind::AlreadyLoaded, errno::EBUSY, "load"));
        }
        crate::config::unpeek(&self.inner); // the bytes may have changed since: open them afresh
        if !self.inner.config.borrow().is_empty() {
            let h = crate::config::load(&self.inner)?;
            self.inner.handle.set(h);
            return Ok(());
        }
        let buf = self.inner.buf.borrow();
        let h = unsafe { sys::wasm_load_bpf_object(buf.as_ptr(), buf.len() as i32) };
        if h == 0 {
            return Err(Error::host(errno::EINVAL, "load (the runtime's stderr says why)"));
        }
        self.inner.handle.set(h);
        Ok(())
    }

    /// The programs of the object, from its symbol table.
    pub fn programs(&self) -> Vec<ProgramInfo> {
        self.inner
            .elf
            .programs()
            .into_iter()
            .map(|(name, section)| ProgramInfo { auto_attach: elf::auto_attach(&section), name, section })
            .collect()
    }

    /// The program whose C function is `name`, to attach later (checked only then).
    pub fn program(&self, name: &str) -> Program { Program { obj: self.inner.clone(), name: name.to_string() } }

    /// Attaches the program whose C function is `name` as its section says. It stays attached
    /// until the object is closed: the host interface cannot detach one program.
    pub fn attach(&self, name: &str) -> Result<()> { self.attach_target(name, "") }

    /// Attaches the program `name` to `target`: a network interface (xdp, tc, socket filters)
    /// or a cgroup v2 directory granted to the runtime (cgroup programs); "" as the section says.
    pub fn attach_target(&self, name: &str, target: &str) -> Result<()> { attach(&self.inner, name, target) }

    /// Attaches every program whose section says where (see [`ProgramInfo::auto_attach`]) and
    /// that was not switched off ([`Object::set_autoload`]); the others need
    /// [`Object::attach_target`].
    pub fn attach_all(&self) -> Result<()> {
        for p in self.programs().iter().filter(|p| p.auto_attach && self.autoload(&p.name)) {
            self.attach(&p.name)?;
        }
        Ok(())
    }

    /// The map called name: one defined in .maps, or a global-variable section by its name
    /// (".bss"). The object must be loaded; a map switched off before load
    /// ([`Object::set_autocreate`]) fails with ENOENT ([`ErrorKind::NotCreated`]).
    pub fn map(&self, name: &str) -> Result<Map> { Map::new(&self.inner, name) }

    /// The map called name as the loaded object declares it, created or not, as libbpf's
    /// skeletons keep a `struct bpf_map` for every map: generated skeletons take their maps
    /// through this, so that switching one off does not fail the skeleton's load. Every
    /// operation on a map switched off fails with ENOENT ([`Map::is_created`] says which).
    pub fn declared_map(&self, name: &str) -> Result<Map> { Map::declared(&self.inner, name) }

    /// The global-variable section called name.
    pub fn section(&self, name: &str) -> Option<Section> {
        let s = self.inner.elf.section(name).filter(|s| elf::is_data_section(&s.name))?;
        // Section is Copy with a &'static name (generated code writes them as constants):
        // the few names looked up at run time are leaked once each and reused.
        let mut names = self.inner.names.borrow_mut();
        let name = match names.iter().find(|n| **n == s.name) {
            Some(n) => *n,
            None => {
                let n: &'static str = Box::leak(s.name.clone().into_boxed_str());
                names.push(n);
                n
            }
        };
        Some(Section {
            name,
            offset: if s.no_bits() { 0 } else { u32::try_from(s.offset).ok()? },
            size: u32::try_from(s.size).ok()?,
            no_bits: s.no_bits(),
        })
    }

    /// Writes `src` at offset `off` of section `s`. Before load it patches the object's bytes
    /// (.rodata and .data; the verifier then sees .rodata values as constants); after load it
    /// writes through the section's map (.data and .bss; .rodata is frozen: EPERM).
    pub fn write_section(&self, s: &Section, off: u32, src: &[u8]) -> Result<()> {
        let what = || format!("write {}+{}", s.name, off);
        self.check_range(s, off, src.len(), &what)?;
        if self.inner.closed.get() {
            return Err(Error::new(ErrorKind::Closed, errno::EBADF, what()));
        }
        if !self.is_loaded() {
            if s.no_bits {
                return Err(Error::new(ErrorKind::Range, errno::EOPNOTSUPP, format!("{} before load (no bytes in the object)", what())));
            }
            let at = (s.offset + off) as usize;
            self.inner.buf.borrow_mut()[at..at + src.len()].copy_from_slice(src);
            return Ok(());
        }
        let m = self.map(s.name)?;
        let mut v = vec![0u8; s.size as usize];
        m.lookup_bytes(bytes_of(&0u32), &mut v)?;
        v[off as usize..off as usize + src.len()].copy_from_slice(src);
        m.update_bytes(bytes_of(&0u32), &v, 0)
    }

    /// Reads `dst.len()` bytes at offset `off` of section `s`: before load from the object's
    /// bytes (zeros for .bss), after load from the section's map.
    pub fn read_section(&self, s: &Section, off: u32, dst: &mut [u8]) -> Result<()> {
        let what = || format!("read {}+{}", s.name, off);
        self.check_range(s, off, dst.len(), &what)?;
        if self.inner.closed.get() {
            return Err(Error::new(ErrorKind::Closed, errno::EBADF, what()));
        }
        if !self.is_loaded() {
            if s.no_bits {
                dst.iter_mut().for_each(|b| *b = 0);
            } else {
                let at = (s.offset + off) as usize;
                dst.copy_from_slice(&self.inner.buf.borrow()[at..at + dst.len()]);
            }
            return Ok(());
        }
        let m = self.map(s.name)?;
        let mut v = vec![0u8; s.size as usize];
        m.lookup_bytes(bytes_of(&0u32), &mut v)?;
        dst.copy_from_slice(&v[off as usize..off as usize + dst.len()]);
        Ok(())
    }

    fn check_range(&self, s: &Section, off: u32, len: usize, what: &dyn Fn() -> String) -> Result<()> {
        let end = off as u64 + len as u64;
        let file = s.offset as u64 + s.size as u64;
        if end > s.size as u64 || (!s.no_bits && file > self.inner.buf.borrow().len() as u64) {
            return Err(Error::new(ErrorKind::Range, errno::ERANGE, what()));
        }
        Ok(())
    }

    /// Sets the global variable `name` (in .rodata, .data or .bss; its size must be T's), as
    /// [`Object::write_section`] does.
    pub fn set_global<T: Pod>(&self, name: &str, v: &T) -> Result<()> {
        let (s, off) = self.global_at(name, core::mem::size_of::<T>())?;
        self.write_section(&s, off, bytes_of(v))
    }

    /// Reads the global variable `name`, as [`Object::read_section`] does.
    pub fn global<T: Pod>(&self, name: &str) -> Result<T> {
        let (s, off) = self.global_at(name, core::mem::size_of::<T>())?;
        let mut v: T = zeroed();
        self.read_section(&s, off, bytes_of_mut(&mut v))?;
        Ok(v)
    }

    fn global_at(&self, name: &str, size: usize) -> Result<(Section, u32)> {
        let what = || format!("global {}", name);
        let (sec, off, sz) = self.inner.elf.variable(name).ok_or_else(|| Error::new(ErrorKind::Range, errno::ENOENT, what()))?;
        if sz != size as u64 {
            return Err(Error::new(ErrorKind::Range, errno::EINVAL, format!("{}: {} bytes, the value has {}", what(), sz, size)));
        }
        let s = self.section(&sec.name.clone()).ok_or_else(|| Error::new(ErrorKind::Range, errno::ENOENT, what()))?;
        Ok((s, off as u32))
    }

    /// Detaches every program and closes every map in the kernel; maps and readers of the
    /// object stop working. Closing twice, or dropping after, does nothing more.
    pub fn close(&mut self) -> Result<()> {
        if self.inner.closed.replace(true) {
            return Ok(());
        }
        crate::config::unpeek(&self.inner);
        let h = self.inner.handle.replace(0);
        if h == 0 {
            return Ok(());
        }
        check(unsafe { sys::wasm_close_bpf_object(h) }, || "close".into())?;
        Ok(())
    }
}

impl core::fmt::Debug for Object {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Object")
            .field("size", &self.inner.buf.borrow().len())
            .field("loaded", &self.is_loaded())
            .field("closed", &self.inner.closed.get())
            .finish()
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
