//! Helm's `--set` grammar (pkg/strvals), parsed into an existing values map.
//!
//! `a.b=c,d=e` sets nested keys, `a\.b=c` escapes a dot, `a={x,y}` sets a list, `a[2]=x` sets an
//! index and pads with nulls, `a=x\,y` escapes a comma. Typed values follow Helm: `true`/`false`/
//! `null` in any case, digits without a leading zero are integers, anything else is a string.
//! `--set-string` never infers a type, `--set-file` reads the value from a file, `--set-json`
//! takes JSON values and `--set-literal` takes the rest of the argument verbatim.
//!
//! Limits keep hostile input bounded: at most [`MAX_NESTING`] nested names or indexes and
//! indexes up to [`MAX_INDEX`].

use super::tree::{Map, Value};

/// The largest list index `--set` accepts (Helm's limit).
pub const MAX_INDEX: i64 = 65536;
/// How deeply `--set` names and indexes may nest (Helm limits dotted names to 30).
pub const MAX_NESTING: usize = 30;

/// Which `--set` flavour is being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `--set`: values are typed.
    Typed,
    /// `--set-string`: values are always strings.
    String,
    /// `--set-file`: values are paths whose contents become the value.
    File,
    /// `--set-json`: values are JSON.
    Json,
    /// `--set-literal`: the value is the rest of the argument, verbatim.
    Literal,
}

/// Why parsing stopped: the end of the input (not an error at the top) or a real problem.
enum Stop {
    End,
    NotList,
    Fail(String),
}

type Step<T = ()> = Result<T, Stop>;

fn fail<T>(message: impl Into<String>) -> Step<T> {
    Err(Stop::Fail(message.into()))
}

/// Reads the file named by a `--set-file` value.
pub type FileReader<'r> = &'r dyn Fn(&str) -> Result<Value, String>;

/// Parses one `--set`-style expression into `dest`; the error text explains what is wrong.
pub fn parse_into(
    expr: &str,
    dest: &mut Map,
    kind: SetKind,
    read_file: FileReader,
) -> Result<(), String> {
    let mut parser = Parser {
        input: expr,
        pos: 0,
        kind,
        read_file,
    };
    loop {
        match parser.key(dest, 0) {
            Ok(()) => continue,
            Err(Stop::End) => return Ok(()),
            Err(Stop::NotList) => return Err("unexpected list syntax".into()),
            Err(Stop::Fail(message)) => return Err(message),
        }
    }
}

/// Helm's typing of a `--set` value.
pub fn typed_value(text: &str, as_string: bool) -> Value {
    if as_string {
        return Value::String(text.to_string());
    }
    if text.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if text.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if text.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if text == "0" {
        return Value::Int(0);
    }
    if !text.is_empty()
        && !text.starts_with('0')
        && let Ok(i) = text.parse::<i64>()
    {
        return Value::Int(i);
    }
    Value::String(text.to_string())
}

struct Parser<'a, 'r> {
    input: &'a str,
    pos: usize,
    kind: SetKind,
    read_file: FileReader<'r>,
}

