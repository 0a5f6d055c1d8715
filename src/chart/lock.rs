//! Chart dependencies: resolving SemVer ranges against `file://` folders, HTTP repositories
//! and `oci://` registries, fetching the archives into `charts/`, and `Chart.lock` with Helm's
//! digest of the requested and locked lists (so Helm and aether-chart accept each other's
//! locks).
//!
//! Safer than Helm on the way: an archive from an HTTP repository must match the digest its
//! index states, every archive is read under the chart limits before it lands in `charts/`,
//! a symlinked Chart.lock is refused, and `file://` chains that come back on themselves are
//! reported as cycles.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::helm_json;
use super::loader::{self, Limits};
use super::package::{self, Overrides};
use super::repo::{Index, hex, now};
use super::{Metadata, metadata::Dependency};
use crate::error::{Error, Result};
use crate::fs::{self, ChartDir, Kind};
use crate::oci::{self, Connection, Reference};
use crate::version::Constraint;

pub const LOCK_FILE: &str = "Chart.lock";

/// The largest Chart.lock read.
const MAX_LOCK_BYTES: u64 = 1 << 20;

/// Chart.lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lock {
    pub dependencies: Vec<Locked>,
    pub digest: String,
    pub generated: String,
}

/// One locked dependency: the exact version chosen and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Locked {
    pub name: String,
    #[serde(default)]
    pub repository: String,
    #[serde(default)]
    pub version: String,
}

/// Where a dependency comes from, for messages: its repository, or `charts/` when it has none.
pub fn source(repository: &str) -> &str {
    if repository.is_empty() {
        "charts/"
    } else {
        repository
    }
}

/// Helm's digest of the requested dependencies (as Chart.yaml lists them) and the locked ones.
pub fn digest(requested: &[serde_yaml::Mapping], locked: &[Locked]) -> String {
    let locked: Vec<serde_yaml::Mapping> = locked
        .iter()
        .map(|l| {
            let mut m = serde_yaml::Mapping::new();
            m.insert("name".into(), l.name.as_str().into());
            m.insert("version".into(), l.version.as_str().into());
            m.insert("repository".into(), l.repository.as_str().into());
            m
        })
        .collect();
    let json = format!(
        "[{},{}]",
        helm_json::dependencies(requested),
        helm_json::dependencies(&locked)
    );
    format!("sha256:{}", hex(&Sha256::digest(json.as_bytes())))
}

/// What `update` and `build` need beyond the chart folder.
pub struct Options<'a> {
    pub tls: &'a Connection,
    pub limits: Limits,
}

/// A chart folder's Chart.yaml: the parsed metadata and its raw dependency entries.
struct ChartFile {
    metadata: Metadata,
    requested: Vec<serde_yaml::Mapping>,
}

fn read_chart(dir: &Path) -> Result<ChartFile> {
    let chart = ChartDir::open(dir)?;
    let label = chart.shown("Chart.yaml");
    let bytes = chart
        .read("Chart.yaml", Limits::default().per_file)?
        .ok_or_else(|| Error::usage(format!("`{label}` does not exist; pass a chart directory")))?;
    let metadata = Metadata::parse(&bytes, &label)?;
    let raw: serde_yaml::Mapping =
        serde_yaml::from_slice(&bytes).map_err(|e| Error::input(format!("`{label}`: {e}")))?;
    let requested = match raw.get("dependencies") {
        Some(serde_yaml::Value::Sequence(items)) => items
            .iter()
            .filter_map(|d| d.as_mapping().cloned())
            .collect(),
        _ => Vec::new(),
    };
    Ok(ChartFile {
        metadata,
        requested,
    })
}

/// Refuses a Chart.lock that is a symbolic link (it could point anywhere on the machine).
fn check_lock_path(dir: &Path) -> Result<()> {
    let path = dir.join(LOCK_FILE);
    if let Ok(meta) = std::fs::symlink_metadata(&path)
        && meta.file_type().is_symlink()
    {
        return Err(Error::input(format!(
            "`{}` is a symbolic link; a chart's lock must be a regular file",
            path.display()
        )));
    }
    Ok(())
}

