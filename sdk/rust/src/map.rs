//! Maps of a loaded object: bytes, typed, and per-CPU.

use core::marker::PhantomData;
use core::mem::size_of;
use std::rc::Rc;

use crate::btf::MapDef;
use crate::errno::{self, check, Error, ErrorKind, Result};
use crate::object::{cstring, Inner};
use crate::pod::{bytes_of, bytes_of_mut, from_bytes, zeroed, Pod};
use crate::sys;

/// Update flags, as in the kernel.
pub const BPF_ANY: u64 = 0;
/// Create only.
pub const BPF_NOEXIST: u64 = 1;
/// Replace only.
pub const BPF_EXIST: u64 = 2;
/// With a spin lock in the value.
pub const BPF_F_LOCK: u64 = 4;

/// A map of a loaded object, by its host token. Keys and values are bytes of exactly the map's
/// key_size and value_size (per-CPU maps: value_size rounded up to 8, times the possible CPUs),
/// which the SDK knows from the object's BTF: the host writes that many bytes wherever the guest
/// points, so a buffer of another size is refused (EINVAL) before the host sees it. A map
/// outliving its object fails with EBADF.
#[derive(Clone)]
pub struct Map {
    pub(crate) obj: Rc<Inner>,
    name: String,
    pub(crate) fd: i32,
    def: MapDef,
}

/// Per-CPU map types (BPF_MAP_TYPE_PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH,
/// PERCPU_CGROUP_STORAGE): their values hold one slot per possible CPU.
fn per_cpu_kind(kind: u32) -> bool {
    matches!(kind, 5 | 6 | 10 | 21)
}

impl core::fmt::Debug for Map {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Map").field("name", &self.name).field("fd", &self.fd).field("def", &self.def).finish()
    }
}

fn ptr(b: &[u8]) -> *const u8 {
    if b.is_empty() { core::ptr::null() } else { b.as_ptr() }
}
fn ptr_mut(b: &mut [u8]) -> *mut u8 {
    if b.is_empty() { core::ptr::null_mut() } else { b.as_mut_ptr() }
}

/// The fd of a map the object declares and the kernel does not have: switched off before load.
const NOT_CREATED: i32 = -1;

impl Map {
    pub(crate) fn new(obj: &Rc<Inner>, name: &str) -> Result<Map> {
        let m = Map::declared(obj, name)?;
        if m.fd == NOT_CREATED {
            return Err(m.not_created(&|| format!("map {}", name)));
        }
        Ok(m)
    }

    /// The map `name` as the loaded object declares it: a map switched off before load (the
    /// object's last set_autocreate for it said false) is not asked of the host, and every
    /// operation on it fails with ENOENT ([`ErrorKind::NotCreated`]).
    pub(crate) fn declared(obj: &Rc<Inner>, name: &str) -> Result<Map> {
        let what = || format!("map {}", name);
        let h = obj.loaded(&what)?;
        let n = cstring(name, &what)?;
        let def = *crate::btf::find(&obj.defs.borrow(), name).ok_or_else(|| {
            Error::new(ErrorKind::Range, errno::ENOENT, format!("map {}: not defined in the object (no .maps or maps entry, no section)", name))
        })?;
        let fd = if crate::config::autocreate(obj, name) {
            check(unsafe { sys::wasm_bpf_map_fd_by_name(h, n.as_ptr()) }, what)?
        } else {
            NOT_CREATED
        };
        Ok(Map { obj: obj.clone(), name: name.to_string(), fd, def })
    }

    fn not_created(&self, what: &dyn Fn() -> String) -> Error { Error::new(ErrorKind::NotCreated, errno::ENOENT, what()) }

    /// Whether the map exists in the kernel: false for a map switched off before load
    /// ([`crate::Object::set_autocreate`]), whose operations fail with ENOENT.
    pub fn is_created(&self) -> bool { self.fd != NOT_CREATED }

    /// The object's handle and the map's token, for a call the host makes on the map.
    pub(crate) fn token(&self, what: &dyn Fn() -> String) -> Result<(u64, i32)> {
        let h = self.obj.loaded(what)?;
        if self.fd == NOT_CREATED {
            return Err(self.not_created(what));
        }
        Ok((h, self.fd))
    }

    /// The map's key size in bytes, from the object.
    pub fn key_size(&self) -> usize { self.def.key_size as usize }

    /// The map's value size in bytes, from the object (per CPU, for per-CPU maps).
    pub fn value_size(&self) -> usize { self.def.value_size as usize }

