//! The values tree: what values files, `--set` flags and chart defaults are made of.
//!
//! Helm's values are `map[string]any` decoded from JSON; ours keep YAML 1.2's types instead
//! (integers stay integers, `no` stays a string), and maps are sorted by key, which is also the
//! order Helm's `toYaml` prints them in.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// A mapping of values, sorted by key.
pub type Map = BTreeMap<String, Value>;

/// One node of a values tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// YAML `null` (also a user's request to delete a default).
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A floating point number (also integers too large for 64 bits).
    Float(f64),
    /// A string.
    String(String),
    /// A list; lists replace each other when layered.
    List(Vec<Value>),
    /// A map; maps deep-merge when layered.
    Map(Map),
}

/// How deep a values tree may nest before it is refused (stack safety).
pub const MAX_DEPTH: usize = 100;

impl Value {
    /// The map inside, if this is a map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    /// The map inside, mutably, if this is a map.
    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    /// Whether this is a map.
    pub fn is_map(&self) -> bool {
        matches!(self, Value::Map(_))
    }

    /// A short name of the type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }

    /// Converts a parsed YAML node; non-string keys become strings as in Helm.
    pub fn from_yaml(node: serde_yaml::Value, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(Error::input(format!(
                "values nest deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(match node {
            serde_yaml::Value::Null => Value::Null,
            serde_yaml::Value::Bool(b) => Value::Bool(b),
            serde_yaml::Value::Number(n) => number_from_yaml(&n),
            serde_yaml::Value::String(s) => Value::String(s),
            serde_yaml::Value::Sequence(items) => Value::List(
                items
                    .into_iter()
                    .map(|v| Value::from_yaml(v, depth + 1))
                    .collect::<Result<_>>()?,
            ),
            serde_yaml::Value::Mapping(mapping) => {
                let mut map = Map::new();
                for (key, value) in mapping {
                    map.insert(yaml_key(key)?, Value::from_yaml(value, depth + 1)?);
                }
                Value::Map(map)
            }
            serde_yaml::Value::Tagged(tagged) => Value::from_yaml(tagged.value, depth)?,
        })
    }

    /// Converts a parsed JSON node (for `--set-json`).
    pub fn from_json(node: serde_json::Value) -> Value {
        match node {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => {
                Value::List(items.into_iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(object) => Value::Map(
                object
                    .into_iter()
                    .map(|(k, v)| (k, Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Converts to JSON (for schema validation and value dumps).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Map(map) => serde_json::Value::Object(
                map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
            ),
        }
    }

    /// Converts to a template value.
    pub fn to_template(&self) -> minijinja::Value {
        match self {
            Value::Null => minijinja::Value::from(()),
            Value::Bool(b) => minijinja::Value::from(*b),
            Value::Int(i) => minijinja::Value::from(*i),
            Value::Float(f) => minijinja::Value::from(*f),
            Value::String(s) => minijinja::Value::from(s.as_str()),
            Value::List(items) => {
                minijinja::Value::from(items.iter().map(Value::to_template).collect::<Vec<_>>())
            }
            Value::Map(map) => Value::map_to_template(map),
        }
    }

    /// A map of values as templates see it (as [`Value::to_template`] of a map).
    pub fn map_to_template(map: &Map) -> minijinja::Value {
        minijinja::Value::from(
            map.iter()
                .map(|(k, v)| (k.as_str(), v.to_template()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    /// Looks up a dotted path such as `api.autoscaling.enabled`.
    pub fn path(&self, path: &str) -> Option<&Value> {
        path.split('.')
            .try_fold(self, |node, key| node.as_map()?.get(key))
    }
}

fn number_from_yaml(n: &serde_yaml::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Int(i)
    } else {
        Value::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn yaml_key(key: serde_yaml::Value) -> Result<String> {
    Ok(match key {
        serde_yaml::Value::String(s) => s,
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Null => "null".to_string(),
        serde_yaml::Value::Tagged(tagged) => yaml_key(tagged.value)?,
        other => {
            return Err(Error::input(format!(
                "a map key must be a string, not a {}",
                Value::from_yaml(other, 0).map_or("complex value", |v| v.type_name())
            )));
        }
    })
}
