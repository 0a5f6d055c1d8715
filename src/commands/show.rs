//! `aether-chart show chart|values|readme|all|crds CHART`: a chart's own files, from a directory
//! or a `.tgz`, without rendering anything.

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
    /// The files of the chart's and its subcharts' crds/ folders, each after `---`.
    Crds,
}

/// Arguments of `show`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// What to print.
    #[arg(value_enum)]
    pub part: Part,
    /// The chart: a directory, a .tgz, or oci://HOST/PATH/NAME.
    #[arg(value_name = "CHART")]
    pub chart: PathBuf,
    /// For an oci:// chart: the version or range (default: the newest).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    #[command(flatten)]
    pub tls: crate::cli::RemoteArgs,
}

/// Runs `show`.
pub fn run(args: &ShowArgs) -> Result<u8> {
    let chart = &args.chart;
    let limits = Limits::default();
    let text = chart.to_string_lossy();
    let mut pulled_archive = None;
    let files = if text.starts_with("oci://") {
        let reference = crate::oci::Reference::parse(&text, "the chart")?;
        let path = crate::oci::credentials::config_path(args.tls.registry_config.as_deref());
        let credentials = crate::oci::credentials::load(&path, &reference.host)?;
        let mut client =
            crate::oci::Client::new(&reference.host, &args.tls.connection(), credentials)?;
        let pulled = crate::oci::pull(&mut client, &reference, args.version.as_deref(), false)?;
        pulled_archive = Some(pulled.archive);
        pulled.files
    } else if chart.is_dir() {
        loader::dir_files(chart, limits)?
    } else {
        let bytes = crate::fs::read_user_file(chart, "the chart", loader::archive_limit(limits))?;
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
        Part::Crds => {
            // The CRDs of subcharts too, archived ones included, as Helm lists them.
            let loaded = if let Some(archive) = &pulled_archive {
                loader::load_archive(archive, &format!("{}:", chart.display()), limits)?
            } else if chart.is_dir() {
                loader::load(chart, limits)?
            } else {
                let bytes =
                    crate::fs::read_user_file(chart, "the chart", loader::archive_limit(limits))?;
                loader::load_archive(&bytes, &format!("{}:", chart.display()), limits)?
            };
            crate::chart::crds::files(&loaded)
                .iter()
                .map(|(_, f)| format!("---\n{}\n", String::from_utf8_lossy(&f.data)))
                .collect()
        }
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
    crate::out!("{out}");
    if !out.is_empty() && !out.ends_with('\n') {
        crate::outln!();
    }
    Ok(0)
}
