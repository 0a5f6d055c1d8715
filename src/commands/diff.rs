//! `aether-chart diff`: what changes between two renders of a chart (two sets of overlays), or
//! between a render and earlier output (a GitOps folder or a saved stream), without a cluster.
//!
//! Objects are matched by kind, namespace and name; within an object every differing YAML path
//! is listed with its old and new value. Lists whose items all have a `name` (containers, ports,
//! env) are matched by name, other lists by position. Document order, key order, quoting and
//! indentation never show as changes: both sides are compared parsed.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::commands::template::RenderArgs;
use crate::error::{Error, Result};

/// Arguments of `diff`.
#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub render: RenderArgs,
    /// Values files of the "from" side, layered over values.yaml like -f (repeatable).
    #[arg(long, value_name = "FILE")]
    pub from: Vec<String>,
    /// Values files of the "to" side (repeatable).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["to_dir", "to_file"])]
    pub to: Vec<String>,
    /// Compare the render (the "from" side) with the manifests in this folder (*.yaml, *.yml).
    #[arg(long, value_name = "DIR", conflicts_with = "to_file")]
    pub to_dir: Option<PathBuf>,
    /// Compare the render (the "from" side) with this stream of manifests (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub to_file: Option<PathBuf>,
    /// Match objects by kind and name only, and leave namespaces out of the comparison (for
    /// environments that live in namespaces of their own).
    #[arg(long)]
    pub ignore_namespace: bool,
    /// text (coloured on a terminal) or json.
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
    /// Colour the text output: auto (on a terminal, unless NO_COLOR), always or never.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// `Kind/namespace/name` (the namespace left out when unset).
type ObjectId = String;

/// One changed path of an object.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Change {
    pub path: String,
    pub old: Option<serde_json::Value>,
    pub new: Option<serde_json::Value>,
}

/// Everything that differs between two sides.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub added: Vec<ObjectId>,
    pub removed: Vec<ObjectId>,
    pub changed: Vec<(ObjectId, Vec<Change>)>,
}

impl Report {
    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Runs `diff`: exit 0 when equal, 1 when different, 2 when a side fails.
pub fn run(args: &DiffArgs) -> Result<u8> {
    let external = args.to_dir.is_some() || args.to_file.is_some();
    if !external && args.to.is_empty() && args.from.is_empty() {
        return Err(Error::usage(
            "give the sides to compare: --from FILE... and --to FILE..., or --to-dir DIR / --to-file FILE",
        ));
    }
    let mut from = render_side(args, &args.from, "--from")?;
    let mut to = match (&args.to_dir, &args.to_file) {
        (Some(dir), _) => read_dir(dir)?,
        (None, Some(file)) => read_stream_file(file)?,
        (None, None) => render_side(args, &args.to, "--to")?,
    };
    if args.ignore_namespace {
        from = without_namespaces(from)?;
        to = without_namespaces(to)?;
    }
    let report = compare(&from, &to);
    match args.output {
        Output::Json => crate::outln!(
            "{}",
            serde_json::to_string_pretty(&json_report(&report)).expect("JSON values serialize")
        ),
        Output::Text => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            crate::out!("{}", text_report(&report, color));
        }
    }
    Ok(if report.is_empty() { 0 } else { 1 })
}

/// Renders one side (its files first, then the shared -f files and --set flags) and validates
/// it; a failure names the side.
fn render_side(args: &DiffArgs, files: &[String], side: &str) -> Result<BTreeMap<ObjectId, Value>> {
    let mut render = args.render.clone();
    render.values.files = files
        .iter()
        .chain(&args.render.values.files)
        .cloned()
        .collect();
    let fail = |e: Error| Error::input(format!("the {side} side does not render: {e}"));
    let arenas = crate::render::manifest::Arenas::default();
    let mut release = crate::release::render(render.settings()?, &arenas).map_err(fail)?;
    let manifests = release.manifests().map_err(fail)?;
    let findings = release.validate(&manifests, false).map_err(fail)?;
    if crate::validate::report::failing(&findings) {
        return Err(Error::input(format!(
            "the {side} side does not validate:\n{}",
            crate::validate::report::text_from(&findings, crate::validate::Severity::Error)
        )));
    }
    // The documents as the render parsed them, not read again.
    let mut out = BTreeMap::new();
    for m in &manifests {
        let value = serde_yaml::to_value(m.json.to_json())
            .map_err(|e| Error::input(format!("the {side} side: {e}")))?;
        out.insert(
            object_id(m.kind, m.namespace.unwrap_or_default(), m.name),
            value,
        );
    }
    Ok(out)
}

