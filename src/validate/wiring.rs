//! Wiring: selectors match pods, Services and HPAs/PDBs reach something, ports exist.

use crate::yaml::tree::{Map, Value};

use super::doc::At;

use super::doc::{Doc, selects};
use super::{Context, Findings, Rule, Scope, Severity};

/// A Service annotation listing selector labels that controllers set on pods at run time
/// (Patroni's `spilo-role`, for instance), which no pod template carries.
const RUNTIME_LABELS: &str = "aether.dev/runtime-labels";

pub const SELECTORS: Rule = Rule {
    id: "AC111",
    name: "selector-matches-pods",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Any,
    rationale: "a workload whose selector does not match its own pod labels is refused",
    check: selectors,
};

fn selectors(ctx: &Context<'_>, out: &mut Findings) {
    for doc in ctx
        .docs
        .iter()
        .filter(|d| d.is_workload() && d.kind != "Job" && d.kind != "CronJob")
    {
        let (Some(selector), Some(labels)) = (doc.selector(), doc.pod_labels()) else {
            out.add(
                Some(doc),
                "has no selector or no pod labels".into(),
                Vec::new(),
            );
            continue;
        };
        if !selects(selector, labels) {
            out.add(
                Some(doc),
                format!(
                    "selector {} does not match the pod labels {}",
                    Value::Object(*selector),
                    Value::Object(*labels)
                ),
                Vec::new(),
            );
        }
    }
}

pub const SERVICES: Rule = Rule {
    id: "AC112",
    name: "service-reaches-pods",
    severity: Severity::Warning,
    counterparts: &[],
    scope: Scope::Any,
    rationale: "a Service that selects no pod of the release, or targets a port no container \
                has, may serve nothing",
    check: services,
};

fn services(ctx: &Context<'_>, out: &mut Findings) {
    let index = PodIndex::new(ctx.docs);
    for service in ctx.docs.iter().filter(|d| d.kind == "Service") {
        let Some(selector) = service.selector() else {
            continue; // no selector: endpoints are managed elsewhere
        };
        let runtime: Vec<&str> = service
            .annotation(RUNTIME_LABELS)
            .map(|l| l.split(',').map(str::trim).collect())
            .unwrap_or_default();
        let arena = bumpalo::Bump::new();
        let selector = match runtime.is_empty() {
            true => *selector,
            false => selector.filtered(&arena, |k, _| !runtime.contains(&k)),
        };
        let targets = index.select(service.namespace, &selector);
        if targets.is_empty() {
            out.warn(
                Some(service),
                format!(
                    "selects no pod of this release (selector {}); fine if an operator, another \
                     release or the cluster runs them, else check the selector",
                    Value::Object(selector)
                ),
            );
            continue;
        }
        for port in service
            .json
            .at(&["spec", "ports"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let target = port.get("targetPort").or_else(|| port.get("port"));
            if let Some(target) = target
                && !targets.iter().any(|t| has_port(t, target))
            {
                let message = format!("targetPort {target} is not a port of the pods it selects");
                // A named port must be declared to get endpoints; a number need not be
                // (declaring container ports is informational). Either way the pods run,
                // and charts keep ports that only some settings use (a TLS port with TLS
                // off): a warning.
                let reason = match target {
                    Value::String(_) => {
                        "no container declares that name, so the port has no endpoints: \
                         traffic to it is refused (fine if nothing uses it, else name a \
                         declared port)"
                    }
                    _ => "a number no container declares still works if the process listens there",
                };
                out.warn(Some(service), format!("{message}; {reason}"));
            }
        }
    }
}

/// Workloads by namespace and pod label, so a selector is matched against the few workloads
/// that carry its first label instead of against every object.
struct PodIndex<'a> {
    by_label:
        std::collections::HashMap<(Option<&'a str>, &'a str, &'a Value<'a>), Vec<&'a Doc<'a>>>,
}

impl<'a> PodIndex<'a> {
    fn new(docs: &'a [Doc]) -> PodIndex<'a> {
        let mut by_label: std::collections::HashMap<_, Vec<&Doc>> =
            std::collections::HashMap::new();
        for doc in docs.iter().filter(|d| d.is_workload()) {
            let namespace = doc.namespace;
            for (key, value) in doc.pod_labels().into_iter().flatten() {
                by_label
                    .entry((namespace, key, value))
                    .or_default()
                    .push(doc);
            }
        }
        PodIndex { by_label }
    }

    /// The workloads in `namespace` whose pods `selector` selects.
    fn select(&self, namespace: Option<&str>, selector: &Map) -> Vec<&'a Doc<'a>> {
        let Some((key, value)) = selector.iter().next() else {
            return Vec::new();
        };
        self.by_label
            .get(&(namespace, key, value))
            .into_iter()
            .flatten()
            .filter(|d| d.pod_labels().is_some_and(|l| selects(selector, l)))
            .copied()
            .collect()
    }
}

pub const TARGETS: Rule = Rule {
    id: "AC113",
    name: "targets-exist",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Any,
    rationale: "a probe on a port its container does not declare always fails; an HPA or PDB \
                aimed at nothing rendered may protect nothing",
    check: targets,
};

fn targets(ctx: &Context<'_>, out: &mut Findings) {
    for hpa in ctx
        .docs
        .iter()
        .filter(|d| d.kind == "HorizontalPodAutoscaler")
    {
        let kind = hpa.str_at("/spec/scaleTargetRef/kind").unwrap_or_default();
        let name = hpa.str_at("/spec/scaleTargetRef/name").unwrap_or_default();
        if ctx.workload(kind, name).is_none() {
            out.warn(
                Some(hpa),
                format!(
                    "scales {kind}/{name}, which is not rendered; fine if another release or \
                     an operator creates it, else check scaleTargetRef"
                ),
            );
        }
    }
    for pdb in ctx.docs.iter().filter(|d| d.kind == "PodDisruptionBudget") {
        let Some(selector) = pdb.selector() else {
            continue;
        };
        if !ctx
            .docs
            .iter()
            .any(|d| d.pod_labels().is_some_and(|l| selects(selector, l)))
        {
            out.warn(
                Some(pdb),
                "selects no pod of this release; fine if an operator or another release runs \
                 them (or the component runs no pods with these settings), else check the \
                 selector"
                    .into(),
            );
        }
    }
    for doc in ctx.docs.iter().filter(|d| d.is_workload()) {
        for container in doc.containers() {
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                for kind in ["httpGet", "tcpSocket", "grpc"] {
                    let Some(port) = container
                        .get(probe)
                        .and_then(|p| p.get(kind))
                        .and_then(|p| p.get("port"))
                    else {
                        continue;
                    };
                    if port.is_string() && !container_has_port(container, port) {
                        let name = container.get("name").and_then(Value::as_str).unwrap_or("?");
                        out.add(Some(doc), format!("the {probe} of container `{name}` uses port {port}, which the container does not declare"), Vec::new());
                    }
                }
            }
        }
    }
}

/// Whether any container of `doc` has `port` (a number or a name).
fn has_port(doc: &Doc, port: &Value) -> bool {
    doc.containers().any(|c| container_has_port(c, port))
}

fn container_has_port(container: &Value, port: &Value) -> bool {
    container
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|p| match port {
            Value::String(name) => p.get("name").and_then(Value::as_str) == Some(name),
            number => p.get("containerPort") == Some(number),
        })
}
