//! The full reader of rendered manifests, for the documents the fast reader leaves: the tree
//! Kubernetes clients build from them (see [`super::kube`]).
//!
//! serde_yaml (libyaml, the parser go-yaml v2 was ported from) decides whether the text is
//! YAML and words the error when it is not, but it types scalars as YAML 1.2 and keeps no
//! scalar styles, so the tree is built again from libyaml's own events (unsafe-libyaml, the
//! crate serde_yaml reads with), which carry them, node by node against serde_yaml's tree: the
//! same collections with the same keys and lengths, the same strings, and scalars of other types only where the scalar is plain (which the two
//! YAML versions type differently). Merge keys `<<` are applied as go-yaml v2 applies them.
//! Where the two disagree all the same, or on what the builder is unsure of, serde_yaml's
//! tree stands.

use std::collections::HashMap;

use serde_json::{Map, Number, Value as Json};

use super::kube::{self, Scalar};

/// Why a rendered document has no tree.
#[derive(Debug)]
pub(crate) enum Unreadable {
    /// Not YAML.
    Yaml(serde_yaml::Error),
    /// YAML that Kubernetes clients cannot turn into JSON (`.inf`, a null key): the line of
    /// the document and what is wrong there.
    NotJson(usize, String),
}

/// The document `text` as Kubernetes clients read it, as JSON.
pub(crate) fn read(text: &str) -> Result<Json, Unreadable> {
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(Unreadable::Yaml)?;
    let serde_tree = to_json(yaml);
    let Some(events) = events(text) else {
        return Ok(serde_tree);
    };
    let mut builder = Builder {
        events: &events,
        pos: 0,
        anchors: HashMap::new(),
    };
    match builder.document(&serde_tree) {
        Ok(tree) => Ok(tree),
        Err(Fail::NotJson(line, problem)) => Err(Unreadable::NotJson(line, problem)),
        Err(Fail::Unsure) => Ok(serde_tree),
    }
}

/// One libyaml event, with what the builder needs of it.
enum Event {
    Scalar {
        text: String,
        plain: bool,
        anchor: Option<String>,
        tag: Option<String>,
        /// The 1-based line the scalar starts on.
        line: usize,
    },
    SequenceStart(Option<String>),
    SequenceEnd,
    MappingStart(Option<String>),
    MappingEnd,
    Alias(String),
}

/// libyaml's events for one document, or `None` where it refuses the text (serde_yaml, which
/// reads with the same parser, has said it does not).
fn events(text: &str) -> Option<Vec<Event>> {
    use unsafe_libyaml as unsafe_sys;
    /// The parser, deleted however reading ends. It lives on the heap: libyaml keeps a pointer
    /// to it for the input it reads, so it must not move.
    struct Owned(Box<std::mem::MaybeUninit<unsafe_sys::yaml_parser_t>>);
    impl Drop for Owned {
        fn drop(&mut self) {
            // SAFETY: the parser was initialized before `Owned` was made, and is deleted once.
            unsafe { unsafe_sys::yaml_parser_delete(self.0.as_mut_ptr()) }
        }
    }
    let mut parser = Box::new_uninit();
    // SAFETY: `parser` is valid memory for a parser, which `yaml_parser_initialize` fills in;
    // the input is `text`, which outlives the parser (dropped at the end of this function).
    let mut parser = unsafe {
        if unsafe_sys::yaml_parser_initialize(parser.as_mut_ptr()).fail {
            return None;
        }
        unsafe_sys::yaml_parser_set_encoding(parser.as_mut_ptr(), unsafe_sys::YAML_UTF8_ENCODING);
        unsafe_sys::yaml_parser_set_input_string(
            parser.as_mut_ptr(),
            text.as_ptr(),
            text.len() as _,
        );
        Owned(parser)
    };
    let mut out = Vec::new();
    loop {
        let mut event = std::mem::MaybeUninit::<unsafe_sys::yaml_event_t>::uninit();
        // SAFETY: the parser is initialized; a successful parse fills in `event`, whose
        // strings (NUL-terminated, or null when absent) and value (`length` bytes) are read
        // before `yaml_event_delete` frees them.
        unsafe {
            if unsafe_sys::yaml_parser_parse(parser.0.as_mut_ptr(), event.as_mut_ptr()).fail {
                return None;
            }
            let event = event.as_mut_ptr();
            let converted = convert(&*event);
            unsafe_sys::yaml_event_delete(event);
            match converted {
                Some(Some(converted)) => out.push(converted),
                Some(None) => {}
                None => return Some(out),
            }
        }
    }
}

