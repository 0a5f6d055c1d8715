//! Layering values exactly as Helm does (pkg/chart/common/util/coalesce.go).
//!
//! Two operations, with Helm's names:
//! - [`merge_maps`] joins user layers (values files, documents of one file): maps merge
//!   recursively, anything else replaces.
//! - [`coalesce`] pours a chart's defaults (and its subcharts', with `global` copied down) under
//!   the user's values: maps deep-merge, lists and scalars from the user win, and a user `null`
//!   deletes the default key. In `merge` mode (used when importing values) nulls are kept.

use std::collections::BTreeSet;

use super::tree::{Map, Value};
use crate::chart::Chart;
use crate::error::{Error, Result};

/// The key under which values are shared with every subchart.
pub const GLOBAL_KEY: &str = "global";

/// Warnings Helm would log while coalescing (a table meeting a non-table, and so on).
pub type Warnings = Vec<String>;

/// Merges `overlay` onto `base`: maps merge recursively, any other value replaces.
pub fn merge_maps(mut base: Map, overlay: Map) -> Map {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(Value::Map(existing)), Value::Map(incoming)) => {
                let existing = std::mem::take(existing);
                base.insert(key, Value::Map(merge_maps(existing, incoming)));
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
    base
}

/// Coalesces `chart`'s defaults (and its subcharts') under the user's values `dest`.
pub fn coalesce(chart: &Chart, dest: &mut Map, merge: bool, warnings: &mut Warnings) -> Result<()> {
    coalesce_with_prefix(chart, dest, "", merge, warnings)
}

fn coalesce_with_prefix(
    chart: &Chart,
    dest: &mut Map,
    prefix: &str,
    merge: bool,
    warnings: &mut Warnings,
) -> Result<()> {
    coalesce_values(chart, dest, prefix, merge, warnings);
    coalesce_dependencies(chart, dest, prefix, merge, warnings)
}

/// Copies globals down and coalesces each subchart's defaults under its own key.
fn coalesce_dependencies(
    chart: &Chart,
    dest: &mut Map,
    prefix: &str,
    merge: bool,
    warnings: &mut Warnings,
) -> Result<()> {
    for sub in &chart.dependencies {
        let name = sub.name();
        let mut sub_values = match dest.remove(name) {
            None => Map::new(),
            Some(Value::Map(map)) => map,
            Some(other) => {
                return Err(Error::input(format!(
                    "the values for subchart `{name}` must be a map, but they are a {}; \
                     put the subchart's settings under `{name}:` as keys",
                    other.type_name()
                )));
            }
        };
        let sub_prefix = join(prefix, chart.name());
        coalesce_globals(&mut sub_values, dest, &sub_prefix, warnings);
        coalesce_with_prefix(sub, &mut sub_values, &sub_prefix, merge, warnings)?;
        dest.insert(name.to_string(), Value::Map(sub_values));
    }
    Ok(())
}

/// Copies the parent's `global` map into a subchart's values; the parent's globals win.
fn coalesce_globals(dest: &mut Map, src: &mut Map, prefix: &str, warnings: &mut Warnings) {
    let mut dest_globals = match dest.get(GLOBAL_KEY) {
        None => Map::new(),
        Some(Value::Map(map)) => map.clone(),
        Some(_) => {
            warnings.push(format!(
                "skipping globals because {prefix}.global is not a map"
            ));
            return;
        }
    };
    let src_globals = match src.get(GLOBAL_KEY) {
        None => Map::new(),
        Some(Value::Map(map)) => map.clone(),
        Some(_) => {
            warnings.push("skipping globals because the parent's global is not a map".into());
            return;
        }
    };
    for (key, value) in src_globals {
        match (value, dest_globals.get(&key)) {
            (Value::Map(mut parent), Some(existing)) => match existing {
                Value::Map(own) => {
                    coalesce_tables(
                        &mut parent,
                        own.clone(),
                        &join(prefix, &key),
                        true,
                        warnings,
                    );
                    share_nested(src, &key, &parent);
                    dest_globals.insert(key, Value::Map(parent));
                }
                _ => warnings.push(format!("cannot merge map onto non-map for global `{key}`")),
            },
            (Value::Map(parent), None) => {
                dest_globals.insert(key, Value::Map(parent));
            }
            (_, Some(Value::Map(_))) => {
                warnings.push(format!("global `{key}` is a map in the subchart; skipping"));
            }
            (value, _) => {
                dest_globals.insert(key, value);
            }
        }
    }
    dest.insert(GLOBAL_KEY.to_string(), Value::Map(dest_globals));
}

/// Helm copies each parent global map only one level deep before merging a subchart's globals
/// into it, so the maps nested inside are shared: what the merge adds to them shows up in the
/// parent's own `global` too (and in every later subchart). Kept for Helm parity.
fn share_nested(parent_values: &mut Map, key: &str, merged: &Map) {
    let Some(Value::Map(globals)) = parent_values.get_mut(GLOBAL_KEY) else {
        return;
    };
    let Some(Value::Map(original)) = globals.get_mut(key) else {
        return;
    };
    for (name, value) in original.iter_mut() {
        if let (Value::Map(_), Some(now @ Value::Map(_))) = (&*value, merged.get(name)) {
            *value = now.clone();
        }
    }
}

/// Pours one chart's own `values.yaml` under the user's values.
fn coalesce_values(
    chart: &Chart,
    dest: &mut Map,
    prefix: &str,
    merge: bool,
    warnings: &mut Warnings,
) {
    let sub_prefix = join(prefix, chart.name());
    for (key, default) in chart.values.clone() {
        match dest.get_mut(&key) {
            Some(Value::Null) if !merge => {
                dest.remove(&key);
            }
            Some(Value::Map(user)) => match default {
                Value::Map(default) => {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    coalesce_tables(user, default, &join(&sub_prefix, &key), merge, warnings);
                }
                Value::Null => {}
                _ => warnings.push(format!("skipped value for {sub_prefix}.{key}: not a map")),
            },
            Some(_) => {}
            None => {
                // Helm 4.1 keeps a chart default of null (later Helm releases drop it).
                dest.insert(key, default);
            }
        }
    }
}

/// Coalesces `src` (lower precedence) into `dst` (higher precedence).
pub fn coalesce_tables(
    dst: &mut Map,
    mut src: Map,
    prefix: &str,
    merge: bool,
    warnings: &mut Warnings,
) {
    let src_non_null: BTreeSet<String> = src
        .iter()
        .filter(|(_, v)| **v != Value::Null)
        .map(|(k, _)| k.clone())
        .collect();
    for (key, value) in dst.iter() {
        if *value == Value::Null {
            src.insert(key.clone(), Value::Null);
        }
    }
    for (key, value) in src {
        let full_key = join(prefix, &key);
        match dst.get_mut(&key) {
            Some(Value::Null) if !merge && src_non_null.contains(&key) => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, value);
            }
            Some(existing) => match (existing, value) {
                (Value::Map(existing), Value::Map(value)) => {
                    coalesce_tables(existing, value, &full_key, merge, warnings)
                }
                (_, Value::Map(_)) => warnings.push(format!(
                    "cannot overwrite table with non table for {full_key}"
                )),
                (Value::Map(_), value) if value != Value::Null => warnings.push(format!(
                    "destination for {full_key} is a table; ignoring non-table value"
                )),
                _ => {}
            },
        }
    }
}

/// Helm's `MergeTables`: coalescing that keeps nulls.
pub fn merge_tables(dst: &mut Map, src: Map, warnings: &mut Warnings) {
    coalesce_tables(dst, src, "", true, warnings);
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}
