//! The filters and functions templates can use beyond Jinja's built-ins, registered in one place.
//!
//! Jinja's own filters keep Jinja's meaning (`default` fires on undefined unless called with
//! `true`; `indent` leaves the first line alone). The Helm-named additions follow Helm:
//! `nindent` starts with a newline and indents every line, `toyaml` drops the trailing newline,
//! `quote` turns any value into a double-quoted string, `required` fails on undefined, null and
//! the empty string.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use base64::Engine;
use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, Value};
use sha2::{Digest, Sha256};

use super::context::map_value;
use super::engine::MAX_OUTPUT;
use crate::yaml::emit::to_yaml;

mod bounded;

/// How deeply `tpl` may call itself through values that contain `tpl` again.
const MAX_TPL_DEPTH: usize = 16;

/// How many collections' YAML one thread remembers before it starts afresh.
const YAML_MEMO_SIZE: usize = 1024;
/// How much YAML text one thread remembers before it starts afresh: the memo keeps the
/// collections alive too, and a template may make a new large one in every iteration.
const YAML_MEMO_BYTES: usize = 4 << 20;

/// Each remembered collection (kept alive) and its YAML, by the collection's address.
type YamlMemo = HashMap<usize, (Value, Value)>;

thread_local! {
    static TPL_DEPTH: Cell<usize> = const { Cell::new(0) };
    /// `toyaml` of the immutable collections this thread wrote, by the collection's address.
    /// Each entry keeps its collection alive, so no other collection can take the address.
    static YAML_MEMO: RefCell<(YamlMemo, usize)> = RefCell::new((HashMap::new(), 0));
}

/// Registers every aether-chart filter and function on `env`.
pub fn register(env: &mut Environment<'_>) {
    env.add_filter("toyaml", toyaml);
    env.add_filter("nindent", nindent);
    env.add_filter("quote", quote);
    env.add_filter("squote", squote);
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);
    env.add_filter("sha256", sha256);
    env.add_filter("required", required);
    env.add_filter("trunc", trunc);
    env.add_filter("trimprefix", trimprefix);
    env.add_filter("trimsuffix", trimsuffix);
    env.add_filter("fromjson", fromjson);
    env.add_filter("fromyaml", fromyaml);
    env.add_function("fail", fail);
    env.add_function("tpl", tpl);
    // Jinja's own filters whose arguments size what they build: checked first, then run.
    env.add_filter("indent", bounded::indent);
    env.add_filter("replace", bounded::replace);
    env.add_filter("join", bounded::join);
    env.add_filter("format", bounded::format);
    env.add_filter("batch", bounded::batch);
    env.add_filter("slice", bounded::slice);
    env.add_filter("tojson", bounded::tojson);
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// A chart's own refusal of its values (`fail`, `required`): the invariant the chart declared,
/// told apart from a broken template by this source.
#[derive(Debug)]
pub struct Refusal;

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the chart refuses these values")
    }
}

impl std::error::Error for Refusal {}

/// The chart refusing its values with `message`.
fn refusal(message: String) -> Error {
    invalid(message).with_source(Refusal)
}

/// The text of a value; undefined is an error (a typo must never render as nothing).
fn text(value: &Value, filter: &str) -> Result<String, Error> {
    text_of(value, filter).map(std::borrow::Cow::into_owned)
}

/// [`text`], borrowed when the value is a string already.
fn text_of<'v>(value: &'v Value, filter: &str) -> Result<std::borrow::Cow<'v, str>, Error> {
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("{filter} was given an undefined value"),
        ));
    }
    Ok(match value.kind() {
        ValueKind::String => value.as_str().unwrap_or_default().into(),
        ValueKind::None => "".into(),
        ValueKind::Bool => if value.is_true() { "true" } else { "false" }.into(),
        _ => value.to_string().into(),
    })
}

