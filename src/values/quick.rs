//! A quick yes for values that satisfy their chart's values.schema.json, read straight from
//! the schema's JSON with no compile.
//!
//! jsonschema compiles a schema into validators before it checks anything, and for the schemas
//! charts carry the compile costs several times the check. Most runs' values are valid, so the
//! schema is first read as it is, against the values, for a sure yes. Anything it does not
//! know makes it unsure, and jsonschema then decides and words every violation as before:
//!
//! - The whole schema is checked first: it must name draft 2020-12, and every keyword must be
//!   one of those below, well formed, with `$ref`s only to `#/$defs/<name>` that exist and patterns that
//!   regex-lite reads as jsonschema does. So a schema jsonschema would refuse is never waved
//!   through because the values happen not to reach its broken part.
//! - Keywords: `type`, `enum`, `const`, `required`, `properties`, `additionalProperties`,
//!   `items` (one schema), `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
//!   `minLength`, `maxLength`, `pattern`, `minItems`, `maxItems`, `anyOf`, `allOf`, `oneOf`,
//!   `not`, `if`/`then`/`else`, `$ref`, `$defs`, and the annotations (`description`, `title`,
//!   `default`, `examples`, `$comment`, `deprecated`, `readOnly`, `writeOnly`).
//! - A float where an integer is asked, a float compared for equality, an integer past 2^53
//!   compared with a bound: unsure.
//!
//! A test holds its yes to jsonschema's answer on thousands of mutated values.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::schema::plain_patterns;
use super::tree::{Map, Value};

/// The draft this reader follows, which the schema must name.
const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// How many `$ref`s may be followed on one path before the answer is unsure.
const MAX_REFS: usize = 32;

/// What the schema says of a value, as far as this reader can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Valid,
    Invalid,
    Unsure,
}

use Answer::{Invalid, Unsure, Valid};

impl Answer {
    fn from(holds: bool) -> Answer {
        if holds { Valid } else { Invalid }
    }

    /// Both hold.
    fn and(self, other: Answer) -> Answer {
        match (self, other) {
            (Invalid, _) | (_, Invalid) => Invalid,
            (Unsure, _) | (_, Unsure) => Unsure,
            _ => Valid,
        }
    }
}

/// Whether `values` surely satisfy `schema` (the parsed values.schema.json); `false` when they
/// do not or when this reader cannot tell.
pub fn valid(schema: &Json, values: &Map) -> bool {
    let mut patterns = HashMap::new();
    // Other drafts read some keywords otherwise (`$ref` beside others, `items` as a list).
    let draft = schema.get("$schema").and_then(Json::as_str);
    if draft != Some(DRAFT)
        || !known(schema, schema, true)
        || !plain_patterns(schema, &mut patterns)
    {
        return false;
    }
    let reader = Reader {
        root: schema,
        patterns,
    };
    reader.check(schema, Instance::Root(values), 0) == Valid
}

/// The value being checked: the values' root map, or a value in it.
#[derive(Clone, Copy)]
enum Instance<'v> {
    Root(&'v Map),
    Value(&'v Value),
}

impl<'v> Instance<'v> {
    fn map(self) -> Option<&'v Map> {
        match self {
            Instance::Root(map) | Instance::Value(Value::Map(map)) => Some(map),
            _ => None,
        }
    }

    fn value(self) -> Option<&'v Value> {
        match self {
            Instance::Value(value) => Some(value),
            Instance::Root(_) => None,
        }
    }
}

struct Reader<'s> {
    root: &'s Json,
    patterns: HashMap<String, regex_lite::Regex>,
}

impl<'s> Reader<'s> {
    fn check(&self, schema: &'s Json, instance: Instance<'_>, refs: usize) -> Answer {
        let members = match schema {
            Json::Bool(holds) => return Answer::from(*holds),
            Json::Object(members) => members,
            _ => return Unsure,
        };
        let mut answer = Valid;
        for (keyword, argument) in members {
            answer = answer.and(self.keyword(keyword, argument, members, instance, refs));
            if answer == Invalid {
                break;
            }
        }
        answer
    }

