//! The rendered documents as they are held once parsed: JSON values whose strings borrow the
//! rendered text and whose collections live in an arena.
//!
//! Reading tens of thousands of documents into `serde_json::Value` costs more than rendering
//! them: every key and string is its own allocation and every map a B-tree node sized for eleven
//! entries. Here scalars point into the manifest they were read from, a collection is one slice
//! of a bump arena (see [`bumpalo`]), and nothing needs dropping. Held this way, 18,000 rendered
//! documents take about 0.8 times their text: a value is 16 bytes (see [`super::thin`]) and an
//! object member 20, its key numbered once per run (see [`super::keys`]). The schema check runs
//! on this form directly (it implements the jsonschema crate's representation traits), and the
//! rules read it through the accessors `serde_json::Value` has.

use std::borrow::Cow;
use std::fmt;

use bumpalo::Bump;
use jsonschema::JsonType;
use jsonschema::json::{Array, Json, Node, NodeIdentity, Object};
use serde_json::Number;

use super::keys::Key;
pub use super::thin::Str;
use super::thin::Thin;

/// One JSON value, in 16 bytes: strings and collections are [`Thin`] borrows, and numbers
/// (rarer) are kept once per run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Value<'a> {
    #[default]
    Null,
    Bool(bool),
    Number(Num<'a>),
    String(Str<'a>),
    Array(Items<'a>),
    Object(Map<'a>),
}

const _: () = assert!(size_of::<Value<'_>>() == 16 && size_of::<Member<'_>>() == 20);

/// A number, kept once per run (see [`super::keys::number`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Num<'a>(Thin<'a, Number>);

impl<'a> Num<'a> {
    pub fn get(self) -> &'a Number {
        &self.0.get()[0]
    }
}

impl std::ops::Deref for Num<'_> {
    type Target = Number;

    fn deref(&self) -> &Number {
        self.get()
    }
}

impl fmt::Debug for Num<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl fmt::Display for Num<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

/// The items of a JSON array.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Items<'a>(Thin<'a, Value<'a>>);

impl<'a> Items<'a> {
    pub fn as_slice(self) -> &'a [Value<'a>] {
        self.0.get()
    }
}

impl<'a> std::ops::Deref for Items<'a> {
    type Target = [Value<'a>];

    fn deref(&self) -> &[Value<'a>] {
        self.as_slice()
    }
}

/// A member of a JSON object: its key by number (see [`super::keys`]) and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Member<'a> {
    key: Key,
    value: Value<'a>,
}

/// A JSON object: its members sorted by key, each key once. Sorted members make equal objects
/// equal member lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Map<'a>(Thin<'a, Member<'a>>);

impl<'a> Value<'a> {
    /// The string `text`.
    #[inline]
    pub fn str(text: &'a str) -> Value<'a> {
        Value::String(Str::new(text))
    }

    /// The array of `items`.
    #[inline]
    pub fn array(items: &'a [Value<'a>]) -> Value<'a> {
        Value::Array(Items(Thin::new(items)))
    }

    /// The number `n`, kept once per run (see [`super::keys::number`]).
    #[inline]
    pub fn number(n: Number) -> Value<'a> {
        Value::Number(Num(Thin::new(std::slice::from_ref(super::keys::number(n)))))
    }
}

