//! `aether-chart template`: render a chart's manifests locally, as `helm template` does.

use std::io::Write;
use std::path::PathBuf;

use crate::chart::dependencies;
use crate::chart::glob::Pattern;
use crate::chart::{self, Chart, Limits};
use crate::error::{Error, Result};
use crate::render::{self, Capabilities, Release, RenderOptions, manifest};
use crate::validate;
use crate::values::coalesce::{Warnings, coalesce};
use crate::values::{Map, Value, ValuesOptions, schema};
use crate::version::{Constraint, parse_lenient};

/// The Kubernetes version assumed when `--kube-version` is not given (Helm 4.1.4's default).
pub const DEFAULT_KUBE_VERSION: &str = "1.35.0";

/// The arguments of every command that renders a chart (`template`, `lint`).
#[derive(Debug, Clone, clap::Args)]
pub struct RenderArgs {
    /// `[NAME] [CHART]`: one argument is the CHART (default `.`); the release name defaults to
    /// the chart's name.
    #[arg(value_name = "NAME|CHART", num_args = 0..=2)]
    pub positional: Vec<String>,
    #[command(flatten)]
    pub values: ValuesOptions,
    /// The release namespace.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// The Kubernetes version to render and validate for (capabilities.kube_version, Chart.yaml
    /// kubeVersion, the schemas).
    #[arg(long, value_name = "VERSION", default_value = DEFAULT_KUBE_VERSION)]
    pub kube_version: String,
    /// Extra API versions the cluster serves, for capabilities.api_versions (repeatable).
    #[arg(
        short = 'a',
        long = "api-versions",
        value_name = "GROUP/VERSION",
        value_delimiter = ','
    )]
    pub api_versions: Vec<String>,
    /// Schemas of custom resources, laid out as DIR/<group>/<kind>_<version>.json.
    #[arg(long, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
    /// The largest a chart may be, in bytes, all files together.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().total)]
    pub max_chart_size: u64,
    /// The largest one chart file may be, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().per_file)]
    pub max_file_size: u64,
}

/// Arguments of `template`.
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateArgs {
    #[command(flatten)]
    pub render: RenderArgs,
    /// Only show manifests rendered from these templates (e.g. templates/api.yaml; globs work).
    #[arg(short = 's', long = "show-only", value_name = "PATH")]
    pub show_only: Vec<String>,
    /// Write each template's manifests to <DIR>/<chart>/templates/<file> instead of stdout.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Leave out hook resources (those with a helm.sh/hook annotation).
    #[arg(long)]
    pub no_hooks: bool,
    /// Do not validate the rendered manifests (schemas, invariants, best practices).
    #[arg(long)]
    pub skip_validation: bool,
}

/// What the arguments resolve to.
pub struct Settings {
    chart: PathBuf,
    release_name: Option<String>,
    /// The Kubernetes version.
    pub kube_version: semver::Version,
    limits: Limits,
}

impl RenderArgs {
    /// Checks the arguments and resolves them into settings.
    pub fn resolve(&self) -> Result<Settings> {
        let (release_name, chart) = match self.positional.as_slice() {
            [] => (None, "."),
            [chart] => (None, chart.as_str()),
            [name, chart] => (Some(name.clone()), chart.as_str()),
            _ => {
                return Err(Error::usage(
                    "this command takes at most two arguments: [NAME] [CHART]",
                ));
            }
        };
        let kube_version = parse_lenient(&self.kube_version)
            .map_err(|e| Error::usage(format!("--kube-version: {e}")))?;
        Ok(Settings {
            chart: PathBuf::from(chart),
            release_name,
            kube_version,
            limits: Limits {
                total: self.max_chart_size,
                per_file: self.max_file_size,
            },
        })
    }
}