/// `Kind/name`, or `Kind/namespace/name` when the object names its namespace.
fn object_id(kind: &str, namespace: &str, name: &str) -> ObjectId {
    if namespace.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}/{namespace}/{name}")
    }
}

/// The manifests of every `*.yaml` / `*.yml` file under `dir`.
fn read_dir(dir: &Path) -> Result<BTreeMap<ObjectId, Value>> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(Error::usage(format!(
            "--to-dir `{}` holds no .yaml or .yml file",
            dir.display()
        )));
    }
    let mut all = BTreeMap::new();
    for file in files {
        let text = read_text(&file)?;
        for (id, object) in objects(&text, &file.display().to_string())? {
            if all.insert(id.clone(), object).is_some() {
                return Err(Error::input(format!(
                    "--to-dir `{}`: {id} appears twice",
                    dir.display()
                )));
            }
        }
    }
    Ok(all)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read the directory", dir, e))?;
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io("read", &path, e))?;
        if kind.is_dir() && !entry.file_name().to_string_lossy().starts_with('.') {
            collect_files(&path, out)?;
        } else if kind.is_file() && path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

fn read_stream_file(file: &Path) -> Result<BTreeMap<ObjectId, Value>> {
    let text = if file == Path::new("-") {
        let bytes = crate::fs::read_bounded(std::io::stdin(), "<stdin>", MAX_STREAM_BYTES)?;
        String::from_utf8(bytes).map_err(|_| Error::input("stdin is not UTF-8 text"))?
    } else {
        read_text(file)?
    };
    objects(&text, &file.display().to_string())
}

/// The largest saved manifest stream or manifest file read (a render is capped at less).
const MAX_STREAM_BYTES: u64 = 512 * 1024 * 1024;

fn read_text(path: &Path) -> Result<String> {
    let bytes = crate::fs::read_user_file(path, "the manifests", MAX_STREAM_BYTES)?;
    String::from_utf8(bytes)
        .map_err(|_| Error::input(format!("`{}` is not UTF-8 text", path.display())))
}

/// The objects of a manifest stream by id; `label` names it in messages.
fn objects(text: &str, label: &str) -> Result<BTreeMap<ObjectId, Value>> {
    crate::yaml::guard::check_flow_nesting(text)
        .map_err(|line| Error::input(format!("`{label}:{line}`: brackets nest too deeply")))?;
    let mut out = BTreeMap::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value =
            Value::deserialize(document).map_err(|e| crate::yaml::parse::yaml_error(&e, label))?;
        if value.is_null() {
            continue;
        }
        let field = |path: &[&str]| {
            path.iter()
                .try_fold(&value, |v, k| v.get(*k))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (kind, name) = (field(&["kind"]), field(&["metadata", "name"]));
        if kind.is_empty() || name.is_empty() {
            return Err(Error::input(format!(
                "`{label}` holds a document without kind or metadata.name"
            )));
        }
        let id = object_id(&kind, &field(&["metadata", "namespace"]), &name);
        if out.insert(id.clone(), value).is_some() {
            return Err(Error::input(format!("`{label}`: {id} appears twice")));
        }
    }
    Ok(out)
}

use serde::Deserialize as _;

/// The objects keyed by kind and name, their `metadata.namespace` removed.
fn without_namespaces(objects: BTreeMap<ObjectId, Value>) -> Result<BTreeMap<ObjectId, Value>> {
    let mut out = BTreeMap::new();
    for (id, mut object) in objects {
        if let Some(Value::Mapping(metadata)) = object.get_mut("metadata") {
            metadata.remove("namespace");
        }
        let mut parts = id.split('/');
        let kind = parts.next().unwrap_or_default().to_string();
        let name = parts.next_back().unwrap_or_default();
        let key = format!("{kind}/{name}");
        if out.insert(key.clone(), object).is_some() {
            return Err(Error::input(format!(
                "{key} exists in two namespaces; --ignore-namespace cannot tell them apart"
            )));
        }
    }
    Ok(out)
}

