//! The validator: mission invariants, Kubernetes schemas and best-practice rules, checked on the
//! rendered manifests together with the values that produced them.
//!
//! Rules find roles by `app.kubernetes.io/component`, read pool sizes from the
//! `aether.dev/db-pool-size` / `aether.dev/db-max-overflow` annotations and max_connections from
//! the PostgreSQL args or configuration, so they work on any chart that follows those
//! conventions. Each rule is one small function registered in [`RULES`]; findings that come
//! from a value name where it was set ([`crate::values::provenance`]).

mod apiserver;
pub mod config;
mod crd_schemas;
pub mod doc;
mod invariants;
mod practices;
mod pruning;
pub mod quantity;
pub mod report;
pub mod schemas;
pub mod stream;
mod user_schemas;
mod verdict;
mod wiring;

use crate::values::provenance::{Provenance, Traced};
use crate::values::{Map, Value};
use doc::At;
use doc::Doc;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported, never fails (e.g. a kind no schema describes).
    Note,
    /// Fails only under `--strict` (or when the chart raises it).
    Warning,
    /// Fails the render.
    Error,
}

/// One problem a rule found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// The rule's stable ID.
    pub rule: &'static str,
    /// Its severity after the chart's configuration and `--strict`.
    pub severity: Severity,
    /// What is wrong, with the numbers.
    pub message: String,
    /// The object, `Kind/name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The template that rendered the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Where the values behind it were set, e.g. `values/prod.yaml:14: api.replicas = 5`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Traced>,
    /// Why the object's annotations skip this check, if they do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
}

/// A rule: stable ID, name, default severity, Checkov counterparts, rationale and check.
pub struct Rule {
    /// Stable ID, e.g. `AC102`.
    pub id: &'static str,
    /// Short name.
    pub name: &'static str,
    /// Severity unless configured otherwise.
    pub severity: Severity,
    /// Checkov checks this rule mirrors; their `checkov.io/skipN` annotations skip it too.
    pub counterparts: &'static [&'static str],
    /// Which charts it applies to.
    pub scope: Scope,
    /// Why the rule exists, in one line.
    pub rationale: &'static str,
    /// The check.
    pub check: fn(&Context<'_>, &mut Findings),
}

/// Which charts a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// True of any Kubernetes workload: every chart, every manifest stream.
    Any,
    /// Aether's architecture: charts whose `aether-lint.yaml` names the components that play
    /// its roles.
    Aether,
}

/// Where each value came from, worked out the first time a rule asks: reading the values
/// files again for their lines costs more than most checks, and a clean render never asks.
#[derive(Clone, Copy)]
pub struct LazyProvenance<'a> {
    cell: &'a std::sync::OnceLock<Provenance>,
    build: &'a (dyn Fn() -> Provenance + Sync + 'a),
}

impl std::ops::Deref for LazyProvenance<'_> {
    type Target = Provenance;

    fn deref(&self) -> &Provenance {
        self.cell.get_or_init(self.build)
    }
}

/// Everything a rule may look at.
pub struct Context<'a> {
    /// The rendered objects.
    pub docs: &'a [Doc<'a>],
    /// The coalesced values.
    pub values: &'a Map,
    /// Where each value came from.
    pub provenance: LazyProvenance<'a>,
    /// The chart's Aether policy, when it enables one.
    pub aether: Option<&'a config::Aether>,
}

