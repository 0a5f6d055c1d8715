//! Charts in OCI registries, interoperable with Helm 4: the same media types, config, manifest
//! layout, annotations and tags, so what one tool pushes the other pulls byte for byte.
//!
//! The distribution protocol is spoken here over a blocking HTTP client rather than through an
//! OCI client crate: Helm registries may ask for client certificates (`--cert-file`), which the
//! Rust OCI client cannot present, and pulls must stream under size limits with every digest
//! checked before a file appears.

pub mod client;
pub mod credentials;
pub mod http;
pub mod reference;

use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::chart::helm_json::{self, go_json, scalar};
use crate::chart::repo::{hex, rfc3339};
use crate::chart::{File, Limits, Metadata, loader};
use crate::error::{Error, Result};
pub use client::{Client, Connection};
pub use reference::Reference;

/// The config blob's media type: Chart.yaml as JSON.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// The chart archive layer.
pub const CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// What Helm 3.0 pushed the chart archive as.
pub const LEGACY_CHART_MEDIA_TYPE: &str = "application/tar+gzip";
/// The provenance layer.
pub const PROV_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";
/// The manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// The largest manifest or config read from a registry.
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// A blob in a manifest.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

/// The parts of a manifest a chart pull needs.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

/// A chart archive read for pushing: its bytes, metadata and what the manifest says of it.
pub struct PushedChart {
    pub name: String,
    pub version: String,
    pub archive: Vec<u8>,
    pub config: Vec<u8>,
    pub created: String,
    pub prov: Option<Vec<u8>>,
    /// Chart.yaml as written, for the annotations.
    pub chart_yaml: serde_yaml::Mapping,
}

impl PushedChart {
    /// Reads and checks `path` (and `path.prov` when present).
    pub fn read(path: &Path, limits: Limits) -> Result<PushedChart> {
        if path.is_dir() {
            return Err(Error::usage(format!(
                "`{}` is a directory; push takes a chart archive made by `aether-chart package`",
                path.display()
            )));
        }
        let archive = crate::fs::read_user_file(path, "the chart", loader::archive_limit(limits))?;
        let label = format!("{}:", path.display());
        let files = loader::archive_files(&archive, &label, limits)?;
        let chart_yaml = chart_yaml(&files, &label)?;
        let metadata = Metadata::parse(&chart_yaml.data, &format!("{label}Chart.yaml"))?;
        let prov_path = crate::chart::provenance::prov_path(path);
        let prov = match std::fs::symlink_metadata(&prov_path) {
            Ok(_) => Some(crate::fs::read_user_file(
                &prov_path,
                "the provenance file",
                MAX_MANIFEST_BYTES,
            )?),
            Err(_) => None,
        };
        let mapping: serde_yaml::Mapping = serde_yaml::from_slice(&chart_yaml.data)
            .map_err(|e| Error::input(format!("`{label}Chart.yaml`: {e}")))?;
        Ok(PushedChart {
            name: metadata.name.clone(),
            version: metadata.version.clone(),
            config: helm_json::metadata(&mapping).into_bytes(),
            created: rfc3339(chart_mtime(&archive).unwrap_or(0)),
            archive,
            prov,
            chart_yaml: mapping,
        })
    }

    /// The manifest Helm writes for this chart: schemaVersion, config, layers sorted by digest,
    /// then the `org.opencontainers.image.*` annotations and the chart's own (sorted keys).
    pub fn manifest(&self, annotations: &std::collections::BTreeMap<String, String>) -> Vec<u8> {
        let descriptor = |media_type: &str, bytes: &[u8]| {
            format!(
                r#"{{"mediaType":{},"digest":"{}","size":{}}}"#,
                go_json(media_type),
                digest(bytes),
                bytes.len()
            )
        };
        let mut layers = vec![(
            digest(&self.archive),
            descriptor(CHART_MEDIA_TYPE, &self.archive),
        )];
        if let Some(prov) = &self.prov {
            layers.push((digest(prov), descriptor(PROV_MEDIA_TYPE, prov)));
        }
        layers.sort();
        let annotations: Vec<String> = annotations
            .iter()
            .map(|(k, v)| format!("{}:{}", go_json(k), go_json(v)))
            .collect();
        format!(
            r#"{{"schemaVersion":2,"config":{},"layers":[{}],"annotations":{{{}}}}}"#,
            descriptor(CONFIG_MEDIA_TYPE, &self.config),
            layers
                .into_iter()
                .map(|l| l.1)
                .collect::<Vec<_>>()
                .join(","),
            annotations.join(",")
        )
        .into_bytes()
    }

