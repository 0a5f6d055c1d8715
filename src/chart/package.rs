//! Chart archives: `<name>-<version>.tgz` in Helm's layout, the same bytes on any machine.
//!
//! Every entry sits under `<name>/` (subcharts as folders under `<name>/charts/`), `Chart.yaml`
//! first and the rest sorted by path; owner 0/0, mode 0644, every mtime the same (from
//! `SOURCE_DATE_EPOCH`, else [`DEFAULT_MTIME`]); the gzip header carries no time and no name.
//! Touching a file or cloning the repository afresh changes nothing in the archive.

use std::path::Path;

use super::loader::{self, Limits};
use super::{File, Metadata};
use crate::error::{Error, Result};

/// The mtime of every entry when `SOURCE_DATE_EPOCH` is unset: 1980-01-01T00:00:00Z, the
/// earliest time every archive format can hold.
pub const DEFAULT_MTIME: u64 = 315_532_800;

/// What `package` may change on the way.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// The chart version to write instead of Chart.yaml's.
    pub version: Option<String>,
    /// The app version to write instead of Chart.yaml's.
    pub app_version: Option<String>,
}

/// A packaged chart: its metadata and archive bytes.
pub struct Package {
    pub metadata: Metadata,
    /// Chart.yaml as packaged (what a provenance file describes).
    pub chart_yaml: serde_yaml::Mapping,
    pub bytes: Vec<u8>,
}

impl Package {
    /// `<name>-<version>.tgz`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.tgz", self.metadata.name, self.metadata.version)
    }
}

/// Packages the chart directory `dir`; the chart is loaded in full first, so a chart that does
/// not load is never packaged.
pub fn package(dir: &Path, overrides: &Overrides, limits: Limits, mtime: u64) -> Result<Package> {
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "`{}` is not a chart directory; package takes the folder that holds Chart.yaml",
            dir.display()
        )));
    }
    loader::load(dir, limits)?;
    let mut files = loader::dir_files(dir, limits)?;
    let chart_yaml = files
        .iter_mut()
        .find(|f| f.name == "Chart.yaml")
        .ok_or_else(|| Error::input("Chart.yaml is missing"))?;
    if overrides.version.is_some() || overrides.app_version.is_some() {
        chart_yaml.data = override_fields(&chart_yaml.data, overrides)?;
    }
    let metadata = Metadata::parse(&chart_yaml.data, "Chart.yaml")?;
    let chart_yaml = serde_yaml::from_slice(&chart_yaml.data)
        .map_err(|e| Error::input(format!("Chart.yaml: {e}")))?;
    let bytes = archive(&metadata.name, &files, mtime)?;
    Ok(Package {
        metadata,
        chart_yaml,
        bytes,
    })
}

/// `Chart.yaml` with `version` and `appVersion` replaced (re-serialized, as Helm does).
fn override_fields(data: &[u8], overrides: &Overrides) -> Result<Vec<u8>> {
    let mut doc: serde_yaml::Mapping =
        serde_yaml::from_slice(data).map_err(|e| Error::input(format!("Chart.yaml: {e}")))?;
    if let Some(version) = &overrides.version {
        if semver::Version::parse(version).is_err() {
            return Err(Error::usage(format!(
                "--version `{version}` is not SemVer 2 (MAJOR.MINOR.PATCH such as 1.2.3, optionally -pre and +build)"
            )));
        }
        doc.insert("version".into(), version.as_str().into());
    }
    if let Some(app_version) = &overrides.app_version {
        doc.insert("appVersion".into(), app_version.as_str().into());
    }
    serde_yaml::to_string(&doc)
        .map(String::into_bytes)
        .map_err(|e| Error::input(format!("cannot write Chart.yaml: {e}")))
}

/// The gzipped tar of `files` under `<name>/`, Chart.yaml first.
pub fn archive(name: &str, files: &[File], mtime: u64) -> Result<Vec<u8>> {
    let mut ordered: Vec<&File> = files.iter().collect();
    ordered
        .sort_by(|a, b| (a.name != "Chart.yaml", &a.name).cmp(&(b.name != "Chart.yaml", &b.name)));
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gzip);
    let failed = |e: std::io::Error| Error::input(format!("cannot write the archive: {e}"));
    for file in ordered {
        let mut header = tar::Header::new_gnu();
        header.set_size(file.data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(
            &mut header,
            format!("{name}/{}", file.name),
            file.data.as_slice(),
        )
        .map_err(failed)?;
    }
    let gzip = tar.into_inner().map_err(failed)?;
    gzip.finish().map_err(failed)
}

/// The entry mtime for this run: `SOURCE_DATE_EPOCH` when set, else [`DEFAULT_MTIME`].
pub fn mtime_from_env() -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(_) => Ok(DEFAULT_MTIME),
        Ok(text) => text.trim().parse().map_err(|_| {
            Error::usage(format!(
                "SOURCE_DATE_EPOCH `{text}` is not a number of seconds since 1970"
            ))
        }),
    }
}
