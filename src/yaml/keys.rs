//! Object keys, each kept once per run: a parsed object member names its key by a 4-byte
//! number instead of a 12-byte borrow of the text.
//!
//! Rendered manifests repeat a few hundred keys (`metadata`, `name`, `containerPort`) across
//! tens of thousands of documents, and most of a parsed manifest is object members. Numbering
//! the keys makes a member 20 bytes instead of 28, which at 18,000 documents is about 5 MB.
//! A thread numbers the keys it has seen before from its own table; a key new to the thread
//! takes a lock once. Keys are never forgotten: their texts live until the process ends, and
//! there are at most as many as the inputs hold.
//!
//! Numbers are kept once per run the same way ([`number`]): a manifest repeats its ports, user
//! IDs and counts, and each would otherwise take 16 bytes of an arena.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use foldhash::fast::RandomState;
use serde_json::Number;

/// An object key: its text is [`Key::as_str`]. Equal keys are equal numbers; keys are
/// ordered by number, which is not the order of their texts.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(u32);

/// Every key's text, by number; only ever appended to, and read without a lock.
static TEXTS: boxcar::Vec<&'static str> = boxcar::Vec::new();

/// The number of every key in [`TEXTS`]. The hasher's seed is random, so that no input can
/// choose keys that all collide.
static NUMBERS: LazyLock<Mutex<HashMap<&'static str, u32, RandomState>>> =
    LazyLock::new(Mutex::default);

/// How many keys a thread remembers in its direct-mapped table (see [`Seen::recent`]).
const RECENT: usize = 256;

/// What one thread knows of the keys.
struct Seen {
    /// The most recent key of each slot (see [`slot`]): a manifest's keys mostly repeat those
    /// of the one before, and a hit here costs a comparison of the text, not a hash lookup.
    recent: [Option<(&'static str, Key)>; RECENT],
    /// Every key this thread has numbered, so that it takes the lock once per key.
    numbers: HashMap<&'static str, u32, RandomState>,
}

thread_local! {
    static SEEN: RefCell<Seen> = RefCell::new(Seen {
        recent: [None; RECENT],
        numbers: HashMap::default(),
    });
}

impl Seen {
    /// The key whose text is `text`: the recent one of its slot, else this thread's number,
    /// else the run's.
    #[inline]
    fn key(&mut self, text: &str) -> Key {
        let at = slot(text);
        if let Some((kept, key)) = self.recent[at]
            && kept == text
        {
            return key;
        }
        let (kept, number) = match self.numbers.get_key_value(text) {
            Some((&kept, &number)) => (kept, number),
            None => {
                let (kept, number) = number_of(text);
                self.numbers.insert(kept, number);
                (kept, number)
            }
        };
        self.recent[at] = Some((kept, Key(number)));
        Key(number)
    }
}

/// The slot of `text` in [`Seen::recent`]: a multiplicative hash of its length and first,
/// middle and last bytes. Texts that share a slot only take turns there.
#[inline]
fn slot(text: &str) -> usize {
    let bytes = text.as_bytes();
    let byte = |i: usize| u64::from(bytes.get(i).copied().unwrap_or(0));
    let len = bytes.len();
    let mixed =
        (len as u64 | byte(0) << 16 | byte(len / 2) << 24 | byte(len.wrapping_sub(1)) << 32)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> (64 - RECENT.trailing_zeros())) as usize
}

impl Key {
    /// The key whose text is `text`.
    #[inline]
    pub fn new(text: &str) -> Key {
        SEEN.with_borrow_mut(|seen| seen.key(text))
    }

    /// The key's text.
    #[inline]
    pub fn as_str(self) -> &'static str {
        // Every number was handed out by `number_of` after its text was pushed.
        TEXTS.get(self.0 as usize).copied().unwrap_or_default()
    }
}

/// The run's number for `text` and its kept text, numbering it if it is new.
fn number_of(text: &str) -> (&'static str, u32) {
    let mut numbers = NUMBERS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((&kept, &number)) = numbers.get_key_value(text) {
        return (kept, number);
    }
    let kept: &'static str = Box::leak(text.into());
    // Four billion keys would need far more memory than the allocator allows a run (see
    // `crate::memory`), so the count never passes `u32::MAX`.
    let number = u32::try_from(TEXTS.push(kept)).unwrap_or(u32::MAX);
    numbers.insert(kept, number);
    (kept, number)
}

/// Every number kept so far, each once.
static KEPT_NUMBERS: LazyLock<Mutex<HashMap<Number, &'static Number, RandomState>>> =
    LazyLock::new(Mutex::default);

thread_local! {
    /// The numbers this thread has kept, so that it takes the lock once per number.
    static SEEN_NUMBERS: RefCell<HashMap<Number, &'static Number, RandomState>> =
        RefCell::default();
}

/// `n`, kept for the rest of the run: equal numbers are one.
pub fn number(n: Number) -> &'static Number {
    SEEN_NUMBERS.with_borrow_mut(|seen| {
        if let Some(&kept) = seen.get(&n) {
            return kept;
        }
        let mut all = KEPT_NUMBERS.lock().unwrap_or_else(|e| e.into_inner());
        let kept = *all
            .entry(n.clone())
            .or_insert_with(|| Box::leak(Box::new(n.clone())));
        seen.insert(n, kept);
        kept
    })
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::Key;

    #[test]
    fn equal_texts_are_one_key_on_every_thread() {
        let here = Key::new("containerPort");
        let there = std::thread::spawn(|| Key::new("containerPort"))
            .join()
            .unwrap();
        assert_eq!(here, there);
        assert_eq!(there.as_str(), "containerPort");
        assert_ne!(Key::new("containerPorts"), here);
        assert_eq!(Key::new("").as_str(), "");
        let keys: Vec<Key> = (0..2000).map(|i| Key::new(&format!("k{i}"))).collect();
        assert!(
            keys.iter()
                .enumerate()
                .all(|(i, k)| k.as_str() == format!("k{i}"))
        );
    }

    #[test]
    fn equal_numbers_are_kept_once() {
        let a = super::number(8080.into());
        let b = std::thread::spawn(|| super::number(8080.into()))
            .join()
            .unwrap();
        assert!(std::ptr::eq(a, b));
        assert_eq!(a.as_u64(), Some(8080));
        let half = serde_json::Number::from_f64(0.5).unwrap();
        assert_eq!(super::number(half.clone()), &half);
        assert!(!std::ptr::eq(super::number(8081.into()), a));
    }
}