    fn keyword(
        &self,
        keyword: &str,
        argument: &'s Json,
        members: &'s serde_json::Map<String, Json>,
        instance: Instance<'_>,
        refs: usize,
    ) -> Answer {
        match keyword {
            "type" => match argument {
                Json::String(name) => is_type(name, instance),
                Json::Array(names) => names
                    .iter()
                    .map(|name| name.as_str().map_or(Unsure, |name| is_type(name, instance)))
                    .fold(Invalid, either),
                _ => Unsure,
            },
            "enum" => match argument {
                Json::Array(options) => options
                    .iter()
                    .map(|option| equal(instance, option))
                    .fold(Invalid, either),
                _ => Unsure,
            },
            "const" => equal(instance, argument),
            "required" => match instance.map() {
                Some(map) => Answer::from(
                    argument
                        .as_array()
                        .into_iter()
                        .flatten()
                        .all(|name| name.as_str().is_some_and(|name| map.contains_key(name))),
                ),
                None => Valid,
            },
            "properties" => match (instance.map(), argument.as_object()) {
                (Some(map), Some(properties)) => properties
                    .iter()
                    .filter_map(|(name, schema)| Some((map.get(name)?, schema)))
                    .map(|(value, schema)| self.check(schema, Instance::Value(value), refs))
                    .fold(Valid, Answer::and),
                _ => Valid,
            },
            "additionalProperties" => {
                let Some(map) = instance.map() else {
                    return Valid;
                };
                let declared = members.get("properties").and_then(Json::as_object);
                map.iter()
                    .filter(|(name, _)| !declared.is_some_and(|d| d.contains_key(*name)))
                    .map(|(_, value)| self.check(argument, Instance::Value(value), refs))
                    .fold(Valid, Answer::and)
            }
            "items" => match instance.value() {
                Some(Value::List(items)) => items
                    .iter()
                    .map(|item| self.check(argument, Instance::Value(item), refs))
                    .fold(Valid, Answer::and),
                _ => Valid,
            },
            "minimum" => bound(instance, argument, |v, b| v >= b),
            "maximum" => bound(instance, argument, |v, b| v <= b),
            "exclusiveMinimum" => bound(instance, argument, |v, b| v > b),
            "exclusiveMaximum" => bound(instance, argument, |v, b| v < b),
            "minLength" => count(instance, argument, characters, |n, limit| n >= limit),
            "maxLength" => count(instance, argument, characters, |n, limit| n <= limit),
            "minItems" => count(instance, argument, list_items, |n, limit| n >= limit),
            "maxItems" => count(instance, argument, list_items, |n, limit| n <= limit),
            "pattern" => match (instance.value(), argument.as_str()) {
                (Some(Value::String(text)), Some(pattern)) => match self.patterns.get(pattern) {
                    Some(regex) => Answer::from(regex.is_match(text)),
                    None => Unsure,
                },
                _ => Valid,
            },
            "allOf" => self.each(argument, instance, refs).fold(Valid, Answer::and),
            "anyOf" => self.each(argument, instance, refs).fold(Invalid, either),
            "oneOf" => {
                let answers: Vec<Answer> = self.each(argument, instance, refs).collect();
                let valid = answers.iter().filter(|a| **a == Valid).count();
                let unsure = answers.contains(&Unsure);
                match (valid, unsure) {
                    (2.., _) => Invalid,
                    (1, false) => Valid,
                    (0, false) => Invalid,
                    _ => Unsure,
                }
            }
            "not" => match self.check(argument, instance, refs) {
                Valid => Invalid,
                Invalid => Valid,
                Unsure => Unsure,
            },
            "if" => match self.check(argument, instance, refs) {
                Valid => members
                    .get("then")
                    .map_or(Valid, |then| self.check(then, instance, refs)),
                Invalid => members
                    .get("else")
                    .map_or(Valid, |otherwise| self.check(otherwise, instance, refs)),
                Unsure => Unsure,
            },
            // Read with `if`; alone, they assert nothing.
            "then" | "else" => Valid,
            "$ref" => {
                if refs >= MAX_REFS {
                    return Unsure;
                }
                match argument
                    .as_str()
                    .and_then(|target| definition(self.root, target))
                {
                    Some(schema) => self.check(schema, instance, refs + 1),
                    None => Unsure,
                }
            }
            "$schema" | "$defs" | "description" | "title" | "default" | "examples" | "$comment"
            | "deprecated" | "readOnly" | "writeOnly" => Valid,
            _ => Unsure,
        }
    }

    /// The answers of each schema of the array `argument`.
    fn each<'a>(
        &'a self,
        argument: &'s Json,
        instance: Instance<'a>,
        refs: usize,
    ) -> impl Iterator<Item = Answer> + 'a {
        argument
            .as_array()
            .into_iter()
            .flatten()
            .map(move |schema| self.check(schema, instance, refs))
    }
}

/// One of two holds.
fn either(a: Answer, b: Answer) -> Answer {
    match (a, b) {
        (Valid, _) | (_, Valid) => Valid,
        (Unsure, _) | (_, Unsure) => Unsure,
        _ => Invalid,
    }
}

