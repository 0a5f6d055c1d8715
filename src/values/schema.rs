//! Checking layered values against a chart's `values.schema.json`.
//!
//! The jsonschema crate is built without remote or file resolution, so a `$ref` can only point
//! inside the schema itself; anything else is reported as an error in the schema.

use std::collections::HashMap;

use jsonschema::JsonType;
use jsonschema::error::{TypeKind, ValidationErrorKind};

use super::tree::Map;
use crate::error::{Error, Result};

/// One way the values fail a chart's values.schema.json.
#[derive(Debug)]
pub struct Violation {
    /// The schema file (`values.schema.json`, `charts/sub/values.schema.json`).
    pub file: String,
    /// The offending value's path in the chart's values (`api.replicas`, `regions.0.code`);
    /// empty for the root.
    pub path: Vec<String>,
    /// What is wrong (`"three" is not of type "integer"`).
    pub problem: String,
    /// Whether the schema wants a string where the value is something else.
    pub wants_string: bool,
    /// The members of the offending table the complaint is about: a required one that is
    /// missing, or ones the schema does not allow.
    pub members: Vec<String>,
    /// Whether those members are missing (else they are unexpected).
    pub missing: bool,
    /// Why the schema asks it, when the failing rule is a conditional (`if`/`then`) whose
    /// `then` has a description: `set exactly one of ...`.
    pub reason: Option<String>,
}

/// A chart's values.schema.json, compiled: what checking values against it needs.
pub struct Compiled {
    /// The schema file, for messages.
    file: String,
    schema: serde_json::Value,
    validator: jsonschema::Validator,
}

/// Parses `schema` (the raw file) of the chart at `chart_path` (for messages), or says where
/// it is no JSON.
pub fn parse(schema: &[u8], chart_path: &str) -> Result<serde_json::Value> {
    serde_json::from_slice(schema).map_err(|e| {
        Error::input(format!(
            "`{chart_path}values.schema.json:{}:{}`: invalid JSON: {e}",
            e.line(),
            e.column()
        ))
    })
}

/// Compiles the parsed `schema` of the chart at `chart_path` (for messages), or says why the
/// schema itself is unusable.
pub fn compile(schema: serde_json::Value, chart_path: &str) -> Result<Compiled> {
    let file = format!("{chart_path}values.schema.json");
    let mut options = jsonschema::options();
    let mut patterns = HashMap::new();
    if plain_patterns(&schema, &mut patterns) {
        options = options.with_keyword("pattern", move |_, pattern, _| {
            let pattern = pattern.as_str().unwrap_or_default();
            let regex = patterns.get(pattern).cloned().ok_or_else(|| {
                jsonschema::ValidationError::custom(format!("`{pattern}` was not compiled"))
            })?;
            Ok(Box::new(PlainPattern {
                pattern: pattern.to_string(),
                regex,
            }))
        });
    }
    let validator = options.build(&schema).map_err(|e| {
        Error::input(format!(
            "`{file}` is not a usable JSON schema: {e}; only references inside the schema (`#/...`) are supported"
        ))
    })?;
    Ok(Compiled {
        file,
        schema,
        validator,
    })
}

/// Validates `values` of the chart at `chart_path` (for messages) against `schema` (the raw
/// file): every violation, or an error when the schema itself is unusable.
pub fn check(schema: &[u8], values: &Map, chart_path: &str) -> Result<Vec<Violation>> {
    check_parsed(&parse(schema, chart_path)?, values, chart_path)
}

/// [`check`] of a parsed schema. Values the [quick reader](super::quick) surely finds valid
/// need no compile; for any others jsonschema decides and words each violation.
pub fn check_parsed(
    schema: &serde_json::Value,
    values: &Map,
    chart_path: &str,
) -> Result<Vec<Violation>> {
    if super::quick::valid(schema, values) {
        return Ok(Vec::new());
    }
    let compiled = compile(schema.clone(), chart_path)?;
    let violations = compiled.check(values);
    // A compiled schema is taken apart node by node, at a fifth of what checking costs; a
    // run checks each chart's values once, so its memory is left to the exit.
    std::mem::forget(compiled);
    Ok(violations)
}

