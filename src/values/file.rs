//! Reading values files: YAML 1.2, several documents merged in order, positions in every error.

use serde::Deserialize;

use super::coalesce::merge_maps;
use super::tree::{Map, Value};
use crate::error::{Error, Result, utf8};
use crate::yaml::guard::{MAX_FLOW_NESTING, check_flow_nesting};
use crate::yaml::parse::yaml_error;

/// Parses the text of a values file named `name` (used in messages) into a map.
///
/// Like Helm, a file may hold several YAML documents; they are merged in order, later keys
/// winning and maps merging. An empty document counts as an empty map.
pub fn parse_values(bytes: &[u8], name: &str) -> Result<Map> {
    let text = utf8(bytes, name)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_flow_nesting(text).map_err(|line| {
        Error::input(format!(
            "`{name}:{line}`: brackets nest deeper than {MAX_FLOW_NESTING} levels"
        ))
    })?;
    let mut merged = Map::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let node = serde_yaml::Value::deserialize(document).map_err(|e| yaml_error(&e, name))?;
        match Value::from_yaml(node, 0).map_err(|e| e.context(format!("`{name}`")))? {
            Value::Null => {}
            Value::Map(map) => merged = merge_maps(merged, map),
            other => {
                return Err(Error::input(format!(
                    "`{name}` must be a map of values (key: value), but a document in it is a {}",
                    other.type_name()
                )));
            }
        }
    }
    Ok(merged)
}
