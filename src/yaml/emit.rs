//! Writing template values as YAML (`toyaml`), in the block style Helm's `toYaml` prints.
//!
//! Maps are written with sorted keys, list items at the same indentation as their key, and
//! multi-line strings as literal blocks. Any string that a YAML 1.1 reader (kubectl, Helm, many
//! GitOps tools) could take for a boolean, null or number (`on`, `no`, `0755`, `1e3`, `null`) is
//! quoted, so what one tool reads as a string every tool reads as a string.

use std::fmt::Write;

use minijinja::value::ValueKind;
use minijinja::{Error, ErrorKind, Value};

/// How deep `toyaml` follows nested values.
const MAX_DEPTH: usize = 200;

/// Renders `value` as a YAML document without the trailing newline.
pub fn to_yaml(value: &Value) -> Result<String, Error> {
    let mut out = String::new();
    if is_block(value) {
        block(&mut out, value, 0, false, 0)?;
        while out.ends_with('\n') {
            out.pop();
        }
    } else {
        scalar(&mut out, value, 0)?;
    }
    Ok(out)
}

/// A non-empty map or list, which is written as an indented block.
fn is_block(value: &Value) -> bool {
    matches!(
        value.kind(),
        ValueKind::Map | ValueKind::Seq | ValueKind::Iterable
    ) && value.len().is_none_or(|n| n > 0)
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn block(
    out: &mut String,
    value: &Value,
    indent: usize,
    inline_first: bool,
    depth: usize,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "toyaml: the value nests too deeply",
        ));
    }
    if value.kind() == ValueKind::Map {
        for (i, (name, child)) in sorted_pairs(value)?.into_iter().enumerate() {
            if i > 0 || !inline_first {
                pad(out, indent);
            }
            key(out, &name);
            if !is_block(&child) {
                out.push_str(": ");
                scalar(out, &child, indent + 2)?;
                out.push('\n');
            } else {
                out.push_str(":\n");
                // Helm's layout: a list under a key starts at the key's own indentation.
                let inner = if child.kind() == ValueKind::Map {
                    indent + 2
                } else {
                    indent
                };
                block(out, &child, inner, false, depth + 1)?;
            }
        }
        return Ok(());
    }
    for (i, item) in value.try_iter()?.enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        out.push_str("- ");
        if is_block(&item) {
            block(out, &item, indent + 2, true, depth + 1)?;
        } else {
            scalar(out, &item, indent + 2)?;
            out.push('\n');
        }
    }
    Ok(())
}

/// A map key as text, for sorting.
fn key_text(v: &Value) -> std::borrow::Cow<'_, str> {
    match v.as_str() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(v.to_string()),
    }
}

/// A map's entries sorted by key, as Helm's toYaml writes them (maps from values files are
/// sorted already, which the check below notices without sorting again).
fn sorted_pairs(map: &Value) -> Result<Vec<(Value, Value)>, Error> {
    let mut pairs: Vec<(Value, Value)> = match map.as_object().and_then(|o| o.try_iter_pairs()) {
        Some(pairs) => pairs.collect(),
        None => map
            .try_iter()?
            .map(|k| map.get_item(&k).map(|v| (k, v)))
            .collect::<Result<_, _>>()?,
    };
    if !pairs.is_sorted_by(|a, b| key_text(&a.0) <= key_text(&b.0)) {
        pairs.sort_by(|a, b| key_text(&a.0).cmp(&key_text(&b.0)));
    }
    Ok(pairs)
}

fn key(out: &mut String, key: &Value) {
    let text = key_text(key);
    if text.contains('\n') || needs_quotes(&text) {
        quoted(out, &text);
    } else {
        out.push_str(&text);
    }
}

/// Writes a scalar (or an empty collection); `indent` is where a literal block's lines go.
fn scalar(out: &mut String, value: &Value, indent: usize) -> Result<(), Error> {
    match value.kind() {
        ValueKind::Undefined => {
            return Err(Error::new(
                ErrorKind::UndefinedError,
                "toyaml was given an undefined value",
            ));
        }
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => number(out, value),
        ValueKind::Map => out.push_str("{}"),
        ValueKind::Seq | ValueKind::Iterable => out.push_str("[]"),
        _ => match value.as_str() {
            Some(s) => string(out, s, indent),
            None => string(out, &value.to_string(), indent),
        },
    }
    Ok(())
}

