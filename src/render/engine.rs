//! The minijinja environment and rendering every template of a chart and its subcharts.
//!
//! Templates are registered under Helm's names (`aether/templates/api.yaml`,
//! `aether/charts/world-server/templates/statefulset.yaml`). Undefined values fail when printed
//! or dereferenced (minijinja's SemiStrict), escaping is off (this is YAML, not HTML), and every
//! render is bounded: fuel for runaway loops, a recursion limit, a `tpl` depth limit and a cap
//! on the size of each template's output. Templates render in parallel.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};
use rayon::prelude::*;

use super::context::{Capabilities, Release, chart_value, map_value};
use super::files::Files;
use super::filters;
use crate::chart::Chart;
use crate::error::{Error, Result, utf8};
use crate::values::Map;

/// Instructions one template may execute before it is stopped as runaway.
const FUEL: u64 = 50_000_000;
/// How deeply macros, includes and blocks may nest.
const RECURSION_LIMIT: usize = 200;
/// The most bytes one template may produce; no filter may build a string longer than this.
pub(crate) const MAX_OUTPUT: usize = 512 * 1024 * 1024;
/// Marks an include that tried to leave its chart's templates folder.
const OUTSIDE: &str = "\u{0}outside:";

/// One rendered template.
#[derive(Debug)]
pub struct Rendered {
    /// Helm's source name: `<chart>/templates/<file>` with a `.j2` suffix dropped.
    pub source: String,
    /// Where the template file is, for messages (e.g. `templates/api.yaml`).
    pub file: String,
    /// The rendered text.
    pub text: String,
}

/// What a render needs besides the chart.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// The release.
    pub release: Release,
    /// The target cluster.
    pub capabilities: Capabilities,
}

/// One chart of the tree, with the names and values its templates see.
struct Unit<'c> {
    chart: &'c Chart,
    prefix: String,
    values: &'c Map,
}

/// Renders every manifest template of `chart` (processed) with its coalesced `values`, and
/// hands each rendered file to `then` as soon as it is ready (so parsing one file overlaps
/// with rendering the next); its results come back in the charts' order of the files.
pub fn render<T: Send>(
    chart: &Chart,
    values: &Map,
    options: &RenderOptions,
    then: impl Fn(Rendered) -> T + Sync,
) -> Result<Vec<T>> {
    let mut units = Vec::new();
    collect(chart, chart.name().to_string(), values, &mut units);

    let mut display = HashMap::new();
    let mut sources = HashMap::new();
    // Every template of the tree, in the charts' order (for reporting syntax errors).
    let mut names = Vec::new();
    for unit in &units {
        for file in &unit.chart.templates {
            let name = format!("{}/{}", unit.prefix, file.name);
            let path = format!("{}{}", unit.chart.origin, file.name);
            let source = utf8(&file.data, &path)?.to_string();
            display.insert(name.clone(), path);
            sources.insert(name.clone(), source);
            names.push(name);
        }
    }
    // Templates compile when first asked for, on the core that renders them.
    let env = environment(&units, sources)?;

    let release = options.release.value();
    let capabilities = options.capabilities.value();
    let mut jobs = Vec::new();
    for unit in units.iter().filter(|u| !u.chart.metadata.is_library()) {
        let base = [
            ("values", crate::values::Value::map_to_template(unit.values)),
            ("release", release.clone()),
            ("chart", chart_value(&unit.chart.metadata)),
            ("capabilities", capabilities.clone()),
            ("files", Files::value(&unit.chart.files)),
        ];
        for file in unit.chart.templates.iter().filter(|f| is_manifest(&f.name)) {
            let name = format!("{}/{}", unit.prefix, file.name);
            let context = map_value(base.iter().cloned().chain([(
                "template",
                map_value([
                    ("name", Value::from(name.as_str())),
                    (
                        "base_path",
                        Value::from(format!("{}/templates", unit.prefix)),
                    ),
                ]),
            )]));
            jobs.push((name, context, file.data.len()));
        }
    }
    // The longest template (by its source) starts first and each is taken up by whichever
    // core is free, so one long template does not leave a core idle at the end; the files
    // keep the charts' order, and the first failing one in that order is the one reported.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].2));
    let mut done: Vec<(usize, Result<T>)> = order
        .par_iter()
        .with_max_len(1)
        .map(|&i| {
            let (name, context, _) = &jobs[i];
            let rendered = render_one(&env, name, context.clone())
                .map_err(|e| template_error(&e, &display))
                .map(|text| Rendered {
                    source: name.strip_suffix(".j2").unwrap_or(name).to_string(),
                    file: display.get(name).cloned().unwrap_or_else(|| name.clone()),
                    text,
                });
            (i, rendered.map(&then))
        })
        .collect();
    // A template that does not compile is reported first, as if every template had compiled
    // before any rendered; this also compiles the ones no render asked for.
    for name in &names {
        env.get_template(name)
            .map_err(|e| template_error(&e, &display))?;
    }
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, result)| result).collect()
}