    /// Helm's annotations: description, title, version, url, created, source, authors, then
    /// the chart's annotations (never replacing title or version).
    pub fn annotations(&self) -> std::collections::BTreeMap<String, String> {
        let chart_yaml = &self.chart_yaml;
        let text = |key: &str| scalar(chart_yaml.get(key)).unwrap_or_default();
        let mut out = std::collections::BTreeMap::new();
        let mut add = |key: &str, value: String| {
            if !value.trim().is_empty() {
                out.insert(format!("org.opencontainers.image.{key}"), value);
            }
        };
        add("description", text("description"));
        add("title", self.name.clone());
        add("version", self.version.clone());
        add("url", text("home"));
        add("created", self.created.clone());
        if let Some(serde_yaml::Value::Sequence(sources)) = chart_yaml.get("sources") {
            add("source", scalar(sources.first()).unwrap_or_default());
        }
        if let Some(serde_yaml::Value::Sequence(maintainers)) = chart_yaml.get("maintainers") {
            let authors: Vec<String> = maintainers
                .iter()
                .map(|m| {
                    let name = scalar(m.get("name")).unwrap_or_default();
                    match scalar(m.get("email")).filter(|e| !e.is_empty()) {
                        Some(email) => format!("{name} ({email})"),
                        None => name,
                    }
                })
                .collect();
            add("authors", authors.join(", "));
        }
        if let Some(serde_yaml::Value::Mapping(own)) = chart_yaml.get("annotations") {
            for (k, v) in own {
                let (Some(k), Some(v)) = (scalar(Some(k)), scalar(Some(v))) else {
                    continue;
                };
                if k != "org.opencontainers.image.title" && k != "org.opencontainers.image.version"
                {
                    out.insert(k, v);
                }
            }
        }
        out
    }
}

/// A chart pulled from a registry, every digest checked and the archive read under the limits.
pub struct Pulled {
    pub archive: Vec<u8>,
    pub files: Vec<File>,
    pub metadata: Metadata,
    pub manifest_digest: String,
    /// The provenance layer, when asked for and the chart has one.
    pub prov: Option<Vec<u8>>,
}

/// Pulls `reference` (its digest or tag, else the newest version satisfying `version`), and
/// its provenance layer too when `with_prov`.
pub fn pull(
    client: &mut Client,
    reference: &Reference,
    version: Option<&str>,
    with_prov: bool,
) -> Result<Pulled> {
    let repository = reference.repository.as_str();
    let wanted = match (&reference.digest, &reference.tag) {
        (Some(digest), _) => digest.clone(),
        (None, Some(tag)) => tag.clone(),
        (None, None) => resolve(client, repository, version)?,
    };
    let shown = format!("{}:{wanted}", reference.display());
    let (manifest_bytes, manifest_digest) = client.manifest(repository, &wanted)?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes).map_err(|e| {
        Error::input(format!(
            "the manifest of {shown} is not a chart manifest: {e}"
        ))
    })?;
    client::check_digest(&manifest.config.digest, &format!("the config of {shown}"))?;
    for layer in &manifest.layers {
        client::check_digest(&layer.digest, &format!("a layer of {shown}"))?;
    }
    if manifest.config.media_type != CONFIG_MEDIA_TYPE {
        return Err(Error::input(format!(
            "{shown} is not a Helm chart (its config is `{}`)",
            manifest.config.media_type
        )));
    }
    let layer = manifest
        .layers
        .iter()
        .find(|l| l.media_type == CHART_MEDIA_TYPE || l.media_type == LEGACY_CHART_MEDIA_TYPE)
        .ok_or_else(|| Error::input(format!("{shown} has no chart layer")))?;
    let limits = Limits::default();
    let archive = client.blob(repository, layer, loader::archive_limit(limits))?;
    let label = format!("{}:", reference.display());
    let files = loader::archive_files(&archive, &label, limits)?;
    let metadata = Metadata::parse(
        &chart_yaml(&files, &label)?.data,
        &format!("{label}Chart.yaml"),
    )?;
    let prov = match manifest
        .layers
        .iter()
        .find(|l| l.media_type == PROV_MEDIA_TYPE)
    {
        Some(layer) if with_prov => {
            Some(client.blob(repository, layer, crate::chart::provenance::MAX_PROV_BYTES)?)
        }
        _ => None,
    };
    Ok(Pulled {
        archive,
        files,
        metadata,
        manifest_digest,
        prov,
    })
}

