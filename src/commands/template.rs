//! `aether-chart template`: render a chart's manifests locally, as `helm template` does.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::chart::Limits;
use crate::chart::glob::Pattern;
use crate::cli::ValuesArgs;
use crate::error::{Error, Result};
use crate::release::{self, DEFAULT_KUBE_VERSION, Settings};
use crate::render::manifest;
use crate::validate;
use crate::validate::doc::At;
use crate::version::parse_kube_version;

/// The arguments of every command that renders a chart (`template`, `lint`).
#[derive(Debug, Clone, clap::Args)]
pub struct RenderArgs {
    /// `[NAME] [CHART]`: one argument is the CHART (default `.`); the release name defaults to
    /// the chart's name.
    #[arg(value_name = "NAME|CHART", num_args = 0..=2)]
    pub positional: Vec<String>,
    /// Name the release `<chart>-<unix seconds>` (as `helm install -g`), instead of a NAME.
    #[arg(short = 'g', long, conflicts_with = "name_template")]
    pub generate_name: bool,
    /// Name the release by rendering this Jinja template, such as
    /// `web-{{ randAlphaNum(5) | lower }}` (randAlpha, randAlphaNum, randNumeric, now).
    #[arg(long, value_name = "TEMPLATE")]
    pub name_template: Option<String>,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// The release namespace.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    #[command(flatten)]
    pub source: crate::cli::ChartSourceArgs,
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
    /// With --output-dir: write under <DIR>/<release name>/ (Helm's --release-name).
    #[arg(long = "release-name", requires = "output_dir")]
    pub use_release_name: bool,
    /// Leave out hook resources (those with a helm.sh/hook annotation).
    #[arg(long)]
    pub no_hooks: bool,
    /// Print the files of the charts' crds/ folders first (not templated), as Helm does.
    #[arg(long)]
    pub include_crds: bool,
    /// Accepted for Helm's sake: `template` prints no CRDs unless --include-crds, which this
    /// does not change (as in Helm 4).
    #[arg(long)]
    pub skip_crds: bool,
    /// Leave out test hooks (`helm.sh/hook: test`).
    #[arg(long)]
    pub skip_tests: bool,
    /// Render as an upgrade: release.is_upgrade is true and release.is_install false.
    #[arg(long)]
    pub is_upgrade: bool,
    /// A program the rendered manifests go through: it reads them on stdin and prints the
    /// manifests to use on stdout, which are then checked and validated as `validate` does.
    #[arg(long, value_name = "PROGRAM", conflicts_with = "output_dir")]
    pub post_renderer: Option<PathBuf>,
    /// An argument for the post-renderer (repeatable, in order).
    #[arg(
        long,
        value_name = "ARG",
        requires = "post_renderer",
        allow_hyphen_values = true
    )]
    pub post_renderer_args: Vec<String>,
    /// Accepted for Helm's sake: the release description, which a render does not print.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Do not validate the rendered manifests (schemas, invariants, best practices).
    #[arg(long)]
    pub skip_validation: bool,
    /// Print only error-level findings (warnings are counted in the summary line).
    #[arg(short, long)]
    pub quiet: bool,
}

impl RenderArgs {
    /// Checks the arguments and resolves them into the pipeline's settings.
    pub fn settings(&self) -> Result<Settings> {
        let (release_name, chart) = self.name_and_chart()?;
        let kube_version = parse_kube_version(&self.kube_version)
            .map_err(|e| Error::usage(format!("--kube-version: {e}")))?;
        let limits = Limits {
            total: self.max_chart_size,
            per_file: self.max_file_size,
        };
        let archive = self.source.fetch(chart, limits)?;
        Ok(Settings {
            chart: PathBuf::from(chart),
            archive,
            release_name,
            namespace: self.namespace.clone(),
            kube_version,
            api_versions: self.api_versions.clone(),
            schema_dir: self.schema_dir.clone(),
            limits,
            values: self.values.options(),
            validate: true,
            include_crds: false,
            is_upgrade: false,
        })
    }
}

impl RenderArgs {
    /// The release name (`None`: the chart's name) and the chart, from the arguments and
    /// `--generate-name` / `--name-template` (Helm's rules: a NAME and either flag conflict).
    fn name_and_chart(&self) -> Result<(Option<String>, &str)> {
        let named = |flag: &str| {
            Error::usage(format!(
                "cannot set {flag} and also specify a name; drop NAME or the flag"
            ))
        };
        match self.positional.as_slice() {
            [name, chart] => match (self.generate_name, &self.name_template) {
                (true, _) => Err(named("--generate-name")),
                (_, Some(_)) => Err(named("--name-template")),
                _ => Ok((Some(name.clone()), chart.as_str())),
            },
            [] | [_] => {
                let chart = self.positional.first().map_or(".", String::as_str);
                let name = match &self.name_template {
                    Some(text) => Some(crate::render::name::from_template(text)?),
                    None if self.generate_name => Some(crate::render::name::generated(
                        chart,
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs()),
                    )),
                    None => None,
                };
                Ok((name, chart))
            }
            _ => Err(Error::usage(
                "this command takes at most two arguments: [NAME] [CHART]",
            )),
        }
    }
}

/// The most a post-renderer may print.
const MAX_POST_RENDERED: u64 = 512 << 20;