fn number(out: &mut String, value: &Value) {
    if let Some(i) = value.as_i64() {
        let _ = write!(out, "{i}");
        return;
    }
    let f = f64::try_from(value.clone()).unwrap_or(f64::NAN);
    if f.is_nan() {
        out.push_str(".nan");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { ".inf" } else { "-.inf" });
    } else {
        let text = format!("{f}");
        out.push_str(&text);
        if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            out.push_str(".0");
        }
    }
}

fn string(out: &mut String, s: &str, indent: usize) {
    if s.contains('\n') && literal_ok(s) {
        literal(out, s, indent);
    } else if needs_quotes(s) {
        quoted(out, s);
    } else {
        out.push_str(s);
    }
}

/// Whether a multi-line string can be written as a literal block.
fn literal_ok(s: &str) -> bool {
    !s.starts_with([' ', '\t', '\n'])
        && !s
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || must_escape(c))
        && !s.lines().any(|l| l.ends_with([' ', '\t']))
}

fn literal(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    for line in s[..s.len() - trailing.min(1)].split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
    }
}

fn quoted(out: &mut String, s: &str) {
    out.push_str(&double_quoted(s));
}

/// `s` as a YAML double-quoted scalar that every reader takes back as `s`: JSON's escapes,
/// plus `\u` escapes for what YAML forbids or reads as a line break but JSON leaves as it is
/// (DEL and C1 controls, U+2028, U+2029, U+FEFF, U+FFFE, U+FFFF).
pub(crate) fn double_quoted(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    if !json.chars().any(must_escape) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if must_escape(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters a YAML reader must never meet raw in printed output (beyond what JSON escapes).
fn must_escape(c: char) -> bool {
    matches!(
        c,
        '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    )
}

/// Whether a plain scalar `s` would not read back as the same string under YAML 1.1 or 1.2.
pub fn needs_quotes(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return true;
    };
    if matches!(first, b' ' | b'\t') || matches!(last, b' ' | b'\t' | b':') {
        return true;
    }
    if b"-?:,[]{}#&*!|>'\"%@`".contains(&first) {
        return true;
    }
    let mut previous = 0u8;
    for &b in bytes {
        if (previous == b':' && b == b' ')
            || (previous == b' ' && b == b'#')
            || b < 0x20
            || b == 0x7f
        {
            return true;
        }
        previous = b;
    }
    if !s.is_ascii() && s.chars().any(|c| c.is_control() || must_escape(c)) {
        return true;
    }
    is_yaml11_special(s)
}

/// Booleans, nulls and numbers in any spelling YAML 1.1 or 1.2 accepts.
fn is_yaml11_special(s: &str) -> bool {
    const WORDS: [&str; 12] = [
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "=", "<<",
    ];
    if s.len() <= 5 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return true;
    }
    let unsigned = s.trim_start_matches(['-', '+']);
    if unsigned.eq_ignore_ascii_case(".inf") || unsigned.eq_ignore_ascii_case(".nan") {
        return true;
    }
    let b = unsigned.as_bytes();
    let starts_numeric = b.first().is_some_and(u8::is_ascii_digit)
        || (b.first() == Some(&b'.') && b.get(1).is_some_and(u8::is_ascii_digit));
    starts_numeric
        && b.iter().all(|c| {
            c.is_ascii_hexdigit()
                || matches!(
                    c.to_ascii_lowercase(),
                    b'x' | b'o' | b'_' | b'.' | b':' | b'e' | b'+' | b'-'
                )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_yaml11_lookalikes() {
        for s in [
            "on", "NO", "y", "0755", "1e3", "1.5", "null", "~", "0x1F", "-1", ".5", "1:20", "",
            "a: b", "- x",
        ] {
            assert!(needs_quotes(s), "{s} should be quoted");
        }
        for s in [
            "hello",
            "nginx:1.25",
            "a-b",
            "1.2.3-beta",
            "v1",
            "/api/v1/health",
            "app.kubernetes.io/name",
        ] {
            assert!(!needs_quotes(s), "{s} should stay plain");
        }
    }

    #[test]
    fn block_layout() {
        let value = minijinja::context! {
            b => vec![1, 2],
            a => minijinja::context! { x => "on", y => Value::from(()) },
            c => Vec::<i32>::new(),
            d => "line1\nline2\n",
        };
        assert_eq!(
            to_yaml(&value).unwrap(),
            "a:\n  x: \"on\"\n  \"y\": null\nb:\n- 1\n- 2\nc: []\nd: |\n  line1\n  line2"
        );
        let list = Value::from(vec![minijinja::context! { name => "a", value => 1 }]);
        assert_eq!(to_yaml(&list).unwrap(), "- name: a\n  value: 1");
    }
}
