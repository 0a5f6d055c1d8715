//! Borrowed slices and strings in 12 bytes instead of 16: where they start and a 32-bit length,
//! aligned to 4 bytes.
//!
//! The parsed manifests are mostly mapping members, and a member is a key and a value. With
//! `&str` keys and values of 24 bytes a member took 40 bytes, twice the text it was read from;
//! with these and numbered keys (see [`super::keys`]) it takes 20 and a value 16 (see
//! [`super::tree`]). Nothing here is longer than `u32::MAX`: rendered files and manifest inputs
//! are capped at 512 MiB. Should a longer one come, it is cut short (at a character boundary),
//! never read past.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// A `&'a [T]` in 12 bytes.
#[repr(C, packed(4))]
pub struct Thin<'a, T> {
    start: NonNull<T>,
    len: u32,
    borrow: PhantomData<&'a [T]>,
}

// SAFETY: a `Thin` is a shared borrow of a slice, and may cross threads exactly when `&[T]`
// may, which is when `T` is `Sync`.
unsafe impl<T: Sync> Send for Thin<'_, T> {}
// SAFETY: as above; a shared `Thin` only hands out `&[T]`.
unsafe impl<T: Sync> Sync for Thin<'_, T> {}

impl<'a, T> Thin<'a, T> {
    /// The slice in thin form (its first `u32::MAX` items, should it hold more).
    #[inline]
    pub fn new(slice: &'a [T]) -> Thin<'a, T> {
        Thin {
            start: NonNull::from(slice).cast(),
            len: u32::try_from(slice.len()).unwrap_or(u32::MAX),
            borrow: PhantomData,
        }
    }

    /// The slice again, borrowed for as long as the original was.
    #[inline]
    pub fn get(self) -> &'a [T] {
        let (start, len) = (self.start, self.len);
        // SAFETY: `start` and `len` were taken from a `&'a [T]` (in `new`), which stays valid
        // and unchanged for `'a`; a `u32` length always fits in `usize` here.
        unsafe { std::slice::from_raw_parts(start.as_ptr(), len as usize) }
    }

    /// How many items.
    #[inline]
    pub fn len(self) -> usize {
        self.len as usize
    }

    #[inline]
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

impl<T> Clone for Thin<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Thin<'_, T> {}

impl<T> Default for Thin<'_, T> {
    fn default() -> Self {
        Thin::new(&[])
    }
}

impl<T: PartialEq> PartialEq for Thin<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for Thin<'_, T> {}

impl<T: Hash> Hash for Thin<'_, T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.get().hash(state);
    }
}

impl<T: fmt::Debug> fmt::Debug for Thin<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

/// A `&'a str` in 12 bytes.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Str<'a>(Thin<'a, u8>);

impl<'a> Str<'a> {
    /// The string in thin form (cut at a character boundary below `u32::MAX` bytes, should
    /// it be longer).
    #[inline]
    pub fn new(text: &'a str) -> Str<'a> {
        let mut end = text.len().min(u32::MAX as usize);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Str(Thin::new(&text.as_bytes()[..end]))
    }

    /// The string again, borrowed for as long as the original was.
    #[inline]
    pub fn as_str(self) -> &'a str {
        // SAFETY: the bytes are a `&'a str` up to a character boundary (see `new`), so they
        // are UTF-8.
        unsafe { std::str::from_utf8_unchecked(self.0.get()) }
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Str<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_str().fmt(f)
    }
}

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_str().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::{Str, Thin};

    #[test]
    fn thin_forms_give_back_what_they_took() {
        assert_eq!(size_of::<Thin<'_, u64>>(), 12);
        assert_eq!(align_of::<Thin<'_, u64>>(), 4);
        let items = [1u64, 2, 3];
        let thin = Thin::new(&items[1..]);
        assert_eq!(thin.get(), &[2, 3]);
        assert_eq!((thin.len(), thin.is_empty()), (2, false));
        assert!(Thin::<u64>::default().is_empty());
        let text = String::from("héllo");
        let s = Str::new(&text[1..]);
        assert_eq!(s.as_str(), "éllo");
        assert!(s == "éllo" && s.starts_with('é'));
        assert_eq!(format!("{s:?} {s}"), "\"éllo\" éllo");
        assert_eq!(Str::default().as_str(), "");
    }
}
