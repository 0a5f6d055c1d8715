//! Reading values files: YAML 1.2, several documents merged in order, positions in every error.

use serde::Deserialize;

use super::coalesce::merge_maps;
use super::tree::{Map, Value};
use crate::error::{Error, Result, utf8};
use crate::yaml::block::{Typing, parse_typed};
use crate::yaml::guard::{MAX_FLOW_NESTING, check_flow_nesting};
use crate::yaml::parse::yaml_error;
use crate::yaml::tree;

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
    match read_fast(text) {
        Some(map) => Ok(map),
        None => read_full(text, name),
    }
}

/// The usual values file (one document, a map, block YAML) read by the fast reader with
/// YAML 1.2's typing; `None` for anything else, which the full reader reads.
pub(crate) fn read_fast(text: &str) -> Option<Map> {
    // The block reader leaves document markers, and so several documents, to the full one.
    let arena = bumpalo::Bump::new();
    match parse_typed(text, &arena, Typing::Core)? {
        tree::Value::Object(map) => Some(map_of(&map)),
        _ => None,
    }
}

fn map_of(map: &tree::Map<'_>) -> Map {
    map.iter()
        .map(|(key, value)| (key.to_string(), value_of(value)))
        .collect()
}

/// A value of the fast reader's tree (nested at most as deep as it reads, below
/// [`super::tree::MAX_DEPTH`]).
fn value_of(value: &tree::Value<'_>) -> Value {
    match value {
        tree::Value::Null => Value::Null,
        tree::Value::Bool(b) => Value::Bool(*b),
        tree::Value::Number(n) => match n.get().as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.get().as_f64().unwrap_or(f64::NAN)),
        },
        tree::Value::String(s) => Value::String(s.to_string()),
        tree::Value::Array(items) => Value::List(items.iter().map(value_of).collect()),
        tree::Value::Object(map) => Value::Map(map_of(map)),
    }
}

/// A values file read by serde_yaml: every document, merged in order.
pub(crate) fn read_full(text: &str, name: &str) -> Result<Map> {
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

#[cfg(test)]
mod tests {
    use super::{read_fast, read_full};
    use crate::yaml::block::tests::{Rng, SEEDS, mutate};

    /// Seeds: the values files of the Aether chart and its overlays, and scalars YAML 1.1 and
    /// 1.2 type differently.
    const VALUES: &[&str] = &[
        include_str!("../../values.yaml"),
        include_str!("../../values/prod.yaml"),
        include_str!("../../values/dev.yaml"),
        include_str!("../../charts/world-server/values.yaml"),
        "a: 0755\nb: 08\nc: yes\nd: off\ne: 1e3\nf: .5\ng: 1.0\nh: True\ni: ~\nj: -0\nk: inf\nl: [1, 2.5, no, null]\nm: {x: 007, y: NULL}\nn:\n  - 12:30\n  - 2024-01-01\n",
    ];

    /// Whenever the fast reader reads a values file, serde_yaml reads the same values.
    #[test]
    fn agrees_with_serde_yaml_on_mutations() {
        let seeds: Vec<&str> = VALUES.iter().chain(SEEDS).copied().collect();
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut fast = 0;
        for round in 0..6_000 {
            let mut text = seeds[round % seeds.len()].to_string();
            mutate(&mut text, &mut rng);
            if let Some(values) = read_fast(&text) {
                fast += 1;
                match read_full(&text, "mutated.yaml") {
                    Ok(full) => assert_eq!(values, full, "mutation {round}:\n{text}"),
                    Err(e) => panic!("mutation {round}: serde_yaml refuses ({e}):\n{text}"),
                }
            }
        }
        assert!(fast > 1_500, "the fast path took only {fast} of 6000");
    }

    #[test]
    fn reads_the_charts_values_files() {
        for text in VALUES {
            let fast = read_fast(text).unwrap_or_else(|| panic!("left to serde_yaml:\n{text}"));
            assert_eq!(fast, read_full(text, "values.yaml").unwrap());
        }
    }
}