impl Compiled {
    /// Every way `values` fail the schema.
    pub fn check(&self, values: &Map) -> Vec<Violation> {
        let instance = serde_json::Value::Object(
            values
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect(),
        );
        let violations = self
            .validator
            .iter_errors(&instance)
            .map(|e| self.violation(&e))
            .collect();
        // The values as JSON are left to the exit too.
        std::mem::forget(instance);
        violations
    }

    /// One of jsonschema's errors as a violation.
    fn violation(&self, e: &jsonschema::ValidationError<'_>) -> Violation {
        let path = e
            .instance_path()
            .into_iter()
            .map(|segment| match segment {
                jsonschema::paths::LocationSegment::Property(p) => p.to_string(),
                jsonschema::paths::LocationSegment::Index(i) => i.to_string(),
            })
            .collect();
        let wants_string = match e.kind() {
            ValidationErrorKind::Type {
                kind: TypeKind::Single(JsonType::String),
            } => true,
            ValidationErrorKind::Type {
                kind: TypeKind::Multiple(types),
            } => types.contains(JsonType::String),
            _ => false,
        };
        let (members, missing) = match e.kind() {
            ValidationErrorKind::Required { property } => (
                property.as_str().map(str::to_string).into_iter().collect(),
                true,
            ),
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                (unexpected.clone(), false)
            }
            _ => (Vec::new(), false),
        };
        Violation {
            reason: reason(&self.schema, &e.schema_path().to_string()),
            file: self.file.clone(),
            path,
            problem: e.to_string(),
            wants_string,
            members,
            missing,
        }
    }
}

/// `pattern` with a lighter regex engine, for schemas whose patterns are all plain (see
/// [`plain`]): jsonschema's engine builds automata that take longer to make than a run takes to
/// check its values. It answers as jsonschema's `pattern` does, in the same words.
struct PlainPattern {
    pattern: String,
    regex: regex_lite::Regex,
}

impl<'i> jsonschema::Keyword<'i> for PlainPattern {
    fn validate(
        &self,
        instance: &'i serde_json::Value,
    ) -> std::result::Result<(), jsonschema::ValidationError<'i>> {
        if self.is_valid(instance) {
            return Ok(());
        }
        Err(jsonschema::ValidationError::custom(format!(
            r#"{instance} does not match "{}""#,
            self.pattern
        )))
    }

    fn is_valid(&self, instance: &'i serde_json::Value) -> bool {
        instance
            .as_str()
            .is_none_or(|text| self.regex.is_match(text))
    }
}

/// The most memory one plain pattern may compile to; a larger one (`(a{1000}){1000}`) is left
/// to jsonschema, which refuses it.
const PLAIN_SIZE_LIMIT: usize = 1 << 20;

/// Whether every `pattern` in `schema` is plain and compiles; each is compiled into
/// `compiled`, once.
pub(crate) fn plain_patterns(
    schema: &serde_json::Value,
    compiled: &mut HashMap<String, regex_lite::Regex>,
) -> bool {
    match schema {
        serde_json::Value::Object(members) => members.iter().all(|(key, value)| match value {
            serde_json::Value::String(pattern) if key == "pattern" => {
                compiled.contains_key(pattern)
                    || (plain(pattern)
                        && regex_lite::RegexBuilder::new(pattern)
                            .size_limit(PLAIN_SIZE_LIMIT)
                            .build()
                            .map(|regex| compiled.insert(pattern.clone(), regex))
                            .is_ok())
            }
            other => plain_patterns(other, compiled),
        }),
        serde_json::Value::Array(items) => items.iter().all(|item| plain_patterns(item, compiled)),
        _ => true,
    }
}

