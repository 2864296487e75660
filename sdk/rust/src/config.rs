//! Configure before load: libbpf's calls between open and load (bpf_program__set_autoload,
//! bpf_map__set_max_entries and friends), on the runtime's wbpf_config module.
//!
//! ```ignore
//! let mut obj = wbpf::Object::open(include_bytes!("tool.bpf.o"))?;
//! obj.set_autoload("handle_fentry", false)?;   // the kernel lacks fentry: use the tracepoint
//! obj.set_max_entries("events", 1 << 20)?;
//! obj.load()?;                                 // open, apply both, load
//! obj.attach_all()?;                           // skips handle_fentry
//! ```
//!
//! The setters only record: [`Object::load`] then opens the object without loading it, applies
//! every setting in the order made and loads it. An object with no setting loads with
//! wasm_bpf's one call, as before, so a guest that changes nothing still runs on the original
//! wasm-bpf runtime, which has no wbpf_config module. The setters check what the SDK knows from
//! the object (ENOENT for a program or map it does not have, EINVAL for a zero size or an empty
//! name, EBUSY once loaded, EOPNOTSUPP for resizing a global-variable section); the host checks
//! the rest at load.

use crate::btf;
use crate::elf;
use crate::errno::{self, check, Error, ErrorKind, Result};
use crate::object::{cstring, Inner, Object};
use crate::sys;

/// One change to make between open and load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Setting {
    Autoload(String, bool),
    ProgramType(String, u32),
    AttachTarget(String, String),
    MaxEntries(String, u32),
    ValueSize(String, u32),
    Autocreate(String, bool),
    MapType(String, u32),
    KeySize(String, u32),
}

impl Setting {
    fn apply(&self, h: u64) -> Result<()> {
        let what = || format!("load: {:?}", self);
        let r = match self {
            Setting::Autoload(p, on) => unsafe { sys::wbpf_program_set_autoload(h, cstring(p, &what)?.as_ptr(), *on as i32) },
            Setting::ProgramType(p, t) => unsafe { sys::wbpf_program_set_type(h, cstring(p, &what)?.as_ptr(), *t as i32) },
            Setting::AttachTarget(p, f) => {
                let (p, f) = (cstring(p, &what)?, cstring(f, &what)?);
                unsafe { sys::wbpf_program_set_attach_target(h, p.as_ptr(), f.as_ptr()) }
            }
            Setting::MaxEntries(m, n) => unsafe { sys::wbpf_map_set_max_entries(h, cstring(m, &what)?.as_ptr(), *n) },
            Setting::ValueSize(m, n) => unsafe { sys::wbpf_map_set_value_size(h, cstring(m, &what)?.as_ptr(), *n) },
            Setting::Autocreate(m, on) => unsafe { sys::wbpf_map_set_autocreate(h, cstring(m, &what)?.as_ptr(), *on as i32) },
            Setting::MapType(m, t) => unsafe { sys::wbpf_map_set_type(h, cstring(m, &what)?.as_ptr(), *t) },
            Setting::KeySize(m, n) => unsafe { sys::wbpf_map_set_key_size(h, cstring(m, &what)?.as_ptr(), *n) },
        };
        check(r, what).map(|_| ())
    }
}

/// Whether the map `name` of obj is (to be) created: false after `set_autocreate(name, false)`
/// (the last setting counts).
pub(crate) fn autocreate(obj: &Inner, name: &str) -> bool {
    let last = obj.config.borrow().iter().rev().find_map(|s| match s {
        Setting::Autocreate(m, on) if m == name => Some(*on),
        _ => None,
    });
    last.unwrap_or(true)
}

/// Whether the map `name` of obj has a value_size set before load.
pub(crate) fn resized(obj: &Inner, name: &str) -> bool {
    obj.config.borrow().iter().any(|s| matches!(s, Setting::ValueSize(m, _) if m == name))
}

