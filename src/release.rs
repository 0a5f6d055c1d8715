//! The pipeline every rendering command shares: load the chart, layer the values, render,
//! parse and validate. Commands turn their arguments into [`Settings`], call [`render`] and
//! print what the [`Release`] holds.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use crate::chart::{self, Chart, Limits, dependencies};
use crate::error::{Error, Result};
use crate::render::{self, Capabilities, RenderOptions, manifest};
use crate::validate;
use crate::values::coalesce::{Warnings, coalesce};
use crate::values::provenance::{Place, Provenance};
use crate::values::{Map, Value, ValuesOptions, schema};
use crate::version::Constraint;

/// The Kubernetes version assumed when none is given (Helm 4.1.4's default).
pub const DEFAULT_KUBE_VERSION: &str = "1.35.0";

/// What a render is asked to do, resolved from a command's arguments.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The chart: a directory or a `.tgz`.
    pub chart: PathBuf,
    /// A chart fetched from a registry, a repository or a URL: its archive and where it came
    /// from; loaded instead of `chart`.
    pub archive: Option<(Vec<u8>, String)>,
    /// The release name; the chart's name when `None`.
    pub release_name: Option<String>,
    /// The release namespace.
    pub namespace: String,
    /// The Kubernetes version to render and validate for.
    pub kube_version: semver::Version,
    /// Extra API versions the cluster serves.
    pub api_versions: Vec<String>,
    /// Schemas of custom resources (`DIR/<group>/<kind>_<version>.json`).
    pub schema_dir: Option<PathBuf>,
    /// The chart's size limits.
    pub limits: Limits,
    /// The values layers above the chart's own.
    pub values: ValuesOptions,
    /// Whether the render will be validated (schema work then starts alongside parsing).
    pub validate: bool,
    /// Whether the files of the charts' `crds/` folders join the output, before everything else
    /// (Helm's `--include-crds`).
    pub include_crds: bool,
    /// Render as an upgrade rather than an install (`release.is_upgrade`).
    pub is_upgrade: bool,
}

/// The chart with its dependencies processed and the values its templates see.
pub struct Prepared {
    /// The processed chart.
    pub chart: Chart,
    /// The coalesced values of the whole tree.
    pub values: Map,
    /// Warnings from coalescing, for stderr.
    pub warnings: Warnings,
    /// Each `-f` file's name and text, in order (for values provenance).
    pub values_files: Vec<(String, String)>,
}

/// Loads the chart at `path` and layers the values (see [`prepare`]), checking them against
/// no schema yet.
pub fn prepare_unchecked(
    path: &std::path::Path,
    options: &ValuesOptions,
    limits: Limits,
    kube: &semver::Version,
) -> Result<Prepared> {
    prepare_chart(chart::load(path, limits)?, options, kube)
}

/// Loads the chart at `path`, or from `archive` (a fetched chart's bytes and where it came
/// from) when there is one.
pub fn load_chart(
    path: &std::path::Path,
    archive: Option<&(Vec<u8>, String)>,
    limits: Limits,
) -> Result<chart::Chart> {
    match archive {
        Some((bytes, label)) => chart::loader::load_archive(bytes, &format!("{label}:"), limits),
        None => chart::load(path, limits),
    }
}

/// Layers the values over an already loaded chart (see [`prepare_unchecked`]).
pub fn prepare_chart(
    chart: chart::Chart,
    options: &ValuesOptions,
    kube: &semver::Version,
) -> Result<Prepared> {
    prepare_layered(chart, || options.merge_keeping_files(), kube)
}

