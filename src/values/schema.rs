//! Checking layered values against a chart's `values.schema.json`.
//!
//! The jsonschema crate is built without remote or file resolution, so a `$ref` can only point
//! inside the schema itself; anything else is reported as an error in the schema.

use super::tree::Map;
use crate::error::{Error, Result};

/// Validates `values` of the chart at `chart_path` (for messages) against `schema` (the raw file).
pub fn check(schema: &[u8], values: &Map, chart_path: &str) -> Result<()> {
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
    let instance = super::Value::Map(values.clone()).to_json();
    let problems: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() {
                "(root)".to_string()
            } else {
                at.trim_start_matches('/').replace('/', ".")
            };
            format!("  - {at}: {e}")
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::validation(format!(
        "the values do not match `{file}`:\n{}\nfix the values files or --set flags named above",
        problems.join("\n")
    )))
}
