//! Checking layered values against a chart's `values.schema.json`.
//!
//! The jsonschema crate is built without remote or file resolution, so a `$ref` can only point
//! inside the schema itself; anything else is reported as an error in the schema.

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

/// Validates `values` of the chart at `chart_path` (for messages) against `schema` (the raw
/// file): every violation, or an error when the schema itself is unusable.
pub fn check(schema: &[u8], values: &Map, chart_path: &str) -> Result<Vec<Violation>> {
    let file = format!("{chart_path}values.schema.json");
    let schema: serde_json::Value = serde_json::from_slice(schema).map_err(|e| {
        Error::input(format!(
            "`{file}:{}:{}`: invalid JSON: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| {
        Error::input(format!(
            "`{file}` is not a usable JSON schema: {e}; only references inside the schema (`#/...`) are supported"
        ))
    })?;
    let instance = serde_json::Value::Object(
        values
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
    );
    let violations = validator
        .iter_errors(&instance)
        .map(|e| {
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
            let reason = reason(&schema, &e.schema_path().to_string());
            Violation {
                reason,
                file: file.clone(),
                path,
                problem: e.to_string(),
                wants_string,
                members,
                missing,
            }
        })
        .collect();
    // A compiled schema is taken apart node by node, at a fifth of what checking costs; a
    // run checks each chart's values once, so its memory is left to the exit.
    std::mem::forget((validator, schema, instance));
    Ok(violations)
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