/// Lists the chart and its subcharts with their template prefixes and scoped values.
fn collect<'c>(chart: &'c Chart, prefix: String, values: &'c Map, units: &mut Vec<Unit<'c>>) {
    static EMPTY: Map = Map::new();
    for sub in &chart.dependencies {
        let sub_values = match values.get(sub.name()) {
            Some(crate::values::Value::Map(map)) => map,
            _ => &EMPTY,
        };
        collect(
            sub,
            format!("{prefix}/charts/{}", sub.name()),
            sub_values,
            units,
        );
    }
    units.push(Unit {
        chart,
        prefix,
        values,
    });
}

/// Whether a file under templates/ renders to manifests (partials start with `_`).
fn is_manifest(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    !base.starts_with('_')
        && base != "NOTES.txt"
        && (base.ends_with(".yaml") || base.ends_with(".yml") || base.ends_with(".j2"))
}

fn environment<'s>(
    units: &[Unit<'_>],
    sources: HashMap<String, String>,
) -> Result<Environment<'s>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    // Keep template sources in errors in release builds too, so messages quote the failing line.
    env.set_debug(true);
    let mut roots: Vec<String> = units
        .iter()
        .map(|u| format!("{}/templates/", u.prefix))
        .collect();
    roots.sort_by_key(|r| std::cmp::Reverse(r.len()));
    let tree = Tree {
        roots,
        libraries: units
            .iter()
            .filter(|u| u.chart.metadata.is_library())
            .map(|u| u.prefix.clone())
            .collect(),
        templates: units
            .iter()
            .flat_map(|u| {
                u.chart
                    .templates
                    .iter()
                    .map(|f| format!("{}/{}", u.prefix, f.name))
            })
            .collect(),
    };
    env.set_path_join_callback(move |name, parent| tree.join(name, parent).into());
    env.set_formatter(yaml_formatter);
    env.set_loader(move |name| {
        if let Some(wanted) = name.strip_prefix(OUTSIDE) {
            return Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("`{wanted}` reaches outside the chart's templates/ folder; include only templates of the same chart"),
            ));
        }
        Ok(sources.get(name).cloned())
    });
    filters::register(&mut env);
    Ok(env)
}

/// Prints values the way YAML spells them: `true`/`false` (not Python's `True`), `null` for none.
fn yaml_formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &Value,
) -> std::result::Result<(), minijinja::Error> {
    use minijinja::value::ValueKind;
    let text = match value.kind() {
        ValueKind::Bool if value.is_true() => "true",
        ValueKind::Bool => "false",
        ValueKind::None => "null",
        _ => return minijinja::escape_formatter(out, state, value),
    };
    out.write_str(text)
        .map_err(|_| minijinja::Error::new(ErrorKind::WriteFailure, "cannot write the output"))
}

