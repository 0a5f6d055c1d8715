//! Chart repositories over HTTP: Helm's `index.yaml` (apiVersion v1, entries by chart name,
//! versions newest first, each with its Chart.yaml fields, `created`, `digest` and `urls`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::loader::{self, Limits};
use crate::error::{Error, Result};

/// The largest index.yaml read (Helm's own repositories stay far below this).
pub const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

/// An index.yaml.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub api_version: String,
    #[serde(default)]
    pub entries: BTreeMap<String, Vec<Entry>>,
    #[serde(default)]
    pub generated: String,
}

/// One chart version in an index: its Chart.yaml fields (all of them, as written) and where
/// to get it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    #[serde(flatten)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub created: String,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub urls: Vec<String>,
}

impl Entry {
    /// The chart version.
    pub fn version(&self) -> &str {
        self.metadata
            .get("version")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    }
}

impl Index {
    /// Reads an index.yaml; `label` names it in messages.
    pub fn parse(bytes: &[u8], label: &str) -> Result<Index> {
        if bytes.len() as u64 > MAX_INDEX_BYTES {
            return Err(Error::input(format!(
                "`{label}` is larger than {MAX_INDEX_BYTES} bytes; that is not a chart repository index"
            )));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::input(format!("`{label}` is not UTF-8 text")))?;
        if text.trim().is_empty() {
            return Err(Error::input(format!(
                "`{label}` is empty; a repository index needs `apiVersion: v1` and `entries`"
            )));
        }
        crate::yaml::guard::check_flow_nesting(text)
            .map_err(|line| Error::input(format!("`{label}:{line}`: brackets nest too deeply")))?;
        let index: Index =
            serde_yaml::from_str(text).map_err(|e| crate::yaml::parse::yaml_error(&e, label))?;
        if index.api_version != "v1" {
            return Err(Error::input(format!(
                "`{label}` has apiVersion `{}`; a repository index has apiVersion v1",
                index.api_version
            )));
        }
        Ok(index)
    }

    /// Adds `entry` unless its chart version is there already (the existing one is kept, as in
    /// Helm's merge).
    fn add(&mut self, name: &str, entry: Entry) {
        let versions = self.entries.entry(name.to_string()).or_default();
        if !versions.iter().any(|e| e.version() == entry.version()) {
            versions.push(entry);
        }
    }

    /// Versions newest first (SemVer precedence; unparsable versions last).
    fn sort(&mut self) {
        for versions in self.entries.values_mut() {
            versions.sort_by(|a, b| {
                let key = |e: &Entry| semver::Version::parse(e.version()).ok();
                key(b)
                    .cmp(&key(a))
                    .then_with(|| b.version().cmp(a.version()))
            });
        }
    }
}

/// Indexes the archives in `dir` (`*.tgz` in it and in its direct subfolders) and writes
/// `dir/index.yaml`; `url` prefixes each archive's path, `merge` is an index to add to.
pub fn index_directory(
    dir: &Path,
    url: Option<&str>,
    merge: Option<&Path>,
    now: &str,
) -> Result<usize> {
    let mut archives = Vec::new();
    collect_archives(dir, "", &mut archives, 1)?;
    archives.sort();
    let mut index = match merge {
        Some(path) => {
            let bytes = crate::fs::read_user_file(path, "the index", MAX_INDEX_BYTES)?;
            Index::parse(&bytes, &path.display().to_string())?
        }
        None => Index {
            api_version: "v1".into(),
            entries: BTreeMap::new(),
            generated: String::new(),
        },
    };
    let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
    for relative in &archives {
        let path = dir.join(relative);
        let bytes = crate::fs::read_user_file(
            &path,
            "the chart",
            loader::archive_limit(Limits::default()),
        )?;
        let label = format!("{relative}:");
        let files = loader::archive_files(&bytes, &label, Limits::default())?;
        let chart_yaml = files
            .iter()
            .find(|f| f.name == "Chart.yaml")
            .ok_or_else(|| {
                Error::input(format!(
                    "`{relative}` holds no Chart.yaml; it is not a chart archive"
                ))
            })?;
        let metadata = super::Metadata::parse(&chart_yaml.data, &format!("{relative}:Chart.yaml"))?;
        let key = (metadata.name.clone(), metadata.version.clone());
        if let Some(other) = seen.insert(key, relative.clone()) {
            return Err(Error::input(format!(
                "`{other}` and `{relative}` are both {} {}; keep one archive per chart version",
                metadata.name, metadata.version
            )));
        }
        let fields: BTreeMap<String, serde_json::Value> = serde_yaml::from_slice(&chart_yaml.data)
            .map_err(|e| Error::input(format!("`{relative}:Chart.yaml` cannot be indexed: {e}")))?;
        let link = match url {
            Some(base) => format!("{}/{relative}", base.trim_end_matches('/')),
            None => relative.clone(),
        };
        index.add(
            &metadata.name,
            Entry {
                metadata: fields,
                created: now.to_string(),
                digest: hex(&Sha256::digest(&bytes)),
                urls: vec![link],
            },
        );
    }
    index.sort();
    index.generated = now.to_string();
    let text = serde_yaml::to_string(&index)
        .map_err(|e| Error::input(format!("cannot write the index: {e}")))?;
    crate::fs::write_file(dir, "index.yaml", text.as_bytes(), crate::fs::SHARED)?;
    Ok(archives.len())
}

/// The `.tgz` files under `dir`, `depth` folder levels down at most.
fn collect_archives(dir: &Path, prefix: &str, out: &mut Vec<String>, depth: usize) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read the directory", dir, e))?;
    for entry in entries.filter_map(|e| e.ok()) {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let kind = entry
            .file_type()
            .map_err(|e| Error::io("read", &entry.path(), e))?;
        if kind.is_file() && name.ends_with(".tgz") {
            out.push(format!("{prefix}{name}"));
        } else if kind.is_dir() && depth > 0 && !name.starts_with('.') {
            collect_archives(&entry.path(), &format!("{prefix}{name}/"), out, depth - 1)?;
        }
    }
    Ok(())
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `secs` since 1970 as RFC 3339 in UTC, e.g. `2026-11-22T08:41:02Z`.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    // Civil date from days since 1970-01-01 (the proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Now, or `SOURCE_DATE_EPOCH` when set, as RFC 3339.
pub fn now() -> Result<String> {
    let secs = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(_) => super::package::mtime_from_env()?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
    };
    Ok(rfc3339(secs))
}

#[cfg(test)]
mod tests {
    use super::{Index, rfc3339};

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(315_532_800), "1980-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_336_862), "2026-11-22T08:41:02Z");
    }

    #[test]
    fn hostile_indexes() {
        for (text, expect) in [
            ("", "is empty"),
            ("apiVersion: v1\nentries: [", "index.yaml"),
            ("apiVersion: v1\napiVersion: v1\n", "duplicate"),
            ("apiVersion: v2\n", "apiVersion v1"),
            ("entries: {}\n", "apiVersion"),
        ] {
            let err = Index::parse(text.as_bytes(), "index.yaml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(expect), "{text:?}: {err}");
        }
        let huge = vec![b' '; (super::MAX_INDEX_BYTES + 1) as usize];
        assert!(
            Index::parse(&huge, "index.yaml")
                .unwrap_err()
                .to_string()
                .contains("larger")
        );
    }
}
