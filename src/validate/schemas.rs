//! Kubernetes' strict JSON schemas, bundled in the binary, checked offline.
//!
//! The schemas are the Apache-2.0 data of the PyPI package kubernetes-validate (its `-strict`
//! variants: unknown fields are rejected), one gzipped bundle per minor version made by
//! `scripts/bundle-kubernetes-schemas.py`: `_definitions.json` (registered under its `$id`, so
//! the per-kind schemas' references resolve without any file or network access) and the
//! schema of every top-level kind.

use std::collections::HashMap;
use std::path::Path;

use std::sync::Arc;

use jsonschema::{Registry, Retrieve, ValidationOptions, Validator};
use rayon::prelude::*;

use super::doc::At;
use serde_json::Value;

use super::doc::Doc;
use crate::error::{Error, Result};
use crate::yaml::tree::{self, Tree};

/// The `$id` the kinds' references point into.
const DEFINITIONS_ID: &str = "https://kubernetes.io/api/_definitions.json";

/// Errors reported per document at most (the rest are counted).
const MAX_ERRORS_PER_DOC: usize = 5;

// The bundles as build.rs prepared them: `BUNDLES`, each minor version with its `Bundle`.
include!(concat!(env!("OUT_DIR"), "/schemas.rs"));

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
    /// The schema's complaints.
    Invalid(Vec<Problem>),
    /// No schema knows this kind.
    Unchecked,
}

/// One complaint of a schema about a document.
#[derive(Debug, Clone)]
pub struct Problem {
    /// `path: problem` (`spec.replicas: "three" is not of type "integer"`), or a count of the
    /// complaints left out.
    pub text: String,
    /// The offending scalar as the document holds it (`three`), when the complaint is about one.
    pub scalar: Option<String>,
}

/// The schemas of one Kubernetes version plus any user schemas, ready to check documents.
///
/// Loading costs nothing: the bundle was split into its kinds and definitions at build time;
/// only the kinds the documents use, and the definitions they reach, are parsed and compiled.
pub struct Schemas {
    /// The minor version used (`1.<minor>`).
    pub minor: u64,
    /// Set when the requested version had no bundle of its own: which one stands in.
    pub note: Option<String>,
    bundle: &'static Bundle,
    /// The CRDs the chart ships with the binary and the user's, by lower-case key.
    extra: HashMap<String, Value>,
    /// Definitions parsed for pruning nulls, each once.
    parsed: std::sync::Mutex<HashMap<String, Option<std::sync::Arc<Value>>>>,
}

/// One Kubernetes version's schemas, split at build time (see build.rs): every kind's schema
/// (by lower-case key) and every definition (by the name `#/$defs/<name>` gives it) as JSON
/// text, found through sorted indexes of where each starts and ends.
pub(super) struct Bundle {
    text: &'static str,
    /// The definitions' `$schema` (their JSON Schema draft).
    draft: Option<&'static str>,
    /// Where each kind's key and then its schema start, and where the schema ends, sorted by
    /// key.
    kinds: &'static [[u32; 3]],
    /// The same for the definitions, by name.
    definitions: &'static [[u32; 3]],
}

impl Bundle {
    fn kind(&self, key: &str) -> Option<&'static str> {
        self.find(self.kinds, key)
    }

    fn definition(&self, name: &str) -> Option<&'static str> {
        self.find(self.definitions, name)
    }

    fn find(&self, index: &[[u32; 3]], name: &str) -> Option<&'static str> {
        let text = self.text;
        let span = |from: u32, to: u32| text.get(from as usize..to as usize).unwrap_or_default();
        let i = index
            .binary_search_by(|&[n, start, _]| span(n, start).cmp(name))
            .ok()?;
        let [_, start, end] = index[i];
        Some(span(start, end))
    }
}