/// [`prepare_chart`] with the user's layers read by `layers` (once the chart passed its own
/// checks, so that those are reported first).
fn prepare_layered(
    mut chart: chart::Chart,
    layers: impl FnOnce() -> Result<(Map, Vec<(String, String)>)>,
    kube: &semver::Version,
) -> Result<Prepared> {
    if chart.metadata.is_library() {
        return Err(Error::input(format!(
            "`{}` is a library chart; library charts have no manifests of their own, render a chart that depends on it",
            chart.name()
        )));
    }
    if !chart.metadata.kube_version.is_empty() {
        let constraint = Constraint::parse(&chart.metadata.kube_version).map_err(Error::input)?;
        if !constraint.matches(&crate::version::kube_core(kube)) {
            return Err(Error::input(format!(
                "chart `{}` requires kubeVersion `{constraint}`, which Kubernetes v{kube} does not satisfy; pass --kube-version",
                chart.name()
            )));
        }
    }
    dependencies::check_present(&chart)?;
    let (user, values_files) = layers()?;
    let mut warnings = Warnings::new();
    dependencies::process(&mut chart, &user, &mut warnings)?;
    let mut values = user;
    coalesce(&chart, &mut values, false, &mut warnings)?;
    Ok(Prepared {
        chart,
        values,
        warnings,
        values_files,
    })
}

/// Loads the chart, processes its dependencies, layers and coalesces the values, and checks
/// them against the charts' values.schema.json files.
pub fn prepare(
    path: &std::path::Path,
    options: &ValuesOptions,
    limits: Limits,
    kube: &semver::Version,
) -> Result<Prepared> {
    let prepared = prepare_unchecked(path, options, limits, kube)?;
    check_values(&prepared, options)?;
    Ok(prepared)
}

/// Checks the values against the charts' values.schema.json files; a violation names the
/// layer that set the value.
pub fn check_values(prepared: &Prepared, options: &ValuesOptions) -> Result<()> {
    check_parsed_values(prepared, options, &ValueSchemas::default())
}

/// [`check_values`] with some schemas parsed already.
fn check_parsed_values(
    prepared: &Prepared,
    options: &ValuesOptions,
    parsed: &ValueSchemas,
) -> Result<()> {
    let mut violations = Vec::new();
    check_schemas(
        &prepared.chart,
        &prepared.values,
        "",
        parsed,
        &mut violations,
    )?;
    if violations.is_empty() {
        return Ok(());
    }
    let provenance = Provenance::build(&prepared.chart, &prepared.values_files, options);
    Err(Error::validation(describe_violations(
        &violations,
        &provenance,
    )))
}

/// Checks each chart's values.schema.json against the values it sees; `prefix` is where the
/// chart's values sit in the whole tree (`world-server.` for a subchart).
fn check_schemas(
    chart: &Chart,
    values: &Map,
    prefix: &str,
    parsed: &ValueSchemas,
    out: &mut Vec<(String, schema::Violation)>,
) -> Result<()> {
    if let Some(schema) = &chart.schema {
        let found = match parsed.0.get(&chart.origin) {
            Some(ready) => schema::check_parsed(ready, values, &chart.origin)?,
            None => schema::check(schema, values, &chart.origin)?,
        };
        out.extend(found.into_iter().map(|v| (prefix.to_string(), v)));
    }
    let none = Map::new();
    for sub in &chart.dependencies {
        let scoped = match values.get(sub.name()) {
            Some(Value::Map(map)) => map,
            _ => &none,
        };
        check_schemas(
            sub,
            scoped,
            &format!("{prefix}{}.", sub.name()),
            parsed,
            out,
        )?;
    }
    Ok(())
}

/// The values.schema.json files of a chart tree parsed ahead of the values they check, by the
/// folder of their chart (`charts/world-server/`), which processing the dependencies leaves
/// as it is. A schema that is no JSON is left out: the check parses it again and says where,
/// at its turn.
#[derive(Default)]
struct ValueSchemas(std::collections::HashMap<String, serde_json::Value>);

impl ValueSchemas {
    /// The schema files of `chart` and of every subchart it holds, to parse while the chart
    /// is processed.
    fn sources(chart: &Chart) -> Vec<(String, Vec<u8>)> {
        let mut sources = Vec::new();
        let mut charts = vec![chart];
        while let Some(chart) = charts.pop() {
            if let Some(schema) = &chart.schema {
                sources.push((chart.origin.clone(), schema.clone()));
            }
            charts.extend(&chart.dependencies);
        }
        sources
    }

    /// Parses each of `sources` that parses.
    fn parse(sources: &[(String, Vec<u8>)]) -> ValueSchemas {
        ValueSchemas(
            sources
                .iter()
                .filter_map(|(origin, schema)| {
                    Some((origin.clone(), schema::parse(schema, origin).ok()?))
                })
                .collect(),
        )
    }
}

