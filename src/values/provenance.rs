//! Where each value came from: every layer that set a key, in the order Helm layers them, with
//! file and line (or the `--set` flag), so a finding can say which line of which file to change.
//!
//! The layers are replayed in the merge's own order: subcharts' values.yaml (under their name or
//! alias), the chart's values.yaml, each `-f` file, then the `--set` flavours. A null deletes
//! the key, which is recorded too; `import-values` copies carry the subchart line they came
//! from. Lists are leaves, as in the merge (a layer replaces a list
//! whole). Positions come from a separate, span-aware read of each file (serde_yaml keeps none).

use std::collections::BTreeMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::options::ValuesOptions;
use super::strvals::{SetKind, parse_into};
use super::tree::{Map, Value};
use crate::chart::Chart;

/// Where a layer set a key: a line of a values file, or a flag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Place {
    /// A values file (`values/prod.yaml`, `charts/world-server/values.yaml`, `<stdin>`); the
    /// line and column (from 1) of the key.
    File {
        /// The file as named on the command line or in the chart.
        file: String,
        /// The key's line.
        line: usize,
        /// The key's column.
        column: usize,
    },
    /// A values flag and its whole expression (`--set`, `a.b=1,c=2`).
    Flag {
        /// `--set`, `--set-string`, `--set-json`, `--set-file` or `--set-literal`.
        flag: String,
        /// The expression as given.
        expr: String,
    },
    /// A subchart's value copied by the parent's `import-values`.
    Imported {
        /// Where the subchart set it.
        from: Box<Place>,
        /// The dependency it was imported from.
        dependency: String,
    },
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::File { file, line, .. } => write!(f, "{file}:{line}"),
            Place::Flag { flag, expr } => write!(f, "{flag} {expr}"),
            Place::Imported { from, dependency } => {
                write!(f, "{from} (import-values from {dependency})")
            }
        }
    }
}

impl Place {
    /// The file and position, when the place is (or was imported from) a line of a file.
    pub fn file(&self) -> Option<(&str, usize, usize)> {
        match self {
            Place::File { file, line, column } => Some((file, *line, *column)),
            Place::Flag { .. } => None,
            Place::Imported { from, .. } => from.file(),
        }
    }
}

/// One layer's setting of a key.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// Where it was set.
    pub place: Place,
    /// The value as the layer wrote it (`null` for a deletion).
    pub value: String,
}

/// Where the value behind a finding was set: the words for people and the typed place (SARIF
/// and editors read the place, never the words).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Traced {
    /// `values/prod.yaml:14: api.replicas = 5 (overrides values.yaml:31)`.
    pub text: String,
    /// The winning layer's place.
    pub place: Place,
}

impl Traced {
    /// The same with `secret` replaced by `<redacted>` wherever it is written (a flag's
    /// expression holds it too).
    pub fn redacted(self, secret: &str) -> Traced {
        if secret.is_empty() {
            return self;
        }
        let place = match self.place {
            Place::Flag { flag, expr } => Place::Flag {
                flag,
                expr: expr.replace(secret, "<redacted>"),
            },
            other => other,
        };
        Traced {
            text: self.text.replace(secret, "<redacted>"),
            place,
        }
    }
}

impl std::fmt::Display for Traced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for Traced {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// Every key's origins, lowest precedence first.
#[derive(Debug, Default)]
pub struct Provenance {
    keys: BTreeMap<String, Vec<Origin>>,
}

impl Provenance {
    /// Replays the layers of `chart` (dependencies processed), the values files as they were
    /// read (`files`: name and text, in order) and the `--set` flags of `options`.
    pub fn build(chart: &Chart, files: &[(String, String)], options: &ValuesOptions) -> Provenance {
        let mut out = Provenance::default();
        out.add_chart(chart, "");
        for (name, text) in files {
            out.add_text(text, name, "");
        }
        for (flag, exprs, kind) in [
            ("--set-json", &options.set_json, SetKind::Json),
            ("--set", &options.set, SetKind::Typed),
            ("--set-string", &options.set_string, SetKind::String),
            ("--set-file", &options.set_file, SetKind::File),
            ("--set-literal", &options.set_literal, SetKind::Literal),
        ] {
            for expr in exprs {
                out.add_flag(flag, expr, kind);
            }
        }
        out
    }