/// Reads Chart.lock, if there is one.
pub fn read_lock(dir: &Path) -> Result<Option<Lock>> {
    check_lock_path(dir)?;
    let chart = ChartDir::open(dir)?;
    let Some(bytes) = chart.read(LOCK_FILE, MAX_LOCK_BYTES)? else {
        return Ok(None);
    };
    let label = chart.shown(LOCK_FILE);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::input(format!("`{label}` is not UTF-8 text")))?;
    serde_yaml::from_str(text)
        .map(Some)
        .map_err(|e| crate::yaml::parse::yaml_error(&e, &label))
}

/// Resolves every dependency to an exact version, fetches the archives into `charts/` and
/// writes Chart.lock.
pub fn update(dir: &Path, options: &Options<'_>) -> Result<Lock> {
    check_lock_path(dir)?;
    let chart = read_chart(dir)?;
    check_cycles(dir)?;
    let mut locked = Vec::new();
    let mut missing = Vec::new();
    let mut fetched = Vec::new();
    for dep in &chart.metadata.dependencies {
        match resolve(dir, dep, options)? {
            Resolution::Found(lock, archive) => {
                locked.push(lock);
                fetched.extend(archive);
            }
            Resolution::Missing(why) => missing.push(why),
        }
    }
    if !missing.is_empty() {
        return Err(Error::input(format!(
            "no version satisfies {} dependenc{}: {}; publish a matching version or change the range in Chart.yaml",
            missing.len(),
            if missing.len() == 1 { "y" } else { "ies" },
            missing.join("; ")
        )));
    }
    store(dir, &fetched)?;
    let lock = Lock {
        digest: digest(&chart.requested, &locked),
        dependencies: locked,
        generated: now()?,
    };
    write_lock(dir, &lock)?;
    Ok(lock)
}

/// Fetches exactly what Chart.lock names into `charts/`; refuses a lock that no longer matches
/// Chart.yaml. Without a lock it updates.
pub fn build(dir: &Path, options: &Options<'_>) -> Result<Lock> {
    let Some(lock) = read_lock(dir)? else {
        return update(dir, options);
    };
    let chart = read_chart(dir)?;
    if digest(&chart.requested, &lock.dependencies) != lock.digest {
        return Err(Error::input(format!(
            "`{}` is out of sync with Chart.yaml (its digest differs); run `aether-chart dependency update`",
            dir.join(LOCK_FILE).display()
        )));
    }
    let mut fetched = Vec::new();
    for (dep, locked) in chart.metadata.dependencies.iter().zip(&lock.dependencies) {
        let exact = Dependency {
            version: locked.version.clone(),
            repository: locked.repository.clone(),
            ..dep.clone()
        };
        match resolve(dir, &exact, options)? {
            Resolution::Found(_, archive) => fetched.extend(archive),
            Resolution::Missing(why) => {
                return Err(Error::input(format!(
                    "the locked version is gone: {why}; run `aether-chart dependency update`"
                )));
            }
        }
    }
    store(dir, &fetched)?;
    Ok(lock)
}

/// One dependency's state for `dependency list`.
pub struct Status {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub status: String,
}

/// What `charts/` holds for each dependency.
pub fn list(dir: &Path) -> Result<Vec<Status>> {
    let chart = read_chart(dir)?;
    let folder = ChartDir::open(dir)?;
    let present = archives_in(&folder)?;
    let mut statuses = Vec::new();
    for dep in &chart.metadata.dependencies {
        let unpacked = matches!(
            folder.kind(&format!("charts/{}/Chart.yaml", dep.name))?,
            Some(Kind::File(_))
        );
        statuses.push(status(dep, unpacked, &present));
    }
    Ok(statuses)
}

