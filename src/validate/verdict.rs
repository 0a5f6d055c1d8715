//! A quick yes for valid documents.
//!
//! The bundled Kubernetes schemas use few keywords: `type` (one type, or one and `null`),
//! `enum` of strings, `required`, `properties`, `additionalProperties` (`false` or a schema),
//! `items`, `oneOf` and `$ref` into the definitions; `format` and the `x-kubernetes-*`
//! annotations assert nothing in a check that, like ours, leaves formats alone. Such a schema
//! becomes a small [`Program`] in far less time than jsonschema compiles it, and the program
//! answers one question: is the document valid? A schema with any other keyword is declined,
//! and a document the program does not call valid goes to jsonschema, which alone decides and
//! words what is wrong. The program may therefore err only towards "not valid"; a test holds it
//! to jsonschema's answer on thousands of mutated documents.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::yaml::keys::Key;
use crate::yaml::tree::Value;

/// The text of the definition of a name, from the bundle.
pub(crate) type Definitions<'d> = dyn Fn(&str) -> Option<&'static str> + 'd;

/// How many `$ref`s may be followed at one place of a document before the program gives up
/// (and the document goes to jsonschema); the bundled schemas never nest more than a few.
const MAX_REFS_IN_PLACE: usize = 32;

/// A node of a program: every assertion of one schema object.
#[derive(Default)]
struct Node {
    /// The allowed JSON types, a set of [`TYPE_NULL`] and the like; `None` allows all.
    types: Option<u8>,
    enumeration: Option<Vec<String>>,
    /// Keys by number (see [`crate::yaml::keys`]): a member is found without reading text.
    required: Vec<Key>,
    /// Sorted by key number.
    properties: Vec<(Key, usize)>,
    additional: Additional,
    items: Option<usize>,
    one_of: Vec<usize>,
    reference: Option<usize>,
}

impl Node {
    /// The target of a node that asserts nothing but a reference.
    fn only_reference(&self) -> Option<usize> {
        let bare = self.types.is_none()
            && self.enumeration.is_none()
            && self.required.is_empty()
            && self.properties.is_empty()
            && matches!(self.additional, Additional::Any)
            && self.items.is_none()
            && self.one_of.is_empty();
        if bare { self.reference } else { None }
    }
}

#[derive(Default, Clone, Copy)]
enum Additional {
    #[default]
    Any,
    None,
    Schema(usize),
}

const TYPE_NULL: u8 = 1;
const TYPE_BOOLEAN: u8 = 2;
const TYPE_INTEGER: u8 = 4;
const TYPE_NUMBER: u8 = 8;
const TYPE_STRING: u8 = 16;
const TYPE_ARRAY: u8 = 32;
const TYPE_OBJECT: u8 = 64;

/// The compiled schemas of some kinds, sharing their definitions.
#[derive(Default)]
pub(crate) struct Program {
    nodes: Vec<Node>,
    /// Definitions compiled so far, by name (`None` for one the program declined).
    definitions: HashMap<String, Option<usize>>,
}

impl Program {
    /// Compiles a kind's `schema`, compact JSON text; `definition` gives the text of the
    /// definition of a name (what `#/$defs/<name>` points to). `None` when the schema is
    /// outside what a program holds.
    ///
    /// The text is read as it is compiled, with no JSON tree in between: the bundled schemas
    /// are compact JSON with their members in key order (as `build.rs` writes them).
    pub(crate) fn add_kind(&mut self, schema: &str, definition: &Definitions<'_>) -> Option<usize> {
        let root = self.node(&mut Text::new(schema), definition, true)?;
        self.shortcut();
        Some(root)
    }

    /// Points every reference past the placeholders of definitions (nodes that only refer on).
    fn shortcut(&mut self) {
        for id in 0..self.nodes.len() {
            let Some(mut target) = self.nodes[id].reference else {
                continue;
            };
            for _ in 0..MAX_REFS_IN_PLACE {
                match self.nodes[target].only_reference() {
                    Some(next) if next != target => target = next,
                    _ => break,
                }
            }
            self.nodes[id].reference = Some(target);
        }
    }

