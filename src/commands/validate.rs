//! `aether-chart validate`: check manifests no chart of ours rendered (another tool's output,
//! a GitOps folder) against the Kubernetes schemas and every rule true of any workload.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::commands::lint::{Format, printed};
use crate::error::{Error, Result};
use crate::release::DEFAULT_KUBE_VERSION;
use crate::render::manifest;
use crate::validate::{self, report, stream};
use crate::version::parse_kube_version;

/// Arguments of `validate`.
#[derive(Debug, Clone, clap::Args)]
pub struct ValidateArgs {
    /// Manifest files, folders (walked for *.yaml, *.yml and *.json) or `-` for stdin.
    #[arg(value_name = "FILE|DIR|-", default_value = "-")]
    pub paths: Vec<String>,
    /// The Kubernetes version whose schemas apply.
    #[arg(long, value_name = "VERSION", default_value = DEFAULT_KUBE_VERSION)]
    pub kube_version: String,
    /// Schemas of custom resources, laid out as DIR/<group>/<kind>_<version>.json.
    #[arg(long, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
    /// The namespace of objects that name none.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Warnings fail too (exit 1).
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Runs `validate`: 0 when clean, 1 when an error (or, with --strict, a warning) is found.
pub fn run(args: &ValidateArgs) -> Result<u8> {
    let kube_version = parse_kube_version(&args.kube_version)
        .map_err(|e| Error::usage(format!("--kube-version: {e}")))?;
    let stdin = std::io::stdin();
    if args.paths.iter().any(|p| p == "-") && stdin.is_terminal() {
        return Err(Error::usage(
            "stdin is a terminal: pipe manifests in (`helm template ... | aether-chart validate \
             -`) or name files and folders",
        ));
    }
    let inputs = stream::read(&args.paths, stdin.lock())?;
    let arenas = manifest::Arenas::default();
    let parsed = manifest::parse_all(&inputs.files, &arenas, &args.namespace, &|_| None);
    let mut findings = stream::findings(&parsed, &inputs);
    findings.extend(validate::check_stream(
        &parsed.manifests,
        &kube_version,
        args.schema_dir.as_deref(),
        &args.namespace,
        args.strict,
    )?);
    if args.strict {
        for f in &mut findings {
            if f.severity == validate::Severity::Warning {
                f.severity = validate::Severity::Error;
            }
        }
    }
    let objects = parsed.manifests.len();
    let checked = format!(
        "{objects} object{} from {} input{} checked against Kubernetes {}.{}",
        if objects == 1 { "" } else { "s" },
        inputs.files.len(),
        if inputs.files.len() == 1 { "" } else { "s" },
        kube_version.major,
        kube_version.minor
    );
    let mut out = printed(&findings, args.format, || {
        format!("{checked}: no findings\n")
    });
    if matches!(args.format, Format::Text) && !findings.is_empty() {
        out.push_str(&checked);
        out.push('\n');
    }
    crate::out!("{out}");
    let failing = report::failing(&findings);
    std::mem::forget(parsed);
    Ok(u8::from(failing))
}
