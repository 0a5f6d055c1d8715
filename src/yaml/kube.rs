//! How Kubernetes clients type the plain scalars of a rendered manifest.
//!
//! kubectl, Helm's install and upgrade, Argo CD and Flux turn YAML into the JSON the API server
//! receives with sigs.k8s.io/yaml, which reads YAML 1.1 through go-yaml v2. Its rules for a
//! plain (unquoted, untagged) scalar, which this module follows:
//!
//! | the scalar | reads as |
//! |---|---|
//! | empty, `~`, `null`, `Null`, `NULL` | null |
//! | `y`, `yes`, `on`, `true`; `n`, `no`, `off`, `false` (each also `Y`/`Yes`/`YES`... as spelled: lower, capitalised or upper case) | a boolean |
//! | `.inf`, `+.inf`, `-.inf`, `.nan` (same three spellings) | infinity or NaN, which JSON cannot carry: kubectl refuses the manifest |
//! | starts with a digit or sign, underscores dropped: Go's integer syntax, so `0755` is octal 493, `0x1F`, `0o17`, `0b101`, `+12`, `1_000` | an integer (64 bits; beyond, an unsigned one) |
//! | the same, else matching `[-+]?(\.[0-9]+\|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`: `1.5`, `1e3`, `08`, `1.` | a float (out of range: a string) |
//! | starts with `.` and is a Go float: `.5`, `.5e3` | a float |
//! | anything else, dates included (`2024-01-01`) | a string |
//!
//! Quoted scalars are strings. A float with no fractional part reaches the API server as an
//! integer (Go's JSON writes `1.0` as `1`), so it is one here too. Mapping keys become strings
//! as sigs.k8s.io/yaml makes them: booleans `true`/`false`, integers in decimal, floats in Go's
//! shortest single-precision form (`1e+06`); null and unsigned 64-bit keys are refused.
//!
//! Values files are not read this way: they are YAML 1.2, as Helm 4 reads them.

use serde_json::Number;

use super::tree::Value;

/// What a plain scalar is to a Kubernetes client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    /// Above `i64::MAX`.
    Uint(u64),
    Float(f64),
    Str,
}

/// Types the plain scalar `text` as go-yaml v2 does.
pub(crate) fn resolve(text: &str) -> Scalar {
    let Some(&first) = text.as_bytes().first() else {
        return Scalar::Null;
    };
    if let Some(word) = word(text) {
        return word;
    }
    match first {
        b'.' => match go_float(text) {
            Some(f) => Scalar::Float(f),
            None => Scalar::Str,
        },
        b'0'..=b'9' | b'+' | b'-' => number(text),
        _ => Scalar::Str,
    }
}

/// The plain scalar `text`, typed as `scalar` (by [`resolve`]), as a tree value; `None` for
/// infinity and NaN, which no manifest can carry.
pub(crate) fn value(text: &str, scalar: Scalar) -> Option<Value<'_>> {
    Some(match scalar {
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => Value::Bool(b),
        Scalar::Int(i) => Value::number(i.into()),
        Scalar::Uint(u) => Value::number(u.into()),
        Scalar::Float(f) => Value::number(json_number(f)?),
        Scalar::Str => Value::str(text),
    })
}

/// The JSON number the API server receives for `f`: an integer when it has no fractional part
/// and fits in 64 bits, as Go's JSON writes it; `None` for infinity and NaN.
pub(crate) fn json_number(f: f64) -> Option<Number> {
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        return Some((f as i64).into());
    }
    Number::from_f64(f)
}

/// A mapping key whose plain scalar `text` typed as `scalar`, as the string JSON gets; `Err`
/// names why Kubernetes clients refuse it.
pub(crate) fn key(text: &str, scalar: Scalar) -> Result<String, &'static str> {
    Ok(match scalar {
        Scalar::Str => text.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => go_short_float(f),
        Scalar::Null => return Err("reads as null"),
        Scalar::Uint(_) => return Err("reads as an unsigned 64-bit integer"),
    })
}

/// The words go-yaml v2 looks up before anything else.
fn word(text: &str) -> Option<Scalar> {
    if text.len() > 6 {
        return None;
    }
    const TRUE: [&str; 11] = [
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
    ];
    const FALSE: [&str; 11] = [
        "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
    ];
    Some(match text {
        "~" | "null" | "Null" | "NULL" => Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Scalar::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Scalar::Float(f64::NEG_INFINITY),
        _ if TRUE.contains(&text) => Scalar::Bool(true),
        _ if FALSE.contains(&text) => Scalar::Bool(false),
        _ => return None,
    })
}