/// The schema violations, each with the layer that set the offending value (file and line, or
/// the flag) and what to do.
fn describe_violations(
    violations: &[(String, schema::Violation)],
    provenance: &Provenance,
) -> String {
    let mut files: Vec<&str> = violations.iter().map(|(_, v)| v.file.as_str()).collect();
    files.dedup();
    let mut text = format!("the values do not match `{}`:", files.join("`, `"));
    for (prefix, violation) in violations {
        let at = match (violation.path.is_empty(), prefix.as_str()) {
            (true, "") => "(root)".to_string(),
            (true, prefix) => prefix.trim_end_matches('.').to_string(),
            (false, prefix) => format!("{prefix}{}", violation.path.join(".")),
        };
        text.push_str(&format!("\n  - {at}: {}", violation.problem));
        if let Some(reason) = &violation.reason {
            text.push_str(&format!(" ({reason})"));
        }
        text.push_str(&violation_origin(prefix, violation, provenance));
    }
    text.push_str("\nchange the values at the places named above");
    text
}

/// A chart's refusal of its values (`fail`, `required`) with where each value it names was
/// set (`secrets.create`, `api.proxy.gracefulShutdownTimeoutSecs`); other errors as they are.
fn name_the_values(error: Error, prepared: &Prepared, options: &ValuesOptions) -> Error {
    if error.kind() != crate::error::ErrorKind::Validation {
        return error;
    }
    let message = error.to_string();
    let provenance = Provenance::build(&prepared.chart, &prepared.values_files, options);
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    // The chart's words, after the template's place.
    let detail = message
        .split_once("): ")
        .map_or(message.as_str(), |(_, d)| d);
    let mut named: Vec<String> = Vec::new();
    for word in detail.split(|c: char| !is_key_char(c)) {
        let word = word.trim_matches('.');
        // Only words that start like a values key (`example.com` in a message is not one).
        let top = word.split('.').next().unwrap_or_default();
        let is_key = prepared.values.contains_key(top);
        if word.contains('.') && is_key && !named.iter().any(|n| n == word) {
            named.push(word.to_string());
        }
    }
    let mut lines = String::new();
    for key in &named {
        match provenance.describe(key) {
            Some(described) => lines.push_str(&format!("\n  = set at {described}")),
            None if provenance.keys().any(|k| k.starts_with(&format!("{key}."))) => {}
            None => lines.push_str(&format!("\n  = `{key}` is set by no values file or flag")),
        }
    }
    if lines.is_empty() {
        return error;
    }
    Error::validation(format!(
        "{message}{lines}\nchange the values at the places named above"
    ))
}

/// Where the value behind one violation was set, and what to do, as lines to print under it.
fn violation_origin(
    prefix: &str,
    violation: &schema::Violation,
    provenance: &Provenance,
) -> String {
    let table = format!("{prefix}{}", violation.path.join("."));
    let table = table.trim_end_matches('.');
    let member = |name: &str| match table {
        "" => name.to_string(),
        table => format!("{table}.{name}"),
    };
    // A complaint about members of a table: where each unexpected one was set, or where a
    // missing one was deleted (a null, a mis-indented key).
    if !violation.members.is_empty() {
        let mut text = String::new();
        for name in &violation.members {
            let key = member(name);
            match (provenance.describe(&key), violation.missing) {
                (Some(described), false) => text.push_str(&format!(
                    "\n    `{key}` is set at {described}; remove it, or check its spelling and \
                     indentation"
                )),
                (Some(described), true) => text.push_str(&format!(
                    "\n    deleted at {described}; give `{key}` a value there, or remove the null"
                )),
                (None, true) => match set_above(prefix, &violation.path, provenance) {
                    // An item of a list a layer set whole, or a table it set without it.
                    Some((described, _)) => text.push_str(&format!(
                        "\n    set at {described}, without `{name}`; add it there"
                    )),
                    None => text.push_str(&format!(
                        "\n    no values file or flag sets `{key}`: add it to one"
                    )),
                },
                (None, false) => text.push_str(&format!(
                    "\n    no values file or flag sets `{key}`; remove it where it is set"
                )),
            }
        }
        return text;
    }
    let Some((described, place)) = set_above(prefix, &violation.path, provenance) else {
        return "\n    no values file or flag sets it: add it to one".into();
    };
    let mut text = format!("\n    set at {described}");
    if violation.wants_string {
        let hint = match &place {
            Place::Flag { flag, expr } if flag == "--set" => {
                format!("use `--set-string {expr}` to pass it as a string")
            }
            Place::Flag { .. } => "pass it as a string".to_string(),
            _ => "quote it in that file to make it a string".to_string(),
        };
        text.push_str(&format!("; {hint}"));
    }
    text
}