/// `toyaml`: a chart writes the same values again and again (`values.labels | toyaml` in
/// every object), so the YAML of a collection that cannot change is written once per thread.
fn toyaml(value: &Value) -> Result<Value, Error> {
    let Some(address) = immutable_collection(value) else {
        return to_yaml(value).map(Value::from_safe_string);
    };
    let known = YAML_MEMO.with_borrow(|(memo, _)| memo.get(&address).map(|(_, y)| y.clone()));
    if let Some(yaml) = known {
        return Ok(yaml);
    }
    let text = to_yaml(value)?;
    let size = text.len();
    let yaml = Value::from_safe_string(text);
    YAML_MEMO.with_borrow_mut(|(memo, bytes)| {
        if memo.len() >= YAML_MEMO_SIZE || *bytes + size > YAML_MEMO_BYTES {
            memo.clear();
            *bytes = 0;
        }
        if size <= YAML_MEMO_BYTES {
            *bytes += size;
            memo.insert(address, (value.clone(), yaml.clone()));
        }
    });
    Ok(yaml)
}

/// The address of the collection `value` holds when it is one of minijinja's own maps and
/// lists (which never change once made; a `namespace()` or another object may).
fn immutable_collection(value: &Value) -> Option<usize> {
    let address = |r: &dyn std::any::Any| r as *const dyn std::any::Any as *const () as usize;
    value
        .downcast_object_ref::<BTreeMap<Arc<str>, Value>>()
        .map(|m| address(m))
        .or_else(|| {
            value
                .downcast_object_ref::<BTreeMap<Value, Value>>()
                .map(|m| address(m))
        })
        .or_else(|| {
            value
                .downcast_object_ref::<BTreeMap<String, Value>>()
                .map(|m| address(m))
        })
        .or_else(|| {
            value
                .downcast_object_ref::<Vec<Value>>()
                .map(|v| address(v))
        })
}

fn nindent(value: &Value, width: usize) -> Result<Value, Error> {
    let text = text_of(value, "nindent")?;
    let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
    bounded::check_size("nindent", bounded::grown(text.len() + 1, width, lines))?;
    let pad = " ".repeat(width);
    let mut out = String::with_capacity(text.len() + width * lines + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]) {
        out.push('\n');
        out.push_str(&pad);
        out.push_str(&text[start..end]);
        start = end + 1;
    }
    Ok(Value::from_safe_string(out))
}

fn quote(value: &Value) -> Result<Value, Error> {
    let text = text_of(value, "quote")?;
    Ok(Value::from_safe_string(crate::yaml::emit::double_quoted(
        &text,
    )))
}

fn squote(value: &Value) -> Result<Value, Error> {
    let text = text(value, "squote")?;
    Ok(Value::from_safe_string(format!(
        "'{}'",
        text.replace('\'', "''")
    )))
}

fn b64encode(value: &Value) -> Result<String, Error> {
    Ok(base64::engine::general_purpose::STANDARD.encode(text(value, "b64encode")?))
}

fn b64decode(value: &Value) -> Result<String, Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text(value, "b64decode")?.trim())
        .map_err(|e| invalid(format!("b64decode: the input is not base64: {e}")))?;
    String::from_utf8(bytes).map_err(|_| invalid("b64decode: the decoded bytes are not UTF-8 text"))
}

fn sha256(value: &Value) -> Result<String, Error> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(text_of(value, "sha256")?.as_bytes());
    let mut out = String::with_capacity(2 * digest.len());
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    Ok(out)
}

/// Parses JSON text (for example a macro's `tojson` output) back into data, like Helm's `fromJson`.
fn fromjson(value: &Value) -> Result<Value, Error> {
    let parsed: serde_json::Value = serde_json::from_str(&text(value, "fromjson")?)
        .map_err(|e| invalid(format!("fromjson: the input is not JSON: {e}")))?;
    Ok(crate::values::tree::Value::from_json(parsed).to_template())
}

/// Parses YAML text into data, like Helm's `fromYaml`.
fn fromyaml(value: &Value) -> Result<Value, Error> {
    let source = text(value, "fromyaml")?;
    crate::yaml::guard::check_flow_nesting(&source)
        .map_err(|line| invalid(format!("fromyaml: brackets nest too deeply at line {line}")))?;
    let node: serde_yaml::Value = serde_yaml::from_str(&source)
        .map_err(|e| invalid(format!("fromyaml: the input is not YAML: {e}")))?;
    let parsed = crate::values::tree::Value::from_yaml(node, 0)
        .map_err(|e| invalid(format!("fromyaml: {e}")))?;
    Ok(parsed.to_template())
}