/// `--show-only` patterns, checked.
fn show_only_patterns(show_only: &[String]) -> Result<Vec<(String, Pattern)>> {
    show_only
        .iter()
        .map(|p| {
            let pattern = Pattern::new(&p.replace('\\', "/"), false)
                .map_err(|e| Error::usage(format!("--show-only: {e}")))?;
            Ok((p.clone(), pattern))
        })
        .collect()
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

/// Loads the chart at `path`, layers the values and checks them against every schema.
pub fn prepare(
    path: &std::path::Path,
    options: &ValuesOptions,
    limits: Limits,
    kube: &semver::Version,
) -> Result<Prepared> {
    let mut chart = chart::load(path, limits)?;
    if chart.metadata.is_library() {
        return Err(Error::input(format!(
            "`{}` is a library chart; library charts have no manifests of their own, render a chart that depends on it",
            chart.name()
        )));
    }
    if !chart.metadata.kube_version.is_empty() {
        let constraint = Constraint::parse(&chart.metadata.kube_version).map_err(Error::input)?;
        if !constraint.matches(kube) {
            return Err(Error::input(format!(
                "chart `{}` requires kubeVersion `{constraint}`, which Kubernetes v{kube} does not satisfy; pass --kube-version",
                chart.name()
            )));
        }
    }
    dependencies::check_present(&chart)?;
    let (user, values_files) = options.merge_keeping_files()?;
    let mut warnings = Warnings::new();
    dependencies::process(&mut chart, &user, &mut warnings)?;
    let mut values = user;
    coalesce(&chart, &mut values, false, &mut warnings)?;
    check_schemas(&chart, &values)?;
    Ok(Prepared {
        chart,
        values,
        warnings,
        values_files,
    })
}

/// Checks each chart's values.schema.json against the values it sees.
fn check_schemas(chart: &Chart, values: &Map) -> Result<()> {
    if let Some(schema) = &chart.schema {
        schema::check(schema, values, &chart.origin)?;
    }
    for sub in &chart.dependencies {
        let scoped = match values.get(sub.name()) {
            Some(Value::Map(map)) => map.clone(),
            _ => Map::new(),
        };
        check_schemas(sub, &scoped)?;
    }
    Ok(())
}

/// A rendered release: the prepared chart and every rendered, checked file.
pub struct RenderedRelease {
    /// The chart and its values.
    pub prepared: Prepared,
    /// Each template's output and its checked documents.
    pub files: Vec<(render::Rendered, Vec<manifest::Checked>)>,
    /// The resolved settings.
    pub settings: Settings,
}

impl RenderedRelease {
    /// Where the character `c` of the output came from: the first value that holds it, with
    /// the layer that set it (for a rendered character YAML forbids).
    pub fn trace(&self, options: &ValuesOptions, c: char) -> Option<String> {
        let key = holding(&self.prepared.values, "", c)?;
        let provenance = crate::values::provenance::Provenance::build(
            &self.prepared.chart,
            &self.prepared.values_files,
            options,
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

/// Loads, layers and renders: everything `template` and `lint` share.
pub fn render_release(args: &RenderArgs) -> Result<RenderedRelease> {
    let settings = args.resolve()?;
    let prepared = prepare(
        &settings.chart,
        &args.values,
        settings.limits,
        &settings.kube_version,
    )?;
    print_warnings(&prepared.warnings);
    let release_name = settings
        .release_name
        .clone()
        .unwrap_or_else(|| prepared.chart.name().to_string());
    check_release_name(&release_name, settings.release_name.is_none())?;
    let options = RenderOptions {
        release: Release {
            name: release_name,
            namespace: args.namespace.clone(),
        },
        capabilities: Capabilities {
            kube_version: settings.kube_version.clone(),
            extra_api_versions: args.api_versions.clone(),
        },
    };
    let files = render::render(
        &prepared.chart,
        &prepared.values,
        &options,
        manifest::check_file,
    )?;
    Ok(RenderedRelease {
        prepared,
        files,
        settings,
    })
}

/// Validates a rendered release; returns the findings after the chart's settings and `strict`.
pub fn validate_release(
    args: &RenderArgs,
    release: &RenderedRelease,
    manifests: &[manifest::Manifest<'_>],
    strict: bool,
) -> Result<Vec<validate::Finding>> {
    let input = validate::Input {
        chart: &release.prepared.chart,
        values_files: &release.prepared.values_files,
        values: &release.prepared.values,
        options: &args.values,
        kube_version: &release.settings.kube_version,
        schema_dir: args.schema_dir.as_deref(),
        strict,
        namespace: &args.namespace,
    };
    validate::check(&input, manifests)
}

/// Runs `template`; returns the exit code.
pub fn run(args: &TemplateArgs) -> Result<u8> {
    let show_only = show_only_patterns(&args.show_only)?;
    let release = render_release(&args.render)?;
    let trace = |c| release.trace(&args.render.values, c);
    let manifests = manifest::collect(&release.files, &args.render.namespace, &trace)?;
    let selected = select(&manifests, &show_only, args.no_hooks)?;
    if !args.skip_validation {
        let findings = validate_release(&args.render, &release, &manifests, false)?;
        eprint!(
            "{}",
            validate::report::text_from(&findings, validate::Severity::Warning)
        );
        if validate::report::failing(&findings) {
            return Ok(1);
        }
    }
    match &args.output_dir {
        Some(dir) => manifest::write_dir(&selected, dir)?,
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            let written = manifest::write_stream(&selected, &mut out).and_then(|()| out.flush());
            match written {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(Error::input(format!("cannot write to stdout: {e}"))),
                Ok(()) => {}
            }
        }
    }
    Ok(0)
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

/// Applies `--show-only` and `--no-hooks`.
fn select<'m, 'a>(
    manifests: &'m [manifest::Manifest<'a>],
    show_only: &[(String, Pattern)],
    no_hooks: bool,
) -> Result<Vec<&'m manifest::Manifest<'a>>> {
    let relative = |m: &manifest::Manifest<'_>| {
        m.source
            .split_once('/')
            .map_or(m.source, |(_, rest)| rest)
            .to_string()
    };
    let kept: Vec<&manifest::Manifest<'a>> =
        manifests.iter().filter(|m| !(no_hooks && m.hook)).collect();
    if show_only.is_empty() {
        return Ok(kept);
    }
    let mut selected = Vec::new();
    for (raw, pattern) in show_only {
        let before = selected.len();
        selected.extend(kept.iter().filter(|m| pattern.matches(&relative(m))));
        if selected.len() == before {
            return Err(Error::usage(format!(
                "--show-only `{raw}`: no manifest comes from that template; give a path such as templates/api.yaml"
            )));
        }
    }
    Ok(selected)
}