/// One libyaml event as ours: `None` at the end of the stream, `Some(None)` for events the
/// builder does not need.
///
/// # Safety
/// `event` must come from a successful `yaml_parser_parse` and not be deleted yet.
unsafe fn convert(event: &unsafe_libyaml::yaml_event_t) -> Option<Option<Event>> {
    use unsafe_libyaml as unsafe_sys;
    // SAFETY (for the helpers): libyaml's strings are NUL-terminated or null.
    let text = |p: *const u8| -> Option<String> {
        (!p.is_null()).then(|| {
            unsafe { std::ffi::CStr::from_ptr(p.cast()) }
                .to_string_lossy()
                .into_owned()
        })
    };
    Some(Some(match event.type_ {
        unsafe_sys::YAML_STREAM_END_EVENT => return None,
        unsafe_sys::YAML_SCALAR_EVENT => {
            let scalar = unsafe { &event.data.scalar };
            let value = unsafe { std::slice::from_raw_parts(scalar.value, scalar.length as usize) };
            Event::Scalar {
                text: String::from_utf8_lossy(value).into_owned(),
                plain: scalar.style == unsafe_sys::YAML_PLAIN_SCALAR_STYLE,
                anchor: text(scalar.anchor),
                tag: text(scalar.tag),
                line: usize::try_from(event.start_mark.line).unwrap_or(usize::MAX - 1) + 1,
            }
        }
        unsafe_sys::YAML_SEQUENCE_START_EVENT => {
            Event::SequenceStart(text(unsafe { event.data.sequence_start.anchor }))
        }
        unsafe_sys::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
        unsafe_sys::YAML_MAPPING_START_EVENT => {
            Event::MappingStart(text(unsafe { event.data.mapping_start.anchor }))
        }
        unsafe_sys::YAML_MAPPING_END_EVENT => Event::MappingEnd,
        unsafe_sys::YAML_ALIAS_EVENT => {
            Event::Alias(text(unsafe { event.data.alias.anchor }).unwrap_or_default())
        }
        _ => return Some(None),
    }))
}

/// Why the events gave no tree.
enum Fail {
    /// The events do not have serde_yaml's structure, or hold what the builder is not sure of:
    /// serde_yaml's tree stands.
    Unsure,
    /// Kubernetes clients refuse this: the line and the problem.
    NotJson(usize, String),
}

/// Builds the tree Kubernetes clients build from the events, checking each node against the
/// node serde_yaml read at the same place.
struct Builder<'e> {
    events: &'e [Event],
    pos: usize,
    anchors: HashMap<&'e str, Json>,
}

impl<'e> Builder<'e> {
    /// The one document of the events (an empty stream is null, as serde_yaml reads it).
    fn document(&mut self, serde: &Json) -> Result<Json, Fail> {
        if self.events.is_empty() {
            return Ok(Json::Null);
        }
        let tree = self.node(serde)?;
        if self.pos != self.events.len() {
            return Err(Fail::Unsure);
        }
        Ok(tree)
    }