/// One dependency's status, given whether charts/ holds it unpacked and the archives there.
fn status(dep: &Dependency, unpacked: bool, present: &[(String, Metadata)]) -> Status {
    let constraint = Constraint::parse(&dep.version).ok();
    let mut archived = present
        .iter()
        .filter(|(_, m)| m.name == dep.name)
        .peekable();
    let status = if unpacked {
        "unpacked"
    } else if archived.peek().is_none() {
        "missing"
    } else if archived.any(|(_, m)| {
        semver::Version::parse(&m.version)
            .is_ok_and(|v| constraint.as_ref().is_none_or(|c| c.matches(&v)))
    }) {
        "ok"
    } else {
        "wrong version"
    };
    Status {
        name: dep.name.clone(),
        version: dep.version.clone(),
        repository: dep.repository.clone(),
        status: status.into(),
    }
}

/// The chart archives directly in the chart's `charts/`, by their path inside the chart, with
/// their metadata; archives that are not charts are skipped, links out of the chart and
/// special files are errors.
fn archives_in(chart: &ChartDir) -> Result<Vec<(String, Metadata)>> {
    if chart.kind("charts")? != Some(Kind::Dir) {
        return Ok(Vec::new());
    }
    let folder = chart.root().join("charts");
    let entries =
        std::fs::read_dir(&folder).map_err(|e| Error::io("read the directory", &folder, e))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".tgz"))
        .collect();
    names.sort();
    let limits = Limits::default();
    let mut out = Vec::new();
    for name in names {
        let relative = format!("charts/{name}");
        let Some(bytes) = chart.read(&relative, loader::archive_limit(limits))? else {
            continue;
        };
        let Ok(files) = loader::archive_files(&bytes, "", limits) else {
            continue;
        };
        let metadata = files
            .iter()
            .find(|f| f.name == "Chart.yaml")
            .and_then(|f| Metadata::parse(&f.data, "Chart.yaml").ok());
        if let Some(metadata) = metadata {
            out.push((relative, metadata));
        }
    }
    Ok(out)
}

/// A dependency's resolution: its lock entry and the archive to store, or why none fits.
enum Resolution {
    Found(Locked, Option<Fetched>),
    Missing(String),
}

/// An archive ready for `charts/`.
struct Fetched {
    name: String,
    version: String,
    bytes: Vec<u8>,
}

/// Fetches the newest version of chart `name` that satisfies `range` from `repository` (an
/// `oci://` registry path or an HTTP(S) chart repository), every digest checked as `dependency
/// update` checks it: the archive's bytes, in memory.
pub fn fetch(name: &str, range: &str, repository: &str, options: &Options<'_>) -> Result<Vec<u8>> {
    let dep = Dependency {
        name: name.to_string(),
        version: range.to_string(),
        repository: repository.to_string(),
        ..Dependency::default()
    };
    match resolve(Path::new("."), &dep, options)? {
        Resolution::Found(_, Some(fetched)) => Ok(fetched.bytes),
        Resolution::Found(_, None) => Err(Error::usage(format!(
            "`{repository}` is not a registry or a chart repository"
        ))),
        Resolution::Missing(why) => Err(Error::input(format!("no version satisfies {why}"))),
    }
}

