//! Kubernetes' strict JSON schemas, bundled in the binary, checked offline.
//!
//! The schemas are the Apache-2.0 data of the PyPI package kubernetes-validate (its `-strict`
//! variants: unknown fields are rejected), one gzipped bundle per minor version made by
//! `scripts/bundle-kubernetes-schemas.py`: `_definitions.json` (registered under its `$id`, so
//! the per-kind schemas' references resolve without any file or network access) and the
//! schema of every top-level kind.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use std::sync::Arc;

use jsonschema::{Registry, Retrieve, ValidationOptions, Validator};
use rayon::prelude::*;
use serde_json::Value;

use super::doc::Doc;
use super::tree::{self, Tree};
use crate::error::{Error, Result};

/// The `$id` the kinds' references point into.
const DEFINITIONS_ID: &str = "https://kubernetes.io/api/_definitions.json";

/// Errors reported per document at most (the rest are counted).
const MAX_ERRORS_PER_DOC: usize = 5;

/// The bundled minor versions of Kubernetes 1.x and their bundles.
const BUNDLES: [(u64, &[u8]); 13] = [
    (25, include_bytes!("../../schemas/kubernetes/v1.25.json.gz")),
    (26, include_bytes!("../../schemas/kubernetes/v1.26.json.gz")),
    (27, include_bytes!("../../schemas/kubernetes/v1.27.json.gz")),
    (28, include_bytes!("../../schemas/kubernetes/v1.28.json.gz")),
    (29, include_bytes!("../../schemas/kubernetes/v1.29.json.gz")),
    (30, include_bytes!("../../schemas/kubernetes/v1.30.json.gz")),
    (31, include_bytes!("../../schemas/kubernetes/v1.31.json.gz")),
    (32, include_bytes!("../../schemas/kubernetes/v1.32.json.gz")),
    (33, include_bytes!("../../schemas/kubernetes/v1.33.json.gz")),
    (34, include_bytes!("../../schemas/kubernetes/v1.34.json.gz")),
    (35, include_bytes!("../../schemas/kubernetes/v1.35.json.gz")),
    (36, include_bytes!("../../schemas/kubernetes/v1.36.json.gz")),
    (37, include_bytes!("../../schemas/kubernetes/v1.37.json.gz")),
];

/// Schemas of the custom resources the Aether chart renders (see schemas/crds/README.md), keyed
/// like the bundled kinds: `group/version/kind`.
const CRDS: [(&str, &str); 3] = [
    (
        "gateway.networking.k8s.io/v1/httproute",
        include_str!("../../schemas/crds/gateway.networking.k8s.io/httproute_v1.json"),
    ),
    (
        "external-secrets.io/v1/externalsecret",
        include_str!("../../schemas/crds/external-secrets.io/externalsecret_v1.json"),
    ),
    (
        "monitoring.coreos.com/v1/servicemonitor",
        include_str!("../../schemas/crds/monitoring.coreos.com/servicemonitor_v1.json"),
    ),
];

/// What checking one document against its schema found.
#[derive(Debug)]
pub enum Outcome {
    /// Valid.
    Valid,
    /// The schema's complaints, each `path: problem`.
    Invalid(Vec<String>),
    /// No schema knows this kind.
    Unchecked,
}

/// The schemas of one Kubernetes version plus any user schemas, ready to check documents.
pub struct Schemas {
    /// The minor version used (`1.<minor>`).
    pub minor: u64,
    /// Set when the requested version had no bundle of its own: which one stands in.
    pub note: Option<String>,
    kinds: HashMap<String, Value>,
    registry: Registry<'static>,
}