/// Opens the object on the host without loading it, applies its settings and loads it; the
/// loaded handle. On failure the opened object is closed again, so a later load starts over.
pub(crate) fn load(obj: &Inner) -> Result<u64> {
    let h = {
        let buf = obj.buf.borrow();
        unsafe { sys::wbpf_open_bpf_object(buf.as_ptr(), buf.len() as i32) }
    };
    if h == 0 {
        return Err(Error::host(errno::EINVAL, "load: open (the runtime's stderr says why)"));
    }
    let applied = obj.config.borrow().iter().try_for_each(|s| s.apply(h));
    let loaded = applied.and_then(|_| check(unsafe { sys::wbpf_load_bpf_object(h) }, || "load (the runtime's stderr says why)".into()));
    if let Err(e) = loaded {
        unsafe { sys::wasm_close_bpf_object(h) };
        return Err(e);
    }
    Ok(h)
}

impl Object {
    fn configure(&self, what: &dyn Fn() -> String, s: Setting) -> Result<()> {
        if self.inner.closed.get() {
            return Err(Error::new(ErrorKind::Closed, errno::EBADF, what()));
        }
        if self.is_loaded() {
            return Err(Error::new(ErrorKind::AlreadyLoaded, errno::EBUSY, what()));
        }
        self.inner.config.borrow_mut().push(s);
        Ok(())
    }

    fn has_program(&self, name: &str, what: &dyn Fn() -> String) -> Result<()> {
        if self.inner.elf.programs().iter().any(|(n, _)| n == name) {
            return Ok(());
        }
        Err(Error::new(ErrorKind::Range, errno::ENOENT, format!("{}: no program {} in the object", what(), name)))
    }

    fn has_map(&self, name: &str, what: &dyn Fn() -> String) -> Result<()> {
        if btf::find(&self.inner.defs.borrow(), name).is_some() {
            return Ok(());
        }
        Err(Error::new(ErrorKind::Range, errno::ENOENT, format!("{}: no map {} in the object", what(), name)))
    }

    fn positive(n: u32, what: &dyn Fn() -> String) -> Result<()> {
        if n == 0 {
            return Err(Error::new(ErrorKind::Range, errno::EINVAL, format!("{}: must be > 0", what())));
        }
        Ok(())
    }

    /// Switches loading of the program `name` on or off (libbpf's bpf_program__set_autoload).
    /// A program switched off is not loaded: [`Object::attach_all`] skips it, and attaching it
    /// fails with ENOENT.
    pub fn set_autoload(&self, name: &str, autoload: bool) -> Result<()> {
        let what = || format!("set_autoload {}", name);
        self.has_program(name, &what)?;
        self.configure(&what, Setting::Autoload(name.into(), autoload))
    }

    /// Whether the program `name` is (to be) loaded: false only after `set_autoload(name, false)`
    /// (the last setting counts).
    pub fn autoload(&self, name: &str) -> bool {
        let last = self.inner.config.borrow().iter().rev().find_map(|s| match s {
            Setting::Autoload(p, on) if p == name => Some(*on),
            _ => None,
        });
        last.unwrap_or(true)
    }

    /// Sets the program's type, the kernel's enum bpf_prog_type number (libbpf's
    /// bpf_program__set_type).
    pub fn set_type(&self, name: &str, prog_type: u32) -> Result<()> {
        let what = || format!("set_type {} {}", name, prog_type);
        self.has_program(name, &what)?;
        Self::positive(prog_type, &what)?;
        self.configure(&what, Setting::ProgramType(name.into(), prog_type))
    }

    /// Sets the kernel function (its BTF name) an fentry, fexit, fmod_ret, tp_btf, lsm or iter
    /// program attaches to, in place of its section's (libbpf's bpf_program__set_attach_target
    /// with no attach_prog_fd: the host interface cannot attach to another BPF program).
    pub fn set_attach_target(&self, name: &str, func_name: &str) -> Result<()> {
        let what = || format!("set_attach_target {} {}", name, func_name);
        self.has_program(name, &what)?;
        if func_name.is_empty() {
            return Err(Error::new(ErrorKind::Range, errno::EINVAL, format!("{}: empty function name", what())));
        }
        cstring(func_name, &what)?;
        self.configure(&what, Setting::AttachTarget(name.into(), func_name.into()))
    }