    fn next(&mut self) -> Result<&'e Event, Fail> {
        let event = self.events.get(self.pos).ok_or(Fail::Unsure)?;
        self.pos += 1;
        Ok(event)
    }

    /// The next node; `serde` is serde_yaml's reading of it.
    fn node(&mut self, serde: &Json) -> Result<Json, Fail> {
        let (value, anchor) = match (self.next()?, serde) {
            (
                Event::Scalar {
                    text,
                    plain,
                    anchor,
                    tag,
                    line,
                },
                _,
            ) => {
                agrees(text, *plain, serde)?;
                (scalar(text, *plain, tag.as_deref(), *line)?, anchor)
            }
            (Event::SequenceStart(anchor), Json::Array(items)) => (self.sequence(items)?, anchor),
            (Event::MappingStart(anchor), Json::Object(members)) => {
                (self.mapping(members)?, anchor)
            }
            (Event::Alias(name), _) => {
                return self.anchors.get(name.as_str()).cloned().ok_or(Fail::Unsure);
            }
            _ => return Err(Fail::Unsure),
        };
        if let Some(name) = anchor {
            self.anchors.insert(name, value.clone());
        }
        Ok(value)
    }

    fn sequence(&mut self, serde: &[Json]) -> Result<Json, Fail> {
        let mut items = Vec::with_capacity(serde.len());
        loop {
            if matches!(self.events.get(self.pos), Some(Event::SequenceEnd)) {
                self.pos += 1;
                return match items.len() == serde.len() {
                    true => Ok(Json::Array(items)),
                    false => Err(Fail::Unsure),
                };
            }
            items.push(self.node(serde.get(items.len()).ok_or(Fail::Unsure)?)?);
        }
    }

    fn mapping(&mut self, serde: &Map<String, Json>) -> Result<Json, Fail> {
        let mut map = Map::new();
        let mut seen = 0;
        loop {
            let event = self.next()?;
            let Event::Scalar {
                text,
                plain,
                anchor: None,
                tag: None,
                line,
            } = event
            else {
                if matches!(event, Event::MappingEnd) && seen == serde.len() {
                    return Ok(Json::Object(map));
                }
                return Err(Fail::Unsure);
            };
            // serde_yaml's name for the key, to find its reading of the value.
            let serde_key = if *plain {
                serde_key(text)
            } else {
                text.clone()
            };
            let serde_value = serde.get(&serde_key).ok_or(Fail::Unsure)?;
            seen += 1;
            let value = self.node(serde_value)?;
            if *plain && text == "<<" {
                merge(&mut map, value, *line)?;
                continue;
            }
            let key = match plain {
                true => kube::key(text, kube::resolve(text))
                    .map_err(|why| not_a_key(text, why, *line))?,
                false => text.clone(),
            };
            map.insert(key, value);
        }
    }
}

/// Whether a scalar's text agrees with serde_yaml's reading of it: the same string, or (plain
/// scalars only) a scalar of another type, which the two YAML versions may type differently.
fn agrees(text: &str, plain: bool, serde: &Json) -> Result<(), Fail> {
    let same = match serde {
        Json::String(s) => s == text,
        Json::Array(_) | Json::Object(_) => false,
        _ => plain,
    };
    if same { Ok(()) } else { Err(Fail::Unsure) }
}

/// A plain key as serde_yaml names it in JSON (`1.0`, `null`), or its text where this is not
/// sure (a wrong guess finds no value, or one of another shape, and serde_yaml's tree stands).
fn serde_key(text: &str) -> String {
    match serde_plain(text) {
        Some(Json::String(s)) => s,
        Some(other) => other.to_string(),
        None => text.to_string(),
    }
}

fn not_a_key(text: &str, why: &str, line: usize) -> Fail {
    Fail::NotJson(
        line,
        format!(
            "the mapping key `{}` {why}, which Kubernetes clients cannot make a JSON key of \
             (kubectl refuses the manifest); quote it",
            crate::error::shorten(text, 40)
        ),
    )
}

/// A scalar as Kubernetes clients type it.
fn scalar(text: &str, plain: bool, tag: Option<&str>, line: usize) -> Result<Json, Fail> {
    let resolved = match tag {
        None if plain => kube::resolve(text),
        None => Scalar::Str,
        Some(tag) => tagged(text, tag, line)?,
    };
    let not_json = |what: &str| {
        Fail::NotJson(
            line,
            format!(
                "`{}` reads as {what} to Kubernetes clients, and JSON cannot carry it (kubectl \
                 refuses the manifest); quote it if it is a string",
                crate::error::shorten(text, 40)
            ),
        )
    };
    Ok(match resolved {
        Scalar::Null => Json::Null,
        Scalar::Bool(b) => Json::Bool(b),
        Scalar::Int(i) => i.into(),
        Scalar::Uint(u) => u.into(),
        Scalar::Float(f) if f.is_nan() => return Err(not_json("NaN")),
        Scalar::Float(f) => Json::Number(kube::json_number(f).ok_or_else(|| not_json("infinity"))?),
        Scalar::Str => Json::String(text.to_string()),
    })
}

