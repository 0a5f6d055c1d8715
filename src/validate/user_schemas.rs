//! Schemas of custom resources from `--schema-dir`, in the layout of the community CRD catalog:
//! `DIR/<group>/<kind>_<version>.json` (kind in lower case), each a JSON schema of the object.
//! References must stay inside each schema (`#/...`): nothing is read from elsewhere.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::doc::At;

use crate::error::{Error, Result};

/// Largest schema file read.
const MAX_SCHEMA_BYTES: u64 = 16 << 20;

/// Reads every schema under `dir`, keyed `group/version/Kind` like the bundled ones. The kind's
/// spelling comes from the schema's `x-kubernetes-group-version-kind` or its `kind` enum.
pub fn load(dir: &Path) -> Result<HashMap<String, Value>> {
    let groups = std::fs::read_dir(dir).map_err(|e| Error::io("read the schema dir", dir, e))?;
    let mut out = HashMap::new();
    for group in groups.flatten() {
        let path = group.path();
        if !path.is_dir() {
            continue;
        }
        let group_name = group.file_name().to_string_lossy().to_string();
        let files =
            std::fs::read_dir(&path).map_err(|e| Error::io("read the schema dir", &path, e))?;
        for file in files.flatten() {
            let path = file.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let (key, schema) = read(&path, &group_name)?;
            out.insert(key, schema);
        }
    }
    Ok(out)
}

/// One schema file: its key and its checked contents.
fn read(path: &Path, group: &str) -> Result<(String, Value)> {
    let bytes = crate::fs::read_user_file(path, "the schema", MAX_SCHEMA_BYTES)?;
    let schema: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::input(format!("`{}` is not valid JSON: {e}", path.display())))?;
    if let Some(reference) = external_ref(&schema) {
        return Err(Error::input(format!(
            "`{}` refers to `{reference}` outside itself; only `#/...` references are supported",
            path.display()
        )));
    }
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let Some((kind, version)) = stem.rsplit_once('_') else {
        return Err(Error::input(format!(
            "`{}`: schema files are named <kind>_<version>.json",
            path.display()
        )));
    };
    let kind = schema
        .at(&["properties", "kind", "enum", "0"])
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_string());
    Ok((format!("{group}/{version}/{kind}"), schema))
}

/// The first `$ref` that does not stay inside the schema.
fn external_ref(node: &Value) -> Option<String> {
    match node {
        Value::Object(map) => map
            .get("$ref")
            .and_then(Value::as_str)
            .filter(|r| !r.starts_with('#'))
            .map(str::to_string)
            .or_else(|| map.values().find_map(external_ref)),
        Value::Array(items) => items.iter().find_map(external_ref),
        _ => None,
    }
}
