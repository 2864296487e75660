//! Plain data: types whose every bit pattern is a valid value and which hold no pointers, so that
//! bytes from the kernel can become a value and a value can be handed to the kernel as bytes.

use core::fmt;
use core::mem::{size_of, MaybeUninit};

/// A type with a fixed layout (`#[repr(C)]`, `#[repr(transparent)]` or a primitive), no padding
/// the kernel could not write, no pointers or references, and no invalid bit patterns (so no
/// `bool`, `char` or Rust enums: see [`Bool`] and the integer newtypes `wbpfgen rust` makes of C
/// enums). The types `wbpfgen rust` generates implement it.
///
/// # Safety
/// Implement it only for such types: [`from_bytes`] makes values of them out of arbitrary bytes.
pub unsafe trait Pod: Copy + 'static {}

macro_rules! pod {
    ($($t:ty)*) => { $(unsafe impl Pod for $t {})* };
}
pod!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize f32 f64);
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// The bytes of a value (without copying).
pub fn bytes_of<T: Pod>(v: &T) -> &[u8] {
    // SAFETY: T is Pod: initialized, no padding that matters, any alignment is fine for u8.
    unsafe { core::slice::from_raw_parts(v as *const T as *const u8, size_of::<T>()) }
}

/// The bytes of a value, writable: every pattern written is a valid T.
pub fn bytes_of_mut<T: Pod>(v: &mut T) -> &mut [u8] {
    unsafe { core::slice::from_raw_parts_mut(v as *mut T as *mut u8, size_of::<T>()) }
}

/// A value of `T` from the first `size_of::<T>()` bytes of `b` (copied: `b` may be unaligned);
/// None when `b` is shorter. Perf samples are padded to 8 bytes, so longer is fine.
pub fn from_bytes<T: Pod>(b: &[u8]) -> Option<T> {
    if b.len() < size_of::<T>() {
        return None;
    }
    // SAFETY: T is Pod and b has at least size_of::<T>() bytes.
    Some(unsafe { core::ptr::read_unaligned(b.as_ptr() as *const T) })
}

/// A zeroed value (every Pod type has one).
pub fn zeroed<T: Pod>() -> T {
    unsafe { MaybeUninit::<T>::zeroed().assume_init() }
}

/// C's `_Bool` (1 byte) as plain data: any byte is a valid value, non-zero is true.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Bool(pub u8);

unsafe impl Pod for Bool {}

impl Bool {
    pub const FALSE: Bool = Bool(0);
    pub const TRUE: Bool = Bool(1);
    pub fn get(self) -> bool { self.0 != 0 }
}

impl From<bool> for Bool {
    fn from(b: bool) -> Bool { Bool(b as u8) }
}

impl From<Bool> for bool {
    fn from(b: Bool) -> bool { b.get() }
}

impl fmt::Debug for Bool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { fmt::Debug::fmt(&self.get(), f) }
}

impl fmt::Display for Bool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { fmt::Display::fmt(&self.get(), f) }
}

/// The text of a NUL-terminated C string held in `b` (up to the first NUL, or all of `b`);
/// bytes that are not UTF-8 become U+FFFD.
pub fn c_str(b: &[u8]) -> std::borrow::Cow<'_, str> {
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..n])
}

/// The `width` bits (1..=64) at bit `off` of `b`, as the BPF side (little endian) stores a
/// bitfield: bit 0 is the least significant bit of `b[0]`.
pub fn get_bits(b: &[u8], off: u32, width: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..width {
        let bit = off + i;
        v |= ((b[(bit / 8) as usize] >> (bit % 8)) as u64 & 1) << i;
    }
    v
}

/// Stores the low `width` bits of `v` at bit `off` of `b`, leaving the other bits alone.
pub fn set_bits(b: &mut [u8], off: u32, width: u32, v: u64) {
    for i in 0..width {
        let bit = off + i;
        let byte = &mut b[(bit / 8) as usize];
        if v >> i & 1 != 0 {
            *byte |= 1 << (bit % 8);
        } else {
            *byte &= !(1 << (bit % 8));
        }
    }
}

/// The low `width` bits of `v` as a two's-complement number.
pub fn sign_extend(v: u64, width: u32) -> i64 {
    let shift = 64 - width;
    ((v << shift) as i64) >> shift
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip() {
        let mut b = [0u8; 4];
        set_bits(&mut b, 3, 7, 0x55);
        assert_eq!(get_bits(&b, 3, 7), 0x55);
        assert_eq!(b, [0xa8, 0x02, 0, 0]);
        set_bits(&mut b, 30, 2, 3);
        assert_eq!(sign_extend(get_bits(&b, 30, 2), 2), -1);
        assert_eq!(get_bits(&b, 3, 7), 0x55);
    }

    #[test]
    fn decode() {
        assert_eq!(from_bytes::<u32>(&[1, 0, 0, 0, 9]), Some(1));
        assert_eq!(from_bytes::<u64>(&[1, 0, 0]), None);
        assert_eq!(c_str(b"sh\0junk"), "sh");
        assert_eq!(c_str(b"full"), "full");
    }
}