    /// The map's type, the kernel's BPF_MAP_TYPE_* number.
    pub fn map_type(&self) -> u32 { self.def.kind }

    /// How many bytes a value buffer must have: value_size, or for per-CPU maps value_size
    /// rounded up to 8 times the possible CPUs.
    fn value_len(&self) -> Result<usize> {
        if !per_cpu_kind(self.def.kind) {
            return Ok(self.value_size());
        }
        // The count num_possible_cpus found or was given (not read here: that would pull the
        // file system into every guest that looks anything up).
        match POSSIBLE_CPUS.load(std::sync::atomic::Ordering::Relaxed) {
            0 => {
                let what = format!("map {}: per-CPU values: number of CPUs unknown (wbpf::num_possible_cpus or set_num_possible_cpus first)", self.name);
                Err(Error::new(ErrorKind::Range, errno::EINVAL, what))
            }
            n => Ok((self.value_size() + 7) / 8 * 8 * n),
        }
    }

    fn check_len(&self, what: &str, part: &str, got: usize, want: usize) -> Result<()> {
        if got != want {
            let msg = format!("map {}: {}: {} of {} bytes, the map's is {}", self.name, what, part, got, want);
            return Err(Error::new(ErrorKind::Range, errno::EINVAL, msg));
        }
        Ok(())
    }

    /// The map's name.
    pub fn name(&self) -> &str { &self.name }