    /// The node of the schema `text` is at; a kind's `root` must be of draft 2020-12.
    fn node(
        &mut self,
        text: &mut Text<'_>,
        definition: &Definitions<'_>,
        root: bool,
    ) -> Option<usize> {
        let mut node = Node::default();
        text.object(|text, keyword| {
            match &*keyword {
                "type" => node.types = Some(text.types()?),
                "enum" => node.enumeration = Some(text.strings()?),
                "required" => {
                    node.required = text.strings()?.iter().map(|n| Key::new(n)).collect();
                }
                "properties" => {
                    let mut properties = Vec::new();
                    text.object(|text, name| {
                        properties.push((Key::new(&name), self.node(text, definition, false)?));
                        Some(())
                    })?;
                    properties.sort_unstable_by_key(|(key, _)| *key);
                    node.properties = properties;
                }
                "additionalProperties" => {
                    node.additional = match text.boolean() {
                        Some(false) => Additional::None,
                        Some(true) => Additional::Any,
                        None => Additional::Schema(self.node(text, definition, false)?),
                    };
                }
                "items" => node.items = Some(self.node(text, definition, false)?),
                "oneOf" => {
                    let mut one_of = Vec::new();
                    text.array(|text| {
                        one_of.push(self.node(text, definition, false)?);
                        Some(())
                    })?;
                    node.one_of = one_of;
                }
                "$ref" => {
                    let target = text.string()?;
                    node.reference = Some(self.reference(&target, definition)?);
                }
                "$schema" if root => {
                    if text.string()? != "https://json-schema.org/draft/2020-12/schema" {
                        return None;
                    }
                }
                "format" | "$schema" | "$id" | "description" => text.skip()?,
                other if other.starts_with("x-kubernetes-") => text.skip()?,
                _ => return None,
            }
            Some(())
        })?;
        self.nodes.push(node);
        Some(self.nodes.len() - 1)
    }

    /// The node of the definition a `$ref` names, compiled once; a definition that refers
    /// back to itself gets its node's place before its body is compiled.
    fn reference(&mut self, target: &str, definition: &Definitions<'_>) -> Option<usize> {
        let name = target
            .strip_prefix("#/$defs/")
            .or_else(|| target.strip_prefix("/api/_definitions.json#/$defs/"))
            .or_else(|| {
                target.strip_prefix("https://kubernetes.io/api/_definitions.json#/$defs/")
            })?;
        if name.contains(['/', '~', '%']) {
            return None;
        }
        if let Some(known) = self.definitions.get(name) {
            return *known;
        }
        // A placeholder node whose only assertion is a reference to the body, filled in below.
        self.nodes.push(Node::default());
        let place = self.nodes.len() - 1;
        self.definitions.insert(name.to_string(), Some(place));
        let body = definition(name)
            .and_then(|schema| self.node(&mut Text::new(schema), definition, false));
        match body {
            Some(body) => {
                self.nodes[place].reference = Some(body);
                Some(place)
            }
            None => {
                // Nodes compiled meanwhile may point here: they must never pass.
                self.nodes[place].types = Some(0);
                self.definitions.insert(name.to_string(), None);
                None
            }
        }
    }

    /// Whether `value` is certainly valid against the kind compiled at `root`.
    pub(crate) fn valid(&self, root: usize, value: &Value<'_>) -> bool {
        self.check(root, value, 0)
    }

    fn check(&self, id: usize, value: &Value<'_>, refs: usize) -> bool {
        let node = &self.nodes[id];
        if let Some(allowed) = node.types
            && allowed & type_of(value) == 0
        {
            return false;
        }
        if let Some(options) = &node.enumeration {
            match value {
                Value::String(s) if options.iter().any(|o| o == s.as_str()) => {}
                _ => return false,
            }
        }
        if let Value::Object(map) = value
            && !self.check_object(node, map)
        {
            return false;
        }
        if let (Some(items), Value::Array(elements)) = (node.items, value)
            && !elements.iter().all(|e| self.check(items, e, 0))
        {
            return false;
        }
        if !node.one_of.is_empty()
            && node
                .one_of
                .iter()
                .filter(|&&sub| self.check(sub, value, refs + 1))
                .count()
                != 1
        {
            return false;
        }
        match node.reference {
            Some(_) if refs >= MAX_REFS_IN_PLACE => false,
            Some(target) => self.check(target, value, refs + 1),
            None => true,
        }
    }