impl Parser<'_, '_> {
    fn next_char(&mut self) -> Option<char> {
        let c = self.input[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn unread(&mut self, c: char) {
        self.pos -= c.len_utf8();
    }

    /// Reads up to (and consumes) one of `stop`; `None` as the stop means the input ended.
    fn until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut out = String::new();
        while let Some(c) = self.next_char() {
            if stop.contains(&c) {
                return (out, Some(c));
            }
            if c == '\\' && self.kind != SetKind::Literal {
                match self.next_char() {
                    Some(next) => out.push(next),
                    None => return (out, None),
                }
            } else {
                out.push(c);
            }
        }
        (out, None)
    }

    fn key(&mut self, data: &mut Map, depth: usize) -> Step {
        let stop: &[char] = if self.kind == SetKind::Literal {
            &['=', '[', '.']
        } else {
            &['=', '[', ',', '.']
        };
        let (key, last) = self.until(stop);
        match last {
            None if key.is_empty() => Err(Stop::End),
            None => fail(format!("key \"{key}\" has no value")),
            Some('[') => {
                let index = self.index()?;
                let list = match data.remove(&key) {
                    None => Vec::new(),
                    Some(Value::List(list)) => list,
                    Some(other) => {
                        return fail(format!(
                            "`{key}` is already set to {} value, so it cannot take an index",
                            an(other.type_name())
                        ));
                    }
                };
                let (list, result) = self.list_item(list, index, depth + 1);
                set(data, &key, Value::List(list));
                result
            }
            Some('=') => self.assign(data, &key),
            Some(',') => {
                set(data, &key, Value::String(String::new()));
                fail(format!("key \"{key}\" has no value (cannot end with ,)"))
            }
            Some(_) => {
                if depth + 1 > MAX_NESTING {
                    return fail(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTING}"
                    ));
                }
                let mut inner = match data.get(&key) {
                    None => Map::new(),
                    Some(Value::Map(map)) => map.clone(),
                    Some(other) => {
                        return fail(format!(
                            "`{key}` is already set to {} value, so it cannot hold `{key}.…` keys",
                            an(other.type_name())
                        ));
                    }
                };
                let result = self.key(&mut inner, depth + 1);
                if result.is_ok() && inner.is_empty() {
                    return fail(format!("key map \"{key}\" has no value"));
                }
                if !inner.is_empty() {
                    set(data, &key, Value::Map(inner));
                }
                result
            }
        }
    }

    /// Handles `key=...` after the `=`.
    fn assign(&mut self, data: &mut Map, key: &str) -> Step {
        match self.kind {
            SetKind::Json => {
                let value = self.json_value()?;
                set(data, key, value);
                self.empty_value().map(|_| ())
            }
            SetKind::Literal => {
                let rest = self.rest();
                set(data, key, Value::String(rest));
                Ok(())
            }
            _ => match self.value_list() {
                Ok(list) => {
                    set(data, key, Value::List(list));
                    Ok(())
                }
                Err(Stop::End) => {
                    set(data, key, Value::String(String::new()));
                    Err(Stop::End)
                }
                Err(Stop::NotList) => {
                    let (text, _) = self.until(&[',']);
                    let value = self.read(&text)?;
                    set(data, key, value);
                    Ok(())
                }
                Err(err) => Err(err),
            },
        }
    }

    fn list_item(&mut self, mut list: Vec<Value>, index: i64, depth: usize) -> (Vec<Value>, Step) {
        let result = self.list_item_inner(&mut list, index, depth);
        (list, result)
    }

    fn list_item_inner(&mut self, list: &mut Vec<Value>, index: i64, depth: usize) -> Step {
        if index < 0 {
            return fail(format!("negative {index} index not allowed"));
        }
        if depth > MAX_NESTING {
            return fail(format!(
                "value nested level is greater than maximum supported nested level of {MAX_NESTING}"
            ));
        }
        let (rest, last) = self.until(&['[', '.', '=']);
        if !rest.is_empty() {
            return fail(format!("unexpected data at end of array index: \"{rest}\""));
        }
        match last {
            None => Err(Stop::End),
            Some('=') => {
                let value = match self.kind {
                    SetKind::Json => {
                        let value = self.json_value()?;
                        set_index(list, index, value)?;
                        return self.empty_value().map(|_| ());
                    }
                    SetKind::Literal => Value::String(self.rest()),
                    _ => match self.value_list() {
                        Ok(items) => Value::List(items),
                        Err(Stop::End) => Value::String(String::new()),
                        Err(Stop::NotList) => {
                            let (text, _) = self.until(&[',']);
                            self.read(&text)?
                        }
                        Err(err) => return Err(err),
                    },
                };
                set_index(list, index, value)
            }
            Some('[') => {
                let next = self.index()?;
                let current = match list.get(index as usize) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::List(inner)) => inner.clone(),
                    Some(other) => {
                        return fail(format!(
                            "index {index} is already set to {} value, so it cannot take an index",
                            an(other.type_name())
                        ));
                    }
                };
                let (inner, result) = self.list_item(current, next, depth + 1);
                result?;
                set_index(list, index, Value::List(inner))
            }
            Some(_) => {
                let mut inner = match list.get(index as usize) {
                    Some(Value::Map(map)) => map.clone(),
                    _ => Map::new(),
                };
                self.key(&mut inner, depth + 1)?;
                set_index(list, index, Value::Map(inner))
            }
        }
    }

    fn index(&mut self) -> Step<i64> {
        let (text, last) = self.until(&[']']);
        if last.is_none() {
            return fail("error parsing index: missing `]`");
        }
        text.parse::<i64>().map_err(|_| {
            Stop::Fail(format!(
                "error parsing index: \"{text}\" is not a whole number"
            ))
        })
    }

    /// Consumes blanks and one comma; true when the value is empty.
    fn empty_value(&mut self) -> Step<bool> {
        while let Some(c) = self.next_char() {
            if c == ',' {
                return Ok(true);
            }
            if !c.is_whitespace() {
                self.unread(c);
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn json_value(&mut self) -> Step<Value> {
        if self.empty_value()? {
            return Ok(Value::Null);
        }
        let rest = &self.input[self.pos..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
        match stream.next() {
            Some(Ok(value)) => {
                self.pos += stream.byte_offset();
                Ok(Value::from_json(value))
            }
            Some(Err(err)) => fail(format!("invalid JSON value: {err}")),
            None => fail("missing JSON value"),
        }
    }

    fn value_list(&mut self) -> Step<Vec<Value>> {
        match self.next_char() {
            None => return Err(Stop::End),
            Some('{') => {}
            Some(c) => {
                self.unread(c);
                return Err(Stop::NotList);
            }
        }
        let mut list = Vec::new();
        loop {
            let (text, last) = self.until(&[',', '}']);
            match last {
                None => return fail("list must terminate with '}'"),
                Some('}') => {
                    if let Some(c) = self.next_char()
                        && c != ','
                    {
                        self.unread(c);
                    }
                    list.push(self.read(&text)?);
                    return Ok(list);
                }
                Some(_) => list.push(self.read(&text)?),
            }
        }
    }

    fn rest(&mut self) -> String {
        let rest = self.input[self.pos..].to_string();
        self.pos = self.input.len();
        rest
    }

    fn read(&self, text: &str) -> Step<Value> {
        match self.kind {
            SetKind::File => (self.read_file)(text).map_err(Stop::Fail),
            kind => Ok(typed_value(text, kind == SetKind::String)),
        }
    }
}

fn set(data: &mut Map, key: &str, value: Value) {
    if !key.is_empty() {
        data.insert(key.to_string(), value);
    }
}

fn set_index(list: &mut Vec<Value>, index: i64, value: Value) -> Step {
    if index < 0 {
        return fail(format!("negative {index} index not allowed"));
    }
    if index > MAX_INDEX {
        return fail(format!(
            "index of {index} is greater than maximum supported index of {MAX_INDEX}"
        ));
    }
    let index = index as usize;
    if list.len() <= index {
        list.resize(index + 1, Value::Null);
    }
    list[index] = value;
    Ok(())
}

/// A type's name with its article, for messages (`an integer`, `a string`).
fn an(kind: &str) -> String {
    let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {kind}")
}