    fn op(&self, what: &str, cmd: i32, key: *const u8, value: *mut u8, next: *mut u8, flags: u64) -> Result<bool> {
        let ctx = || format!("map {}: {}", self.name, what);
        let (_, fd) = self.token(&ctx)?;
        match check(unsafe { sys::wasm_bpf_map_operate(fd, cmd, key, value, next, flags) }, ctx) {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Copies the value of `key` into `value`; false if there is none.
    pub fn lookup_bytes(&self, key: &[u8], value: &mut [u8]) -> Result<bool> {
        self.check_len("lookup", "key", key.len(), self.key_size())?;
        self.check_len("lookup", "value", value.len(), self.value_len()?)?;
        self.op("lookup", sys::BPF_MAP_LOOKUP_ELEM, ptr(key), ptr_mut(value), core::ptr::null_mut(), 0)
    }

    /// Sets `key` to `value`; flags is [`BPF_ANY`], [`BPF_NOEXIST`] or [`BPF_EXIST`]
    /// (| [`BPF_F_LOCK`]). A missing key with BPF_EXIST is an error (ENOENT).
    pub fn update_bytes(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        self.check_len("update", "key", key.len(), self.key_size())?;
        self.check_len("update", "value", value.len(), self.value_len()?)?;
        let ctx = || format!("map {}: update", self.name);
        let (_, fd) = self.token(&ctx)?;
        check(unsafe { sys::wasm_bpf_map_operate(fd, sys::BPF_MAP_UPDATE_ELEM, ptr(key), value.as_ptr() as *mut u8, core::ptr::null_mut(), flags) }, ctx)?;
        Ok(())
    }

    /// Removes `key`; false if there was none.
    pub fn delete_bytes(&self, key: &[u8]) -> Result<bool> {
        self.check_len("delete", "key", key.len(), self.key_size())?;
        self.op("delete", sys::BPF_MAP_DELETE_ELEM, ptr(key), core::ptr::null_mut(), core::ptr::null_mut(), 0)
    }

    /// Stores the key after `key` (None: the first key) in `next`; false after the last.
    pub fn next_key_bytes(&self, key: Option<&[u8]>, next: &mut [u8]) -> Result<bool> {
        if let Some(k) = key {
            self.check_len("next key", "key", k.len(), self.key_size())?;
        }
        self.check_len("next key", "next key", next.len(), self.key_size())?;
        let k = key.map_or(core::ptr::null(), ptr);
        self.op("next key", sys::BPF_MAP_GET_NEXT_KEY, k, core::ptr::null_mut(), ptr_mut(next), 0)
    }

    /// The map as a map of K to V; EINVAL unless K and V have the map's key and value sizes.
    pub fn typed<K: Pod, V: Pod>(self) -> Result<TypedMap<K, V>> {
        self.check_len("typed", "key type", size_of::<K>(), self.key_size())?;
        self.check_len("typed", "value type", size_of::<V>(), self.value_size())?;
        if per_cpu_kind(self.def.kind) {
            let msg = format!("map {}: typed: a per-CPU map (use per_cpu)", self.name);
            return Err(Error::new(ErrorKind::Range, errno::EINVAL, msg));
        }
        Ok(TypedMap { map: self, _t: PhantomData })
    }

    /// The map as a per-CPU map of K to V, for [`num_possible_cpus`] CPUs; EINVAL unless it is
    /// one and K and V have its key and value sizes.
    pub fn per_cpu<K: Pod, V: Pod>(self) -> Result<PerCpuMap<K, V>> {
        self.check_len("per_cpu", "key type", size_of::<K>(), self.key_size())?;
        self.check_len("per_cpu", "value type", size_of::<V>(), self.value_size())?;
        if !per_cpu_kind(self.def.kind) {
            let msg = format!("map {}: per_cpu: not a per-CPU map (type {})", self.name, self.def.kind);
            return Err(Error::new(ErrorKind::Range, errno::EINVAL, msg));
        }
        Ok(PerCpuMap { map: self, ncpus: num_possible_cpus()?, _t: PhantomData })
    }
}

/// A map of plain-data keys K to values V.
#[derive(Clone, Debug)]
pub struct TypedMap<K: Pod, V: Pod> {
    pub map: Map,
    _t: PhantomData<(K, V)>,
}

impl<K: Pod, V: Pod> TypedMap<K, V> {
    /// The map as its object's BTF declares it, K to V, without [`Map::typed`]'s size checks:
    /// generated skeletons take their maps this way, so that a map resized before load
    /// ([`crate::Object::set_value_size`]) does not fail the skeleton's load. Each call on it
    /// then fails with EINVAL naming the sizes; use its `map` with buffers of the new size.
    pub fn declared(map: Map) -> TypedMap<K, V> { TypedMap { map, _t: PhantomData } }

    /// A generated skeleton's typed field: [`Map::typed`], whose checks fail a stale skeleton's
    /// load with one clear error, except for a map switched off or resized before load, which
    /// keeps its field as [`TypedMap::declared`] (its calls fail with ENOENT or EINVAL).
    pub fn for_skeleton(map: Map) -> Result<TypedMap<K, V>> {
        if !map.is_created() || crate::config::resized(&map.obj, &map.name) {
            return Ok(TypedMap::declared(map));
        }
        map.typed()
    }

    /// The value of key, or None.
    pub fn lookup(&self, key: &K) -> Result<Option<V>> {
        let mut v: V = zeroed();
        Ok(if self.map.lookup_bytes(bytes_of(key), bytes_of_mut(&mut v))? { Some(v) } else { None })
    }
    /// Sets key to value (flags: [`BPF_ANY`], [`BPF_NOEXIST`], [`BPF_EXIST`]).
    pub fn update(&self, key: &K, value: &V, flags: u64) -> Result<()> {
        self.map.update_bytes(bytes_of(key), bytes_of(value), flags)
    }
    /// Removes key; false if there was none.
    pub fn delete(&self, key: &K) -> Result<bool> { self.map.delete_bytes(bytes_of(key)) }
    /// The key after key (None: the first), or None after the last.
    pub fn next_key(&self, key: Option<&K>) -> Result<Option<K>> {
        let mut next: K = zeroed();
        Ok(if self.map.next_key_bytes(key.map(bytes_of), bytes_of_mut(&mut next))? { Some(next) } else { None })
    }
    /// The keys, in the kernel's order. Deleting the key just returned is fine; the kernel
    /// restarts from the first key when the previous one is gone (hash maps).
    pub fn keys(&self) -> Keys<'_, K> { Keys { map: &self.map, prev: None, done: false } }
    /// The keys and their values; keys deleted between the two calls are skipped.
    pub fn iter(&self) -> impl Iterator<Item = Result<(K, V)>> + '_ {
        self.keys().filter_map(move |k| match k {
            Err(e) => Some(Err(e)),
            Ok(k) => match self.lookup(&k) {
                Err(e) => Some(Err(e)),
                Ok(v) => v.map(|v| Ok((k, v))),
            },
        })
    }
}

/// The keys of a map ([`TypedMap::keys`], [`PerCpuMap::keys`]); an error ends it.
pub struct Keys<'a, K: Pod> {
    map: &'a Map,
    prev: Option<K>,
    done: bool,
}