/// Whether `instance` is of the JSON type `name`.
fn is_type(name: &str, instance: Instance<'_>) -> Answer {
    let Some(value) = instance.value() else {
        return Answer::from(name == "object");
    };
    match (name, value) {
        // Infinity and NaN reach jsonschema as something else (JSON has no such numbers).
        (_, Value::Float(f)) if !f.is_finite() => Unsure,
        ("integer", Value::Float(_)) => Unsure,
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("integer", Value::Int(_))
        | ("number", Value::Int(_) | Value::Float(_))
        | ("string", Value::String(_))
        | ("array", Value::List(_))
        | ("object", Value::Map(_)) => Valid,
        ("null" | "boolean" | "integer" | "number" | "string" | "array" | "object", _) => Invalid,
        _ => Unsure,
    }
}

/// Whether `instance` equals the JSON `other` (unsure when floats are compared).
fn equal(instance: Instance<'_>, other: &Json) -> Answer {
    match instance {
        Instance::Root(map) => equal_maps(map, other),
        Instance::Value(value) => equal_values(value, other),
    }
}

fn equal_values(value: &Value, other: &Json) -> Answer {
    match (value, other) {
        // jsonschema compares numbers by value (`1` equals `1.0`): floats are left to it.
        (Value::Float(_), _) => Unsure,
        (Value::Int(_), Json::Number(n)) if n.as_i64().is_none() => Unsure,
        (Value::Null, Json::Null) => Valid,
        (Value::Bool(a), Json::Bool(b)) => Answer::from(a == b),
        (Value::Int(a), Json::Number(b)) => Answer::from(b.as_i64() == Some(*a)),
        (Value::String(a), Json::String(b)) => Answer::from(a == b),
        (Value::List(items), Json::Array(others)) => {
            if items.len() != others.len() {
                return Invalid;
            }
            items
                .iter()
                .zip(others)
                .map(|(item, other)| equal_values(item, other))
                .fold(Valid, Answer::and)
        }
        (Value::Map(map), other) => equal_maps(map, other),
        _ => Invalid,
    }
}

fn equal_maps(map: &Map, other: &Json) -> Answer {
    let Some(others) = other.as_object() else {
        return Invalid;
    };
    if map.len() != others.len() {
        return Invalid;
    }
    map.iter()
        .map(|(key, value)| {
            others
                .get(key)
                .map_or(Invalid, |other| equal_values(value, other))
        })
        .fold(Valid, Answer::and)
}

/// A numeric bound: `holds(value, bound)` for a number, yes for anything else.
fn bound(instance: Instance<'_>, argument: &Json, holds: fn(f64, f64) -> bool) -> Answer {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let Some(limit) = argument
        .as_f64()
        .filter(|b| b.is_finite() && b.abs() <= EXACT)
    else {
        return Unsure;
    };
    match instance.value() {
        Some(Value::Int(i)) if (*i as f64).abs() <= EXACT => Answer::from(holds(*i as f64, limit)),
        Some(Value::Float(f)) if f.is_finite() => Answer::from(holds(*f, limit)),
        Some(Value::Int(_) | Value::Float(_)) => Unsure,
        _ => Valid,
    }
}

/// A count bound: `holds(n, limit)` for a value `of` counts (`n`), yes for anything else.
fn count(
    instance: Instance<'_>,
    argument: &Json,
    of: fn(&Value) -> Option<usize>,
    holds: fn(u64, u64) -> bool,
) -> Answer {
    match (instance.value().and_then(of), argument.as_u64()) {
        (Some(n), Some(limit)) => Answer::from(holds(n as u64, limit)),
        (Some(_), None) => Unsure,
        (None, _) => Valid,
    }
}

/// The length of a string in characters.
fn characters(value: &Value) -> Option<usize> {
    match value {
        Value::String(text) => Some(text.chars().count()),
        _ => None,
    }
}

/// The number of items of an array.
fn list_items(value: &Value) -> Option<usize> {
    match value {
        Value::List(items) => Some(items.len()),
        _ => None,
    }
}

/// The schema `#/$defs/<name>` points to.
fn definition<'s>(root: &'s Json, target: &str) -> Option<&'s Json> {
    let name = target.strip_prefix("#/$defs/")?;
    if name.contains(['/', '~', '%']) {
        return None;
    }
    root.get("$defs")?.get(name)
}