/// What includes and imports can reach: each chart's `templates/` and the library charts.
struct Tree {
    /// Every chart's `<prefix>/templates/`, longest first.
    roots: Vec<String>,
    /// The prefixes of the library charts (`aether/charts/aether-common`).
    libraries: HashSet<String>,
    /// Every template's registered name.
    templates: HashSet<String>,
}

impl Tree {
    /// Resolves an include or import: `./x` and `../x` relative to the including file, anything
    /// else relative to the chart's `templates/`. `LIB/x`, where no such template of the chart's
    /// own exists, is `x` in the templates of the library chart LIB among the dependencies of
    /// the chart or of a chart above it (as Helm's defines of a library chart are seen by the
    /// charts that depend on it and their subcharts). A path leaving `templates/` is marked as
    /// outside.
    fn join(&self, name: &str, parent: &str) -> String {
        let Some(root) = self.roots.iter().find(|r| parent.starts_with(r.as_str())) else {
            return name.to_string();
        };
        let relative = name.starts_with("./") || name.starts_with("../");
        let base = if relative {
            parent.rsplit_once('/').map_or("", |(dir, _)| dir)
        } else {
            root.trim_end_matches('/')
        };
        let joined = normalise(base, name);
        let inside = !name.starts_with('/') && joined.starts_with(root.as_str());
        if inside && (relative || self.templates.contains(&joined)) {
            return joined;
        }
        if !relative && let Some((library, rest)) = name.split_once('/') {
            let mut chart = root.trim_end_matches('/').trim_end_matches("/templates");
            loop {
                let candidate = format!("{chart}/charts/{library}");
                if self.libraries.contains(&candidate) {
                    let lib_root = format!("{candidate}/templates/");
                    let joined = normalise(lib_root.trim_end_matches('/'), rest);
                    if joined.starts_with(&lib_root) {
                        return joined;
                    }
                    return format!("{OUTSIDE}{name}");
                }
                match chart.rsplit_once("/charts/") {
                    Some((above, _)) => chart = above,
                    None => break,
                }
            }
        }
        if inside {
            joined
        } else {
            format!("{OUTSIDE}{name}")
        }
    }
}