    /// `required`, `properties` and `additionalProperties` on a mapping.
    fn check_object(&self, node: &Node, map: &crate::yaml::tree::Map<'_>) -> bool {
        if !node.required.iter().all(|&key| map.get_key(key).is_some()) {
            return false;
        }
        if node.properties.is_empty() && matches!(node.additional, Additional::Any) {
            return true;
        }
        map.entries().all(|(key, member)| {
            let own = node
                .properties
                .binary_search_by_key(&key, |(p, _)| *p)
                .ok()
                .map(|i| node.properties[i].1);
            match (own, node.additional) {
                (Some(sub), _) | (None, Additional::Schema(sub)) => self.check(sub, member, 0),
                (None, Additional::Any) => true,
                (None, Additional::None) => false,
            }
        })
    }
}

/// The type set of one `type` name.
fn type_named(name: &str) -> Option<u8> {
    match name {
        "null" => Some(TYPE_NULL),
        "boolean" => Some(TYPE_BOOLEAN),
        "integer" => Some(TYPE_INTEGER),
        "number" => Some(TYPE_NUMBER),
        "string" => Some(TYPE_STRING),
        "array" => Some(TYPE_ARRAY),
        "object" => Some(TYPE_OBJECT),
        _ => None,
    }
}

/// A reader of compact JSON text that compiling walks through value by value; every method
/// answers `None` for text that is not what it expects (the schema is then declined).
struct Text<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Text<'a> {
    fn new(text: &'a str) -> Text<'a> {
        Text {
            text,
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// An object: `member` is called with each key and must read its value.
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<()> {
        self.each(b'{', b'}', |text| {
            let key = text.string()?;
            text.expect(b':')?;
            member(text, key)
        })
    }

    /// An array: `item` is called for each item and must read it.
    fn array(&mut self, item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.each(b'[', b']', item)
    }

    /// What `open` and `close` hold, separated by commas: `one` reads each.
    fn each(
        &mut self,
        open: u8,
        close: u8,
        mut one: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.expect(open)?;
        if self.expect(close).is_some() {
            return Some(());
        }
        loop {
            one(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                byte if byte == close => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string, borrowed when it has no escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at;
        self.expect(b'"')?;
        let mut escaped = false;
        loop {
            // Both bytes are ASCII, so the quotes fall between characters of the text.
            self.at += memchr::memchr2(b'"', b'\\', self.bytes.get(self.at..)?)?;
            if self.bytes[self.at] == b'"' {
                break;
            }
            escaped = true;
            self.at += 2;
        }
        self.at += 1;
        let quoted = self.text.get(start..self.at)?;
        if escaped {
            serde_json::from_str(quoted).ok().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(&quoted[1..quoted.len() - 1]))
        }
    }

    /// `true` or `false`, read; `None`, and nothing read, for anything else.
    fn boolean(&mut self) -> Option<bool> {
        let rest = &self.bytes[self.at..];
        let (value, length) = if rest.starts_with(b"true") {
            (true, 4)
        } else if rest.starts_with(b"false") {
            (false, 5)
        } else {
            return None;
        };
        self.at += length;
        Some(value)
    }

    /// A list of strings (`enum`'s options, `required`'s names).
    fn strings(&mut self) -> Option<Vec<String>> {
        let mut strings = Vec::new();
        self.array(|text| {
            strings.push(text.string()?.into_owned());
            Some(())
        })?;
        Some(strings)
    }

    /// The type set of a `type` keyword: a name or a non-empty list of names.
    fn types(&mut self) -> Option<u8> {
        if self.peek()? == b'"' {
            return type_named(&self.string()?);
        }
        let mut set = 0;
        let mut any = false;
        self.array(|text| {
            set |= type_named(&text.string()?)?;
            any = true;
            Some(())
        })?;
        any.then_some(set)
    }

    /// Reads past any value.
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(|text, _| text.skip()),
            b'[' => self.array(Text::skip),
            _ => {
                let length = self.bytes[self.at..]
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']'))
                    .unwrap_or(self.bytes.len() - self.at);
                (length > 0).then(|| self.at += length)
            }
        }
    }
}

/// The types `value` satisfies: an integer (a float without a fraction too, as from draft 6
/// on) is an integer and a number.
fn type_of(value: &Value<'_>) -> u8 {
    match value {
        Value::Null => TYPE_NULL,
        Value::Bool(_) => TYPE_BOOLEAN,
        Value::Number(n) => {
            let integer = n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0);
            if integer {
                TYPE_INTEGER | TYPE_NUMBER
            } else {
                TYPE_NUMBER
            }
        }
        Value::String(_) => TYPE_STRING,
        Value::Array(_) => TYPE_ARRAY,
        Value::Object(_) => TYPE_OBJECT,
    }
}