    /// Sets the map's max_entries (> 0; ring buffers: a power of 2 multiple of the page size, as
    /// the kernel requires).
    pub fn set_max_entries(&self, name: &str, max_entries: u32) -> Result<()> {
        let what = || format!("set_max_entries {} {}", name, max_entries);
        self.has_map(name, &what)?;
        Self::positive(max_entries, &what)?;
        self.configure(&what, Setting::MaxEntries(name.into(), max_entries))
    }

    /// Sets the map's value_size (> 0): its [`crate::Map`]s then take values of that size. The
    /// global-variable sections (.data, .bss, .rodata) cannot be resized: EOPNOTSUPP.
    pub fn set_value_size(&self, name: &str, value_size: u32) -> Result<()> {
        let what = || format!("set_value_size {} {}", name, value_size);
        self.has_map(name, &what)?;
        Self::positive(value_size, &what)?;
        if elf::is_data_section(name) {
            return Err(Error::new(ErrorKind::Range, errno::EOPNOTSUPP, format!("{}: a global-variable section", what())));
        }
        self.configure(&what, Setting::ValueSize(name.into(), value_size))?;
        let mut defs = self.inner.defs.borrow_mut();
        if let Some(d) = defs.iter_mut().find(|(n, _)| n == name) {
            d.1.value_size = value_size;
        }
        Ok(())
    }

    /// Switches creation of the map on or off (libbpf's bpf_map__set_autocreate). As under
    /// libbpf, a program may still refer to a map switched off in code the verifier proves
    /// dead (a branch on bpf_core_type_exists or a volatile const, as libbpf-tools' bpf_buffer
    /// does with its heap); a use the verifier reaches fails the load (EINVAL; the runtime's
    /// stderr names the program and the map) unless the program is switched off too. After load, [`Object::map`] on it fails
    /// with ENOENT ([`ErrorKind::NotCreated`]); a generated skeleton's field for it is a
    /// [`crate::Map`] whose operations do ([`crate::Map::is_created`] is false).
    pub fn set_autocreate(&self, name: &str, autocreate: bool) -> Result<()> {
        let what = || format!("set_autocreate {}", name);
        self.has_map(name, &what)?;
        self.configure(&what, Setting::Autocreate(name.into(), autocreate))
    }

    /// Whether the map `name` is (to be) created: false only after `set_autocreate(name,
    /// false)` (the last setting counts).
    pub fn autocreate(&self, name: &str) -> bool { autocreate(&self.inner, name) }

    /// Sets the map's type (libbpf's bpf_map__set_type): the kernel's enum bpf_map_type number
    /// (4 is BPF_MAP_TYPE_PERF_EVENT_ARRAY, 27 BPF_MAP_TYPE_RINGBUF). libbpf-tools makes a ring
    /// buffer a perf event array this way on kernels without ring buffers, with key and value
    /// size 4; the perf event array then has one entry per possible CPU, and [`Object::reader`]
    /// follows the type. Global-variable sections keep theirs: EOPNOTSUPP.
    pub fn set_map_type(&self, name: &str, map_type: u32) -> Result<()> {
        let what = || format!("set_map_type {} {}", name, map_type);
        self.has_map(name, &what)?;
        if map_type == 0 || map_type > 255 {
            return Err(Error::new(ErrorKind::Range, errno::EINVAL, format!("{}: no map type", what())));
        }
        if elf::is_data_section(name) {
            return Err(Error::new(ErrorKind::Range, errno::EOPNOTSUPP, format!("{}: a global-variable section", what())));
        }
        self.configure(&what, Setting::MapType(name.into(), map_type))?;
        self.update_def(name, |d| d.kind = map_type);
        Ok(())
    }