/// Whether `pattern` means the same to regex-lite as to jsonschema, which reads it as
/// ECMA-262 and hands a translation to fancy-regex: ASCII without control characters; escapes
/// only of punctuation and `\d`, `\w` (`\D`, `\W` outside brackets); brackets as
/// [`plain_brackets`] allows; groups plain or `(?:`; braces only as counted repetition
/// (`{2}`, `{2,}`, `{2,5}`); a repetition only after something to repeat, and at most one `?`
/// after it (lazy). Anything else is left to jsonschema's own engine.
fn plain(pattern: &str) -> bool {
    /// What came before, as far as repetition cares.
    #[derive(PartialEq)]
    enum Before {
        /// Nothing to repeat: the start, `(`, `|`, `^` or `$`.
        Nothing,
        Atom,
        Repetition,
        Lazy,
    }
    let bytes = pattern.as_bytes();
    let mut i = 0;
    let mut before = Before::Nothing;
    while i < bytes.len() {
        let b = bytes[i];
        if !(0x20..0x7f).contains(&b) {
            return false;
        }
        // How many bytes this step reads, when not one.
        let length = match b {
            b'\\' if matches!(bytes.get(i + 1), Some(b'D' | b'W')) => Some(2),
            b'\\' => plain_escape(&bytes[i + 1..], b"dw"),
            b'[' => plain_brackets(&pattern[i + 1..]).map(|body| body + 1),
            b'{' => counted(&pattern[i + 1..]).map(|body| body + 1),
            b'(' if bytes.get(i + 1) == Some(&b'?') => {
                (bytes.get(i + 2) == Some(&b':')).then_some(3)
            }
            _ => Some(1),
        };
        let Some(length) = length else {
            return false;
        };
        before = match b {
            b']' | b'}' => return false,
            b'(' | b'|' | b'^' | b'$' => Before::Nothing,
            b'*' | b'+' | b'{' if before == Before::Atom => Before::Repetition,
            b'*' | b'+' | b'{' => return false,
            b'?' => match before {
                Before::Atom => Before::Repetition,
                Before::Repetition => Before::Lazy,
                _ => return false,
            },
            _ => Before::Atom,
        };
        i += length;
    }
    true
}

/// The length of a bracket expression's body after its `[`, through its `]`, when both
/// engines read it alike: not empty, no bracket inside, no `&&`, `--` or `~~` (set operations
/// to Rust's engines), escapes only of punctuation and `\d`, `\w`.
fn plain_brackets(body: &str) -> Option<usize> {
    if body.starts_with(']') || body.starts_with("^]") {
        return None;
    }
    let bytes = body.as_bytes();
    let mut i = 0;
    loop {
        let b = *bytes.get(i)?;
        i += match b {
            b']' => return Some(i + 1),
            b'\\' => plain_escape(&bytes[i + 1..], b"dw")?,
            b'[' => return None,
            b'&' | b'-' | b'~' if bytes.get(i + 1) == Some(&b) => return None,
            0x20..=0x7e => 1,
            _ => return None,
        };
    }
}

/// 2, the length of a backslash escape, when the byte after the backslash (the first of
/// `after`) is punctuation or one of `letters`.
fn plain_escape(after: &[u8], letters: &[u8]) -> Option<usize> {
    let next = after.first();
    (next.is_some_and(|next| letters.contains(next)) || escapable(next)).then_some(2)
}

/// Whether a backslash before `next` is an escape of punctuation both engines read alike.
fn escapable(next: Option<&u8>) -> bool {
    next.is_some_and(|next| b".-/$^*+?()[]{}|\\".contains(next))
}

/// The length of a counted repetition's body after its `{` (`2}`, `2,}`, `2,5}`), or `None`.
fn counted(rest: &str) -> Option<usize> {
    let end = rest.find('}')?;
    let (low, high) = match rest[..end].split_once(',') {
        Some((low, high)) => (low, Some(high)),
        None => (&rest[..end], None),
    };
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let valid = digits(low) && high.is_none_or(|high| high.is_empty() || digits(high));
    valid.then_some(end + 1)
}