/// The tag for `version`: itself when exact, else the newest tag in the range (the newest of
/// all without one).
pub fn resolve(client: &mut Client, repository: &str, version: Option<&str>) -> Result<String> {
    if let Some(v) = version
        && semver::Version::parse(v).is_ok()
    {
        return Ok(tag_of(v));
    }
    let constraint = version
        .map(|v| {
            crate::version::Constraint::parse(v).map_err(|e| Error::usage(format!("version: {e}")))
        })
        .transpose()?;
    let tags = client.tags(repository)?;
    tags.iter()
        .filter_map(|t| semver::Version::parse(&version_of(t)).ok().map(|v| (v, t)))
        .filter(|(v, _)| constraint.as_ref().is_none_or(|c| c.matches(v)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, t)| t.clone())
        .ok_or_else(|| {
            Error::input(format!(
                "no version of {repository} satisfies `{}` (tags: {})",
                version.unwrap_or("any"),
                listing(&tags)
            ))
        })
}

/// The versions or tags `items` for a message: all of a few, the first twenty of many.
pub fn listing(items: &[String]) -> String {
    const SHOWN: usize = 20;
    match items.len() {
        0 => "none".into(),
        n if n <= SHOWN => items.join(", "),
        n => format!(
            "{}, and {} more",
            items[..SHOWN]
                .iter()
                .map(|t| crate::error::shorten(t, 80))
                .collect::<Vec<_>>()
                .join(", "),
            n - SHOWN
        ),
    }
}

/// The registry tag of a chart version: SemVer's `+` is not allowed in tags, Helm writes `_`.
pub fn tag_of(version: &str) -> String {
    version.replace('+', "_")
}

/// The chart version a tag stands for.
pub fn version_of(tag: &str) -> String {
    tag.replace('_', "+")
}

fn chart_yaml<'f>(files: &'f [File], label: &str) -> Result<&'f File> {
    files
        .iter()
        .find(|f| f.name == "Chart.yaml")
        .ok_or_else(|| {
            Error::input(format!(
                "`{}` holds no Chart.yaml; it is not a chart archive",
                label.trim_end_matches(':')
            ))
        })
}

/// The mtime of the archive's Chart.yaml entry: when the chart was packaged.
fn chart_mtime(archive: &[u8]) -> Option<u64> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    for entry in tar.entries().ok()? {
        let entry = entry.ok()?;
        let path = entry.path().ok()?;
        if path.components().count() == 2 && path.ends_with("Chart.yaml") {
            return entry.header().mtime().ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{go_json, tag_of, version_of};

    #[test]
    fn config_follows_helms_field_order() {
        let yaml = b"apiVersion: v2\nname: demo\nversion: 1.0.0+b1\ndescription: a <b> & c\nannotations:\n  z: '1'\n  a: x\nmaintainers:\n- name: Ann\n  email: ann@example.com\ndependencies:\n- name: sub\n  version: ~1.2\n  repository: ''\ntype: application\n";
        let json = crate::chart::helm_json::metadata(&serde_yaml::from_slice(yaml).unwrap());
        assert_eq!(
            json,
            r#"{"name":"demo","version":"1.0.0+b1","description":"a \u003cb\u003e \u0026 c","maintainers":[{"name":"Ann","email":"ann@example.com"}],"apiVersion":"v2","annotations":{"a":"x","z":"1"},"dependencies":[{"name":"sub","version":"~1.2","repository":""}],"type":"application"}"#
        );
        assert_eq!(go_json("\u{2028}"), "\"\\u2028\"");
    }

    #[test]
    fn tags_and_versions() {
        assert_eq!(tag_of("1.2.3+build.4"), "1.2.3_build.4");
        assert_eq!(version_of("1.2.3_build.4"), "1.2.3+build.4");
    }
}