impl Schemas {
    /// The schemas for Kubernetes `version`, plus the CRD schemas under `schema_dir`.
    pub fn load(version: &semver::Version, schema_dir: Option<&Path>) -> Result<Schemas> {
        let (minor, bundle) = pick(version)?;
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
            bundle,
            extra,
            parsed: Default::default(),
        })
    }

    /// Adds (or replaces) the schema of `key` (lower-case `group/version/kind`).
    pub fn add(&mut self, key: String, schema: Value) {
        self.extra.insert(key, schema);
    }

    /// The schema of `key` (lower case), parsed; user and CRD schemas first.
    fn kind(&self, key: &str) -> Result<Option<Value>> {
        if let Some(schema) = self.extra.get(key) {
            return Ok(Some(schema.clone()));
        }
        match self.bundle.kind(key) {
            None => Ok(None),
            Some(text) => serde_json::from_str(text).map(Some).map_err(damaged),
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
            let Some(text) = self.bundle.definition(&name) else {
                continue;
            };
            let definition: Value = serde_json::from_str(text).map_err(damaged)?;
            references(&definition, &mut pending);
            defs.insert(name, definition);
        }
        let mut document = serde_json::Map::new();
        document.insert("$id".into(), Value::String(DEFINITIONS_ID.into()));
        document.insert("$defs".into(), Value::Object(defs));
        if let Some(draft) = self.bundle.draft {
            document.insert("$schema".into(), Value::String(draft.into()));
        }
        Ok(Value::Object(document))
    }

    /// Compiles the kinds `keys` (lower-case `apiversion/kind`) that have a schema: bundled
    /// kinds into the quick program where it holds them, the rest with jsonschema.
    pub fn compile(&self, keys: &[String]) -> Result<Compiled> {
        let mut compiled = Compiled::default();
        self.extend(&mut compiled, keys)?;
        Ok(compiled)
    }

    /// Adds the kinds `keys` to `compiled` (see [`Schemas::compile`]).
    pub(super) fn extend(&self, compiled: &mut Compiled, keys: &[String]) -> Result<()> {
        let draft_fits = self
            .bundle
            .draft
            .is_none_or(|d| d == "https://json-schema.org/draft/2020-12/schema");
        let mut full = Vec::new();
        for key in keys {
            if compiled.roots.contains_key(key) || compiled.validators.contains_key(key) {
                continue;
            }
            // A bundled kind compiles into the program from its text; what the program
            // declines, and user and CRD schemas, go to jsonschema.
            let bundled = (draft_fits && !self.extra.contains_key(key))
                .then(|| self.bundle.kind(key))
                .flatten();
            let definition = |name: &str| self.bundle.definition(name);
            if let Some(root) =
                bundled.and_then(|text| compiled.program.add_kind(text, &definition))
            {
                compiled.roots.insert(key.clone(), Some(root));
                continue;
            }
            match self.kind(key)? {
                Some(schema) => full.push((key.clone(), schema)),
                None => {
                    compiled.roots.insert(key.clone(), None);
                }
            }
        }
        compiled.validators.extend(self.compile_full(full)?);
        Ok(())
    }

    /// jsonschema's validators of `kinds`, with the definitions they reach.
    fn compile_full(&self, kinds: Vec<(String, Value)>) -> Result<Vec<(String, Validator<Tree>)>> {
        if kinds.is_empty() {
            return Ok(Vec::new());
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
        Ok(validators)
    }

    /// Checks every document (in parallel) with `compiled`, compiling first the kinds it
    /// lacks; the outcomes are in the documents' order. The quick program says which
    /// documents are valid; jsonschema checks the others and words their problems.
    pub fn check(&self, docs: &[Doc], mut compiled: Compiled) -> Result<Vec<Outcome>> {
        // Each document's kind (`key`) as a place in `kinds`, which holds each one once.
        let mut kinds: Vec<String> = Vec::new();
        let mut places: HashMap<(&str, &str), usize> = HashMap::new();
        let at: Vec<usize> = docs
            .iter()
            .map(|doc| {
                *places
                    .entry((doc.api_version, doc.kind))
                    .or_insert_with(|| {
                        kinds.push(key(doc));
                        kinds.len() - 1
                    })
            })
            .collect();
        let keys: Vec<&str> = at.into_iter().map(|i| kinds[i].as_str()).collect();
        let mut missing: Vec<String> = kinds.clone();
        missing.sort_unstable();
        missing.dedup();
        self.extend(&mut compiled, &missing)?;
        let quick: Vec<Option<Outcome>> = docs
            .par_iter()
            .zip(&keys)
            .map(|(doc, &key)| match compiled.roots.get(key) {
                Some(Some(root)) if compiled.program.valid(*root, &doc.json) => {
                    Some(Outcome::Valid)
                }
                Some(Some(_)) => None,
                _ if compiled.validators.contains_key(key) => None,
                _ => Some(Outcome::Unchecked),
            })
            .collect();
        // The kinds of documents the program did not pass, for jsonschema.
        let mut doubted: Vec<String> = quick
            .iter()
            .zip(&keys)
            .filter(|(q, key)| q.is_none() && !compiled.validators.contains_key(**key))
            .map(|(_, key)| key.to_string())
            .collect();
        doubted.sort_unstable();
        doubted.dedup();
        let mut full = Vec::new();
        for key in doubted {
            if let Some(schema) = self.kind(&key)? {
                full.push((key, schema));
            }
        }
        compiled.validators.extend(self.compile_full(full)?);
        let outcomes = quick
            .into_par_iter()
            .zip(docs)
            .zip(&keys)
            .map(|((quick, doc), &key)| match quick {
                Some(outcome) => outcome,
                None => match compiled.validators.get(key) {
                    Some(v) => match self.extra.get(key) {
                        Some(schema) => custom_outcome(v, schema, &doc.json),
                        None => self.builtin_outcome(v, key, &doc.json),
                    },
                    None => Outcome::Unchecked,
                },
            })
            .collect();
        // Taking compiled schemas apart node by node costs a tenth of a render; a run
        // validates once and ends, so their memory is left to the exit (as the documents').
        std::mem::forget(compiled);
        Ok(outcomes)
    }
}