/// The description of the innermost `then` (or `allOf` item under one) on the way to the
/// failing keyword at `pointer` (a JSON pointer into `schema`).
fn reason(schema: &serde_json::Value, pointer: &str) -> Option<String> {
    let mut node = schema;
    let mut found = None;
    let mut conditional = false;
    for segment in pointer.split('/').filter(|s| !s.is_empty()) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        node = match node {
            serde_json::Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            other => other.get(&segment)?,
        };
        conditional |= segment == "then";
        if conditional && let Some(text) = node.get("description").and_then(|d| d.as_str()) {
            found = Some(text.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::{compile, plain, plain_patterns};
    use serde_json::json;

    /// Plain patterns answer as jsonschema's own `pattern` does, in the same words, on strings
    /// chosen to fall on either side of each; anything else is left to jsonschema.
    #[test]
    fn plain_patterns_answer_as_jsonschema_does() {
        let patterns = [
            "^[a-z_][a-z0-9_]*$",
            "^/",
            "^(sha256:[0-9a-f]{64})?$",
            "^https?://",
            "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
            "^[0-9.]+(e[0-9]+|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$",
            "^(pre-install|post-install)(,(pre-install|post-install))*$",
            "^(/[A-Za-z0-9._-]+)*$",
            "^[0-9a-fA-F:.]+/[0-9]{1,3}$",
            "^[a-z0-9-]{1,15}$",
            "^(a|b|c)$",
            "^abc$",
            "a.c",
            r"\d+\.\d*",
            r"^\w+$",
            r"\D\W",
            r"[\d\w]x",
            r"^[^\d]+$",
            "^a{2,}$",
            "x*?y",
            "(?:ab)+$",
            "a|b|",
            "^$",
            "[^a-c]",
            r"^\$\^\(\)\[\]\{\}\|\\\*\+\?\.\-/$",
        ];
        let strings = [
            "",
            "a",
            "b",
            "abc",
            "a_b",
            "_a",
            "A",
            "9",
            "99",
            "/x",
            "x/",
            "http://x",
            "https:/",
            "1.5",
            "2Gi",
            "1e3",
            "1x",
            "pre-install,post-install",
            "pre-install,",
            "a\nc",
            "a\rc",
            "a\u{2028}c",
            "ä",
            "é1",
            "日本",
            "aa",
            "aaa",
            "-a-",
            "a-",
            "10.0.0.0/8",
            "::1/128",
            "xxxy",
            "y",
            "abab",
            "ab",
            "$^()[]{}|\\*+?.-/",
            "\u{661}",
            "a\u{1F600}c",
        ];
        for pattern in patterns {
            let schema = json!({ "properties": { "p": { "pattern": pattern } } });
            assert!(
                plain_patterns(&schema, &mut Default::default()),
                "`{pattern}` is plain"
            );
            let builtin = jsonschema::validator_for(&schema).unwrap();
            let ours = compile(schema.clone(), "").unwrap();
            for text in strings {
                let instance = json!({ "p": text });
                let words = |validator: &jsonschema::Validator| -> Vec<String> {
                    validator
                        .iter_errors(&instance)
                        .map(|e| format!("{e} at {} by {}", e.instance_path(), e.schema_path()))
                        .collect()
                };
                assert_eq!(
                    ours.validator.is_valid(&instance),
                    builtin.is_valid(&instance),
                    "`{pattern}` on {text:?}"
                );
                assert_eq!(
                    words(&ours.validator),
                    words(&builtin),
                    "`{pattern}` on {text:?}"
                );
            }
        }
        let left_to_jsonschema = [
            r"\s", r"\S", r"\bx", r"\1", "(?=a)", "(?<n>a)", "(?i)a", "[[a]]", "[a&&b]", "[a--b]",
            "[]a]", "[^]a]", "a]", "a}", "a{,3}", "a{x}", "a**", "a+*", "a???", "*a", "(*a)", "|*",
            "^*", "é", r"a\_", r"\u0041", r"\x41", r"\cA", "[a", r"[\D]", "a\tb",
        ];
        for pattern in left_to_jsonschema {
            assert!(!plain(pattern), "`{pattern}` is not plain");
        }
    }
}