impl<'a> Map<'a> {
    /// The object whose members are `stack[start..]`, moved off the stack into `arena`; `None`
    /// when a key repeats.
    pub fn from_stack(
        stack: &mut Vec<(&'a str, Value<'a>)>,
        start: usize,
        arena: &'a Bump,
    ) -> Option<Map<'a>> {
        let members = &mut stack[start..];
        members.sort_unstable_by(|a, b| key_order(a.0, b.0));
        if members.windows(2).any(|w| same_key(w[0].0, w[1].0)) {
            return None;
        }
        let members = stack.drain(start..).map(|(key, value)| Member {
            key: Key::new(key),
            value,
        });
        Some(Map(Thin::new(arena.alloc_slice_fill_iter(members))))
    }

    /// The members `keep` answers true for, as a new object in `arena`.
    pub fn filtered(&self, arena: &'a Bump, keep: impl Fn(&str, &Value<'a>) -> bool) -> Map<'a> {
        let kept: Vec<Member<'a>> = self
            .members()
            .iter()
            .filter(|m| keep(m.key.as_str(), &m.value))
            .copied()
            .collect();
        Map(Thin::new(arena.alloc_slice_fill_iter(kept)))
    }

    #[inline]
    fn members(&self) -> &'a [Member<'a>] {
        self.0.get()
    }

    /// The value of `key`.
    #[inline]
    pub fn get(&self, key: &str) -> Option<&'a Value<'a>> {
        let members = self.members();
        // Most objects in a manifest have a handful of members: comparing each (lengths
        // first) beats ordering them, and past a few, numbering the key first (mostly a hit
        // in the thread's recent keys) and comparing numbers beats reading each member's text.
        match members.len() {
            0..=4 => members
                .iter()
                .find(|m| same_key(m.key.as_str(), key))
                .map(|m| &m.value),
            5..=SCANNED => self.get_key(Key::new(key)),
            _ => self.search(key),
        }
    }

    /// The value of the key numbered `key` (a schema's property, numbered once).
    #[inline]
    pub fn get_key(&self, key: Key) -> Option<&'a Value<'a>> {
        let members = self.members();
        if members.len() <= SCANNED {
            return members.iter().find(|m| m.key == key).map(|m| &m.value);
        }
        self.search(key.as_str())
    }

    /// The value of `key`, by binary search over the members' texts (for large objects).
    fn search(&self, key: &str) -> Option<&'a Value<'a>> {
        let members = self.members();
        members
            .binary_search_by(|m| key_order(m.key.as_str(), key))
            .ok()
            .map(|i| &members[i].value)
    }

    /// The members in key order, each key by number.
    pub fn entries(&self) -> impl Iterator<Item = (Key, &'a Value<'a>)> {
        self.members().iter().map(|m| (m.key, &m.value))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The members in key order.
    pub fn iter(&self) -> Members<'a> {
        Members(self.members().iter())
    }

    pub fn keys(&self) -> impl Iterator<Item = &'a str> {
        self.members().iter().map(|m| m.key.as_str())
    }

    pub fn values(&self) -> impl Iterator<Item = &'a Value<'a>> {
        self.members().iter().map(|m| &m.value)
    }
}

/// Up to how many members an object is scanned in order rather than searched.
const SCANNED: usize = 32;

/// Whether two keys are the same; most keys of one object differ in length or first byte,
/// which is told without a call to `memcmp`.
#[inline]
fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// The order of two keys (byte order, as `str`'s), told by the first bytes where they differ.
#[inline]
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(x), Some(y)) if x != y => x.cmp(y),
        _ => a.cmp(b),
    }
}

impl<'a> IntoIterator for &Map<'a> {
    type Item = (&'a str, &'a Value<'a>);
    type IntoIter = Members<'a>;

    fn into_iter(self) -> Members<'a> {
        self.iter()
    }
}

/// The members of an object, in key order.
pub struct Members<'a>(std::slice::Iter<'a, Member<'a>>);

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, &'a Value<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|m| (m.key.as_str(), &m.value))
    }
}