    /// The origins of `key` (dotted path), lowest precedence first. A subchart's copy of a
    /// global (`sub.global.x`) has the origins of the parent's `global.x` when no layer set the
    /// subchart's own, as Helm copies globals down.
    /// Whether some layer set `key` itself.
    pub fn knows(&self, key: &str) -> bool {
        self.keys.contains_key(key)
    }

    pub fn origins(&self, key: &str) -> &[Origin] {
        if let Some(origins) = self.keys.get(key) {
            return origins;
        }
        match key.find(".global.") {
            Some(at) => self.origins(&key[at + 1..]),
            None => &[],
        }
    }

    /// Every key some layer set.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// `values/prod.yaml:14: api.replicas = 5 (overrides values.yaml:31)`, for the winning layer.
    pub fn describe(&self, key: &str) -> Option<String> {
        self.traced(key).map(|t| t.text)
    }

    /// [`Provenance::describe`] with the winning layer's place.
    pub fn traced(&self, key: &str) -> Option<Traced> {
        let origins = self.origins(key);
        let (last, earlier) = origins.split_last()?;
        let mut text = format!("{}: {key} = {}", last.place, last.value);
        if let Some(previous) = earlier.last() {
            text.push_str(&format!(" (overrides {})", previous.place));
        }
        Some(Traced {
            text,
            place: last.place.clone(),
        })
    }

    /// A chart's values.yaml and its subcharts', subcharts first (they have the lowest precedence).
    fn add_chart(&mut self, chart: &Chart, prefix: &str) {
        for sub in &chart.dependencies {
            self.add_chart(sub, &format!("{prefix}{}.", sub.name()));
        }
        self.add_imports(chart, prefix);
        let file = format!("{}values.yaml", chart.origin);
        self.add_text(&chart.values_text, &file, prefix);
    }

    /// `import-values`: the subchart tables copied under the parent's keys, below the parent's
    /// own values.yaml (as the merge pours them under it).
    fn add_imports(&mut self, chart: &Chart, prefix: &str) {
        for request in &chart.metadata.dependencies {
            for spec in &request.import_values {
                let (child, parent) = match spec {
                    serde_yaml::Value::String(name) => (format!("exports.{name}"), ".".to_string()),
                    serde_yaml::Value::Mapping(m) => {
                        let get = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or_default();
                        (get("child").to_string(), get("parent").to_string())
                    }
                    _ => continue,
                };
                let from = format!("{prefix}{}.{child}.", request.name);
                let to = if parent == "." {
                    prefix.to_string()
                } else {
                    format!("{prefix}{parent}.")
                };
                let copies: Vec<(String, Vec<Origin>)> = self
                    .keys
                    .range(from.clone()..)
                    .take_while(|(k, _)| k.starts_with(&from))
                    .map(|(k, origins)| {
                        let origins = origins
                            .iter()
                            .map(|o| Origin {
                                place: Place::Imported {
                                    from: Box::new(o.place.clone()),
                                    dependency: request.name.clone(),
                                },
                                value: o.value.clone(),
                            })
                            .collect();
                        (format!("{to}{}", &k[from.len()..]), origins)
                    })
                    .collect();
                for (key, origins) in copies {
                    for origin in origins {
                        self.push(key.clone(), origin);
                    }
                }
            }
        }
    }

    /// The keys a YAML text sets, with their lines.
    fn add_text(&mut self, text: &str, file: &str, prefix: &str) {
        let mut reader = Reader::default();
        if Parser::new_from_str(text).load(&mut reader, true).is_err() {
            return;
        }
        for Leaf {
            path,
            line,
            column,
            value,
        } in reader.leaves
        {
            self.push(
                format!("{prefix}{path}"),
                Origin {
                    place: Place::File {
                        file: file.to_string(),
                        line,
                        column,
                    },
                    value,
                },
            );
        }
    }