fn resolve(dir: &Path, dep: &Dependency, options: &Options<'_>) -> Result<Resolution> {
    let constraint = Constraint::parse(&dep.version).map_err(|e| {
        Error::input(format!(
            "dependency `{}` has an invalid version range: {e}",
            dep.name
        ))
    })?;
    let missing = |available: &[String]| {
        Resolution::Missing(format!(
            "`{}` {} from `{}` (available: {})",
            dep.name,
            dep.version,
            source(&dep.repository),
            oci::listing(available)
        ))
    };
    let lock = |version: &str| Locked {
        name: dep.name.clone(),
        repository: dep.repository.clone(),
        version: version.to_string(),
    };
    let repository = dep.repository.as_str();
    if repository.is_empty() {
        // A chart kept in charts/ by hand: it must be there; the range is locked as written.
        let chart = ChartDir::open(dir)?;
        let folder = format!("charts/{}", dep.name);
        let archived = archives_in(&chart)?.iter().any(|(_, m)| m.name == dep.name);
        let unpacked = matches!(
            chart.kind(&format!("{folder}/Chart.yaml"))?,
            Some(Kind::File(_))
        );
        if !unpacked && !archived {
            return Err(Error::input(format!(
                "dependency `{}` has no repository and `{}` does not exist; add it or name a repository",
                dep.name,
                chart.shown(&folder)
            )));
        }
        return Ok(Resolution::Found(lock(&dep.version), None));
    }
    if let Some(path) = repository.strip_prefix("file://") {
        let source = dir.join(path);
        let metadata = read_chart(&source)
            .map_err(|e| Error::input(format!("dependency `{}` ({repository}): {e}", dep.name)))?
            .metadata;
        let version = semver::Version::parse(&metadata.version).ok();
        if !version.is_some_and(|v| constraint.matches(&v)) {
            return Ok(missing(&[metadata.version]));
        }
        let packaged = package::package(
            &source,
            &Overrides::default(),
            options.limits,
            package::mtime_from_env()?,
        )?;
        return Ok(Resolution::Found(
            lock(&metadata.version),
            Some(Fetched {
                name: metadata.name,
                version: metadata.version,
                bytes: packaged.bytes,
            }),
        ));
    }
    if repository.starts_with("oci://") {
        let base = Reference::parse(
            repository,
            &format!("dependency `{}`'s repository", dep.name),
        )?;
        let reference = base.child(&dep.name)?;
        let credentials = oci::credentials::load(
            &oci::credentials::config_path(options.tls.registry_config.as_deref()),
            &reference.host,
        )?;
        let mut client = oci::Client::new(&reference.host, options.tls, credentials)?;
        let tag = if semver::Version::parse(&dep.version).is_ok() {
            oci::tag_of(&dep.version)
        } else {
            let tags = client.tags(&reference.repository)?;
            let best = tags
                .iter()
                .filter_map(|t| {
                    semver::Version::parse(&oci::version_of(t))
                        .ok()
                        .map(|v| (v, t))
                })
                .filter(|(v, _)| constraint.matches(v))
                .max_by(|a, b| a.0.cmp(&b.0));
            match best {
                Some((_, tag)) => tag.clone(),
                None => {
                    let available: Vec<String> = tags.iter().map(|t| oci::version_of(t)).collect();
                    return Ok(missing(&available));
                }
            }
        };
        let tagged = Reference {
            tag: Some(tag),
            ..reference
        };
        let pulled = oci::pull(&mut client, &tagged, None, false)?;
        check_fetched(dep, &pulled.metadata, &constraint)?;
        return Ok(Resolution::Found(
            lock(&pulled.metadata.version),
            Some(Fetched {
                name: pulled.metadata.name,
                version: pulled.metadata.version,
                bytes: pulled.archive,
            }),
        ));
    }
    if repository.starts_with("http://") || repository.starts_with("https://") {
        let http = oci::http::Http::new(options.tls)?;
        let base = repository.trim_end_matches('/');
        let index_url = format!("{base}/index.yaml");
        let index = Index::parse(
            &http.get(&index_url, super::repo::MAX_INDEX_BYTES)?,
            &index_url,
        )?;
        let versions = index.entries.get(&dep.name).cloned().unwrap_or_default();
        let best = versions
            .iter()
            .filter_map(|e| semver::Version::parse(e.version()).ok().map(|v| (v, e)))
            .filter(|(v, e)| constraint.matches(v) && !e.urls.is_empty())
            .max_by(|a, b| a.0.cmp(&b.0));
        let Some((_, entry)) = best else {
            let available: Vec<String> = versions.iter().map(|e| e.version().to_string()).collect();
            return Ok(missing(&available));
        };
        let url = &entry.urls[0];
        let url = if url.contains("://") {
            url.clone()
        } else {
            format!("{base}/{}", url.trim_start_matches('/'))
        };
        let limits = options.limits;
        let bytes = http.get(&url, loader::archive_limit(limits))?;
        let actual = hex(&Sha256::digest(&bytes));
        let stated = entry.digest.trim_start_matches("sha256:");
        if stated.is_empty() {
            return Err(Error::input(format!(
                "the index at {index_url} states no digest for {} {}; an unverifiable download is refused",
                dep.name,
                entry.version()
            )));
        }
        if actual != stated {
            return Err(Error::input(format!(
                "{url} has digest sha256:{actual}, not the sha256:{stated} the index states: refusing it"
            )));
        }
        let files = loader::archive_files(&bytes, &format!("{url}:"), limits)?;
        let chart_yaml = files
            .iter()
            .find(|f| f.name == "Chart.yaml")
            .ok_or_else(|| Error::input(format!("{url} holds no Chart.yaml")))?;
        let metadata = Metadata::parse(&chart_yaml.data, &format!("{url}:Chart.yaml"))?;
        check_fetched(dep, &metadata, &constraint)?;
        return Ok(Resolution::Found(
            lock(&metadata.version),
            Some(Fetched {
                name: metadata.name,
                version: metadata.version,
                bytes,
            }),
        ));
    }
    Err(Error::input(format!(
        "dependency `{}` names the repository `{repository}`; use file://, http(s):// or oci:// (repository names from `helm repo add` are not read)",
        dep.name
    )))
}