impl Context<'_> {
    /// `global.environment` (dev, staging, production), if set.
    pub fn environment(&self) -> Option<&str> {
        match self.values.get("global") {
            Some(Value::Map(global)) => match global.get("environment") {
                Some(Value::String(env)) => Some(env),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether production rules apply.
    pub fn production(&self) -> bool {
        matches!(self.environment(), Some("production" | "prod"))
    }

    /// Where the value behind a rendered field was set: values leaves whose key is `key` (or
    /// ends with it, ignoring case, `-`, `_` and a `db` prefix) and whose value is `value`. Leaves
    /// under the component's or the object's name win; without such a leaf, a single candidate
    /// is still named, several are not (they would be a guess).
    pub fn trace(&self, doc: Option<&Doc>, key: &str, value: &str) -> Vec<Traced> {
        let wanted = normalize(key);
        let mut names: Vec<&str> = Vec::new();
        if let Some(doc) = doc {
            names.extend(doc.component());
            names.push(doc.name);
            names.extend(doc.name.split('-'));
        }
        let hits: Vec<(bool, &str)> = self
            .provenance
            .keys()
            .filter(|path| normalize(path.rsplit('.').next().unwrap_or(path)).ends_with(&wanted))
            .filter(|path| {
                self.provenance
                    .origins(path)
                    .last()
                    .is_some_and(|o| o.value.trim_matches('"') == value)
            })
            .map(|path| (path.split('.').any(|p| names.contains(&p)), path))
            .collect();
        let near: Vec<&str> = hits.iter().filter(|(n, _)| *n).map(|(_, p)| *p).collect();
        let chosen = if !near.is_empty() {
            near
        } else if hits.len() == 1 {
            vec![hits[0].1]
        } else {
            Vec::new()
        };
        chosen
            .iter()
            .take(2)
            .filter_map(|path| self.provenance.traced(path))
            .collect()
    }

    /// Where a rendered scalar came from: the values leaves whose final value is exactly
    /// `scalar`, when one or two are (more would be a guess), each with the layer that set it.
    pub fn holding(&self, scalar: &str) -> Vec<Traced> {
        if scalar.is_empty() {
            return Vec::new();
        }
        let hits: Vec<&str> = self
            .provenance
            .keys()
            .filter(|path| {
                self.provenance
                    .origins(path)
                    .last()
                    .is_some_and(|o| o.value.trim_matches('"') == scalar)
            })
            .take(3)
            .collect();
        if hits.len() > 2 {
            return Vec::new();
        }
        hits.iter()
            .filter_map(|path| self.provenance.traced(path))
            .collect()
    }

    /// The value at a dotted path of the coalesced values.
    pub fn value_at(&self, path: &str) -> Option<&Value> {
        let mut node = self.values.get(path.split('.').next()?)?;
        for key in path.split('.').skip(1) {
            node = node.as_map()?.get(key)?;
        }
        Some(node)
    }

    /// Whether `doc` plays `role` of the chart's Aether policy (by its component label).
    pub fn plays(&self, doc: &Doc, role: config::Role) -> bool {
        self.aether
            .zip(doc.component())
            .is_some_and(|(policy, component)| policy.plays(component, role))
    }

    /// Whether `doc` runs pods and plays `role`.
    pub fn runs(&self, doc: &Doc, role: config::Role) -> bool {
        doc.is_workload() && self.plays(doc, role)
    }

    /// The object a workload name refers to.
    pub fn workload(&self, kind: &str, name: &str) -> Option<&Doc<'_>> {
        self.docs
            .iter()
            .find(|d| d.kind == kind && d.name == name && d.is_workload())
    }
}

/// `maxReplicas`, `max_replicas` and `max-replicas` alike; `db-pool-size` as `poolsize`.
fn normalize(key: &str) -> String {
    let flat: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    flat.strip_prefix("db").map(str::to_string).unwrap_or(flat)
}

/// The findings of one rule run, with helpers that fill in the object and template.
pub struct Findings {
    rule: &'static Rule,
    found: Vec<Finding>,
}

impl Findings {
    /// A finding about `doc` (None for findings about values alone).
    pub fn add(&mut self, doc: Option<&Doc>, message: String, values: Vec<Traced>) {
        let suppressed = doc.and_then(|d| suppression(d, self.rule.counterparts));
        self.found.push(Finding {
            rule: self.rule.id,
            severity: self.rule.severity,
            message,
            object: doc.map(Doc::id),
            template: doc.map(|d| d.source.to_string()),
            values,
            suppressed,
        });
    }

    /// A finding about `doc` that the cluster may still satisfy from outside the render: a
    /// warning at most, whatever the rule's own severity.
    pub fn warn(&mut self, doc: Option<&Doc>, message: String) {
        self.add(doc, message, Vec::new());
        if let Some(last) = self.found.last_mut() {
            last.severity = last.severity.min(Severity::Warning);
        }
    }
}

/// The reason of a `checkov.io/skipN: CHECK=reason` annotation naming one of `checks`.
fn suppression(doc: &Doc, checks: &[&str]) -> Option<String> {
    let annotations = doc.json.at(&["metadata", "annotations"])?.as_object()?;
    annotations
        .iter()
        .filter(|(k, _)| k.starts_with("checkov.io/skip"))
        .filter_map(|(_, v)| v.as_str()?.split_once('='))
        .find(|(check, _)| checks.contains(check))
        .map(|(check, reason)| format!("{check}: {reason}"))
}

/// Every rule, in ID order.
pub static RULES: &[Rule] = &[
    invariants::SINGLETON_SCHEDULER,
    invariants::CONNECTION_BUDGET,
    invariants::REQUESTS_WITHIN_LIMITS,
    invariants::HPA_BOUNDS,
    invariants::WORLD_SERVER_SCALING,
    invariants::WORLD_SERVER_WORKLOAD,
    invariants::REGION_ROUTING,
    invariants::CANARY_STAGES,
    invariants::PATRONI_TIMING,
    invariants::QUOTA_COVERS_PEAK,
    wiring::SELECTORS,
    wiring::SERVICES,
    wiring::TARGETS,
    invariants::PRODUCTION_IMAGES,
    invariants::PRODUCTION_SECRETS,
    apiserver::FIELD_RULES,
    practices::RUN_AS_NON_ROOT,
    practices::READ_ONLY_ROOT,
    practices::NO_PRIVILEGE_ESCALATION,
    practices::NOT_PRIVILEGED,
    practices::DROP_CAPABILITIES,
    practices::SECCOMP,
    practices::RESOURCES_SET,
    practices::PROBES,
    practices::HOST_ACCESS,
    practices::SERVICE_ACCOUNT_TOKEN,
    practices::NETWORK_POLICY,
    practices::SECRETS_IN_ENV,
];

/// The schema rule's ID and name (it runs separately: it needs the schemas).
pub const SCHEMA_RULE: (&str, &str) = ("AC201", "kubernetes-schema");
/// The note for kinds no schema describes.
pub const UNCHECKED_RULE: (&str, &str) = ("AC202", "unchecked-kind");

/// The checks that are not rules over objects: ID, name and rationale.
pub static OTHER_CHECKS: &[(&str, &str, &str)] = &[
    (
        stream::READ_RULE.0,
        stream::READ_RULE.1,
        "every document of a manifest stream must be a Kubernetes object: a YAML mapping with \
         apiVersion, kind and metadata.name",
    ),
    (
        SCHEMA_RULE.0,
        SCHEMA_RULE.1,
        "every object must match the strict Kubernetes schema of the target version",
    ),
    (
        UNCHECKED_RULE.0,
        UNCHECKED_RULE.1,
        "objects of kinds no bundled or given schema describes are not checked",
    ),
    (
        stream::DUPLICATE_RULE.0,
        stream::DUPLICATE_RULE.1,
        "an object given twice in one stream is applied twice, and the later copy wins",
    ),
];

/// Runs every rule that applies (Aether's only where the chart enables them) on the rendered
/// objects, in parallel; the severities are the rules' defaults, the order is the rules' order.
pub fn run_rules(context: &Context<'_>) -> Vec<Finding> {
    use rayon::prelude::*;
    RULES
        .par_iter()
        .filter(|rule| rule.scope == Scope::Any || context.aether.is_some())
        .map(|rule| {
            let mut findings = Findings {
                rule,
                found: Vec::new(),
            };
            (rule.check)(context, &mut findings);
            findings.found
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}

/// The findings of the schema check, one per invalid document, and notes for unchecked kinds;
/// an offending scalar that some values leaf holds is traced to where it was set.
pub fn schema_findings(
    context: &Context<'_>,
    outcomes: &[schemas::Outcome],
    minor: u64,
) -> Vec<Finding> {
    let docs = context.docs;
    let mut out = Vec::new();
    let mut unchecked = std::collections::BTreeSet::new();
    for (doc, outcome) in docs.iter().zip(outcomes) {
        match outcome {
            schemas::Outcome::Valid => {}
            schemas::Outcome::Invalid(problems) => out.push(Finding {
                rule: SCHEMA_RULE.0,
                severity: Severity::Error,
                message: format!(
                    "does not match the Kubernetes 1.{minor} schema of {} {}: {}",
                    doc.api_version,
                    doc.kind,
                    problems
                        .iter()
                        .map(|p| p.text.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                object: Some(doc.id()),
                template: Some(doc.source.to_string()),
                values: problems
                    .iter()
                    .filter_map(|p| p.scalar.as_deref())
                    .flat_map(|scalar| context.holding(scalar))
                    .collect(),
                suppressed: None,
            }),
            schemas::Outcome::Unchecked => {
                unchecked.insert(format!("{} {}", doc.api_version, doc.kind));
            }
        }
    }
    for kind in unchecked {
        out.push(Finding {
            rule: UNCHECKED_RULE.0,
            severity: Severity::Note,
            message: format!("no schema for {kind}: not checked (add one with --schema-dir)"),
            object: None,
            template: None,
            values: Vec::new(),
            suppressed: None,
        });
    }
    out
}

/// What a validation run needs.
pub struct Input<'a> {
    /// The processed chart (its rule settings, its values files).
    pub chart: &'a crate::chart::Chart,
    /// The coalesced values.
    pub values: &'a Map,
    /// Each `-f` file's name and text, for provenance.
    pub values_files: &'a [(String, String)],
    /// The values flags, for provenance.
    pub options: &'a crate::values::ValuesOptions,
    /// The target Kubernetes version (selects the schemas).
    pub kube_version: &'a semver::Version,
    /// Custom resource schemas.
    pub schema_dir: Option<&'a std::path::Path>,
    /// Warnings fail too.
    pub strict: bool,
    /// The release namespace.
    pub namespace: &'a str,
}

/// The schemas of a Kubernetes version, loaded, with the validators of some kinds compiled:
/// work that can start before the documents are parsed.
pub struct Prepared {
    schemas: schemas::Schemas,
    compiled: schemas::Compiled,
}

/// The schemas of a Kubernetes version (and `schema_dir`), loaded with nothing compiled: work
/// that can start while the chart renders.
pub(crate) struct Loaded(schemas::Schemas);

/// Loads the schemas for `kube_version` (and `schema_dir`).
pub(crate) fn load(
    kube_version: &semver::Version,
    schema_dir: Option<&std::path::Path>,
) -> crate::Result<Loaded> {
    schemas::Schemas::load(kube_version, schema_dir).map(Loaded)
}

impl Loaded {
    /// Adds the schemas of the custom resources `chart` defines in its `crds/` folders; they
    /// win over bundled and `--schema-dir` schemas of the same kind, being what is installed.
    pub(crate) fn with_crds_of(mut self, chart: &crate::chart::Chart) -> Loaded {
        for (key, schema) in crd_schemas::from_chart(chart) {
            self.0.add(key, schema);
        }
        self
    }

    /// Compiles the kinds `keys` (lower-case `apiversion/kind`).
    pub(crate) fn compile(self, keys: &[String]) -> crate::Result<Prepared> {
        let compiled = self.0.compile(keys)?;
        Ok(Prepared {
            schemas: self.0,
            compiled,
        })
    }
}

impl Prepared {
    /// Compiles those of the kinds `keys` (lower-case `apiversion/kind`) not compiled yet.
    pub(crate) fn extend(&mut self, keys: &[String]) -> crate::Result<()> {
        self.schemas.extend(&mut self.compiled, keys)
    }
}

/// Validates rendered manifests: schemas, invariants and best practices, configured by the
/// chart; `prepared` is schema work done ahead (loaded here when `None`).
pub fn check(
    input: &Input<'_>,
    manifests: &[crate::render::manifest::Manifest<'_>],
    prepared: Option<Prepared>,
) -> crate::Result<Vec<Finding>> {
    let config = config::Config::load(input.chart)?;
    let prepared = match prepared {
        Some(prepared) => prepared,
        None => load(input.kube_version, input.schema_dir)?
            .with_crds_of(input.chart)
            .compile(&[])?,
    };
    let cell = std::sync::OnceLock::new();
    let build = || Provenance::build(input.chart, input.values_files, input.options);
    let provenance = LazyProvenance {
        cell: &cell,
        build: &build,
    };
    let judged = Judged {
        values: input.values,
        provenance,
        config: &config,
        namespace: input.namespace,
        strict: input.strict,
    };
    judge(&judged, manifests, prepared)
}

/// Validates manifests no chart of ours rendered (another tool's output, a GitOps folder):
/// the schemas of `kube_version` and every rule true of any Kubernetes workload.
pub fn check_stream(
    manifests: &[crate::render::manifest::Manifest<'_>],
    kube_version: &semver::Version,
    schema_dir: Option<&std::path::Path>,
    namespace: &str,
    strict: bool,
) -> crate::Result<Vec<Finding>> {
    let prepared = load(kube_version, schema_dir)?.compile(&[])?;
    let judged = Judged {
        values: &Map::new(),
        provenance: LazyProvenance {
            cell: &std::sync::OnceLock::new(),
            build: &Provenance::default,
        },
        config: &config::Config::default(),
        namespace,
        strict,
    };
    judge(&judged, manifests, prepared)
}

/// What the findings on a set of manifests depend on besides the manifests.
struct Judged<'a> {
    values: &'a Map,
    provenance: LazyProvenance<'a>,
    config: &'a config::Config,
    namespace: &'a str,
    strict: bool,
}

/// Every check on `manifests`: the schemas, then the rules, after the configuration.
fn judge(
    judged: &Judged<'_>,
    manifests: &[crate::render::manifest::Manifest<'_>],
    prepared: Prepared,
) -> crate::Result<Vec<Finding>> {
    use rayon::prelude::*;
    let Prepared { schemas, compiled } = prepared;
    let docs: Vec<Doc> = manifests
        .par_iter()
        .map(|m| Doc::new(m, judged.namespace))
        .collect();
    let outcomes = schemas.check(&docs, compiled)?;
    let context = Context {
        docs: &docs,
        values: judged.values,
        provenance: judged.provenance,
        aether: judged.config.aether(),
    };
    let mut findings = schema_findings(&context, &outcomes, schemas.minor);
    if let Some(note) = &schemas.note {
        findings.push(Finding {
            rule: SCHEMA_RULE.0,
            severity: Severity::Note,
            message: note.clone(),
            object: None,
            template: None,
            values: Vec::new(),
            suppressed: None,
        });
    }
    findings.extend(run_rules(&context));
    let findings = judged
        .config
        .apply(findings, context.environment(), judged.strict);
    // Freeing tens of thousands of parsed objects one by one costs about as much as reading
    // them, and the schemas (the bundled custom resources' among them) a third of checking a
    // small chart; the process ends soon after validating, so their memory is left to the exit.
    std::mem::forget((docs, schemas));
    Ok(findings)
}
