//! `aether-chart repo index`: Helm's index.yaml for a folder of chart archives.

use std::path::PathBuf;

use crate::chart::repo;
use crate::error::Result;

/// Arguments of `repo`.
#[derive(Debug, Clone, clap::Args)]
pub struct RepoArgs {
    #[command(subcommand)]
    pub command: RepoCommand,
}

/// The `repo` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RepoCommand {
    /// Write DIR/index.yaml for the chart archives in DIR (and its direct subfolders).
    Index(IndexArgs),
}

/// Arguments of `repo index`.
#[derive(Debug, Clone, clap::Args)]
pub struct IndexArgs {
    /// The folder of .tgz archives.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The URL the folder is served at; each archive's URL is this plus its path.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// An existing index to add to; its entries win over archives of the same version.
    #[arg(long, value_name = "FILE")]
    pub merge: Option<PathBuf>,
}

/// Runs `repo`.
pub fn run(args: &RepoArgs) -> Result<u8> {
    match &args.command {
        RepoCommand::Index(index) => {
            let count = repo::index_directory(
                &index.dir,
                index.url.as_deref(),
                index.merge.as_deref(),
                &repo::now()?,
            )?;
            eprintln!(
                "Indexed {count} chart archive(s) into {}",
                index.dir.join("index.yaml").display()
            );
            Ok(0)
        }
    }
}