/// The fetched chart must be the one asked for.
fn check_fetched(dep: &Dependency, metadata: &Metadata, constraint: &Constraint) -> Result<()> {
    let version = semver::Version::parse(&metadata.version).ok();
    if metadata.name != dep.name || !version.is_some_and(|v| constraint.matches(&v)) {
        return Err(Error::input(format!(
            "dependency `{}` {} from `{}` turned out to be {} {}: refusing it",
            dep.name, dep.version, dep.repository, metadata.name, metadata.version
        )));
    }
    Ok(())
}

/// Writes the fetched archives into `charts/` and removes other versions of the same charts.
fn store(dir: &Path, fetched: &[Fetched]) -> Result<()> {
    let present = archives_in(&ChartDir::open(dir)?)?;
    let charts = fs::create_dirs(dir, "charts")?;
    for archive in fetched {
        let file = format!("{}-{}.tgz", archive.name, archive.version);
        fs::write_file(&charts, &file, &archive.bytes, fs::SHARED)?;
        for (relative, metadata) in &present {
            if metadata.name == archive.name && *relative != format!("charts/{file}") {
                let path = dir.join(relative);
                std::fs::remove_file(&path)
                    .map_err(|e| Error::io("remove the old archive", &path, e))?;
            }
        }
    }
    Ok(())
}

fn write_lock(dir: &Path, lock: &Lock) -> Result<()> {
    let text = serde_yaml::to_string(lock)
        .map_err(|e| Error::input(format!("cannot write Chart.lock: {e}")))?;
    fs::write_file(dir, LOCK_FILE, text.as_bytes(), fs::SHARED)?;
    Ok(())
}

/// Follows `file://` dependencies from `dir`; a chain that comes back is a cycle.
fn check_cycles(dir: &Path) -> Result<()> {
    fn visit(dir: &Path, path: &mut Vec<(PathBuf, String)>) -> Result<()> {
        let canonical = dir
            .canonicalize()
            .map_err(|e| Error::io("open the chart", dir, e))?;
        let chart = read_chart(dir)?;
        if let Some(at) = path.iter().position(|(p, _)| *p == canonical) {
            let names: Vec<&str> = path[at..]
                .iter()
                .map(|(_, n)| n.as_str())
                .chain([chart.metadata.name.as_str()])
                .collect();
            return Err(Error::input(format!(
                "the file:// dependencies form a cycle: {}",
                names.join(" -> ")
            )));
        }
        path.push((canonical, chart.metadata.name.clone()));
        for dep in &chart.metadata.dependencies {
            if let Some(relative) = dep.repository.strip_prefix("file://") {
                visit(&dir.join(relative), path)?;
            }
        }
        path.pop();
        Ok(())
    }
    visit(dir, &mut Vec::new())
}