/// Whether every keyword of `schema` (and of the schemas in it) is one this reader knows, well
/// formed (patterns are compiled apart, by [`plain_patterns`]).
fn known(schema: &Json, root: &Json, at_root: bool) -> bool {
    let members = match schema {
        Json::Bool(_) => return true,
        Json::Object(members) => members,
        _ => return false,
    };
    members
        .iter()
        .all(|(keyword, argument)| match keyword.as_str() {
            "$schema" => at_root && argument.as_str() == Some(DRAFT),
            "type" => match argument {
                Json::String(name) => type_name(name),
                Json::Array(names) => {
                    !names.is_empty()
                        && names.iter().all(|n| n.as_str().is_some_and(type_name))
                        && distinct(names)
                }
                _ => false,
            },
            "enum" => argument.is_array(),
            "const" | "default" => true,
            "examples" => argument.is_array(),
            "required" => argument
                .as_array()
                .is_some_and(|names| names.iter().all(Json::is_string) && distinct(names)),
            "properties" | "$defs" => argument
                .as_object()
                .is_some_and(|schemas| schemas.values().all(|schema| known(schema, root, false))),
            "additionalProperties" | "items" | "not" | "if" | "then" | "else" => {
                known(argument, root, false)
            }
            "allOf" | "anyOf" | "oneOf" => argument.as_array().is_some_and(|schemas| {
                !schemas.is_empty() && schemas.iter().all(|schema| known(schema, root, false))
            }),
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => argument.is_number(),
            "minLength" | "maxLength" | "minItems" | "maxItems" => argument.is_u64(),
            "pattern" => argument.is_string(),
            "$ref" => argument
                .as_str()
                .is_some_and(|target| definition(root, target).is_some()),
            "description" | "title" | "$comment" => argument.is_string(),
            "deprecated" | "readOnly" | "writeOnly" => argument.is_boolean(),
            _ => false,
        })
}

/// Whether no item of `items` repeats an earlier one.
fn distinct(items: &[Json]) -> bool {
    items
        .iter()
        .enumerate()
        .all(|(i, item)| !items[..i].contains(item))
}

fn type_name(name: &str) -> bool {
    matches!(
        name,
        "null" | "boolean" | "integer" | "number" | "string" | "array" | "object"
    )
}

#[cfg(test)]
mod tests {
    use super::valid;
    use crate::values::file::read_full;
    use crate::values::schema::{compile, parse};
    use crate::values::{Map, Value};

    /// Values to put anywhere: every type, numbers at the edges of the bounds charts use.
    fn pool() -> Vec<Value> {
        let mut map = Map::new();
        map.insert("enabled".into(), Value::Bool(true));
        vec![
            Value::Null,
            Value::Bool(false),
            Value::Int(-1),
            Value::Int(0),
            Value::Int(1),
            Value::Int(3),
            Value::Int(65536),
            Value::Float(1.0),
            Value::Float(0.5),
            Value::Float(f64::NAN),
            Value::Float(f64::INFINITY),
            Value::String(String::new()),
            Value::String("x".into()),
            Value::String("Always".into()),
            Value::String("abc-def".into()),
            Value::String("1Gi".into()),
            Value::String("https://example.com".into()),
            Value::List(vec![]),
            Value::List(vec![Value::String("a".into())]),
            Value::Map(Map::new()),
            Value::Map(map),
        ]
    }

    /// Every place in `map`: the key paths of its members, nested.
    fn places(map: &Map, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        for (key, value) in map {
            at.push(key.clone());
            out.push(at.clone());
            if let Value::Map(inner) = value {
                places(inner, at, out);
            }
            at.pop();
        }
    }

