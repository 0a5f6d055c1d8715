//! `aether-chart lint`: render a chart and report every finding of the validator.

use crate::commands::template::RenderArgs;
use crate::error::Result;
use crate::release;
use crate::validate::report;

/// How findings are printed.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// One block per finding, for people.
    Text,
    /// A JSON array, for scripts.
    Json,
    /// SARIF 2.1.0, for code-scanning UIs.
    Sarif,
}

/// Arguments of `lint`.
#[derive(Debug, Clone, clap::Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub render: RenderArgs,
    /// Warnings fail too (exit 1).
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Runs `lint`: 0 when clean, 1 when an error (or, with --strict, a warning) is found.
pub fn run(args: &LintArgs) -> Result<u8> {
    let arenas = crate::render::manifest::Arenas::default();
    let mut release = release::render(args.render.settings()?, &arenas)?;
    let manifests = release.manifests()?;
    let findings = release.validate(&manifests, args.strict)?;
    let clean = || format!("{}: no findings\n", release.prepared.chart.name());
    crate::out!("{}", printed(&findings, args.format, clean));
    Ok(u8::from(report::failing(&findings)))
}

/// The findings in `format`; `clean` is the text when there are none.
pub(crate) fn printed(
    findings: &[crate::validate::Finding],
    format: Format,
    clean: impl FnOnce() -> String,
) -> String {
    match format {
        Format::Text => {
            let text = report::text(findings);
            if text.is_empty() { clean() } else { text }
        }
        Format::Json => report::json(findings) + "\n",
        Format::Sarif => report::sarif(findings) + "\n",
    }
}