impl<'a, K: Pod> Iterator for Keys<'a, K> {
    type Item = Result<K>;
    fn next(&mut self) -> Option<Result<K>> {
        if self.done {
            return None;
        }
        let mut next: K = zeroed();
        match self.map.next_key_bytes(self.prev.as_ref().map(bytes_of), bytes_of_mut(&mut next)) {
            Ok(true) => {
                self.prev = Some(next);
                Some(Ok(next))
            }
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// A per-CPU map (BPF_MAP_TYPE_PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH): one V per possible
/// CPU for each key.
#[derive(Clone, Debug)]
pub struct PerCpuMap<K: Pod, V: Pod> {
    pub map: Map,
    ncpus: usize,
    _t: PhantomData<(K, V)>,
}

impl<K: Pod, V: Pod> PerCpuMap<K, V> {
    const STRIDE: usize = (size_of::<V>() + 7) & !7;

    /// The number of CPUs each value has.
    pub fn cpus(&self) -> usize { self.ncpus }

    /// The values of key on every possible CPU, or None.
    pub fn lookup(&self, key: &K) -> Result<Option<Vec<V>>> {
        let mut buf = vec![0u8; Self::STRIDE * self.ncpus];
        if !self.map.lookup_bytes(bytes_of(key), &mut buf)? {
            return Ok(None);
        }
        Ok(Some(buf.chunks(Self::STRIDE).map(|c| from_bytes::<V>(c).unwrap()).collect()))
    }

    /// Sets key to one value per possible CPU (exactly [`PerCpuMap::cpus`] of them).
    pub fn update(&self, key: &K, values: &[V], flags: u64) -> Result<()> {
        if values.len() != self.ncpus {
            let what = format!("map {}: update: {} values for {} CPUs", self.map.name(), values.len(), self.ncpus);
            return Err(Error::new(ErrorKind::Range, errno::EINVAL, what));
        }
        let mut buf = vec![0u8; Self::STRIDE * self.ncpus];
        for (c, v) in buf.chunks_mut(Self::STRIDE).zip(values) {
            c[..size_of::<V>()].copy_from_slice(bytes_of(v));
        }
        self.map.update_bytes(bytes_of(key), &buf, flags)
    }

    /// Removes key; false if there was none.
    pub fn delete(&self, key: &K) -> Result<bool> { self.map.delete_bytes(bytes_of(key)) }

    /// The keys, as [`TypedMap::keys`].
    pub fn keys(&self) -> Keys<'_, K> { Keys { map: &self.map, prev: None, done: false } }

    /// The keys and their per-CPU values.
    pub fn iter(&self) -> impl Iterator<Item = Result<(K, Vec<V>)>> + '_ {
        self.keys().filter_map(move |k| match k {
            Err(e) => Some(Err(e)),
            Ok(k) => match self.lookup(&k) {
                Err(e) => Some(Err(e)),
                Ok(v) => v.map(|v| Ok((k, v))),
            },
        })
    }
}

static POSSIBLE_CPUS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Tells the SDK the host's number of possible CPUs, for guests that learn it from an argument
/// or the environment (the host interface does not say).
pub fn set_num_possible_cpus(n: usize) {
    POSSIBLE_CPUS.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// The host's number of possible CPUs: the value given to [`set_num_possible_cpus`], else
/// parsed from /sys/devices/system/cpu/possible when the user granted that directory
/// (`wbpf run --dir /sys/devices/system/cpu`); ENOENT when neither is there.
pub fn num_possible_cpus() -> Result<usize> {
    let n = POSSIBLE_CPUS.load(std::sync::atomic::Ordering::Relaxed);
    if n > 0 {
        return Ok(n);
    }
    let what = "possible CPUs: set_num_possible_cpus or grant /sys/devices/system/cpu";
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible").map_err(|_| Error::new(ErrorKind::Range, errno::ENOENT, what))?;
    let n = parse_cpu_list(&text).ok_or_else(|| Error::new(ErrorKind::Range, errno::EINVAL, what))?;
    set_num_possible_cpus(n);
    Ok(n)
}

/// "0-3,5\n" gives 6: one more than the highest CPU listed.
pub(crate) fn parse_cpu_list(s: &str) -> Option<usize> {
    let mut max = None;
    for part in s.trim().split(',') {
        let hi = part.rsplit('-').next()?.trim().parse::<usize>().ok()?;
        max = max.max(Some(hi));
    }
    max.map(|m| m + 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_list() {
        assert_eq!(super::parse_cpu_list("0-3\n"), Some(4));
        assert_eq!(super::parse_cpu_list("0,2-5,7"), Some(8));
        assert_eq!(super::parse_cpu_list("x"), None);
    }
}
