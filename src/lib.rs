//! aether-chart: charts whose templates are Jinja (minijinja), rendered from layered values
//! files into Kubernetes manifests, with Helm's layering rules and layout.
//!
//! The flow follows Helm's: CLI flags -> values options -> chart loader -> dependency
//! processing -> coalesced values (+ values.schema.json) -> render every template -> split,
//! check and sort manifests -> stdout or `--output-dir`.

pub mod chart;
pub mod cli;
pub mod commands;
pub mod deploy;
pub mod error;
pub(crate) mod fs;
#[doc(hidden)]
pub mod fuzzing;
pub mod memory;
pub mod oci;
pub mod output;
pub mod release;
pub mod render;
pub mod validate;
pub mod values;
pub mod version;
pub mod yaml;

pub use error::{Error, Result};

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: cli::Cli) -> Result<u8> {
    match cli.command {
        cli::Command::Create(args) => commands::create::run(&args),
        cli::Command::Template(args) => commands::template::run(&args),
        cli::Command::Lint(args) => commands::lint::run(&args),
        cli::Command::Validate(args) => commands::validate::run(&args),
        cli::Command::Values(args) => commands::values::run(&args),
        cli::Command::Package(args) => commands::package::run(&args),
        cli::Command::Verify(args) => commands::verify::run(&args),
        cli::Command::Show(args) => commands::show::run(&args),
        cli::Command::Repo(args) => commands::repo::run(&args),
        cli::Command::Push(args) => commands::oci::push(&args),
        cli::Command::Pull(args) => commands::oci::pull(&args),
        cli::Command::Registry(args) => commands::oci::registry(&args),
        cli::Command::Dependency(args) => commands::dependency::run(&args),
        cli::Command::Scale(args) => commands::deploy::scale(&args),
        cli::Command::Route(args) => commands::deploy::route(&args),
        cli::Command::Diff(args) => commands::diff::run(&args),
        cli::Command::Docs(args) => commands::docs::run(&args),
        cli::Command::Argocd(args) => commands::argocd::run(&args),
        cli::Command::Completions(args) => commands::completions::completions(&args),
        cli::Command::Man => commands::completions::man(),
    }
}
