//! How Helm types the plain scalars of a values file: YAML 1.2's core schema, as serde_yaml
//! (the values files' full reader) applies it.
//!
//! | the scalar | reads as |
//! |---|---|
//! | `~`, `null`, `Null`, `NULL` | null |
//! | `true`, `True`, `TRUE`; `false`, `False`, `FALSE` | a boolean (`yes`, `on` are strings) |
//! | decimal digits, optionally after `-`, with no leading zero | an integer |
//! | digits with a leading zero (`0755`, `007`) | a string |
//! | Rust's float syntax, finite (`1.5`, `1e3`, `.5`, `1.`) | a float (`1.0` stays a float) |
//! | anything else (`inf`, `1e999`, `500m`, `1.2.3`, `2024-01-01`) | a string |
//!
//! What serde_yaml reads in ways of its own is left to it (the fast reader answers `None`):
//! a leading `+`, the bases `0x`, `0o`, `0b`, integers past 64 bits, `.inf` and `.nan`.

use serde_json::Number;

use super::tree::Value;

/// The plain scalar `text` (not empty), typed; `None` for what is left to serde_yaml.
pub(crate) fn value(text: &str) -> Option<Value<'_>> {
    Some(match text {
        "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN" => {
            return None;
        }
        _ => match text.as_bytes().first()? {
            b'+' => return None,
            // Where a number may start (`i` and `n` for `inf` and `nan`, which are strings).
            b'0'..=b'9' | b'-' | b'.' | b'i' | b'I' | b'n' | b'N' => number(text)?,
            _ => Value::str(text),
        },
    })
}

/// A scalar that may be a number.
fn number(text: &str) -> Option<Value<'_>> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    if ["0x", "0o", "0b"]
        .iter()
        .any(|base| unsigned.starts_with(base))
    {
        return None;
    }
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        // YAML 1.2: a leading zero before more digits makes no number.
        if unsigned.len() > 1 && unsigned.starts_with('0') {
            return Some(Value::str(text));
        }
        return text.parse::<i64>().ok().map(|i| Value::number(i.into()));
    }
    Some(match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Value::number(Number::from_f64(f)?),
        _ => Value::str(text),
    })
}

#[cfg(test)]
mod tests {
    use super::value;

    /// Each scalar as serde_yaml types it, from its own reading of `key: <scalar>`.
    #[test]
    fn types_as_serde_yaml_does() {
        for text in [
            "~",
            "null",
            "Null",
            "NULL",
            "true",
            "True",
            "TRUE",
            "false",
            "False",
            "FALSE",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "0",
            "-0",
            "7",
            "-7",
            "007",
            "-007",
            "0755",
            "08",
            "9223372036854775807",
            "-9223372036854775808",
            "1.5",
            "-1.5",
            "01.5",
            "1e3",
            "1E3",
            "1e-3",
            ".5",
            "-.5",
            "1.",
            "1.0",
            "-0.0",
            "1e999",
            "inf",
            "-inf",
            "Infinity",
            "nan",
            "NaN",
            "500m",
            "1Gi",
            "1.2.3",
            "10.0.0.0/8",
            "2024-01-01",
            "1_000",
            ".",
            "--5",
            "e5",
            "nginx",
            "name",
            "1:2",
            "0.",
            "12:30",
        ] {
            let full: serde_yaml::Value = serde_yaml::from_str(&format!("key: {text}\n"))
                .unwrap_or_else(|e| {
                    panic!("{text}: {e}");
                });
            let full = serde_json::to_value(&full["key"]).unwrap();
            let fast = value(text).unwrap_or_else(|| panic!("{text} was left to serde_yaml"));
            assert_eq!(fast.to_json(), full, "{text}");
            // Integers stay integers and floats floats (JSON equality would mix them).
            assert_eq!(fast.to_json().is_f64(), full.is_f64(), "{text}");
        }
    }

    #[test]
    fn leaves_what_serde_yaml_reads_its_own_way() {
        for text in [
            "+5",
            "+1.5",
            "0x1F",
            "-0x1F",
            "0o17",
            "0b101",
            ".inf",
            "-.Inf",
            ".NaN",
            "9223372036854775808",
            "-9223372036854775809",
        ] {
            assert!(value(text).is_none(), "{text}");
        }
    }
}
