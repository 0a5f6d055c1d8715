//! `aether-chart dependency update|build|list`: a chart's dependencies, Chart.lock and charts/.

use std::path::PathBuf;

use crate::chart::Limits;
use crate::chart::lock::{self, Options};
use crate::cli::RemoteArgs;
use crate::error::Result;

/// Arguments of `dependency`.
#[derive(Debug, Clone, clap::Args)]
pub struct DependencyArgs {
    #[command(subcommand)]
    pub command: DependencyCommand,
}

/// The `dependency` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DependencyCommand {
    /// Resolve the ranges in Chart.yaml, fetch the archives into charts/ and write Chart.lock.
    Update(FetchArgs),
    /// Fetch exactly what Chart.lock names (refused when it no longer matches Chart.yaml).
    Build(FetchArgs),
    /// Show each dependency and whether charts/ holds it.
    List(ListArgs),
}

/// Arguments of `dependency update` and `dependency build`.
#[derive(Debug, Clone, clap::Args)]
pub struct FetchArgs {
    /// The chart directory (default `.`).
    #[arg(value_name = "CHART", default_value = ".")]
    pub chart: PathBuf,
    #[command(flatten)]
    pub tls: RemoteArgs,
}

/// Arguments of `dependency list`.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// The chart directory (default `.`).
    #[arg(value_name = "CHART", default_value = ".")]
    pub chart: PathBuf,
}

/// Runs `dependency`.
pub fn run(args: &DependencyArgs) -> Result<u8> {
    match &args.command {
        DependencyCommand::Update(fetch) | DependencyCommand::Build(fetch) => {
            let options = Options {
                tls: &fetch.tls.connection(),
                limits: Limits::default(),
            };
            let lock = if matches!(args.command, DependencyCommand::Update(_)) {
                lock::update(&fetch.chart, &options)?
            } else {
                lock::build(&fetch.chart, &options)?
            };
            for dep in &lock.dependencies {
                eprintln!(
                    "{} {} from {}",
                    dep.name,
                    dep.version,
                    lock::source(&dep.repository)
                );
            }
            Ok(0)
        }
        DependencyCommand::List(list) => {
            let rows = lock::list(&list.chart)?;
            let width = |f: fn(&lock::Status) -> &str, title: &str| {
                rows.iter()
                    .map(|r| f(r).len())
                    .max()
                    .unwrap_or(0)
                    .max(title.len())
            };
            let (n, v, r) = (
                width(|s| &s.name, "NAME"),
                width(|s| &s.version, "VERSION"),
                width(|s| &s.repository, "REPOSITORY"),
            );
            crate::outln!(
                "{:n$}  {:v$}  {:r$}  STATUS",
                "NAME",
                "VERSION",
                "REPOSITORY"
            );
            for row in &rows {
                crate::outln!(
                    "{:n$}  {:v$}  {:r$}  {}",
                    row.name,
                    row.version,
                    row.repository,
                    row.status
                );
            }
            Ok(0)
        }
    }
}