/// A scalar starting with a digit or a sign: Go's integer syntax with underscores dropped,
/// else YAML's float syntax, else a string.
fn number(text: &str) -> Scalar {
    let plain: std::borrow::Cow<'_, str> = if text.contains('_') {
        text.replace('_', "").into()
    } else {
        text.into()
    };
    if let Some((negative, magnitude)) = go_integer(&plain) {
        if negative && magnitude <= i64::MAX as u64 + 1 {
            return Scalar::Int((magnitude as i128).wrapping_neg() as i64);
        }
        if !negative && magnitude <= i64::MAX as u64 {
            return Scalar::Int(magnitude as i64);
        }
        // Go's ParseUint takes no sign; what it refuses may still be a float.
        if !negative && !plain.starts_with('+') {
            return Scalar::Uint(magnitude);
        }
    }
    if yaml_float_syntax(&plain)
        && let Ok(f) = plain.parse::<f64>()
        && f.is_finite()
    {
        return Scalar::Float(f);
    }
    Scalar::Str
}

/// Go's `ParseInt(s, 0, 64)` syntax: a sign, then `0x`, `0o`, `0b`, a leading `0` (octal) or
/// decimal digits. The sign and the magnitude, if the magnitude fits in 64 bits.
fn go_integer(s: &str) -> Option<(bool, u64)> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = unsigned.get(..2).map(str::to_ascii_lowercase);
    let (digits, radix) = match lower.as_deref() {
        Some("0x") => (&unsigned[2..], 16),
        Some("0o") => (&unsigned[2..], 8),
        Some("0b") => (&unsigned[2..], 2),
        _ if unsigned.len() > 1 && unsigned.starts_with('0') => (&unsigned[1..], 8),
        _ => (unsigned, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix)
        .ok()
        .map(|m| (negative, m))
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, go-yaml v2's float syntax.
fn yaml_float_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `ParseFloat` on a scalar that starts with `.`: digits, an optional exponent, and
/// underscores only between digits; `None` when Go refuses it or it is out of range.
fn go_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            let digit = |j: Option<&u8>| j.is_some_and(u8::is_ascii_digit);
            if !digit(i.checked_sub(1).and_then(|j| b.get(j))) || !digit(b.get(i + 1)) {
                return None;
            }
        }
    }
    let plain = s.replace('_', "");
    if !yaml_float_syntax(&plain) {
        return None;
    }
    plain.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's `FormatFloat(f, 'g', -1, 32)`: the shortest single-precision digits, in exponent form
