//! `aether-chart show chart|values|readme|all CHART`: a chart's own files, from a directory or
//! a `.tgz`, without rendering anything.

use std::path::PathBuf;

use crate::chart::{File, Limits, loader};
use crate::error::{Error, Result};

/// What `show` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Chart.yaml.
    Chart,
    /// values.yaml.
    Values,
    /// The README (README.md, README.txt or README, in any case).
    Readme,
    /// Chart.yaml, values.yaml and the README, separated by `---`.
    All,
}

/// Arguments of `show`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// What to print.
    #[arg(value_enum)]
    pub part: Part,
    /// The chart: a directory or a .tgz.
    #[arg(value_name = "CHART")]
    pub chart: PathBuf,
}

/// Runs `show`.
pub fn run(args: &ShowArgs) -> Result<u8> {
    let chart = &args.chart;
    if chart.to_string_lossy().starts_with("oci://") {
        return Err(Error::usage(format!(
            "`{}`: show reads a chart directory or .tgz; fetch a registry chart first with `aether-chart pull`",
            chart.display()
        )));
    }
    let limits = Limits::default();
    let files = if chart.is_dir() {
        loader::dir_files(chart, limits)?
    } else {
        let bytes = std::fs::read(chart).map_err(|e| {
            Error::usage(format!(
                "cannot open the chart `{}`: {e}; pass a chart directory or .tgz",
                chart.display()
            ))
        })?;
        loader::archive_files(&bytes, &format!("{}:", chart.display()), limits)?
    };
    let find = |name: &str| files.iter().find(|f| f.name == name);
    let readme = files.iter().find(|f| {
        matches!(
            f.name.to_ascii_lowercase().as_str(),
            "readme.md" | "readme.txt" | "readme"
        )
    });
    let text = |file: Option<&File>, what: &str| -> Result<String> {
        match file {
            Some(f) => Ok(String::from_utf8_lossy(&f.data).into_owned()),
            None => Err(Error::input(format!("`{}` has no {what}", chart.display()))),
        }
    };
    let out = match args.part {
        Part::Chart => text(find("Chart.yaml"), "Chart.yaml")?,
        Part::Values => find("values.yaml")
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .unwrap_or_default(),
        Part::Readme => text(readme, "README")?,
        Part::All => {
            let mut parts = vec![text(find("Chart.yaml"), "Chart.yaml")?];
            if let Some(values) = find("values.yaml") {
                parts.push(String::from_utf8_lossy(&values.data).into_owned());
            }
            if let Some(readme) = readme {
                parts.push(String::from_utf8_lossy(&readme.data).into_owned());
            }
            parts
                .iter()
                .map(|p| p.trim_end_matches('\n'))
                .collect::<Vec<_>>()
                .join("\n---\n")
        }
    };
    print!("{out}");
    if !out.is_empty() && !out.ends_with('\n') {
        println!();
    }
    Ok(0)
}