/// The layer that set `path` or, since lists are set whole by a layer, the nearest key above
/// it that a layer set: described, and its place.
fn set_above(prefix: &str, path: &[String], provenance: &Provenance) -> Option<(String, Place)> {
    (1..=path.len()).rev().find_map(|n| {
        let key = format!("{prefix}{}", path[..n].join("."));
        provenance.traced(&key).map(|t| (t.text, t.place))
    })
}

/// A rendered release: the prepared chart and every rendered file, its documents parsed (the
/// files and trees live in the caller's [`manifest::Arenas`]).
pub struct Release<'a> {
    /// The chart and its values.
    pub prepared: Prepared,
    /// Each template's parsed documents, until [`Release::manifests`] takes them.
    files: Vec<manifest::ParsedFile<'a>>,
    /// What was asked.
    pub settings: Settings,
    /// Schema work started alongside rendering and parsing, taken by [`Release::validate`].
    schemas: SchemaWork,
}

/// The schema work of a validated render: the schemas load while the first templates render,
/// and each kind is compiled as soon as a parsed file names it, by the core that parsed it.
/// When the other core is compiling, the kind waits for it (or, failing that, for the check
/// of the documents, which compiles what is missing).
#[derive(Default)]
struct SchemaWork {
    /// The loaded schemas with the kinds compiled so far; `None` until they are loaded, and
    /// for a render that is not validated.
    prepared: Mutex<Option<Result<validate::Prepared>>>,
    /// The kinds the parsed files name (lower-case `apiversion/kind`), and those of them not
    /// compiled yet.
    kinds: Mutex<(std::collections::HashSet<String>, Vec<String>)>,
}

impl SchemaWork {
    /// Notes the kinds `file` names and compiles the new ones.
    fn offer(&self, file: &manifest::ParsedFile<'_>) {
        let mut new = false;
        {
            let mut kinds = lock(&self.kinds);
            let (named, waiting) = &mut *kinds;
            for key in file.kinds() {
                if named.insert(key.clone()) {
                    waiting.push(key);
                    new = true;
                }
            }
        }
        if new {
            self.compile_waiting();
        }
    }

    /// Compiles the kinds waiting, unless the schemas are not loaded yet or the other core is
    /// compiling. Kinds still waiting at the end are compiled when the documents are checked.
    fn compile_waiting(&self) {
        let Ok(mut prepared) = self.prepared.try_lock() else {
            return;
        };
        let Some(Ok(schemas)) = prepared.as_mut() else {
            return;
        };
        let failed = loop {
            let keys = std::mem::take(&mut lock(&self.kinds).1);
            if keys.is_empty() {
                break None;
            }
            if let Err(e) = schemas.extend(&keys) {
                break Some(e);
            }
        };
        if let Some(e) = failed {
            *prepared = Some(Err(e));
        }
    }
}