impl<'a> Value<'a> {
    /// The same value as `json`, its strings and collections copied into `arena`.
    pub fn from_json(json: &serde_json::Value, arena: &'a Bump) -> Value<'a> {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::number(n.clone()),
            serde_json::Value::String(s) => Value::str(arena.alloc_str(s)),
            serde_json::Value::Array(items) => Value::array(
                arena.alloc_slice_fill_iter(items.iter().map(|v| Value::from_json(v, arena))),
            ),
            // A serde_json map has each key once and in order already.
            serde_json::Value::Object(map) => {
                let members = map.iter().map(|(k, v)| Member {
                    key: Key::new(k),
                    value: Value::from_json(v, arena),
                });
                Value::Object(Map(Thin::new(arena.alloc_slice_fill_iter(members))))
            }
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&'a Value<'a>> {
        match self {
            Value::Object(map) => map.get(key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&'a [Value<'a>]> {
        match self {
            Value::Array(items) => Some(items.as_slice()),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map<'a>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// The same value as a `serde_json::Value`, for messages and comparisons.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.get().clone()),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(items) => items.iter().map(Value::to_json).collect(),
            Value::Object(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// `value["key"]`: the member, or null when there is none (as with `serde_json::Value`).
impl<'a> std::ops::Index<&str> for Value<'a> {
    type Output = Value<'a>;

    fn index(&self, key: &str) -> &Value<'a> {
        static NULL: Value<'static> = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

/// Written as compact JSON, as `serde_json::Value` is.
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_json().fmt(f)
    }
}

/// This representation, for the jsonschema crate.
pub struct Tree;

impl Json for Tree {
    type Node<'a> = &'a Value<'a>;
    type PreparedKey = String;
    type StringBuffer = String;

    // A lookup is a binary search over a short sorted list: about as dear as visiting a few
    // members in order.
    const KEYS_PER_LOOKUP: usize = 4;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>(
        _buffer: &mut String,
        string: &str,
        f: impl FnOnce(Self::Node<'_>) -> T,
    ) -> T {
        f(&Value::str(string))
    }
}

impl<'a> Node<'a, Tree> for &'a Value<'a> {
    type Object = &'a Map<'a>;
    type Array = &'a [Value<'a>];
    type Number = &'a Number;

    fn as_object(&self) -> Option<&'a Map<'a>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&'a [Value<'a>]> {
        match self {
            Value::Array(items) => Some(items.as_slice()),
            _ => None,
        }
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match self {
            Value::String(s) => Some(Cow::Borrowed(s.as_str())),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&'a Number> {
        match self {
            Value::Number(n) => Some(n.get()),
            _ => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        Value::as_bool(self)
    }

    fn is_null(&self) -> bool {
        Value::is_null(self)
    }

    fn json_type(&self) -> JsonType {
        match self {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    fn equals_value(&self, expected: &serde_json::Value) -> bool {
        // `enum` and `const` mostly name strings: compare those without building a value.
        match (self, expected) {
            (Value::String(s), serde_json::Value::String(e)) => s.as_str() == e,
            (Value::String(_), _) | (_, serde_json::Value::String(_)) => false,
            _ => jsonschema::json::cmp::equal(&self.to_json(), expected),
        }
    }

    fn to_value(&self) -> Cow<'a, serde_json::Value> {
        Cow::Owned(self.to_json())
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(
            std::ptr::from_ref::<Value<'a>>(self) as usize
        ))
    }
}

impl<'a> Object<'a, Tree> for &'a Map<'a> {
    type Node = &'a Value<'a>;
    type MemberName = &'a str;
    type MembersIter = Members<'a>;

    fn len(&self) -> usize {
        Map::len(self)
    }

    fn get(&self, key: &String) -> Option<&'a Value<'a>> {
        Map::get(self, key)
    }

    fn members(&self) -> Members<'a> {
        self.iter()
    }
}

impl<'a> Array<'a, Tree> for &'a [Value<'a>] {
    type Node = &'a Value<'a>;
    type ElementsIter = std::slice::Iter<'a, Value<'a>>;

    fn len(&self) -> usize {
        <[Value<'a>]>::len(self)
    }

    fn elements(&self) -> std::slice::Iter<'a, Value<'a>> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::{Map, Value};
    use bumpalo::Bump;

    #[test]
    fn converts_both_ways() {
        let arena = Bump::new();
        let json = serde_json::json!({"b": [1, -2, 1.5, "x", null, true], "a": {"c": {}}});
        let tree = Value::from_json(&json, &arena);
        assert_eq!(tree.to_json(), json);
        assert_eq!(
            tree.get("b").and_then(Value::as_array).map(<[_]>::len),
            Some(6)
        );
        assert_eq!(tree.to_string(), json.to_string());
        assert_eq!(
            tree["a"]["c"],
            Value::from_json(&serde_json::json!({}), &arena)
        );
        assert!(tree["nothing"]["deeper"].is_null());
    }

    #[test]
    fn objects_refuse_repeated_keys_sort_and_filter() {
        let arena = Bump::new();
        let mut stack = vec![
            ("x", Value::Null),
            ("b", Value::Bool(true)),
            ("a", Value::Null),
        ];
        let map = Map::from_stack(&mut stack, 1, &arena).unwrap();
        assert_eq!(stack.len(), 1, "the members leave the stack");
        assert_eq!(map.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert!(map.contains_key("b") && !map.contains_key("c"));
        assert_eq!(
            map.filtered(&arena, |k, _| k != "a")
                .keys()
                .collect::<Vec<_>>(),
            ["b"]
        );
        let mut stack = vec![("a", Value::Null), ("a", Value::Null)];
        assert!(Map::from_stack(&mut stack, 0, &arena).is_none());
    }

    #[test]
    fn large_objects_are_searched() {
        let arena = Bump::new();
        let keys: Vec<String> = (0..40).map(|i| format!("k{i:02}")).collect();
        let mut stack: Vec<_> = keys
            .iter()
            .map(|k| (k.as_str(), Value::Bool(true)))
            .collect();
        let map = Map::from_stack(&mut stack, 0, &arena).unwrap();
        assert!(keys.iter().all(|k| map.get(k) == Some(&Value::Bool(true))));
        assert!(map.get("k40").is_none() && map.get("").is_none());
    }
}