    /// The map holding the member at `path`, unless an earlier mutation replaced it.
    fn parent<'m>(map: &'m mut Map, path: &[String]) -> Option<&'m mut Map> {
        let mut map = map;
        for key in &path[..path.len() - 1] {
            map = match map.get_mut(key) {
                Some(Value::Map(inner)) => inner,
                _ => return None,
            };
        }
        Some(map)
    }

    /// A yes on mutated values of the Aether chart's schemas is jsonschema's yes too, and the
    /// chart's own values get the quick yes.
    #[test]
    fn a_yes_on_mutated_chart_values_is_jsonschemas() {
        let cases = [
            (
                include_str!("../../values.schema.json"),
                include_str!("../../values.yaml"),
            ),
            (
                include_str!("../../charts/world-server/values.schema.json"),
                include_str!("../../charts/world-server/values.yaml"),
            ),
        ];
        let pool = pool();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut yes, mut both) = (0, 0);
        for (schema, values) in cases {
            let schema = parse(schema.as_bytes(), "").unwrap();
            let compiled = compile(schema.clone(), "").unwrap();
            let values = read_full(values, "values.yaml").unwrap();
            assert!(
                valid(&schema, &values),
                "the chart's own values get no quick yes"
            );
            let mut all = Vec::new();
            places(&values, &mut Vec::new(), &mut all);
            for round in 0..1_500 {
                let mut mutated = values.clone();
                for _ in 0..=next(2) {
                    let path = &all[next(all.len())];
                    let Some(map) = parent(&mut mutated, path) else {
                        continue;
                    };
                    let key = path.last().unwrap();
                    match next(4) {
                        0 => {
                            map.remove(key);
                        }
                        1 => {
                            map.insert(format!("{key}X"), pool[next(pool.len())].clone());
                        }
                        _ => {
                            if map.contains_key(key) {
                                map.insert(key.clone(), pool[next(pool.len())].clone());
                            }
                        }
                    }
                }
                let quick = valid(&schema, &mutated);
                let full = compiled.check(&mutated).is_empty();
                assert!(
                    !quick || full,
                    "round {round}: quick yes, jsonschema no: {mutated:?}"
                );
                yes += usize::from(quick);
                both += usize::from(full);
            }
        }
        // Most valid mutations get the quick yes.
        assert!(
            yes * 10 >= both * 9,
            "quick yes for only {yes} of {both} valid values"
        );
    }

    /// Small schemas of every keyword against every value of the pool, nested once: a yes is
    /// jsonschema's yes (a wrong "no" under `not`, `if` or `oneOf` would show as a wrong yes).
    #[test]
    fn a_yes_on_each_keyword_is_jsonschemas() {
        let inner = [
            r#"{"type": "integer", "minimum": 1, "maximum": 3}"#,
            r#"{"type": ["string", "null"], "minLength": 1, "maxLength": 5}"#,
            r#"{"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}"#,
            r#"{"type": "number"}"#,
            r#"{"not": {"type": "null"}}"#,
            r#"{"enum": ["Always", 1, null, 1.0, [], {}]}"#,
            r#"{"const": 1}"#,
            r#"{"const": {"enabled": true}}"#,
            r#"{"pattern": "^[a-z]+(-[a-z]+)*$"}"#,
            r#"{"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1}"#,
            r#"{"type": "object", "required": ["enabled"], "properties": {"enabled": {"type": "boolean"}}, "additionalProperties": false}"#,
            r#"{"additionalProperties": {"type": "integer"}}"#,
            r#"{"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 2}]}"#,
            r#"{"allOf": [{"type": "number"}, {"minimum": 0}]}"#,
            r#"{"oneOf": [{"type": "integer"}, {"type": "number"}]}"#,
            r#"{"not": {"type": "string"}}"#,
            r#"{"not": {"minimum": 1}}"#,
            r#"{"if": {"type": "integer"}, "then": {"minimum": 1}, "else": {"type": "string"}}"#,
            r#"{"if": {"minimum": 1}, "then": {"maximum": 3}}"#,
            r##"{"$ref": "#/$defs/port"}"##,
            r##"{"$ref": "#/$defs/port", "maximum": 100}"##,
            r#"true"#,
            r#"false"#,
        ];
        let pool = pool();
        let mut yes = 0;
        for inner in inner {
            let text = format!(
                r#"{{"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": {{"port": {{"type": "integer", "minimum": 1, "maximum": 65535}}}}, "type": "object", "properties": {{"v": {inner}}}}}"#
            );
            let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
            let compiled = compile(schema.clone(), "").unwrap();
            for value in &pool {
                let mut values = Map::new();
                values.insert("v".into(), value.clone());
                let quick = valid(&schema, &values);
                let full = compiled.check(&values).is_empty();
                assert!(
                    !quick || full,
                    "{inner} with {value:?}: quick yes, jsonschema no"
                );
                yes += usize::from(quick);
            }
        }
        assert!(yes > 100, "only {yes} quick yes answers");
    }

    /// A schema jsonschema refuses, or one outside what the quick reader knows, gets no yes.
    #[test]
    fn gives_no_yes_to_schemas_it_does_not_know() {
        let values = Map::new();
        for text in [
            r#"{"type": "object"}"#,
            r#"{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}"#,
            r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": {"x": {"type": "strnig"}}}"#,
            r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": {"x": {"minimum": "1"}}}"#,
            r##"{"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": {"x": {"$ref": "#/$defs/missing"}}}"##,
            r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": {"x": {"format": "email"}}}"#,
            r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": {"x": {"pattern": "(?<=a)b"}}}"#,
            r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "patternProperties": {"^a": true}}"#,
        ] {
            let schema: serde_json::Value = serde_json::from_str(text).unwrap();
            assert!(!valid(&schema, &values), "{text}");
        }
    }
}