    /// Sets the map's key_size (> 0; libbpf's bpf_map__set_key_size): its [`crate::Map`]s then
    /// take keys of that size. Global-variable sections keep theirs: EOPNOTSUPP.
    pub fn set_key_size(&self, name: &str, key_size: u32) -> Result<()> {
        let what = || format!("set_key_size {} {}", name, key_size);
        self.has_map(name, &what)?;
        Self::positive(key_size, &what)?;
        if elf::is_data_section(name) {
            return Err(Error::new(ErrorKind::Range, errno::EOPNOTSUPP, format!("{}: a global-variable section", what())));
        }
        self.configure(&what, Setting::KeySize(name.into(), key_size))?;
        self.update_def(name, |d| d.key_size = key_size);
        Ok(())
    }

    fn update_def(&self, name: &str, f: impl FnOnce(&mut btf::MapDef)) {
        let mut defs = self.inner.defs.borrow_mut();
        if let Some(d) = defs.iter_mut().find(|(n, _)| n == name) {
            f(&mut d.1);
        }
    }

    /// What libbpf's getters report of the map `name` (bpf_map__type, bpf_map__key_size,
    /// bpf_map__value_size, bpf_map__max_entries, bpf_map__map_flags): before load the object's
    /// values with the settings made laid over them (the runtime reads the object: it is opened
    /// through wbpf_config once for the purpose), after load the kernel's (a perf event array:
    /// 4-byte key and value, one entry per possible CPU). A map switched off answers as before
    /// load.
    pub fn map_info(&self, name: &str) -> Result<MapInfo> {
        let what = || format!("map_info {}", name);
        let (h, peeked) = self.info_handle(autocreate(&self.inner, name), &what)?;
        let c = cstring(name, &what)?;
        let mut raw = [0u32; 5];
        check(unsafe { sys::wbpf_map_info(h, c.as_ptr(), raw.as_mut_ptr()) }, what)?;
        let mut info = MapInfo { map_type: raw[0], key_size: raw[1], value_size: raw[2], max_entries: raw[3], flags: raw[4] };
        if peeked {
            for s in self.inner.config.borrow().iter() {
                match s {
                    Setting::MapType(m, v) if m == name => info.map_type = *v,
                    Setting::KeySize(m, v) if m == name => info.key_size = *v,
                    Setting::ValueSize(m, v) if m == name => info.value_size = *v,
                    Setting::MaxEntries(m, v) if m == name => info.max_entries = *v,
                    _ => {}
                }
            }
        }
        Ok(info)
    }

    /// The program's type (libbpf's bpf_program__type): the kernel's enum bpf_prog_type number,
    /// [`Object::set_type`]'s if made, else the section's; after load the kernel's.
    pub fn program_type(&self, name: &str) -> Result<u32> {
        let what = || format!("program_type {}", name);
        let (h, peeked) = self.info_handle(self.autoload(name), &what)?;
        if peeked {
            let set = self.inner.config.borrow().iter().rev().find_map(|s| match s {
                Setting::ProgramType(p, t) if p == name => Some(*t),
                _ => None,
            });
            if let Some(t) = set {
                return Ok(t);
            }
        }
        let c = cstring(name, &what)?;
        let mut raw = [0u32; 2];
        check(unsafe { sys::wbpf_program_info(h, c.as_ptr(), raw.as_mut_ptr()) }, what)?;
        Ok(raw[0])
    }

    /// The handle the getters ask: the loaded object's for what it created, else the object
    /// opened for the purpose (true).
    fn info_handle(&self, created: bool, what: &dyn Fn() -> String) -> Result<(u64, bool)> {
        if self.inner.closed.get() {
            return Err(Error::new(ErrorKind::Closed, errno::EBADF, what()));
        }
        let h = self.inner.handle.get();
        if h != 0 && created {
            return Ok((h, false));
        }
        if self.inner.peek.get() == 0 {
            let buf = self.inner.buf.borrow();
            self.inner.peek.set(unsafe { sys::wbpf_open_bpf_object(buf.as_ptr(), buf.len() as i32) });
        }
        match self.inner.peek.get() {
            0 => Err(Error::host(errno::EINVAL, format!("{}: open (the runtime's stderr says why)", what()))),
            p => Ok((p, true)),
        }
    }
}

