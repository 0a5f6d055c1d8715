//! Charts straight from where they live, for `template`, `lint` and `diff`: `oci://HOST/PATH/NAME`
//! (with `--version`, a version or a range), an HTTP(S) URL of a `.tgz`, or `--repo URL NAME` (a
//! chart repository's index). The archive is fetched into memory, every digest checked as
//! `pull` and `dependency update` check them, and nothing is written to disk.

use super::Limits;
use super::lock::{self, Options};
use crate::error::{Error, Result};

/// The archive of `chart` and where it came from, when `chart` (with `repo`) names a remote
/// chart; `None` for a local directory or archive.
pub fn fetch(
    chart: &str,
    version: Option<&str>,
    repo: Option<&str>,
    connection: &crate::oci::Connection,
    limits: Limits,
) -> Result<Option<(Vec<u8>, String)>> {
    let range = version.unwrap_or("*");
    let options = Options {
        tls: connection,
        limits,
    };
    if let Some(repo) = repo {
        if chart.contains('/') {
            return Err(Error::usage(format!(
                "with --repo, CHART is a chart's name in that repository, not `{chart}`"
            )));
        }
        let bytes = lock::fetch(chart, range, repo, &options)?;
        return Ok(Some((
            bytes,
            format!("{}/{chart}", repo.trim_end_matches('/')),
        )));
    }
    if let Some(rest) = chart.strip_prefix("oci://") {
        let (path, name) = rest.rsplit_once('/').ok_or_else(|| {
            Error::usage(format!(
                "`{chart}` names no chart; give oci://HOST/PATH/NAME"
            ))
        })?;
        let bytes = lock::fetch(name, range, &format!("oci://{path}"), &options)?;
        return Ok(Some((bytes, chart.to_string())));
    }
    if chart.starts_with("https://") || chart.starts_with("http://") {
        if version.is_some() {
            return Err(Error::usage(
                "--version picks from a registry or a repository; a URL names one archive already",
            ));
        }
        let http = crate::oci::http::Http::new(connection)?;
        let bytes = http.get(chart, super::loader::archive_limit(limits))?;
        return Ok(Some((bytes, chart.to_string())));
    }
    if version.is_some() {
        return Err(Error::usage(format!(
            "--version applies to oci:// charts and --repo; `{chart}` is a local chart"
        )));
    }
    Ok(None)
}