    /// The keys one `--set` flavour's expression sets.
    fn add_flag(&mut self, flag: &str, expr: &str, kind: SetKind) {
        let mut map = Map::new();
        let keep_paths = |path: &str| Ok(Value::String(format!("<contents of {path}>")));
        if parse_into(expr, &mut map, kind, &keep_paths).is_err() {
            return;
        }
        let mut leaves = Vec::new();
        flatten(&map, "", &mut leaves);
        for (path, value) in leaves {
            self.push(
                path,
                Origin {
                    place: Place::Flag {
                        flag: flag.to_string(),
                        expr: expr.to_string(),
                    },
                    value,
                },
            );
        }
    }

    /// Records a layer's setting of `key`. A null deletes the key and everything below it:
    /// each key below that still holds a value gets the deletion as its last origin, and the
    /// null itself says what it deleted.
    fn push(&mut self, key: String, mut origin: Origin) {
        if origin.value == "null" {
            let below = format!("{key}.");
            let mut deleted = Vec::new();
            for (child, origins) in self.keys.range_mut(below.clone()..) {
                if !child.starts_with(&below) {
                    break;
                }
                match origins.last() {
                    Some(last) if !last.value.starts_with("null") => {
                        deleted.push(format!("{child} = {} from {}", last.value, last.place));
                        origins.push(Origin {
                            place: origin.place.clone(),
                            value: format!("null (deleted with `{key}`)"),
                        });
                    }
                    _ => {}
                }
            }
            if !deleted.is_empty() {
                origin.value = format!("null (deletes {})", deleted.join(", "));
            }
        }
        self.keys.entry(key).or_default().push(origin);
    }
}

/// The leaves of a values map as (dotted path, display).
fn flatten(map: &Map, prefix: &str, out: &mut Vec<(String, String)>) {
    for (key, value) in map {
        let path = format!("{prefix}{key}");
        match value {
            Value::Map(inner) if !inner.is_empty() => flatten(inner, &format!("{path}."), out),
            other => out.push((path, display(other))),
        }
    }
}

/// A value as a values file would spell it, on one line.
fn display(value: &Value) -> String {
    match value {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        other => serde_json::to_string(&other.to_json()).unwrap_or_default(),
    }
}

/// One leaf a values file sets: its dotted path, where its key is (line and column from 1),
/// and its value as written.
struct Leaf {
    path: String,
    line: usize,
    column: usize,
    value: String,
}

/// Collects every leaf from parser events.
#[derive(Default)]
struct Reader {
    /// Open mappings: the key waiting for its value, if any.
    stack: Vec<Frame>,
    /// A sequence or mapping inside a sequence is skipped whole; this counts its depth.
    skipping: usize,
    leaves: Vec<Leaf>,
}

/// An open mapping: its path and the key whose value comes next, with its position.
struct Frame {
    path: String,
    key: Option<(String, Marker)>,
}

impl Reader {
    /// The path of the value about to come, and the position of its key.
    fn value_path(&mut self) -> Option<(String, Marker)> {
        let frame = self.stack.last_mut()?;
        let (key, mark) = frame.key.take()?;
        Some((format!("{}{key}", frame.path), mark))
    }

