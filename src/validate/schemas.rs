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
use serde_json::value::RawValue;

use super::doc::Doc;
use crate::error::{Error, Result};
use crate::yaml::tree::{self, Tree};

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
///
/// Loading costs little: the bundle is decompressed and split into its kinds and definitions
/// as raw JSON text (no values built); only the kinds the documents use, and the definitions
/// they reach, are parsed, registered and compiled.
pub struct Schemas {
    /// The minor version used (`1.<minor>`).
    pub minor: u64,
    /// Set when the requested version had no bundle of its own: which one stands in.
    pub note: Option<String>,
    bundle: &'static Bundle,
    /// The CRDs the chart ships with the binary and the user's, by lower-case key.
    extra: HashMap<String, Value>,
}

/// One Kubernetes version's schemas as raw JSON text: kinds by lower-case key, definitions by
/// name (as `#/$defs/<name>` references name them).
struct Bundle {
    kinds: HashMap<String, &'static RawValue>,
    definitions: HashMap<&'static str, &'static RawValue>,
    /// The definitions' `$schema` (their JSON Schema draft).
    draft: Option<String>,
}

#[derive(serde::Deserialize)]
struct RawBundle<'a> {
    #[serde(borrow)]
    definitions: RawDefinitions<'a>,
    #[serde(borrow)]
    kinds: HashMap<&'a str, &'a RawValue>,
}

#[derive(serde::Deserialize)]
struct RawDefinitions<'a> {
    #[serde(rename = "$schema")]
    draft: Option<String>,
    #[serde(rename = "$defs", borrow)]
    defs: HashMap<&'a str, &'a RawValue>,
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
        let mut extra = HashMap::new();
        for (key, text) in CRDS {
            let schema = serde_json::from_str(text).map_err(|e| {
                Error::input(format!("the bundled schema of `{key}` is damaged: {e}"))
            })?;
            extra.insert(key.to_string(), schema);
        }
        if let Some(dir) = schema_dir {
            extra.extend(
                super::user_schemas::load(dir)?
                    .into_iter()
                    .map(|(k, v)| (k.to_lowercase(), v)),
            );
        }
        Ok(Schemas {
            minor,
            note,
            bundle: bundle(minor, bytes)?,
            extra,
        })
    }

    /// The schema of `key` (lower case), parsed; user and CRD schemas first.
    fn kind(&self, key: &str) -> Result<Option<Value>> {
        if let Some(schema) = self.extra.get(key) {
            return Ok(Some(schema.clone()));
        }
        match self.bundle.kinds.get(key) {
            None => Ok(None),
            Some(raw) => serde_json::from_str(raw.get()).map(Some).map_err(damaged),
        }
    }

    /// The definitions document holding every definition `schemas` reach, directly or
    /// through each other.
    fn definitions(&self, schemas: &[&Value]) -> Result<Value> {
        let mut pending: Vec<String> = Vec::new();
        for schema in schemas {
            references(schema, &mut pending);
        }
        let mut defs = serde_json::Map::new();
        while let Some(name) = pending.pop() {
            if defs.contains_key(&name) {
                continue;
            }
            let Some(raw) = self.bundle.definitions.get(name.as_str()) else {
                continue;
            };
            let definition: Value = serde_json::from_str(raw.get()).map_err(damaged)?;
            references(&definition, &mut pending);
            defs.insert(name, definition);
        }
        let mut document = serde_json::Map::new();
        document.insert("$id".into(), Value::String(DEFINITIONS_ID.into()));
        document.insert("$defs".into(), Value::Object(defs));
        if let Some(draft) = &self.bundle.draft {
            document.insert("$schema".into(), Value::String(draft.clone()));
        }
        Ok(Value::Object(document))
    }

    /// Compiles the validators of the kinds `keys` (lower-case `apiversion/kind`) that have a
    /// schema, with the definitions they reach.
    pub fn compile(&self, keys: &[String]) -> Result<Compiled> {
        let mut kinds = Vec::new();
        for key in keys {
            if let Some(schema) = self.kind(key)? {
                kinds.push((key.clone(), schema));
            }
        }
        let schemas: Vec<&Value> = kinds.iter().map(|(_, s)| s).collect();
        let registry = Registry::new()
            .add(DEFINITIONS_ID, self.definitions(&schemas)?)
            .and_then(|r| r.prepare())
            .map_err(|e| {
                Error::input(format!("the bundled Kubernetes schemas do not load: {e}"))
            })?;
        let validators = kinds
            .par_iter()
            .map(|(k, schema)| {
                ValidationOptions::<Arc<dyn Retrieve>, Tree>::default()
                    .with_registry(&registry)
                    .should_validate_formats(false)
                    .build(schema)
                    .map(|v| (k.clone(), v))
                    .map_err(|e| Error::input(format!("the schema of `{k}` does not compile: {e}")))
            })
            .collect::<Result<_>>()?;
        // Taking a registry apart costs more than it frees; a run ends soon after.
        std::mem::forget(registry);
        Ok(Compiled { validators })
    }

    /// Checks every document (in parallel) with `compiled`, compiling first the kinds it
    /// lacks; the outcomes are in the documents' order.
    pub fn check(&self, docs: &[Doc], mut compiled: Compiled) -> Result<Vec<Outcome>> {
        let mut missing: Vec<String> = docs
            .iter()
            .map(key)
            .filter(|k| !compiled.validators.contains_key(k))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            compiled
                .validators
                .extend(self.compile(&missing)?.validators);
        }
        let outcomes = docs
            .par_iter()
            .map(|doc| match compiled.validators.get(key(doc).as_str()) {
                None => Outcome::Unchecked,
                Some(v) => outcome(v, &doc.json),
            })
            .collect();
        // Taking compiled schemas apart node by node costs a tenth of a render; a run
        // validates once and ends, so their memory is left to the exit (as the documents').
        std::mem::forget(compiled);
        Ok(outcomes)
    }
}

/// Compiled validators by lower-case `apiversion/kind`.
#[derive(Default)]
pub struct Compiled {
    validators: HashMap<String, Validator<Tree>>,
}

/// The names of the definitions `schema` refers to (`...#/$defs/<name>`), added to `out`.
fn references(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "$ref"
                    && let Some(name) = value.as_str().and_then(|r| r.split_once("#/$defs/"))
                {
                    out.push(name.1.to_string());
                } else {
                    references(value, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, out)),
        _ => {}
    }
}

/// The bundle of `minor`, decompressed and split once per process.
fn bundle(minor: u64, bytes: &'static [u8]) -> Result<&'static Bundle> {
    static LOADED: std::sync::Mutex<Vec<(u64, &'static Bundle)>> =
        std::sync::Mutex::new(Vec::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, bundle)) = loaded.iter().find(|(m, _)| *m == minor) {
        return Ok(bundle);
    }
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut text)
        .map_err(damaged)?;
    // Kept for the whole run: every schema read from it borrows its text.
    let text: &'static str = Box::leak(String::from_utf8(text).map_err(damaged)?.into_boxed_str());
    let raw: RawBundle = serde_json::from_str(text).map_err(damaged)?;
    let bundle: &'static Bundle = Box::leak(Box::new(Bundle {
        kinds: raw
            .kinds
            .into_iter()
            .map(|(k, v)| (k.to_lowercase(), v))
            .collect(),
        definitions: raw.definitions.defs,
        draft: raw.definitions.draft,
    }));
    loaded.push((minor, bundle));
    Ok(bundle)
}

fn damaged(e: impl std::fmt::Display) -> Error {
    Error::input(format!("the bundled Kubernetes schemas are damaged: {e}"))
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