/// (`1e+06`, `1.5e-07`) below 1e-4 and from 1e6 on; infinity and NaN as YAML writes them.
fn go_short_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let single = f as f32;
    if single == 0.0 {
        return if single.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let scientific = format!("{single:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..6).contains(&exponent) {
        return format!("{single}");
    }
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// go-yaml v2's resolution, case by case (its decode tests and the rules of its resolver,
    /// with Go's integer and float syntax): what kubectl sends for each plain scalar.
    #[test]
    fn types_plain_scalars_as_go_yaml_v2() {
        use Scalar::*;
        let cases: &[(&str, Scalar)] = &[
            ("", Null),
            ("~", Null),
            ("null", Null),
            ("Null", Null),
            ("NULL", Null),
            ("nULL", Str),
            ("y", Bool(true)),
            ("Y", Bool(true)),
            ("yes", Bool(true)),
            ("Yes", Bool(true)),
            ("YES", Bool(true)),
            ("yEs", Str),
            ("on", Bool(true)),
            ("On", Bool(true)),
            ("ON", Bool(true)),
            ("true", Bool(true)),
            ("True", Bool(true)),
            ("TRUE", Bool(true)),
            ("n", Bool(false)),
            ("N", Bool(false)),
            ("no", Bool(false)),
            ("No", Bool(false)),
            ("NO", Bool(false)),
            ("off", Bool(false)),
            ("Off", Bool(false)),
            ("OFF", Bool(false)),
            ("false", Bool(false)),
            ("False", Bool(false)),
            ("FALSE", Bool(false)),
            ("0", Int(0)),
            ("-0", Int(0)),
            ("+0", Int(0)),
            ("00", Int(0)),
            ("42", Int(42)),
            ("+42", Int(42)),
            ("-42", Int(-42)),
            ("0755", Int(493)),
            ("-0755", Int(-493)),
            ("0o17", Int(15)),
            ("0O17", Int(15)),
            ("0x1F", Int(31)),
            ("0X1f", Int(31)),
            ("-0x1F", Int(-31)),
            ("0b101", Int(5)),
            ("-0b101", Int(-5)),
            ("1_000", Int(1000)),
            ("0x_1F", Int(31)),
            ("1_", Int(1)),
            ("685_230", Int(685230)),
            ("9223372036854775807", Int(i64::MAX)),
            ("-9223372036854775808", Int(i64::MIN)),
            ("9223372036854775808", Uint(9223372036854775808)),
            ("18446744073709551615", Uint(u64::MAX)),
            ("+9223372036854775808", Float(9223372036854775808.0)),
            ("18446744073709551616", Float(18446744073709551616.0)),
            ("08", Float(8.0)),
            ("0789", Float(789.0)),
            ("1.5", Float(1.5)),
            ("-1.5", Float(-1.5)),
            ("1.", Float(1.0)),
            ("1e3", Float(1000.0)),
            ("1E3", Float(1000.0)),
            ("6.8523e+5", Float(685230.0)),
            ("685.230_15e+03", Float(685230.15)),
            ("+.5", Float(0.5)),
            ("-.5", Float(-0.5)),
            (".5", Float(0.5)),
            (".5e3", Float(500.0)),
            (".5_5", Float(0.55)),
            ("._5", Str),
            ("1e999", Str),
            (".5e999", Str),
            (".", Str),
            (".e3", Str),
            ("0x", Str),
            ("0b2", Str),
            ("1.2.3", Str),
            ("1e", Str),
            ("-", Str),
            ("+", Str),
            ("-x", Str),
            ("1:20", Str),
            ("2024-01-01", Str),
            ("2001-12-14t21:59:43.10-05:00", Str),
            ("0x1p3", Str),
            ("inf", Str),
            ("Infinity", Str),
            ("<<", Str),
            ("=", Str),
            ("abc", Str),
            ("250m", Str),
            ("1Gi", Str),
        ];
        for (text, want) in cases {
            let got = resolve(text);
            let same = match (got, want) {
                (Float(a), Float(b)) => a == *b,
                (a, b) => a == *b,
            };
            assert!(same, "{text:?}: got {got:?}, want {want:?}");
        }
        for nan in [".nan", ".NaN", ".NAN"] {
            assert!(matches!(resolve(nan), Float(f) if f.is_nan()), "{nan}");
        }
        for (text, want) in [
            (".inf", f64::INFINITY),
            ("+.Inf", f64::INFINITY),
            ("-.INF", f64::NEG_INFINITY),
        ] {
            assert_eq!(resolve(text), Float(want), "{text}");
        }
    }

    #[test]
    fn values_are_what_the_api_server_receives() {
        let json = |t| value(t, resolve(t)).map(|v| v.to_json());
        assert_eq!(json("0755"), Some(serde_json::json!(493)));
        assert_eq!(json("1.0"), Some(serde_json::json!(1)));
        assert_eq!(json("08"), Some(serde_json::json!(8)));
        assert_eq!(json("1.5"), Some(serde_json::json!(1.5)));
        assert_eq!(json("yes"), Some(serde_json::json!(true)));
        assert_eq!(json("off"), Some(serde_json::json!(false)));
        assert_eq!(json("~"), Some(serde_json::Value::Null));
        assert_eq!(json("-x"), Some(serde_json::json!("-x")));
        assert_eq!(json(".inf"), None);
        assert_eq!(json(".nan"), None);
    }

    /// Keys as sigs.k8s.io/yaml writes them into JSON.
    #[test]
    fn keys_become_strings_as_kubectl_makes_them() {
        let k = |t: &str| key(t, resolve(t));
        assert_eq!(k("on"), Ok("true".into()));
        assert_eq!(k("N"), Ok("false".into()));
        assert_eq!(k("0755"), Ok("493".into()));
        assert_eq!(k("0x10"), Ok("16".into()));
        assert_eq!(k("1.5"), Ok("1.5".into()));
        assert_eq!(k("1e3"), Ok("1000".into()));
        assert_eq!(k("1e6"), Ok("1e+06".into()));
        assert_eq!(k("0.00001"), Ok("1e-05".into()));
        assert_eq!(k("0.0001"), Ok("0.0001".into()));
        assert_eq!(k("123456789.0"), Ok("1.2345679e+08".into()));
        assert_eq!(k("0.1"), Ok("0.1".into()));
        assert_eq!(k("name"), Ok("name".into()));
        assert!(k("~").is_err());
        assert!(k("").is_err());
        assert!(k("18446744073709551615").is_err());
    }
}