/// `base/name` with `.` and `..` parts applied.
fn normalise(base: &str, name: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').collect();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// A writer that refuses to grow past [`MAX_OUTPUT`].
struct Capped(Vec<u8>);

impl Write for Capped {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + bytes.len() > MAX_OUTPUT {
            return Err(std::io::Error::other(format!(
                "the output is larger than {MAX_OUTPUT} bytes"
            )));
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn render_one(
    env: &Environment<'_>,
    name: &str,
    context: Value,
) -> std::result::Result<String, minijinja::Error> {
    let template = env.get_template(name)?;
    let mut out = Capped(Vec::with_capacity(64 * 1024));
    template
        .render_captured_to(context, &mut out)
        .map_err(|e| match e.kind() {
            // The cap is hit in the writer, outside any template line: name the template.
            ErrorKind::WriteFailure => minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("`{name}` writes more than {MAX_OUTPUT} bytes, the limit of one template's output"),
            ),
            _ => e,
        })?;
    String::from_utf8(out.0)
        .map_err(|_| minijinja::Error::new(ErrorKind::InvalidOperation, "the output is not UTF-8"))
}

/// Turns a minijinja error into a message naming the file and line, with the line's text.
fn template_error(err: &minijinja::Error, display: &HashMap<String, String>) -> Error {
    let mut innermost = err;
    while let Some(next) =
        std::error::Error::source(innermost).and_then(|s| s.downcast_ref::<minijinja::Error>())
    {
        innermost = next;
    }
    let at = innermost
        .name()
        .or(err.name())
        .map(|n| display.get(n).map_or(n, String::as_str));
    let line = innermost.line().or(err.line());
    let location = match (at, line) {
        (Some(at), Some(line)) => format!("`{at}:{line}`"),
        (Some(at), None) => format!("`{at}`"),
        _ => "a template".into(),
    };
    let refused = std::error::Error::source(innermost)
        .is_some_and(|s| s.downcast_ref::<super::filters::Refusal>().is_some());
    if refused {
        // The chart's declared invariant, broken by the values: a finding about them (exit 1).
        let detail = innermost.detail().unwrap_or("a required value is missing");
        return Error::validation(format!(
            "the chart refuses these values ({location}): {detail}"
        ));
    }
    let problem = match (innermost.kind(), innermost.detail()) {
        (ErrorKind::UndefinedError, detail) => format!(
            "undefined value{}; check the spelling of the value, or test it with `is defined` or `| default(...)`",
            detail.map(|d| format!(" ({d})")).unwrap_or_default()
        ),
        (ErrorKind::OutOfFuel, _) => {
            "the template ran too long (a runaway loop?) and was stopped".into()
        }
        (kind, Some(detail)) => format!("{kind}: {detail}"),
        (kind, None) => kind.to_string(),
    };
    let mut message = format!("{location}: {problem}");
    if let (Some(source), Some(line)) = (innermost.template_source(), line)
        && let Some(text) = source.lines().nth(line.saturating_sub(1))
    {
        let text = crate::error::shorten(text.trim_end(), crate::yaml::parse::MAX_QUOTED);
        message.push_str(&format!("\n  {line} | {text}"));
    }
    Error::input(message)
}

#[cfg(test)]
mod tests {
    use super::{OUTSIDE, Tree};

    fn tree(templates: &[&str], libraries: &[&str]) -> Tree {
        let mut roots: Vec<String> = templates
            .iter()
            .map(|t| format!("{}/", t.rsplit_once("/templates/").unwrap().0) + "templates/")
            .collect();
        roots.sort_by_key(|r| std::cmp::Reverse(r.len()));
        roots.dedup();
        Tree {
            roots,
            libraries: libraries.iter().map(|l| l.to_string()).collect(),
            templates: templates.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn includes_stay_in_templates() {
        let tree = tree(&["c/templates/_h.j2", "c/charts/s/templates/_h.j2"], &[]);
        let join = |name, parent| tree.join(name, parent);
        assert_eq!(join("_h.j2", "c/templates/a/x.yaml"), "c/templates/_h.j2");
        assert_eq!(
            join("./_h.j2", "c/templates/a/x.yaml"),
            "c/templates/a/_h.j2"
        );
        assert_eq!(
            join("_h.j2", "c/charts/s/templates/x.yaml"),
            "c/charts/s/templates/_h.j2"
        );
        assert!(join("../../Chart.yaml", "c/templates/x.yaml").starts_with(OUTSIDE));
        assert!(join("../../../templates/x", "c/charts/s/templates/x.yaml").starts_with(OUTSIDE));
        assert!(join("/etc/passwd", "c/templates/x.yaml").starts_with(OUTSIDE));
    }

    #[test]
    fn library_charts_are_reached_by_name() {
        let tree = tree(
            &[
                "c/templates/x.yaml",
                "c/templates/lib/own.j2",
                "c/charts/lib/templates/_names.j2",
                "c/charts/s/templates/x.yaml",
                "c/charts/app/templates/_h.j2",
            ],
            &["c/charts/lib"],
        );
        let join = |name, parent| tree.join(name, parent);
        // From the chart that depends on the library, and from a subchart below it.
        assert_eq!(
            join("lib/_names.j2", "c/templates/x.yaml"),
            "c/charts/lib/templates/_names.j2"
        );
        assert_eq!(
            join("lib/_names.j2", "c/charts/s/templates/x.yaml"),
            "c/charts/lib/templates/_names.j2"
        );
        // The chart's own template of that path comes first.
        assert_eq!(
            join("lib/own.j2", "c/templates/x.yaml"),
            "c/templates/lib/own.j2"
        );
        // Only library charts are reached, and never outside their templates.
        assert!(join("app/_h.j2", "c/templates/x.yaml").starts_with("c/templates/"));
        assert!(join("lib/../../Chart.yaml", "c/templates/x.yaml").starts_with(OUTSIDE));
    }
}
