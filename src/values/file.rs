//! Reading values files: YAML 1.2, several documents merged in order, positions in every error.

use serde::Deserialize;

use super::coalesce::merge_maps;
use super::tree::{Map, Value};
use crate::error::{Error, Result, utf8};

/// Parses the text of a values file named `name` (used in messages) into a map.
///
/// Like Helm, a file may hold several YAML documents; they are merged in order, later keys
/// winning and maps merging. An empty document counts as an empty map.
pub fn parse_values(bytes: &[u8], name: &str) -> Result<Map> {
    let text = utf8(bytes, name)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_flow_nesting(text).map_err(|line| {
        Error::input(format!(
            "`{name}:{line}`: brackets nest deeper than {MAX_FLOW_NESTING} levels"
        ))
    })?;
    let mut merged = Map::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let node = serde_yaml::Value::deserialize(document).map_err(|e| yaml_error(&e, name))?;
        match Value::from_yaml(node, 0).map_err(|e| e.context(format!("`{name}`")))? {
            Value::Null => {}
            Value::Map(map) => merged = merge_maps(merged, map),
            other => {
                return Err(Error::input(format!(
                    "`{name}` must be a map of values (key: value), but a document in it is a {}",
                    other.type_name()
                )));
            }
        }
    }
    Ok(merged)
}

/// How deeply `[` and `{` may nest in YAML we parse (the YAML parser slows down
/// quadratically with depth, so hostile input is refused before it reaches it).
pub const MAX_FLOW_NESTING: usize = 128;

/// Checks that flow collections (`[...]`, `{...}`) nest at most [`MAX_FLOW_NESTING`] deep;
/// the error is the 1-based line where the limit is passed.
pub fn check_flow_nesting(text: &str) -> std::result::Result<(), usize> {
    // Fast path: with no more opening brackets than the limit, the limit cannot be passed.
    let openers = text.bytes().filter(|&b| b == b'[' || b == b'{').count();
    if openers <= MAX_FLOW_NESTING {
        return Ok(());
    }
    let (mut depth, mut line) = (0usize, 1usize);
    let mut quote: Option<u8> = None;
    let mut previous = b'\n';
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match (quote, b) {
            (_, b'\n') => {
                line += 1;
                if quote == Some(b'#') {
                    quote = None;
                }
            }
            (Some(b'"'), b'\\') => {
                bytes.next();
            }
            (Some(q), b) if q == b && q != b'#' => quote = None,
            (Some(_), _) => {}
            (None, b'#') if previous.is_ascii_whitespace() => quote = Some(b'#'),
            (None, b'"' | b'\'') if b" \t\n:[{,-".contains(&previous) => quote = Some(b),
            (None, b'[' | b'{') => {
                depth += 1;
                if depth > MAX_FLOW_NESTING {
                    return Err(line);
                }
            }
            (None, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        previous = b;
    }
    Ok(())
}

/// Formats a YAML error as `name:line:column: problem`.
/// The most characters of a parse error's own text shown (it may quote a whole scalar).
pub(crate) const MAX_QUOTED: usize = 300;

pub(crate) fn yaml_error(err: &serde_yaml::Error, name: &str) -> Error {
    Error::input(yaml_message(err, name, 0))
}

/// The text of a YAML error as `name:line:column: problem`, with `line_offset` added to the line.
pub(crate) fn yaml_message(err: &serde_yaml::Error, name: &str, line_offset: usize) -> String {
    let text = err.to_string();
    let problem = match text.find(" at line ") {
        Some(at) => &text[..at],
        None => &text,
    };
    let problem = crate::error::shorten(problem, MAX_QUOTED);
    match err.location() {
        Some(loc) => format!(
            "`{name}:{}:{}`: invalid YAML: {problem}",
            loc.line() + line_offset,
            loc.column()
        ),
        None => format!("`{name}`: invalid YAML: {problem}"),
    }
}
