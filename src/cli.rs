//! The command line: commands and their arguments (doc comments are the `--help` text).

use clap::{Parser, Subcommand};

use crate::commands::completions::CompletionsArgs;
use crate::commands::dependency::DependencyArgs;
use crate::commands::deploy::{RouteArgs, ScaleArgs};
use crate::commands::diff::DiffArgs;
use crate::commands::docs::DocsArgs;
use crate::commands::lint::LintArgs;
use crate::commands::oci::{PullArgs, PushArgs, RegistryArgs};
use crate::commands::package::PackageArgs;
use crate::commands::repo::RepoArgs;
use crate::commands::show::ShowArgs;
use crate::commands::template::TemplateArgs;
use crate::commands::values::ValuesArgs;

/// A Helm-style chart templating engine: Jinja templates, layered values, safe by construction.
#[derive(Debug, Parser)]
#[command(name = "aether-chart", version, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a chart's manifests locally (like `helm template`), validated.
    Template(TemplateArgs),
    /// Render a chart and report the validator's findings (text, JSON or SARIF).
    Lint(LintArgs),
    /// Print a chart's layered values, or with --explain where a key was set.
    Values(ValuesArgs),
    /// Package a chart directory into a reproducible <name>-<version>.tgz.
    Package(PackageArgs),
    /// Print a chart's Chart.yaml, values.yaml or README (directory or .tgz).
    Show(ShowArgs),
    /// Chart repositories: `repo index DIR` writes Helm's index.yaml.
    Repo(RepoArgs),
    /// Push a chart archive to an OCI registry (as `helm push` does).
    Push(PushArgs),
    /// Pull a chart from an OCI registry, every digest checked.
    Pull(PullArgs),
    /// Log in to or out of an OCI registry.
    Registry(RegistryArgs),
    /// A chart's dependencies: update (resolve and lock), build (from Chart.lock), list.
    Dependency(DependencyArgs),
    /// What the world-server autoscaler decides for a player count (or a CSV trace of them).
    Scale(ScaleArgs),
    /// Where the region router sends a player, with regions marked unhealthy.
    Route(RouteArgs),
    /// What changes between two renders (overlays), or a render and earlier output, by object.
    Diff(DiffArgs),
    /// Write docs/values.md: every value with its type, default, overlays and description.
    Docs(DocsArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the man page of aether-chart and its commands (roff).
    Man,
}
