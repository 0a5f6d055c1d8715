//! `aether-chart package`: a reproducible `<name>-<version>.tgz` of a chart directory.

use std::path::PathBuf;

use crate::chart::Limits;
use crate::chart::package::{Overrides, mtime_from_env, package};
use crate::error::Result;

/// Arguments of `package`.
#[derive(Debug, Clone, clap::Args)]
pub struct PackageArgs {
    /// The chart directory (default `.`).
    #[arg(value_name = "CHART", default_value = ".")]
    pub chart: PathBuf,
    /// Where to write the archive (default: the current directory).
    #[arg(
        short = 'd',
        long = "destination",
        value_name = "DIR",
        default_value = "."
    )]
    pub destination: PathBuf,
    /// Package under this version instead of Chart.yaml's (SemVer 2).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Package with this appVersion instead of Chart.yaml's.
    #[arg(long, value_name = "VERSION")]
    pub app_version: Option<String>,
    /// Run `dependency update` first.
    #[arg(short = 'u', long)]
    pub dependency_update: bool,
    #[command(flatten)]
    pub tls: crate::cli::RemoteArgs,
}

/// Runs `package`.
pub fn run(args: &PackageArgs) -> Result<u8> {
    if args.dependency_update {
        let options = crate::chart::lock::Options {
            tls: &args.tls.connection(),
            limits: Limits::default(),
        };
        crate::chart::lock::update(&args.chart, &options)?;
    }
    let overrides = Overrides {
        version: args.version.clone(),
        app_version: args.app_version.clone(),
    };
    let packaged = package(
        &args.chart,
        &overrides,
        Limits::default(),
        mtime_from_env()?,
    )?;
    let path = crate::fs::write_into(
        &args.destination,
        &packaged.file_name(),
        &packaged.bytes,
        crate::fs::SHARED,
    )?;
    crate::outln!(
        "Successfully packaged chart and saved it to: {}",
        path.display()
    );
    Ok(0)
}