/// A scalar with an explicit tag, as go-yaml v2 types it: `!!str` and `!!timestamp` are
/// strings, `!!null`, `!!bool`, `!!int` and `!!float` must match the text (an integer may be a
/// float), other tags leave the text a string.
fn tagged(text: &str, tag: &str, line: usize) -> Result<Scalar, Fail> {
    let Some(suffix) = tag.strip_prefix("tag:yaml.org,2002:") else {
        return Ok(Scalar::Str);
    };
    let resolved = kube::resolve(text);
    let fits = match (suffix, resolved) {
        ("str" | "timestamp", _) => return Ok(Scalar::Str),
        ("null", Scalar::Null) | ("bool", Scalar::Bool(_)) => true,
        ("int", Scalar::Int(_) | Scalar::Uint(_)) | ("float", Scalar::Float(_)) => true,
        ("float", Scalar::Int(i)) => return Ok(Scalar::Float(i as f64)),
        ("float", Scalar::Uint(u)) => return Ok(Scalar::Float(u as f64)),
        ("null" | "bool" | "int" | "float", _) => false,
        _ => return Err(Fail::Unsure),
    };
    if fits {
        return Ok(resolved);
    }
    Err(Fail::NotJson(
        line,
        format!(
            "`{}` cannot be read as a !!{suffix} (Kubernetes clients refuse the manifest)",
            crate::error::shorten(text, 40)
        ),
    ))
}

/// A merge key's value into `map`, as go-yaml v2 applies it: a mapping's members, or each
/// mapping of a sequence with the earlier ones winning, over what the map holds so far.
fn merge(map: &mut Map<String, Json>, merged: Json, line: usize) -> Result<(), Fail> {
    let wrong = || {
        Fail::NotJson(
            line,
            "a merge key `<<` needs a mapping or a list of mappings (Kubernetes clients refuse \
             the manifest)"
                .into(),
        )
    };
    match merged {
        Json::Object(members) => map.extend(members),
        Json::Array(items) => {
            for item in items.into_iter().rev() {
                match item {
                    Json::Object(members) => map.extend(members),
                    _ => return Err(wrong()),
                }
            }
        }
        _ => return Err(wrong()),
    }
    Ok(())
}

/// A plain scalar typed as serde_yaml types it (YAML 1.2 with its own choices: `0755` is a
/// string); `None` where this is not sure.
pub(crate) fn serde_plain(text: &str) -> Option<Json> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Json::Null),
        "true" | "True" | "TRUE" => return Some(Json::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Json::Bool(false)),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.') {
        return serde_number(text);
    }
    Some(Json::String(text.to_string()))
}

/// A scalar that starts like a number: an integer, a float, or a string, as serde_yaml decides.
fn serde_number(text: &str) -> Option<Json> {
    let string = || Some(Json::String(text.to_string()));
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let radix = [("0x", 16), ("0o", 8), ("0b", 2)];
    if let Some((digits, base)) = radix
        .iter()
        .find_map(|(p, b)| unsigned.strip_prefix(p).map(|d| (d, *b)))
    {
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
            return string();
        }
        return u64::from_str_radix(digits, base).ok().map(Json::from);
    }
    if text.starts_with("-0x") || text.starts_with("-0o") || text.starts_with("-0b") {
        return None;
    }
    let bare = text.strip_prefix(['-', '+']).unwrap_or(text);
    let leading_zero =
        bare.len() > 1 && bare.starts_with('0') && bare[1..].bytes().all(|b| b.is_ascii_digit());
    if leading_zero {
        return string();
    }
    if let Ok(n) = unsigned.parse::<u64>()
        && !unsigned.starts_with(['+', '-'])
    {
        return Some(n.into());
    }
    if text.starts_with('-')
        && let Ok(n) = text.parse::<i64>()
    {
        return Some(n.into());
    }
    if bare.bytes().all(|b| b.is_ascii_digit()) {
        return None; // too large for 64 bits
    }
    if unsigned.starts_with(['+', '-']) && text.starts_with('+') {
        return string();
    }
    // Infinity and NaN, which `to_json` turns into null.
    if matches!(unsigned, ".inf" | ".Inf" | ".INF")
        || matches!(text, "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN")
    {
        return Some(Json::Null);
    }
    match unsigned.parse::<f64>() {
        Ok(f) if f.is_finite() => Number::from_f64(f).map(Json::Number),
        _ => string(),
    }
}

