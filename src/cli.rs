//! The command line: commands and their arguments (doc comments are the `--help` text).

use clap::{Parser, Subcommand};

use crate::commands::template::TemplateArgs;

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
    /// Render a chart's manifests locally (like `helm template`).
    Template(TemplateArgs),
}
