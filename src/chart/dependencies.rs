//! Processing a chart's dependencies before rendering, as Helm does
//! (pkg/chart/v2/util/dependencies.go): aliases, `tags` and `condition` enabling or dropping
//! subcharts, and `import-values` copying subchart values into the parent's defaults.

use super::Chart;
use super::metadata::Dependency;
use crate::error::{Error, Result};
use crate::values::coalesce::{Warnings, coalesce, merge_tables};
use crate::values::{Map, Value};
use crate::version::{Constraint, parse_lenient};

/// Checks that every dependency in `Chart.yaml` is present in `charts/`.
pub fn check_present(chart: &Chart) -> Result<()> {
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !chart.dependencies.iter().any(|c| c.name() == d.name))
        .map(|d| d.name.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::input(format!(
        "`{}Chart.yaml` lists {} that `{}charts/` does not hold; add the subchart folder or archive to charts/",
        chart.origin,
        missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", "),
        chart.origin
    )))
}

/// Applies aliases, conditions and tags, then import-values, to `chart` for the user's values.
pub fn process(chart: &mut Chart, user: &Map, warnings: &mut Warnings) -> Result<()> {
    process_enabled(chart, user, "", warnings)?;
    import_values(chart, warnings)
}

fn compatible(range: &str, version: &str) -> bool {
    match (Constraint::parse(range), parse_lenient(version)) {
        (Ok(constraint), Ok(version)) => constraint.matches(&version),
        _ => false,
    }
}

fn process_enabled(
    chart: &mut Chart,
    values: &Map,
    path: &str,
    warnings: &mut Warnings,
) -> Result<()> {
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let requests = &mut chart.metadata.dependencies;
    let matches = |c: &Chart, r: &Dependency| {
        c.name() == r.name && compatible(&r.version, &c.metadata.version)
    };
    // As in Helm: the charts no request names stay, then each request takes the first chart
    // it matches (a chart two requests take, under two aliases, is copied for one of them).
    let (mut slots, mut kept): (Vec<Option<Chart>>, Vec<Chart>) = (Vec::new(), Vec::new());
    for loaded in std::mem::take(&mut chart.dependencies) {
        if requests.iter().any(|r| matches(&loaded, r)) {
            slots.push(Some(loaded));
        } else {
            slots.push(None);
            kept.push(loaded);
        }
    }
    let taken: Vec<Option<usize>> = requests
        .iter()
        .map(|r| {
            slots
                .iter()
                .position(|c| c.as_ref().is_some_and(|c| matches(c, r)))
        })
        .collect();
    for (position, (request, found)) in requests.iter_mut().zip(&taken).enumerate() {
        if let Some(index) = *found {
            let last = !taken[position + 1..].contains(found);
            let sub = if last {
                slots[index].take()
            } else {
                slots[index].clone()
            };
            let mut sub = sub.expect("a chart is taken only by its last request");
            if !request.alias.is_empty() {
                sub.metadata.name = request.alias.clone();
            }
            kept.push(sub);
        }
        if !request.alias.is_empty() {
            request.name = request.alias.clone();
        }
    }
    chart.dependencies = kept;

    let mut merged = values.clone();
    coalesce(chart, &mut merged, false, warnings)?;
    let merged = Value::Map(merged);
    let disabled: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| {
            // As in Helm: tags decide first, and a condition that resolves overrides them.
            let by_tags = enabled_by_tags(&r.tags, &merged, warnings);
            !enabled_by_condition(&r.condition, &merged, path, warnings).unwrap_or(by_tags)
        })
        .map(|r| r.name.clone())
        .collect();
    chart
        .dependencies
        .retain(|c| !disabled.iter().any(|d| d == c.name()));
    chart
        .metadata
        .dependencies
        .retain(|r| !disabled.contains(&r.name));
    for sub in &mut chart.dependencies {
        let sub_path = format!("{path}{}.", sub.name());
        process_enabled(
            sub,
            merged.as_map().unwrap_or(&Map::new()),
            &sub_path,
            warnings,
        )?;
    }
    Ok(())
}

/// Helm's tag rule: disabled only when some tag is false and none is true.
fn enabled_by_tags(tags: &[String], values: &Value, warnings: &mut Warnings) -> bool {
    let Some(Value::Map(table)) = values.path("tags") else {
        return true;
    };
    let (mut any_true, mut any_false) = (false, false);
    for tag in tags {
        match table.get(tag) {
            Some(Value::Bool(true)) => any_true = true,
            Some(Value::Bool(false)) => any_false = true,
            Some(other) => warnings.push(format!(
                "tag `{tag}` is a {}, not a boolean; ignored",
                other.type_name()
            )),
            None => {}
        }
    }
    any_true || !any_false
}

/// Helm's condition rule: the first condition path holding a boolean decides; `None` when no
/// path does, and the tags decide.
fn enabled_by_condition(
    condition: &str,
    root: &Value,
    path: &str,
    warnings: &mut Warnings,
) -> Option<bool> {
    for part in condition
        .trim()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match root.path(&format!("{path}{part}")) {
            Some(Value::Bool(b)) => return Some(*b),
            Some(other) => warnings.push(format!(
                "condition `{part}` is a {}, not a boolean; ignored",
                other.type_name()
            )),
            None => {}
        }
    }
    None
}

/// Helm's import-values, applied bottom-up: the chart's defaults become its merged values with
/// the imported tables poured under them.
fn import_values(chart: &mut Chart, warnings: &mut Warnings) -> Result<()> {
    for sub in &mut chart.dependencies {
        import_values(sub, warnings)?;
    }
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let mut merged = Map::new();
    coalesce(chart, &mut merged, true, warnings)?;
    let mut imported = Map::new();
    for request in &chart.metadata.dependencies {
        for spec in &request.import_values {
            let (child, parent) = match spec {
                serde_yaml::Value::String(name) => (format!("exports.{name}"), ".".to_string()),
                serde_yaml::Value::Mapping(m) => {
                    let get = |k: &str| {
                        m.get(k)
                            .and_then(|v| v.as_str())
                            .unwrap_or("<nil>")
                            .to_string()
                    };
                    (get("child"), get("parent"))
                }
                _ => continue,
            };
            let path = format!("{}.{child}", request.name);
            let Some(Value::Map(table)) = path_in(&merged, &path) else {
                warnings.push(format!(
                    "import-values: `{}` has no table `{child}`",
                    request.name
                ));
                continue;
            };
            merge_tables(&mut imported, nest(&parent, table.clone()), warnings);
        }
    }
    merge_tables(&mut merged, imported, warnings);
    chart.values = merged;
    Ok(())
}

/// The value at the dotted `path` of `map`.
fn path_in<'m>(map: &'m Map, path: &str) -> Option<&'m Value> {
    match path.split_once('.') {
        Some((first, rest)) => map.get(first)?.path(rest),
        None => map.get(path),
    }
}

/// Puts `table` at the dotted `path` (`.` is the root).
fn nest(path: &str, table: Map) -> Map {
    if path == "." {
        return table;
    }
    path.split('.').rev().fold(table, |inner, key| {
        Map::from([(key.to_string(), Value::Map(inner))])
    })
}