/// Runs the post-renderer: `manifests` on its stdin, its stdout returned; a failure says how it
/// ended (its own messages reach stderr as it writes them).
fn post_render(program: &Path, args: &[String], manifests: Vec<u8>) -> Result<Vec<u8>> {
    use std::process::{Command, Stdio};
    let shown = program.display();
    let mut command = Command::new(program);
    crate::memory::inherit_limit(&mut command);
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| Error::input(format!("cannot run the post-renderer `{shown}`: {e}")))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Written from another thread, so that a post-renderer printing as it reads never blocks.
    let writer = std::thread::spawn(move || {
        let written = stdin.write_all(&manifests);
        drop(stdin);
        written
    });
    let stdout = child.stdout.take().expect("stdout is piped");
    let read = crate::fs::read_bounded(stdout, "the post-renderer's output", MAX_POST_RENDERED);
    let status = child
        .wait()
        .map_err(|e| Error::input(format!("the post-renderer `{shown}`: {e}")))?;
    let written = writer.join().unwrap_or(Ok(()));
    if !status.success() {
        return Err(Error::input(format!(
            "the post-renderer `{shown}` failed ({status}); nothing is printed"
        )));
    }
    let output = read?;
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(Error::input(format!(
            "cannot give the manifests to the post-renderer `{shown}`: {e}"
        )));
    }
    Ok(output)
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

/// Runs `template`; returns the exit code.
pub fn run(args: &TemplateArgs) -> Result<u8> {
    let show_only = show_only_patterns(&args.show_only)?;
    let settings = Settings {
        validate: !args.skip_validation,
        include_crds: args.include_crds,
        is_upgrade: args.is_upgrade,
        ..args.render.settings()?
    };
    let arenas = crate::render::manifest::Arenas::default();
    let mut release = release::render(settings, &arenas)?;
    let manifests = release.manifests()?;
    let selected = select(&manifests, &show_only, args.no_hooks, args.skip_tests)?;
    if let Some(program) = &args.post_renderer {
        return post_rendered(args, &release, &selected, program);
    }
    if !args.skip_validation {
        let findings = release.validate(&manifests, false)?;
        if report(&findings, args.quiet) {
            return Ok(1);
        }
    }
    match &args.output_dir {
        Some(dir) if args.use_release_name => {
            manifest::write_dir(&selected, &dir.join(release.release_name()))?
        }
        Some(dir) => manifest::write_dir(&selected, dir)?,
        None => to_stdout(|out| manifest::write_stream(&selected, out))?,
    }
    // The process ends next: taking the documents, their trees and the chart apart would cost
    // more than the rest of the exit, so they are left to it.
    std::mem::forget(selected);
    std::mem::forget(manifests);
    std::mem::forget(release);
    std::mem::forget(arenas);
    Ok(0)
}

/// Prints the findings (warnings too unless `quiet`) to stderr; whether any fails the render.
fn report(findings: &[validate::Finding], quiet: bool) -> bool {
    let least = match quiet {
        true => validate::Severity::Error,
        false => validate::Severity::Warning,
    };
    eprint!("{}", validate::report::text_from(findings, least));
    validate::report::failing(findings)
}

/// Writes to stdout through a large buffer; a closed pipe ends the output quietly.
fn to_stdout(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::input(format!("cannot write to stdout: {e}"))),
        Ok(()) => Ok(()),
    }
}

/// `--post-renderer`: the selected manifests go through `program`, and what it prints is
/// checked and validated as `validate` checks a stream, then printed as it wrote it.
fn post_rendered(
    args: &TemplateArgs,
    release: &release::Release,
    selected: &[&manifest::Manifest<'_>],
    program: &Path,
) -> Result<u8> {
    let mut rendered = Vec::new();
    manifest::write_stream(selected, &mut rendered)
        .map_err(|e| Error::input(format!("cannot write the manifests: {e}")))?;
    let output = post_render(program, &args.post_renderer_args, rendered)?;
    if !args.skip_validation {
        let settings = &release.settings;
        let shown = format!("post-renderer {}", program.display());
        let inputs = validate::stream::from_text(&shown, output.clone())?;
        let arenas = manifest::Arenas::default();
        let parsed = manifest::parse_all(&inputs.files, &arenas, &settings.namespace, &|_| None);
        let mut findings = validate::stream::findings(&parsed, &inputs);
        findings.extend(validate::check_stream(
            &parsed.manifests,
            &settings.kube_version,
            settings.schema_dir.as_deref(),
            &settings.namespace,
            false,
        )?);
        if report(&findings, args.quiet) {
            return Ok(1);
        }
    }
    to_stdout(|out| out.write_all(&output))?;
    Ok(0)
}

/// Whether a manifest is a test hook (`helm.sh/hook: test`, or the older `test-success`).
fn is_test(m: &manifest::Manifest<'_>) -> bool {
    m.hook
        && m.json
            .at(&["metadata", "annotations", "helm.sh/hook"])
            .and_then(|v| v.as_str())
            .is_some_and(|hooks| {
                hooks
                    .split(',')
                    .any(|h| matches!(h.trim(), "test" | "test-success"))
            })
}

/// Applies `--show-only`, `--no-hooks` and `--skip-tests`.
fn select<'m, 'a>(
    manifests: &'m [manifest::Manifest<'a>],
    show_only: &[(String, Pattern)],
    no_hooks: bool,
    skip_tests: bool,
) -> Result<Vec<&'m manifest::Manifest<'a>>> {
    let relative = |m: &manifest::Manifest<'_>| {
        m.source
            .split_once('/')
            .map_or(m.source, |(_, rest)| rest)
            .to_string()
    };
    let kept: Vec<&manifest::Manifest<'a>> = manifests
        .iter()
        .filter(|m| !(no_hooks && m.hook || skip_tests && is_test(m)))
        .collect();
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