/// The mutex's contents, also after a panic elsewhere (none of ours is left half-changed).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Loads, layers and renders (coalescing warnings go to stderr), parsing each file's documents
/// into `arenas` as soon as the file is rendered, while later templates still render. The
/// values are checked against the charts' values.schema.json files meanwhile (an error there
/// wins), and for a validated render the Kubernetes schemas load too.
pub fn render(settings: Settings, arenas: &manifest::Arenas) -> Result<Release<'_>> {
    // The user's values files are read while the chart loads.
    let (chart, layers) = rayon::join(
        || load_chart(&settings.chart, settings.archive.as_ref(), settings.limits),
        || settings.values.merge_keeping_files(),
    );
    let chart = chart?;
    // The values schemas are parsed on the other core while the dependencies are processed
    // and the values coalesced; the values check takes them then, or parses them itself if
    // that core has not come to it.
    let sources = ValueSchemas::sources(&chart);
    let value_schemas = OnceLock::new();
    let parsed = || value_schemas.get_or_init(|| ValueSchemas::parse(&sources));
    let release = rayon::in_place_scope(|scope| {
        scope.spawn(|_| {
            parsed();
        });
        let prepared = prepare_layered(chart, || layers, &settings.kube_version)?;
        render_prepared(settings, arenas, prepared, &parsed)
    });
    // Parsed schemas are taken apart node by node; their memory is left to the exit.
    std::mem::forget(value_schemas);
    release
}

/// The render of [`render`] once the values are layered; `value_schemas` gives the parsed
/// values schemas.
fn render_prepared<'a, 's>(
    settings: Settings,
    arenas: &'a manifest::Arenas,
    prepared: Prepared,
    value_schemas: &(dyn Fn() -> &'s ValueSchemas + Sync),
) -> Result<Release<'a>> {
    let release_name = settings
        .release_name
        .clone()
        .unwrap_or_else(|| prepared.chart.name().to_string());
    let options = RenderOptions {
        release: render::Release {
            name: release_name.clone(),
            namespace: settings.namespace.clone(),
            is_upgrade: settings.is_upgrade,
        },
        capabilities: Capabilities {
            kube_version: settings.kube_version.clone(),
            extra_api_versions: settings.api_versions.clone(),
        },
    };
    let schemas = SchemaWork::default();
    let render = || {
        // The render is the longer: it starts at once, the values check where a core is free.
        let (files, checked) = rayon::join(
            || {
                render::render(&prepared.chart, &prepared.values, &options, |rendered| {
                    let spans = manifest::split_file(&rendered);
                    let parsed = manifest::parse_file(arenas.keep((rendered, spans)), arenas);
                    if settings.validate {
                        schemas.offer(&parsed);
                    }
                    parsed
                })
            },
            || check_parsed_values(&prepared, &settings.values, value_schemas()),
        );
        checked?;
        print_warnings(&prepared.warnings);
        check_release_name(&release_name, settings.release_name.is_none())?;
        let files = files.map_err(|e| name_the_values(e, &prepared, &settings.values))?;
        if !settings.include_crds {
            return Ok(files);
        }
        let mut with_crds: Vec<_> = crd_files(&prepared.chart)?
            .into_iter()
            .map(|file| manifest::parse_file(arenas.keep(file), arenas))
            .collect();
        with_crds.extend(files);
        Ok(with_crds)
    };
    let files = if settings.validate {
        let (files, ()) = rayon::join(render, || {
            let loaded = validate::load(&settings.kube_version, settings.schema_dir.as_deref())
                .and_then(|loaded| loaded.with_crds_of(&prepared.chart).compile(&[]));
            *lock(&schemas.prepared) = Some(loaded);
            schemas.compile_waiting();
        });
        files?
    } else {
        render()?
    };
    Ok(Release {
        prepared,
        files,
        settings,
        schemas,
    })
}

/// The files of the charts' `crds/` folders as rendered files: not templated, each split and
/// checked as a template's output is.
fn crd_files(chart: &crate::chart::Chart) -> Result<Vec<(render::Rendered, Vec<manifest::Span>)>> {
    crate::chart::crds::files(chart)
        .into_iter()
        .map(|(source, file)| {
            let shown = format!("{}{}", origin_of(chart, &source), file.name);
            let text = crate::error::utf8(&file.data, &shown)?.to_string();
            crate::yaml::guard::check_flow_nesting(&text).map_err(|line| {
                Error::input(format!("`{shown}:{line}`: brackets nest too deeply"))
            })?;
            let rendered = render::Rendered {
                source,
                file: shown,
                text,
            };
            let spans = manifest::split_file(&rendered);
            Ok((rendered, spans))
        })
        .collect()
}