impl Schemas {
    /// The schemas for Kubernetes `version`, plus the CRD schemas under `schema_dir`.
    pub fn load(version: &semver::Version, schema_dir: Option<&Path>) -> Result<Schemas> {
        let (minor, bytes) = pick(version)?;
        let note = (minor != version.minor).then(|| {
            format!(
                "no schemas for Kubernetes 1.{}; using 1.{minor}, the nearest older",
                version.minor
            )
        });
        let mut bundle = unpack(bytes)?;
        let definitions = bundle
            .get_mut("definitions")
            .map(Value::take)
            .ok_or_else(|| Error::input("the bundled Kubernetes schemas are damaged"))?;
        let mut kinds: HashMap<String, Value> = match bundle.get_mut("kinds").map(Value::take) {
            Some(Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| (k.to_lowercase(), v))
                .collect(),
            _ => return Err(Error::input("the bundled Kubernetes schemas are damaged")),
        };
        for (key, text) in CRDS {
            let schema = serde_json::from_str(text).map_err(|e| {
                Error::input(format!("the bundled schema of `{key}` is damaged: {e}"))
            })?;
            kinds.insert(key.to_string(), schema);
        }
        if let Some(dir) = schema_dir {
            kinds.extend(
                super::user_schemas::load(dir)?
                    .into_iter()
                    .map(|(k, v)| (k.to_lowercase(), v)),
            );
        }
        let registry = Registry::new()
            .add(DEFINITIONS_ID, definitions)
            .and_then(|r| r.prepare())
            .map_err(|e| {
                Error::input(format!("the bundled Kubernetes schemas do not load: {e}"))
            })?;
        Ok(Schemas {
            minor,
            note,
            kinds,
            registry,
        })
    }

    /// Checks every document (in parallel); the outcomes are in the documents' order.
    pub fn check(&self, docs: &[Doc]) -> Result<Vec<Outcome>> {
        let mut wanted: Vec<&str> = docs
            .iter()
            .map(key)
            .filter_map(|k| {
                self.kinds
                    .get_key_value(k.as_str())
                    .map(|(k, _)| k.as_str())
            })
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let validators: HashMap<&str, Validator<Tree>> = wanted
            .par_iter()
            .map(|k| {
                ValidationOptions::<Arc<dyn Retrieve>, Tree>::default()
                    .with_registry(&self.registry)
                    .should_validate_formats(false)
                    .build(&self.kinds[*k])
                    .map(|v| (*k, v))
                    .map_err(|e| Error::input(format!("the schema of `{k}` does not compile: {e}")))
            })
            .collect::<Result<_>>()?;
        Ok(docs
            .par_iter()
            .map(|doc| match validators.get(key(doc).as_str()) {
                None => Outcome::Unchecked,
                Some(v) => outcome(v, &doc.json),
            })
            .collect())
    }
}

/// `apiversion/kind` in lower case, the key of a document's schema.
fn key(doc: &Doc) -> String {
    format!("{}/{}", doc.api_version, doc.kind).to_lowercase()
}

/// The validation problems of one document.
fn outcome(validator: &Validator<Tree>, json: &tree::Value) -> Outcome {
    if validator.is_valid(json) {
        return Outcome::Valid;
    }
    let mut problems: Vec<String> = Vec::new();
    let mut total = 0;
    for error in validator.iter_errors(json) {
        total += 1;
        if problems.len() < MAX_ERRORS_PER_DOC {
            let at = error.instance_path().to_string();
            let at = if at.is_empty() {
                "(root)".into()
            } else {
                at.trim_start_matches('/').replace('/', ".")
            };
            problems.push(format!("{at}: {error}"));
        }
    }
    if total > problems.len() {
        problems.push(format!("and {} more", total - problems.len()));
    }
    Outcome::Invalid(problems)
}

/// The bundle for `version`: its own minor version, or the nearest older bundled one.
fn pick(version: &semver::Version) -> Result<(u64, &'static [u8])> {
    let (oldest, newest) = (BUNDLES[0].0, BUNDLES[BUNDLES.len() - 1].0);
    if version.major != 1 || version.minor < oldest || version.minor > newest {
        return Err(Error::usage(format!(
            "--kube-version {version} is not supported: schemas are bundled for Kubernetes 1.{oldest} to 1.{newest}"
        )));
    }
    let (minor, bytes) = BUNDLES
        .iter()
        .rev()
        .find(|(minor, _)| *minor <= version.minor)
        .expect("the range was checked");
    Ok((*minor, bytes))
}

/// Decompresses and parses one bundle.
fn unpack(bytes: &[u8]) -> Result<Value> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut text)
        .map_err(|e| Error::input(format!("the bundled Kubernetes schemas are damaged: {e}")))?;
    serde_json::from_slice(&text)
        .map_err(|e| Error::input(format!("the bundled Kubernetes schemas are damaged: {e}")))
}