fn required(value: Value, message: Option<String>) -> Result<Value, Error> {
    let missing = value.is_undefined() || value.is_none() || value.as_str() == Some("");
    if missing {
        let message = message.unwrap_or_else(|| "a required value is missing".into());
        return Err(refusal(message));
    }
    Ok(value)
}

fn trunc(value: &Value, length: i64) -> Result<String, Error> {
    let text = text(value, "trunc")?;
    let count = text.chars().count() as i64;
    Ok(if length >= 0 {
        text.chars().take(length as usize).collect()
    } else {
        text.chars()
            .skip((count + length).max(0) as usize)
            .collect()
    })
}

fn trimprefix(value: &Value, prefix: &str) -> Result<String, Error> {
    let text = text(value, "trimprefix")?;
    Ok(text.strip_prefix(prefix).unwrap_or(&text).to_string())
}

fn trimsuffix(value: &Value, suffix: &str) -> Result<String, Error> {
    let text = text(value, "trimsuffix")?;
    Ok(text.strip_suffix(suffix).unwrap_or(&text).to_string())
}

fn fail(message: String) -> Result<Value, Error> {
    Err(refusal(message))
}

/// Renders a string as a template with the current context (or `ctx=` given as a keyword).
fn tpl(state: &State, source: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let source = text(source, "tpl")?;
    let context = match kwargs.get::<Option<Value>>("ctx")? {
        Some(ctx) => ctx,
        None => current_context(state),
    };
    kwargs.assert_all_used()?;
    let depth = TPL_DEPTH.with(Cell::get);
    if depth >= MAX_TPL_DEPTH {
        return Err(invalid(format!(
            "tpl calls itself more than {MAX_TPL_DEPTH} times deep"
        )));
    }
    TPL_DEPTH.with(|d| d.set(depth + 1));
    let rendered = state.env().render_named_str(state.name(), &source, context);
    TPL_DEPTH.with(|d| d.set(depth));
    rendered.map(Value::from_safe_string)
}

/// The top-level names a chart template sees, looked up in the running template.
fn current_context(state: &State) -> Value {
    let names = [
        "values",
        "release",
        "chart",
        "capabilities",
        "files",
        "template",
    ];
    map_value(names.into_iter().filter_map(|name| {
        state
            .lookup(name)
            .filter(|v| v.kind() != ValueKind::Undefined)
            .map(|v| (name, v))
    }))
}

#[cfg(test)]
mod tests {
    use minijinja::{Environment, context};

    /// The memo answers with each collection's own YAML: the same collection again, equal
    /// collections made anew, and new collections made in every iteration (which may take
    /// the addresses of dropped ones, were the memo not keeping them).
    #[test]
    fn toyaml_remembers_collections_not_addresses() {
        let mut env = Environment::new();
        super::register(&mut env);
        let template = "{% for i in range(3000) %}{{ values.labels | toyaml }}|\
                        {{ {'id': i, 'm': [i, i + 1]} | toyaml }}|{{ [i] | toyaml }};{% endfor %}";
        let labels = minijinja::Value::from(
            [("app", "web"), ("tier", "front")]
                .into_iter()
                .map(|(k, v)| (k, minijinja::Value::from(v)))
                .collect::<std::collections::BTreeMap<_, _>>(),
        );
        let out = env
            .render_str(template, context! { values => context! { labels } })
            .unwrap();
        let expected: String = (0..3000)
            .map(|i| {
                format!(
                    "app: web\ntier: front|id: {i}\nm:\n- {i}\n- {}|- {i};",
                    i + 1
                )
            })
            .collect();
        let first_difference = out.bytes().zip(expected.bytes()).position(|(a, b)| a != b);
        assert!(
            out == expected,
            "differs from byte {first_difference:?}: {:?}",
            &out[first_difference.unwrap_or(0).saturating_sub(40)..][..80.min(out.len())]
        );
    }
}