/// Compiled kinds by lower-case `apiversion/kind`: the quick program's roots (`None` for a kind
/// without a schema) and jsonschema's validators.
#[derive(Default)]
pub struct Compiled {
    program: super::verdict::Program,
    roots: HashMap<String, Option<usize>>,
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

fn damaged(e: impl std::fmt::Display) -> Error {
    Error::input(format!("the bundled Kubernetes schemas are damaged: {e}"))
}

/// `apiversion/kind` in lower case, the key of a document's schema.
fn key(doc: &Doc) -> String {
    format!("{}/{}", doc.api_version, doc.kind).to_lowercase()
}

impl Schemas {
    /// The definition `name`, parsed the first time it is asked for.
    fn parsed_definition(&self, name: &str) -> Option<std::sync::Arc<Value>> {
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = parsed.get(name) {
            return known.clone();
        }
        let definition = self
            .bundle
            .definition(name)
            .and_then(|text| serde_json::from_str(text).ok())
            .map(std::sync::Arc::new);
        parsed.insert(name.to_string(), definition.clone());
        definition
    }

    /// The validation problems of a built-in kind's object, judged as the API server judges
    /// it: with nulls in known fields taken as no value (see [`super::pruning`]).
    fn builtin_outcome(
        &self,
        validator: &Validator<Tree>,
        key: &str,
        json: &tree::Value,
    ) -> Outcome {
        if validator.is_valid(json) {
            return Outcome::Valid;
        }
        let Ok(Some(schema)) = self.kind(key) else {
            return outcome(validator, json);
        };
        let definitions = |name: &str| self.parsed_definition(name);
        let mut pruned = json.to_json();
        if !super::pruning::prune_nulls_in(&mut pruned, &schema, &definitions) {
            return outcome(validator, json);
        }
        let arena = bumpalo::Bump::new();
        outcome(validator, &tree::Value::from_json(&pruned, &arena))
    }
}

/// The validation problems of a custom resource, judged as the API server judges it: after
/// pruning the nulls its schema does not keep (see [`super::pruning`]).
fn custom_outcome(validator: &Validator<Tree>, schema: &Value, json: &tree::Value) -> Outcome {
    if validator.is_valid(json) {
        return Outcome::Valid;
    }
    let mut pruned = json.to_json();
    if !super::pruning::prune_nulls(&mut pruned, schema) {
        return outcome(validator, json);
    }
    let arena = bumpalo::Bump::new();
    outcome(validator, &tree::Value::from_json(&pruned, &arena))
}

/// The validation problems of one document.
fn outcome(validator: &Validator<Tree>, json: &tree::Value) -> Outcome {
    if validator.is_valid(json) {
        return Outcome::Valid;
    }
    let mut problems: Vec<Problem> = Vec::new();
    let mut total = 0;
    for error in validator.iter_errors(json) {
        total += 1;
        if problems.len() < MAX_ERRORS_PER_DOC {
            let path = error.instance_path().to_string();
            let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            let at = if segments.is_empty() {
                "(root)".into()
            } else {
                segments.join(".")
            };
            let scalar = match json.at(&segments) {
                Some(tree::Value::String(s)) => Some(s.to_string()),
                Some(tree::Value::Number(n)) => Some(n.to_string()),
                Some(tree::Value::Bool(b)) => Some(b.to_string()),
                _ => None,
            };
            problems.push(Problem {
                text: format!("{at}: {error}"),
                scalar,
            });
        }
    }
    if total == 0 {
        return Outcome::Valid;
    }
    if total > problems.len() {
        problems.push(Problem {
            text: format!("and {} more", total - problems.len()),
            scalar: None,
        });
    }
    Outcome::Invalid(problems)
}

/// The bundle for `version`: its own minor version, or the nearest older bundled one.
fn pick(version: &semver::Version) -> Result<(u64, &'static Bundle)> {
    let (oldest, newest) = (BUNDLES[0].0, BUNDLES[BUNDLES.len() - 1].0);
    if version.major != 1 || version.minor < oldest || version.minor > newest {
        return Err(Error::usage(format!(
            "--kube-version {version} is not supported: schemas are bundled for Kubernetes 1.{oldest} to 1.{newest}"
        )));
    }
    let (minor, bundle) = BUNDLES
        .iter()
        .rev()
        .find(|(minor, _)| *minor <= version.minor)
        .expect("the range was checked");
    Ok((*minor, bundle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bumpalo::Bump;
    use serde_json::json;

    /// Documents of the kinds charts render most, valid as they stand.
    fn seeds() -> Vec<Value> {
        let pod = json!({
            "serviceAccountName": "web",
            "securityContext": {"runAsNonRoot": true, "runAsUser": 10001,
                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "web", "image": "r/web:1",
                "args": ["-c", "x"],
                "env": [{"name": "A", "value": "1"},
                        {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": 1}},
                "livenessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 10},
                "readinessProbe": {"tcpSocket": {"port": 8080}},
                "securityContext": {"allowPrivilegeEscalation": false,
                    "capabilities": {"drop": ["ALL"]}},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}]
            }],
            "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}],
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]
        });
        let meta = json!({"name": "web", "namespace": "n", "labels": {"app": "web"},
            "annotations": {"a/b": "1"}});
        vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                    "strategy": {"type": "RollingUpdate",
                        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod}}}),
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta,
                "spec": {"serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"},
                        "spec": {"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "10Gi"}}}}]}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": meta,
                "spec": {"type": "ClusterIP", "selector": {"app": "web"},
                    "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                "data": {"a": "b"}, "binaryData": {"c": "ZA=="}}),
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
                "spec": {"schedule": "* * * * *", "concurrencyPolicy": "Forbid",
                    "jobTemplate": {"spec": {"backoffLimit": 1,
                        "template": {"spec": pod}}}}}),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta,
                "spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["a.b"], "secretName": "t"}],
                    "rules": [{"host": "a.b", "http": {"paths": [{"path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                    "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
                        "ports": [{"port": 5432, "protocol": "TCP"}]}]}}),
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": meta,
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                    "name": "web"}, "minReplicas": 2, "maxReplicas": 5,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70}}}]}}),
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta,
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": "things.example.com"},
                "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "things", "kind": "Thing"},
                    "versions": [{"name": "v1", "served": true, "storage": true,
                        "schema": {"openAPIV3Schema": {"type": "object",
                            "properties": {"spec": {"type": "object",
                                "x-kubernetes-preserve-unknown-fields": true}}}}}]}}),
        ]
    }

    /// Every document one change away from `doc`: each value replaced by values of every type,
    /// each key removed, an unknown key added to each mapping.
    fn mutations(doc: &Value) -> Vec<Value> {
        let replacements = [
            Value::Null,
            json!(true),
            json!(7),
            json!(-3),
            json!(1.5),
            json!(2.0),
            json!("s"),
            json!("8080"),
            json!([]),
            json!(["x"]),
            json!({}),
            json!({"a": 1}),
        ];
        let mut out = Vec::new();
        let mut paths = Vec::new();
        collect_paths(doc, &mut Vec::new(), &mut paths);
        for path in &paths {
            for replacement in &replacements {
                let mut changed = doc.clone();
                *pointer(&mut changed, path) = replacement.clone();
                out.push(changed);
            }
            if let Some((last, parent)) = path.split_last() {
                let mut changed = doc.clone();
                match pointer(&mut changed, parent) {
                    Value::Object(map) => {
                        map.remove(last);
                    }
                    Value::Array(items) => {
                        items.remove(last.parse::<usize>().unwrap());
                    }
                    _ => unreachable!(),
                }
                out.push(changed);
            }
            let mut changed = doc.clone();
            if let Value::Object(map) = pointer(&mut changed, path) {
                map.insert("bogus".into(), json!(1));
                out.push(changed);
            }
        }
        out
    }

    fn collect_paths(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        let children: Vec<(String, &Value)> = match value {
            Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            _ => Vec::new(),
        };
        for (key, child) in children {
            at.push(key);
            collect_paths(child, at, out);
            at.pop();
        }
    }

    fn pointer<'v>(value: &'v mut Value, path: &[String]) -> &'v mut Value {
        path.iter().fold(value, |v, key| match v {
            Value::Object(map) => map.get_mut(key).unwrap(),
            Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
            _ => unreachable!(),
        })
    }

    /// The quick program never calls valid what jsonschema refuses, and calls valid what it
    /// accepts on every mutated document of every seed, in the oldest and newest bundles.
    #[test]
    fn quick_program_agrees_with_jsonschema() {
        for minor in [25, 37] {
            let schemas = Schemas::load(&semver::Version::new(1, minor, 0), None).unwrap();
            let (mut checked, mut invalid) = (0, 0);
            for seed in seeds() {
                let key = format!(
                    "{}/{}",
                    seed["apiVersion"].as_str().unwrap(),
                    seed["kind"].as_str().unwrap()
                )
                .to_lowercase();
                let compiled = schemas.compile(std::slice::from_ref(&key)).unwrap();
                let root = compiled.roots[&key].unwrap_or_else(|| panic!("{key} declined"));
                let schema = schemas.kind(&key).unwrap().unwrap();
                let full = schemas.compile_full(vec![(key.clone(), schema)]).unwrap();
                let validator = &full[0].1;
                let arena = Bump::new();
                for doc in std::iter::once(seed.clone()).chain(mutations(&seed)) {
                    let tree = tree::Value::from_json(&doc, &arena);
                    let quick = compiled.program.valid(root, &tree);
                    let theirs = validator.is_valid(&tree);
                    assert_eq!(quick, theirs, "1.{minor} {key}: {doc}");
                    checked += 1;
                    invalid += usize::from(!theirs);
                }
                let tree = tree::Value::from_json(&seed, &arena);
                assert!(validator.is_valid(&tree), "the seed of {key} is valid");
            }
            assert!(
                checked > 5000 && invalid > checked / 2,
                "{checked} checked, {invalid} invalid"
            );
        }
    }
}
