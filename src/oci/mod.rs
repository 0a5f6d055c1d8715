//! Charts in OCI registries, interoperable with Helm 4: the same media types, config, manifest
//! layout, annotations and tags, so what one tool pushes the other pulls byte for byte.
//!
//! The distribution protocol is spoken here over a blocking HTTP client rather than through an
//! OCI client crate: Helm registries may ask for client certificates (`--cert-file`), which the
//! Rust OCI client cannot present, and pulls must stream under size limits with every digest
//! checked before a file appears.

pub mod client;
pub mod credentials;
pub mod reference;

use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::chart::repo::{hex, rfc3339};
use crate::chart::{File, Limits, Metadata, loader};
use crate::error::{Error, Result};
pub use client::{Client, TlsOptions};
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
        let archive = std::fs::read(path).map_err(|e| Error::io("read the chart", path, e))?;
        let label = format!("{}:", path.display());
        let files = loader::archive_files(&archive, &label, limits)?;
        let chart_yaml = chart_yaml(&files, &label)?;
        let metadata = Metadata::parse(&chart_yaml.data, &format!("{label}Chart.yaml"))?;
        let prov_path = path.with_file_name(format!(
            "{}.prov",
            path.file_name().unwrap_or_default().to_string_lossy()
        ));
        let prov = match std::fs::read(&prov_path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("read", &prov_path, e)),
        };
        Ok(PushedChart {
            name: metadata.name.clone(),
            version: metadata.version.clone(),
            config: helm_config(&chart_yaml.data, &label)?,
            created: rfc3339(chart_mtime(&archive).unwrap_or(0)),
            archive,
            prov,
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
    pub fn annotations(
        &self,
        chart_yaml: &serde_yaml::Mapping,
    ) -> std::collections::BTreeMap<String, String> {
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

/// A YAML scalar as text.
fn scalar(value: Option<&serde_yaml::Value>) -> Option<String> {
    match value? {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A JSON string as Go's encoder writes it (`<`, `>`, `&`, U+2028 and U+2029 escaped).
fn go_json(text: &str) -> String {
    serde_json::Value::String(text.to_string())
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// The config blob: Chart.yaml as Helm marshals its metadata to JSON (field order of Helm's
/// struct, empty fields left out).
pub fn helm_config(chart_yaml: &[u8], label: &str) -> Result<Vec<u8>> {
    let doc: serde_yaml::Mapping = serde_yaml::from_slice(chart_yaml)
        .map_err(|e| Error::input(format!("`{label}Chart.yaml`: {e}")))?;
    Ok(object(&doc, METADATA_FIELDS).into_bytes())
}

/// How a field of Helm's metadata is written.
#[derive(Clone, Copy)]
enum Field {
    /// A string, left out when empty.
    Text,
    /// A string, always written.
    TextAlways,
    /// A list of strings, left out when empty.
    Texts,
    /// A boolean, left out when false.
    Flag,
    /// A map of strings, left out when empty (keys sorted).
    Map,
    /// A list of objects with these fields, left out when empty.
    Objects(&'static [(&'static str, Field)]),
    /// Any YAML as JSON, left out when empty.
    Any,
}

const MAINTAINER_FIELDS: &[(&str, Field)] = &[
    ("name", Field::Text),
    ("email", Field::Text),
    ("url", Field::Text),
];

const DEPENDENCY_FIELDS: &[(&str, Field)] = &[
    ("name", Field::TextAlways),
    ("version", Field::Text),
    ("repository", Field::TextAlways),
    ("condition", Field::Text),
    ("tags", Field::Texts),
    ("enabled", Field::Flag),
    ("import-values", Field::Any),
    ("alias", Field::Text),
];

const METADATA_FIELDS: &[(&str, Field)] = &[
    ("name", Field::Text),
    ("home", Field::Text),
    ("sources", Field::Texts),
    ("version", Field::Text),
    ("description", Field::Text),
    ("keywords", Field::Texts),
    ("maintainers", Field::Objects(MAINTAINER_FIELDS)),
    ("icon", Field::Text),
    ("apiVersion", Field::Text),
    ("condition", Field::Text),
    ("tags", Field::Text),
    ("appVersion", Field::Text),
    ("deprecated", Field::Flag),
    ("annotations", Field::Map),
    ("kubeVersion", Field::Text),
    ("dependencies", Field::Objects(DEPENDENCY_FIELDS)),
    ("type", Field::Text),
];

fn object(doc: &serde_yaml::Mapping, fields: &[(&str, Field)]) -> String {
    let mut parts = Vec::new();
    for (key, field) in fields {
        let value = doc.get(*key);
        let written = match field {
            Field::Text => scalar(value).filter(|s| !s.is_empty()).map(|s| go_json(&s)),
            Field::TextAlways => Some(go_json(&scalar(value).unwrap_or_default())),
            Field::Texts => match value {
                Some(serde_yaml::Value::Sequence(items)) if !items.is_empty() => Some(format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|i| go_json(&scalar(Some(i)).unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                )),
                _ => None,
            },
            Field::Flag => (value.and_then(serde_yaml::Value::as_bool) == Some(true))
                .then(|| "true".to_string()),
            Field::Map => match value {
                Some(serde_yaml::Value::Mapping(map)) if !map.is_empty() => {
                    let sorted: std::collections::BTreeMap<String, String> = map
                        .iter()
                        .filter_map(|(k, v)| Some((scalar(Some(k))?, scalar(Some(v))?)))
                        .collect();
                    Some(format!(
                        "{{{}}}",
                        sorted
                            .iter()
                            .map(|(k, v)| format!("{}:{}", go_json(k), go_json(v)))
                            .collect::<Vec<_>>()
                            .join(",")
                    ))
                }
                _ => None,
            },
            Field::Objects(inner) => match value {
                Some(serde_yaml::Value::Sequence(items)) if !items.is_empty() => Some(format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|i| match i {
                            serde_yaml::Value::Mapping(m) => object(m, inner),
                            _ => "null".to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                )),
                _ => None,
            },
            Field::Any => match value {
                Some(serde_yaml::Value::Sequence(items)) if !items.is_empty() => {
                    serde_json::to_string(items).ok().map(|s| {
                        s.replace('<', "\\u003c")
                            .replace('>', "\\u003e")
                            .replace('&', "\\u0026")
                    })
                }
                _ => None,
            },
        };
        if let Some(written) = written {
            parts.push(format!("{}:{written}", go_json(key)));
        }
    }
    format!("{{{}}}", parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::{go_json, helm_config, tag_of, version_of};

    #[test]
    fn config_follows_helms_field_order() {
        let yaml = b"apiVersion: v2\nname: demo\nversion: 1.0.0+b1\ndescription: a <b> & c\nannotations:\n  z: '1'\n  a: x\nmaintainers:\n- name: Ann\n  email: ann@example.com\ndependencies:\n- name: sub\n  version: ~1.2\n  repository: ''\ntype: application\n";
        let json = String::from_utf8(helm_config(yaml, "demo:").unwrap()).unwrap();
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