/// Where a chart of the tree keeps its files, for messages, from a CRD file's source
/// (`aether/charts/sub/crds/a.yaml` is in `charts/sub/`).
fn origin_of(chart: &crate::chart::Chart, source: &str) -> String {
    let inside = source.split_once('/').map_or("", |(_, rest)| rest);
    let folder = inside.rsplit_once("crds/").map_or("", |(before, _)| before);
    format!("{}{folder}", chart.origin)
}

impl<'a> Release<'a> {
    /// The release's name: the one asked for, else the chart's.
    pub fn release_name(&self) -> &str {
        self.settings
            .release_name
            .as_deref()
            .unwrap_or_else(|| self.prepared.chart.name())
    }

    /// The rendered manifests (each document parsed once, while the render ran), checked and
    /// in install order; documents that are not manifests and duplicates are one error
    /// listing them all. The parsed files move into the list: this is asked once.
    pub fn manifests(&mut self) -> Result<Vec<manifest::Manifest<'a>>> {
        let files = std::mem::take(&mut self.files);
        let this = &*self;
        let trace = |c| this.trace(c);
        let namespace = &this.settings.namespace;
        // Both cores: kinds still waiting compile while the documents are put in order.
        let (parsed, ()) = rayon::join(
            || manifest::assemble(files, namespace, &trace),
            || this.schemas.compile_waiting(),
        );
        manifest::checked(parsed)
    }

    /// The validator's findings on `manifests`, after the chart's settings and `strict`.
    pub fn validate(
        &self,
        manifests: &[manifest::Manifest<'_>],
        strict: bool,
    ) -> Result<Vec<validate::Finding>> {
        let input = validate::Input {
            chart: &self.prepared.chart,
            values_files: &self.prepared.values_files,
            values: &self.prepared.values,
            options: &self.settings.values,
            kube_version: &self.settings.kube_version,
            schema_dir: self.settings.schema_dir.as_deref(),
            strict,
            namespace: &self.settings.namespace,
        };
        let prepared = lock(&self.schemas.prepared).take().transpose()?;
        validate::check(&input, manifests, prepared)
    }

    /// Where the character `c` of the output came from: the first value that holds it, with
    /// the layer that set it (for a rendered character YAML forbids).
    pub fn trace(&self, c: char) -> Option<String> {
        let key = holding(&self.prepared.values, "", c)?;
        let provenance = Provenance::build(
            &self.prepared.chart,
            &self.prepared.values_files,
            &self.settings.values,
        );
        let place = provenance
            .describe(&key)
            .unwrap_or_else(|| format!("the value `{key}`"));
        // The layer's text may hold the character itself: never print it raw.
        Some(
            place
                .chars()
                .map(|c| match c {
                    c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {
                        format!("\\u{{{:x}}}", c as u32)
                    }
                    c => c.to_string(),
                })
                .collect(),
        )
    }
}

/// The dotted key of the first string value under `map` that holds `c`.
fn holding(map: &Map, prefix: &str, c: char) -> Option<String> {
    map.iter().find_map(|(key, value)| {
        let path = format!("{prefix}{key}");
        match value {
            Value::String(s) if s.contains(c) => Some(path),
            Value::Map(inner) => holding(inner, &format!("{path}."), c),
            Value::List(items) => items.iter().enumerate().find_map(|(i, item)| match item {
                Value::String(s) if s.contains(c) => Some(format!("{path}[{i}]")),
                Value::Map(inner) => holding(inner, &format!("{path}[{i}]."), c),
                _ => None,
            }),
            _ => None,
        }
    })
}

fn print_warnings(warnings: &Warnings) {
    let mut seen = std::collections::BTreeSet::new();
    for warning in warnings {
        if seen.insert(warning) {
            eprintln!("warning: {warning}");
        }
    }
}

/// Helm's release-name rule: a DNS-1123 subdomain of at most 53 characters.
fn check_release_name(name: &str, defaulted: bool) -> Result<()> {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if name.len() <= 53 && name.split('.').all(label_ok) {
        return Ok(());
    }
    let hint = if defaulted {
        "; the chart's name is used by default, so pass a release NAME"
    } else {
        ""
    };
    Err(Error::usage(format!(
        "release name `{name}` is invalid: use at most 53 lowercase letters, digits, `-` and `.`{hint}"
    )))
}