    /// Records the leaf `path` whose key is at `mark`.
    fn leaf(&mut self, path: String, mark: Marker, value: impl Into<String>) {
        self.leaves.push(Leaf {
            path,
            line: mark.line(),
            column: mark.col() + 1,
            value: value.into(),
        });
    }
}

impl MarkedEventReceiver for Reader {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.skipping > 0 {
            match event {
                Event::SequenceStart(..) | Event::MappingStart(..) => self.skipping += 1,
                Event::SequenceEnd | Event::MappingEnd => self.skipping -= 1,
                _ => {}
            }
            return;
        }
        let expects_key = self.stack.last().is_some_and(|f| f.key.is_none());
        match event {
            Event::DocumentStart => self.stack.clear(),
            Event::MappingStart(..) => {
                let path = match self.value_path() {
                    Some((path, _)) => format!("{path}."),
                    None if self.stack.is_empty() => String::new(),
                    None => {
                        // A mapping used as a key: nothing a values file means; skip it whole.
                        self.skipping = 1;
                        return;
                    }
                };
                self.stack.push(Frame { path, key: None });
            }
            Event::MappingEnd => {
                let frame = self.stack.pop();
                // An empty mapping is a leaf of its own (`resources: {}`).
                if let Some(frame) = frame.filter(|f| f.path.ends_with('.')) {
                    let path = frame.path.trim_end_matches('.').to_string();
                    if !self.leaves.iter().any(|l| l.path.starts_with(&frame.path)) {
                        self.leaf(path, mark, "{}");
                    }
                }
            }
            Event::Scalar(text, ..) if expects_key => {
                if let Some(frame) = self.stack.last_mut() {
                    frame.key = Some((text, mark));
                }
            }
            Event::Scalar(text, style, ..) => {
                if let Some((path, key)) = self.value_path() {
                    self.leaf(path, key, scalar_display(&text, style));
                }
            }
            Event::SequenceStart(..) => {
                if let Some((path, key)) = self.value_path() {
                    self.leaf(path, key, "[...]");
                }
                self.skipping = 1;
            }
            Event::Alias(_) => {
                if let Some((path, key)) = self.value_path() {
                    self.leaf(path, key, "*alias");
                }
            }
            _ => {}
        }
    }
}

/// A scalar as written: plain scalars as they are, quoted ones quoted.
fn scalar_display(text: &str, style: yaml_rust2::scanner::TScalarStyle) -> String {
    use yaml_rust2::scanner::TScalarStyle;
    match style {
        TScalarStyle::Plain if matches!(text, "" | "~" | "null" | "Null" | "NULL") => "null".into(),
        TScalarStyle::Plain => text.to_string(),
        _ => serde_json::to_string(text).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::Provenance;

    #[test]
    fn records_lines_of_leaves_and_overrides() {
        let mut p = Provenance::default();
        p.add_text(
            "a:\n  b: 1\n  c: {x: 2}\nlist: [1, 2]\nempty: {}\nn: ~\n",
            "values.yaml",
            "",
        );
        p.add_text("a:\n  b: 5\n", "values/prod.yaml", "");
        assert_eq!(
            p.describe("a.b").unwrap(),
            "values/prod.yaml:2: a.b = 5 (overrides values.yaml:2)"
        );
        assert_eq!(p.describe("a.c.x").unwrap(), "values.yaml:3: a.c.x = 2");
        assert_eq!(p.describe("list").unwrap(), "values.yaml:4: list = [...]");
        assert_eq!(p.describe("empty").unwrap(), "values.yaml:5: empty = {}");
        assert_eq!(p.describe("n").unwrap(), "values.yaml:6: n = null");
        let place = p.traced("a.c.x").unwrap().place;
        assert_eq!(place.file(), Some(("values.yaml", 3, 7)));
    }

    #[test]
    fn subcharts_see_the_globals_of_their_parent() {
        let mut p = Provenance::default();
        p.add_text("global:\n  env: prod\n", "values.yaml", "");
        assert_eq!(
            p.describe("world-server.global.env").unwrap(),
            "values.yaml:2: world-server.global.env = prod"
        );
    }

    #[test]
    fn records_set_flags() {
        let mut p = Provenance::default();
        p.add_flag("--set", "a.b=3,c=x", super::SetKind::Typed);
        assert_eq!(p.describe("a.b").unwrap(), "--set a.b=3,c=x: a.b = 3");
        assert_eq!(
            p.traced("c").unwrap().place,
            super::Place::Flag {
                flag: "--set".into(),
                expr: "a.b=3,c=x".into()
            }
        );
        let redacted = p.traced("c").unwrap().redacted("x");
        assert_eq!(
            redacted.to_string(),
            "--set a.b=3,c=<redacted>: c = \"<redacted>\""
        );
    }
}