/// A serde_yaml value as JSON: scalar keys written out as strings, tags dropped, and numbers
/// JSON cannot hold (`.inf`, `.nan`) as null.
fn to_json(yaml: serde_yaml::Value) -> Json {
    use serde_yaml::Value as Yaml;
    match yaml {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into()
            } else if let Some(u) = n.as_u64() {
                u.into()
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map_or(Json::Null, Json::Number)
            }
        }
        Yaml::String(s) => Json::String(s),
        Yaml::Sequence(items) => items.into_iter().map(to_json).collect(),
        Yaml::Mapping(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (key_text(k), to_json(v)))
                .collect(),
        ),
        Yaml::Tagged(tagged) => to_json(tagged.value),
    }
}

/// A serde_yaml mapping key as the text JSON needs.
fn key_text(key: serde_yaml::Value) -> String {
    match key {
        serde_yaml::Value::String(s) => s,
        serde_yaml::Value::Tagged(tagged) => key_text(tagged.value),
        other => match to_json(other) {
            Json::String(s) => s,
            json => json.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kube(text: &str) -> Json {
        read(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
    }

    #[test]
    fn reads_what_kubectl_sends() {
        // A multi-line plain scalar sends the document here rather than to the fast reader.
        let text = "data:\n  mode: 0755\n  enabled: yes\n  off: on\n  q: \"0755\"\n  \
                    s: !!str 0755\n  long: a\n    b\n  f: 1.0\n  t: 2024-01-01\n";
        assert_eq!(
            kube(text),
            serde_json::json!({"data": {"mode": 493, "enabled": true, "false": true,
                "q": "0755", "s": "0755", "long": "a b", "f": 1, "t": "2024-01-01"}})
        );
    }

    #[test]
    fn merge_keys_apply_as_go_yaml_v2_applies_them() {
        let text = "base: &b\n  a: 1\n  b: 2\nother: &o\n  b: 3\n  c: 4\nm:\n  <<: [*b, *o]\n  c: 5\n  d:\n    x\n";
        assert_eq!(
            kube(text)["m"],
            serde_json::json!({"a": 1, "b": 2, "c": 5, "d": "x"})
        );
        let quoted = "base: &b\n  a: 1\nm:\n  '<<': *b\n  z: a\n    b\n";
        assert_eq!(
            kube(quoted)["m"],
            serde_json::json!({"<<": {"a": 1}, "z": "a b"})
        );
    }

    #[test]
    fn refuses_what_no_json_can_carry() {
        for (text, line, says) in [
            ("a: .inf\nb: x\n  y\n", 1, "infinity"),
            ("a: x\n  y\nb: .NaN\n", 3, "NaN"),
            ("a: x\n  y\n~: 1\n", 3, "reads as null"),
            ("a: x\n  y\n<<: 1\n", 3, "merge key"),
        ] {
            match read(text) {
                Err(Unreadable::NotJson(at, problem)) => {
                    assert_eq!(at, line, "{text:?}");
                    assert!(problem.contains(says), "{text:?}: {problem}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    /// Where yaml-rust2 and libyaml part ways, libyaml's structure stands: YAML 1.1 reads
    /// U+2029 as a line break, so the namespace is a key of its own, as kubectl sees it.
    #[test]
    fn libyaml_decides_the_structure() {
        let text = "metadata:\n  name: a # c\u{2029}  namespace: evil\n";
        assert_eq!(kube(text)["metadata"]["namespace"], "evil");
        assert!(matches!(read("a: [\n"), Err(Unreadable::Yaml(_))));
    }
}