/// Objects added, removed and changed from `from` to `to`.
pub fn compare(from: &BTreeMap<ObjectId, Value>, to: &BTreeMap<ObjectId, Value>) -> Report {
    let mut report = Report::default();
    for (id, old) in from {
        match to.get(id) {
            None => report.removed.push(id.clone()),
            Some(new) => {
                let mut changes = Vec::new();
                walk(old, new, "", &mut changes);
                if !changes.is_empty() {
                    report.changed.push((id.clone(), changes));
                }
            }
        }
    }
    report.added = to
        .keys()
        .filter(|id| !from.contains_key(*id))
        .cloned()
        .collect();
    report
}

fn json(value: &Value) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A path present on one side or both.
fn walk_pair(old: Option<&Value>, new: Option<&Value>, path: String, out: &mut Vec<Change>) {
    match (old, new) {
        (Some(a), Some(b)) => walk(a, b, &path, out),
        (None, None) => {}
        (a, b) => out.push(Change {
            path,
            old: a.map(json),
            new: b.map(json),
        }),
    }
}

fn walk(old: &Value, new: &Value, path: &str, out: &mut Vec<Change>) {
    match (old, new) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            let keys: std::collections::BTreeSet<String> = a
                .keys()
                .chain(b.keys())
                .map(|k| {
                    k.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| json(k).to_string())
                })
                .collect();
            for key in keys {
                walk_pair(
                    a.get(key.as_str()),
                    b.get(key.as_str()),
                    join(path, &key),
                    out,
                );
            }
        }
        (Value::Sequence(a), Value::Sequence(b)) => {
            let name = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_string);
            let named = |items: &[Value]| {
                let names: Vec<Option<String>> = items.iter().map(name).collect();
                let unique: std::collections::BTreeSet<&Option<String>> = names.iter().collect();
                names.iter().all(Option::is_some) && unique.len() == names.len()
            };
            if !a.is_empty() && !b.is_empty() && named(a) && named(b) {
                let by_name = |items: &[Value]| -> BTreeMap<String, Value> {
                    items
                        .iter()
                        .map(|v| (name(v).unwrap_or_default(), v.clone()))
                        .collect()
                };
                let (x, y) = (by_name(a), by_name(b));
                let order: Vec<String> = a.iter().chain(b.iter()).filter_map(name).collect();
                let mut seen = std::collections::BTreeSet::new();
                for item in order.into_iter().filter(|n| seen.insert(n.clone())) {
                    walk_pair(
                        x.get(&item),
                        y.get(&item),
                        format!("{path}[name={item}]"),
                        out,
                    );
                }
            } else {
                for i in 0..a.len().max(b.len()) {
                    walk_pair(a.get(i), b.get(i), format!("{path}[{i}]"), out);
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(Change {
            path: if path.is_empty() {
                "(root)".into()
            } else {
                path.to_string()
            },
            old: Some(json(a)),
            new: Some(json(b)),
        }),
    }
}

fn json_report(report: &Report) -> serde_json::Value {
    serde_json::json!({
        "equal": report.is_empty(),
        "added": report.added,
        "removed": report.removed,
        "changed": report.changed.iter().map(|(id, changes)| serde_json::json!({
            "object": id,
            "changes": changes,
        })).collect::<Vec<_>>(),
    })
}

fn text_report(report: &Report, color: bool) -> String {
    let paint = |code: &str, text: String| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text
        }
    };
    let shown = |v: &Option<serde_json::Value>| match v {
        None => "(none)".to_string(),
        Some(serde_json::Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    };
    let mut out = String::new();
    for id in &report.removed {
        out.push_str(&paint("31", format!("- {id}")));
        out.push('\n');
    }
    for id in &report.added {
        out.push_str(&paint("32", format!("+ {id}")));
        out.push('\n');
    }
    for (id, changes) in &report.changed {
        out.push_str(&paint("33", format!("~ {id}")));
        out.push('\n');
        for change in changes {
            out.push_str(&format!(
                "    {}: {} -> {}\n",
                change.path,
                paint("31", shown(&change.old)),
                paint("32", shown(&change.new))
            ));
        }
    }
    if report.is_empty() {
        out.push_str("no differences\n");
    } else {
        out.push_str(&format!(
            "{} added, {} removed, {} changed\n",
            report.added.len(),
            report.removed.len(),
            report.changed.len()
        ));
    }
    out
}