/// What [`Object::map_info`] reports: the kernel's fields (`map_type` is its enum bpf_map_type
/// number, `flags` its map_flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapInfo {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub flags: u32,
}

/// Closes the object opened for the getters, if any.
pub(crate) fn unpeek(obj: &Inner) {
    let p = obj.peek.replace(0);
    if p != 0 {
        unsafe { sys::wasm_close_bpf_object(p) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bootstrap() -> Object { Object::open(include_bytes!("../../../examples/bootstrap/bootstrap.bpf.o")).unwrap() }

    #[test]
    fn setters_record_and_check() {
        let o = bootstrap();
        assert!(o.autoload("handle_exit"));
        o.set_autoload("handle_exit", false).unwrap();
        assert!(!o.autoload("handle_exit"));
        assert!(o.autoload("handle_exec"));
        o.set_autoload("handle_exit", true).unwrap();
        assert!(o.autoload("handle_exit"), "the last setting counts");
        o.set_max_entries("exec_start", 77).unwrap();
        o.set_value_size("exec_start", 16).unwrap();
        assert_eq!(btf::find(&o.inner.defs.borrow(), "exec_start").unwrap().value_size, 16);
        assert!(o.autocreate("exec_start"));
        o.set_autocreate("exec_start", false).unwrap();
        assert!(!o.autocreate("exec_start"));
        assert!(o.autocreate("rb"), "only the map switched off");
        o.set_type("handle_exec", 5).unwrap();
        o.set_attach_target("handle_exec", "do_exit").unwrap();
        o.set_map_type("rb", 4).unwrap();
        o.set_key_size("rb", 4).unwrap();
        let rb = *btf::find(&o.inner.defs.borrow(), "rb").unwrap();
        assert_eq!((rb.kind, rb.key_size), (4, 4), "map operations check the new type and key size");
        assert_eq!(o.inner.config.borrow().len(), 9);

        for (what, r, want) in [
            ("unknown program", o.set_autoload("nope", false), errno::ENOENT),
            ("unknown map", o.set_max_entries("nope", 1), errno::ENOENT),
            ("zero max_entries", o.set_max_entries("exec_start", 0), errno::EINVAL),
            ("zero value_size", o.set_value_size("exec_start", 0), errno::EINVAL),
            ("resize .rodata", o.set_value_size(".rodata", 8), errno::EOPNOTSUPP),
            ("zero type", o.set_type("handle_exec", 0), errno::EINVAL),
            ("empty target", o.set_attach_target("handle_exec", ""), errno::EINVAL),
            ("NUL in target", o.set_attach_target("handle_exec", "a\0b"), errno::EINVAL),
            ("zero map type", o.set_map_type("rb", 0), errno::EINVAL),
            ("map type 256", o.set_map_type("rb", 256), errno::EINVAL),
            ("map type unknown map", o.set_map_type("nope", 4), errno::ENOENT),
            ("map type .rodata", o.set_map_type(".rodata", 1), errno::EOPNOTSUPP),
            ("zero key_size", o.set_key_size("rb", 0), errno::EINVAL),
            ("key_size .rodata", o.set_key_size(".rodata", 8), errno::EOPNOTSUPP),
        ] {
            assert_eq!(r.unwrap_err().errno(), want, "{}", what);
        }
        assert_eq!(o.inner.config.borrow().len(), 9, "refused settings are not recorded");
    }

    #[test]
    fn load_with_settings_goes_through_wbpf_config() {
        // Off wasm32 there is no host: the configured load fails at wbpf_open_bpf_object (0),
        // and the settings stay for the next try.
        let mut o = bootstrap();
        o.set_autoload("handle_exit", false).unwrap();
        let e = o.load().unwrap_err();
        assert!(e.what().contains("open"), "{}", e);
        assert!(!o.is_loaded());
        assert_eq!(o.inner.config.borrow().len(), 1);
    }

    #[test]
    fn closed_object_refuses_settings() {
        let mut o = bootstrap();
        o.close().unwrap();
        assert_eq!(o.set_autoload("handle_exit", false).unwrap_err().kind(), ErrorKind::Closed);
    }
}
