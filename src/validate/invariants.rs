//! Mission invariants: the rules an Aether deployment must never break.

use bumpalo::Bump;

use crate::yaml::tree::Value;

use super::doc::At;

use super::config::Role;
use super::doc::{Doc, selects};
use super::quantity::{Quantity, format_cpu, format_memory};
use super::{Context, Findings, Rule, Scope, Severity};
use crate::values::Value as Val;

pub const SINGLETON_SCHEDULER: Rule = Rule {
    id: "AC101",
    name: "singleton-scheduler",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Aether,
    rationale: "two schedulers run every job twice: exactly one replica, Recreate, no HPA, a PDB that never blocks eviction",
    check: singleton_scheduler,
};

fn singleton_scheduler(ctx: &Context<'_>, out: &mut Findings) {
    for doc in ctx.docs.iter().filter(|d| ctx.runs(d, Role::Scheduler)) {
        let replicas = doc.int_at("/spec/replicas");
        if replicas != Some(1) {
            let shown = replicas.map_or("unset".to_string(), |r| r.to_string());
            out.add(
                Some(doc),
                format!("the scheduler must run exactly 1 replica, not {shown}"),
                ctx.trace(Some(doc), "replicas", &shown),
            );
        }
        if doc.kind == "Deployment" && doc.str_at("/spec/strategy/type") != Some("Recreate") {
            out.add(
                Some(doc),
                "the scheduler's strategy must be Recreate, so the old pod stops before the new one starts".into(),
                Vec::new(),
            );
        }
        if let Some(hpa) = hpa_for(ctx, doc) {
            out.add(
                Some(hpa),
                format!(
                    "{} must not be autoscaled: it is the singleton scheduler",
                    doc.id()
                ),
                Vec::new(),
            );
        }
        for pdb in pdbs_for(ctx, doc) {
            let min = pdb.json.at(&["spec", "minAvailable"]);
            let max = pdb.json.at(&["spec", "maxUnavailable"]);
            let blocks = match (min, max) {
                (Some(Value::Number(n)), _) => n.as_i64() != Some(0),
                (Some(Value::String(s)), _) => *s != "0%",
                (_, Some(Value::Number(n))) => n.as_i64() == Some(0),
                (_, Some(Value::String(s))) => *s == "0%",
                _ => false,
            };
            if blocks {
                out.add(
                    Some(pdb),
                    "the scheduler's PodDisruptionBudget blocks eviction of its only pod (use minAvailable: 0), so node drains would stall".into(),
                    Vec::new(),
                );
            }
        }
    }
}

pub const CONNECTION_BUDGET: Rule = Rule {
    id: "AC102",
    name: "connection-budget",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Aether,
    rationale: "at peak, every client's pools together must fit in max_connections minus the superuser reserve",
    check: connection_budget,
};

fn connection_budget(ctx: &Context<'_>, out: &mut Findings) {
    let clients: Vec<(&Doc, i64, i64, Peak)> = ctx
        .docs
        .iter()
        .filter(|d| d.is_workload())
        .filter_map(|d| {
            let pool = pool_annotation(d, "aether.dev/db-pool-size")?;
            let overflow = pool_annotation(d, "aether.dev/db-max-overflow").unwrap_or(0);
            Some((d, pool, overflow, peak_pods(ctx, d)))
        })
        .collect();
    for server in ctx.docs.iter().filter(|d| ctx.runs(d, Role::Database)) {
        let Some(settings) = postgres_settings(server) else {
            continue;
        };
        let reserved = settings.reserved.unwrap_or(3);
        let available = settings.max_connections - reserved;
        let total: i64 = clients
            .iter()
            .map(|(_, p, o, peak)| peak.pods.saturating_mul(p.saturating_add(*o)))
            .fold(0i64, i64::saturating_add);
        if total < available {
            continue;
        }
        let mut terms = Vec::new();
        let mut values = ctx.trace(
            Some(server),
            "max_connections",
            &settings.max_connections.to_string(),
        );
        for (doc, pool, overflow, peak) in &clients {
            terms.push(format!(
                "{} {} pod{} ({}) x ({pool} pool + {overflow} overflow) = {}",
                doc.id(),
                peak.pods,
                if peak.pods == 1 { "" } else { "s" },
                peak.why,
                peak.pods.saturating_mul(pool.saturating_add(*overflow))
            ));
            values.extend(ctx.trace(Some(doc), "poolSize", &pool.to_string()));
            values.extend(ctx.trace(Some(doc), "maxOverflow", &overflow.to_string()));
            if let Some(max) = peak.hpa_max {
                values.extend(ctx.trace(Some(doc), "maxReplicas", &max.to_string()));
            }
        }
        values.dedup();
        out.add(
            Some(server),
            format!(
                "clients can open {total} connections at peak, but max_connections {} - {reserved} reserved leaves {available}: {}; lower a pool or a replica count, or raise max_connections",
                settings.max_connections,
                terms.join(" + ")
            ),
            values,
        );
    }
}

pub const REQUESTS_WITHIN_LIMITS: Rule = Rule {
    id: "AC103",
    name: "requests-within-limits",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Any,
    rationale: "a request above its limit is rejected by the API server",
    check: requests_within_limits,
};

fn requests_within_limits(ctx: &Context<'_>, out: &mut Findings) {
    for doc in ctx.docs.iter().filter(|d| d.is_workload()) {
        for container in doc.containers() {
            let name = container.get("name").and_then(Value::as_str).unwrap_or("?");
            let Some(requests) = container
                .at(&["resources", "requests"])
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (resource, request) in requests {
                let Some(limit) = container
                    .get("resources")
                    .and_then(|r| r.get("limits"))
                    .and_then(|l| l.get(resource))
                else {
                    continue;
                };
                let (Some(r), Some(l)) = (Quantity::from_json(request), Quantity::from_json(limit))
                else {
                    continue;
                };
                if r.value() > l.value() {
                    let shown = |v: &Value| v.as_str().map_or(v.to_string(), str::to_string);
                    let mut values = ctx.trace(Some(doc), resource, &shown(request));
                    values.extend(ctx.trace(Some(doc), resource, &shown(limit)));
                    out.add(
                        Some(doc),
                        format!(
                            "container `{name}` requests {resource} {} but is limited to {}",
                            shown(request),
                            shown(limit)
                        ),
                        values,
                    );
                }
            }
        }
    }
}

pub const HPA_BOUNDS: Rule = Rule {
    id: "AC104",
    name: "hpa-bounds",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Any,
    rationale: "minReplicas above maxReplicas is refused; production keeps at least 2 API pods",
    check: hpa_bounds,
};

fn hpa_bounds(ctx: &Context<'_>, out: &mut Findings) {
    for hpa in ctx
        .docs
        .iter()
        .filter(|d| d.kind == "HorizontalPodAutoscaler")
    {
        let min = hpa.int_at("/spec/minReplicas").unwrap_or(1);
        let max = hpa.int_at("/spec/maxReplicas").unwrap_or(0);
        if min > max {
            let mut values = ctx.trace(Some(hpa), "minReplicas", &min.to_string());
            values.extend(ctx.trace(Some(hpa), "maxReplicas", &max.to_string()));
            out.add(
                Some(hpa),
                format!("minReplicas {min} is above maxReplicas {max}"),
                values,
            );
        }
    }
    if !ctx.production() {
        return;
    }
    for api in ctx
        .docs
        .iter()
        .filter(|d| ctx.runs(d, Role::Api) && d.kind == "Deployment")
    {
        let (floor, key) = match hpa_for(ctx, api) {
            Some(hpa) => (hpa.int_at("/spec/minReplicas").unwrap_or(1), "minReplicas"),
            None => (api.int_at("/spec/replicas").unwrap_or(1), "replicas"),
        };
        let stable = api
            .label("aether.dev/track")
            .is_none_or(|t| t == "stable" || t == "blue" || t == "green");
        if floor < 2 && stable {
            out.add(
                Some(api),
                format!("in production the API keeps at least 2 pods, but {key} is {floor}"),
                ctx.trace(Some(api), key, &floor.to_string()),
            );
        }
    }
}

pub const WORLD_SERVER_SCALING: Rule = Rule {
    id: "AC105",
    name: "world-server-scaling",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Aether,
    rationale: "player-count scaling needs min <= max, a positive target and a scale-down cooldown no shorter than scale-up",
    check: world_server_scaling,
};

fn world_server_scaling(ctx: &Context<'_>, out: &mut Findings) {
    for hpa in ctx
        .docs
        .iter()
        .filter(|d| d.kind == "HorizontalPodAutoscaler" && ctx.plays(d, Role::WorldServer))
    {
        let metrics = hpa.json.at(&["spec", "metrics"]).and_then(Value::as_array);
        for metric in metrics.into_iter().flatten() {
            let target = metric
                .at(&["pods", "target", "averageValue"])
                .and_then(Quantity::from_json);
            if metric.get("type").and_then(Value::as_str) == Some("Pods")
                && target.is_none_or(|t| t.value() <= 0.0)
            {
                let shown = metric
                    .at(&["pods", "target", "averageValue"])
                    .map_or("unset".into(), |v| {
                        v.as_str().map_or(v.to_string(), str::to_string)
                    });
                out.add(
                    Some(hpa),
                    format!("the target players per pod must be above 0, not {shown}"),
                    ctx.trace(Some(hpa), "targetPlayersPerPod", shown.trim_matches('"')),
                );
            }
        }
        let up = hpa
            .int_at("/spec/behavior/scaleUp/stabilizationWindowSeconds")
            .unwrap_or(0);
        let down = hpa
            .int_at("/spec/behavior/scaleDown/stabilizationWindowSeconds")
            .unwrap_or(300);
        if down < up {
            let mut values = ctx.trace(Some(hpa), "scaleDownCooldownSecs", &down.to_string());
            values.extend(ctx.trace(Some(hpa), "scaleUpCooldownSecs", &up.to_string()));
            out.add(
                Some(hpa),
                format!("the scale-down cooldown ({down} s) is shorter than the scale-up cooldown ({up} s), which makes the world server flap"),
                values,
            );
        }
    }
}

pub const WORLD_SERVER_WORKLOAD: Rule = Rule {
    id: "AC106",
    name: "world-server-workload",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Aether,
    rationale: "a world server keeps its WAL only as a StatefulSet with a volume claim; readiness must differ from liveness",
    check: world_server_workload,
};

fn world_server_workload(ctx: &Context<'_>, out: &mut Findings) {
    let pvc = match ctx.values.get("world-server") {
        Some(Val::Map(ws)) => Some(matches!(ws.get("pvc"), Some(Val::Map(_)))),
        _ => None,
    };
    for doc in ctx.docs.iter().filter(|d| ctx.runs(d, Role::WorldServer)) {
        let claims = doc
            .json
            .at(&["spec", "volumeClaimTemplates"])
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty());
        let stateful = doc.kind == "StatefulSet";
        if stateful != claims || pvc.is_some_and(|p| p != stateful) {
            let origins = ctx
                .provenance
                .traced("world-server.pvc")
                .into_iter()
                .collect();
            out.add(
                Some(doc),
                format!(
                    "the world server must be a StatefulSet with a WAL volume claim exactly when world-server.pvc is set (pvc {}, kind {}, volume claims {})",
                    if pvc == Some(true) { "set" } else { "null" },
                    doc.kind,
                    if claims { "present" } else { "none" }
                ),
                origins,
            );
        }
        for container in doc.containers() {
            let live = container
                .at(&["livenessProbe", "httpGet", "path"])
                .and_then(Value::as_str);
            let ready = container
                .at(&["readinessProbe", "httpGet", "path"])
                .and_then(Value::as_str);
            if live.is_some() && live == ready {
                out.add(
                    Some(doc),
                    format!("readiness and liveness both probe `{}`: readiness must tell \"loading the WAL\" from \"dead\"", live.unwrap_or_default()),
                    ctx.trace(Some(doc), "path", live.unwrap_or_default()),
                );
            }
        }
    }
}

pub const REGION_ROUTING: Rule = Rule {
    id: "AC107",
    name: "region-routing",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Aether,
    rationale: "region weights sum to 100, some region is healthy, and every failover target exists",
    check: region_routing,
};

fn region_routing(ctx: &Context<'_>, out: &mut Findings) {
    let routing = |d: &&Doc| d.kind == "ConfigMap" && ctx.plays(d, Role::WorldServer);
    for doc in ctx.docs.iter().filter(routing) {
        let Some(text) = doc.str_at("/data/routing.yaml") else {
            continue;
        };
        let Ok(table) = serde_yaml::from_str::<serde_json::Value>(text) else {
            out.add(Some(doc), "routing.yaml is not YAML".into(), Vec::new());
            continue;
        };
        let arena = Bump::new();
        let table = Value::from_json(&table, &arena);
        let regions = table
            .get("regions")
            .and_then(Value::as_array)
            .unwrap_or_default();
        let codes: Vec<&str> = regions
            .iter()
            .filter_map(|r| r.get("code")?.as_str())
            .collect();
        let weights: i64 = regions
            .iter()
            .filter_map(|r| r.get("weight")?.as_i64())
            .fold(0, i64::saturating_add);
        let trace = || {
            ctx.provenance
                .traced("world-server.regions")
                .into_iter()
                .collect::<Vec<_>>()
        };
        if weights != 100 {
            out.add(
                Some(doc),
                format!("region weights sum to {weights}, not 100"),
                trace(),
            );
        }
        if !regions
            .iter()
            .any(|r| r.get("healthy").and_then(Value::as_bool) == Some(true))
        {
            out.add(
                Some(doc),
                "no region is healthy: players could not be routed anywhere".into(),
                trace(),
            );
        }
        for region in regions {
            let code = region.get("code").and_then(Value::as_str).unwrap_or("?");
            for target in region
                .get("failover")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let target = target.as_str().unwrap_or("?");
                if !codes.contains(&target) {
                    out.add(
                        Some(doc),
                        format!("region `{code}` fails over to `{target}`, which is not a region"),
                        trace(),
                    );
                }
            }
        }
    }
}

pub const CANARY_STAGES: Rule = Rule {
    id: "AC108",
    name: "canary-stages",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Aether,
    rationale: "canary stages only ever increase traffic and end with the canary taking all of it",
    check: canary_stages,
};

fn canary_stages(ctx: &Context<'_>, out: &mut Findings) {
    let mut found = Vec::new();
    find_key_path(ctx.values, "", "canary", &mut found);
    for (path, canary) in found {
        let Some(Val::List(stages)) = canary.get("stages") else {
            continue;
        };
        let numbers: Vec<i64> = stages
            .iter()
            .filter_map(|s| if let Val::Int(i) = s { Some(*i) } else { None })
            .collect();
        let increasing = numbers.windows(2).all(|w| w[0] < w[1]);
        if numbers.len() != stages.len() || !increasing || numbers.last() != Some(&100) {
            let key = format!("{path}.stages");
            out.add(
                None,
                format!("`{key}` must be increasing percentages ending at 100, not {numbers:?}"),
                ctx.provenance.traced(&key).into_iter().collect(),
            );
        }
    }
}

pub const PATRONI_TIMING: Rule = Rule {
    id: "AC109",
    name: "patroni-timing",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Aether,
    rationale: "Patroni requires loop_wait + 2 x retry_timeout <= ttl, and a positive maximum_lag_on_failover",
    check: patroni_timing,
};

fn patroni_timing(ctx: &Context<'_>, out: &mut Findings) {
    for doc in ctx.docs.iter().filter(|d| d.is_workload()) {
        let arena = Bump::new();
        for config in embedded_configs(doc, &arena) {
            let Some(dcs) = config.at(&["bootstrap", "dcs"]) else {
                continue;
            };
            let get = |k: &str| dcs.get(k).and_then(Value::as_i64);
            let (ttl, wait, retry) = (
                get("ttl").unwrap_or(30),
                get("loop_wait").unwrap_or(10),
                get("retry_timeout").unwrap_or(10),
            );
            if wait.saturating_add(retry.saturating_mul(2)) > ttl {
                let mut values = ctx.trace(Some(doc), "ttl", &ttl.to_string());
                values.extend(ctx.trace(Some(doc), "loopWait", &wait.to_string()));
                values.extend(ctx.trace(Some(doc), "retryTimeout", &retry.to_string()));
                out.add(
                    Some(doc),
                    format!("loop_wait {wait} + 2 x retry_timeout {retry} = {} exceeds ttl {ttl}: the leader could lose its lock while retrying", wait.saturating_add(retry.saturating_mul(2))),
                    values,
                );
            }
            if let Some(lag) = get("maximum_lag_on_failover").filter(|l| *l <= 0) {
                out.add(
                    Some(doc),
                    format!("maximum_lag_on_failover must be positive, not {lag}"),
                    ctx.trace(Some(doc), "maximumLagOnFailover", &lag.to_string()),
                );
            }
        }
    }
}

pub const QUOTA_COVERS_PEAK: Rule = Rule {
    id: "AC110",
    name: "quota-covers-peak",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Any,
    rationale: "pods the autoscaler asks for at peak are refused if the namespace quota cannot hold their requests",
    check: quota_covers_peak,
};

fn quota_covers_peak(ctx: &Context<'_>, out: &mut Findings) {
    for quota in ctx.docs.iter().filter(|d| d.kind == "ResourceQuota") {
        let namespace = quota.namespace;
        let workloads: Vec<&Doc> = ctx
            .docs
            .iter()
            .filter(|d| d.is_workload() && d.namespace == namespace)
            .collect();
        for (scope, resource, format) in [
            ("requests", "cpu", format_cpu as fn(f64) -> String),
            ("requests", "memory", format_memory),
            ("limits", "cpu", format_cpu),
            ("limits", "memory", format_memory),
        ] {
            let key = format!("{scope}.{resource}");
            let Some(hard) = quota
                .json
                .at(&["spec", "hard"])
                .and_then(|h| h.get(&key))
                .and_then(Quantity::from_json)
            else {
                continue;
            };
            let mut total = 0.0;
            let mut terms = Vec::new();
            for doc in &workloads {
                let per_pod: f64 = doc
                    .containers()
                    .filter_map(|c| {
                        c.get("resources")
                            .and_then(|r| r.get(scope))
                            .and_then(|r| r.get(resource))
                            .and_then(Quantity::from_json)
                    })
                    .map(Quantity::value)
                    .sum();
                let peak = peak_pods(ctx, doc);
                total += per_pod * peak.pods as f64;
                terms.push(format!("{} {} x {}", doc.id(), peak.pods, format(per_pod)));
            }
            if total > hard.value() * (1.0 + 1e-9) {
                let values = ctx.trace(
                    Some(quota),
                    resource,
                    quota.json["spec"]["hard"][&key]
                        .as_str()
                        .unwrap_or_default(),
                );
                out.add(
                    Some(quota),
                    format!(
                        "{key} {} cannot hold the peak of {}: {}",
                        format(hard.value()),
                        format(total),
                        terms.join(" + ")
                    ),
                    values,
                );
            }
        }
    }
}

pub const PRODUCTION_IMAGES: Rule = Rule {
    id: "AC114",
    name: "production-images",
    severity: Severity::Error,
    counterparts: &["CKV_K8S_14"],
    scope: Scope::Any,
    rationale: "production runs pinned images: no `latest`, no missing tag",
    check: production_images,
};

fn production_images(ctx: &Context<'_>, out: &mut Findings) {
    if !ctx.production() {
        return;
    }
    for doc in ctx.docs.iter().filter(|d| d.is_workload()) {
        for container in doc.containers() {
            let image = container
                .get("image")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let (name, digest) = image.split_once('@').unwrap_or((image, ""));
            let last = name.rsplit('/').next().unwrap_or(name);
            let tag = last.split_once(':').map(|(_, t)| t);
            if (tag.is_none() && digest.is_empty()) || tag == Some("latest") {
                out.add(
                    Some(doc),
                    format!("production image `{image}` must be pinned to a tag other than latest (or a digest)"),
                    ctx.trace(Some(doc), "tag", tag.unwrap_or("")),
                );
            }
        }
    }
}

pub const PRODUCTION_SECRETS: Rule = Rule {
    id: "AC115",
    name: "production-secrets",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Any,
    rationale: "production values hold references to secrets, never the secrets themselves",
    check: production_secrets,
};

fn production_secrets(ctx: &Context<'_>, out: &mut Findings) {
    if !ctx.production() {
        return;
    }
    // Few values look like secrets: they are found in the values themselves, so that where
    // values came from is read only when one does.
    let mut keys = Vec::new();
    text_leaves(ctx.values, &mut String::new(), &mut keys);
    keys.retain(|key| secret_like(key));
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let is_text = matches!(ctx.value_at(&key), Some(Val::String(s)) if !s.is_empty());
        if !is_text || !ctx.provenance.knows(&key) {
            continue;
        }
        let value = ctx
            .provenance
            .origins(&key)
            .last()
            .map(|o| o.value.as_str())
            .unwrap_or("");
        let described = ctx.provenance.traced(&key).map(|d| d.redacted(value));
        out.add(
            None,
            format!("`{key}` holds a secret value in production; use secrets.externalSecret or secrets.existingSecret"),
            described.into_iter().collect(),
        );
    }
    for doc in ctx.docs.iter().filter(|d| d.kind == "Secret") {
        let has_data = ["data", "stringData"].iter().any(|k| {
            doc.json
                .get(k)
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
        });
        if has_data && doc.str_at("/type") != Some("kubernetes.io/tls") {
            out.add(Some(doc), "a production render contains secret data; reference an existing or external secret instead".into(), Vec::new());
        }
    }
}

/// Whether the dotted values key `key` names a secret (a password, a token...) rather than a
/// reference to one.
fn secret_like(key: &str) -> bool {
    let leaf = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    let named = [
        "password",
        "secret",
        "token",
        "apikey",
        "privatekey",
        "credentials",
    ];
    named.iter().any(|s| leaf.ends_with(s)) && !leaf.starts_with("existing")
}

/// The dotted keys (through maps only) of the non-empty strings under `map`.
fn text_leaves(map: &crate::values::Map, path: &mut String, out: &mut Vec<String>) {
    for (key, value) in map {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        match value {
            Val::String(s) if !s.is_empty() => out.push(path.clone()),
            Val::Map(inner) => text_leaves(inner, path, out),
            _ => {}
        }
        path.truncate(len);
    }
}

/// How many pods a workload can run at its peak, and why.
pub struct Peak {
    pub pods: i64,
    pub why: String,
    pub hpa_max: Option<i64>,
}

/// A workload's peak pods: HPA maxReplicas (or replicas), plus the rolling-update surge.
pub fn peak_pods(ctx: &Context<'_>, doc: &Doc) -> Peak {
    if doc.kind == "Job" || doc.kind == "CronJob" {
        let parallel = doc
            .int_at("/spec/parallelism")
            .or_else(|| doc.int_at("/spec/jobTemplate/spec/parallelism"))
            .unwrap_or(1);
        return Peak {
            pods: parallel,
            why: "job".into(),
            hpa_max: None,
        };
    }
    let hpa_max = hpa_for(ctx, doc).and_then(|h| h.int_at("/spec/maxReplicas"));
    let base = hpa_max.unwrap_or_else(|| doc.int_at("/spec/replicas").unwrap_or(1));
    let surge = if doc.kind == "Deployment" && doc.str_at("/spec/strategy/type") != Some("Recreate")
    {
        match doc
            .json
            .at(&["spec", "strategy", "rollingUpdate", "maxSurge"])
        {
            Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
            Some(Value::String(p)) => percent_of(p, base),
            _ => percent_of("25%", base),
        }
    } else {
        0
    };
    let why = match (hpa_max, surge) {
        (Some(max), 0) => format!("HPA max {max}"),
        (Some(max), s) => format!("HPA max {max} + surge {s}"),
        (None, 0) => format!("{base} replicas"),
        (None, s) => format!("{base} replicas + surge {s}"),
    };
    Peak {
        pods: base.saturating_add(surge),
        why,
        hpa_max,
    }
}

/// `25%` of `base`, rounded up as Kubernetes rounds surge.
fn percent_of(text: &str, base: i64) -> i64 {
    let percent: i64 = text.trim_end_matches('%').parse().unwrap_or(0);
    base.saturating_mul(percent).saturating_add(99) / 100
}

/// The HPA that scales `doc`, if any.
pub fn hpa_for<'a>(ctx: &'a Context<'a>, doc: &Doc) -> Option<&'a Doc<'a>> {
    ctx.docs.iter().find(|h| {
        h.kind == "HorizontalPodAutoscaler"
            && h.str_at("/spec/scaleTargetRef/kind") == Some(doc.kind)
            && h.str_at("/spec/scaleTargetRef/name") == Some(doc.name)
            && h.namespace == doc.namespace
    })
}

/// The PodDisruptionBudgets whose selector picks `doc`'s pods.
fn pdbs_for<'a>(ctx: &'a Context<'a>, doc: &Doc) -> Vec<&'a Doc<'a>> {
    let Some(labels) = doc.pod_labels() else {
        return Vec::new();
    };
    ctx.docs
        .iter()
        .filter(|p| p.kind == "PodDisruptionBudget")
        .filter(|p| p.selector().is_some_and(|s| selects(s, labels)))
        .collect()
}

/// A pool annotation on the object or its pod template.
fn pool_annotation(doc: &Doc, key: &str) -> Option<i64> {
    doc.annotation(key)
        .or_else(|| {
            doc.pod_template()?
                .at(&["metadata", "annotations"])?
                .get(key)?
                .as_str()
        })
        .and_then(|v| v.trim().parse().ok())
}

/// max_connections and superuser_reserved_connections of a PostgreSQL workload.
struct PostgresSettings {
    max_connections: i64,
    reserved: Option<i64>,
}

/// Reads the settings from `-c name=value` args, or from a configuration embedded in env.
fn postgres_settings(doc: &Doc) -> Option<PostgresSettings> {
    let mut max = None;
    let mut reserved = None;
    for container in doc.containers() {
        for list in ["command", "args"] {
            for arg in container
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let arg = arg.as_str().unwrap_or_default();
                if let Some(v) = arg
                    .strip_prefix("max_connections=")
                    .or_else(|| arg.strip_prefix("--max_connections="))
                {
                    max = v.parse().ok();
                }
                if let Some(v) = arg.strip_prefix("superuser_reserved_connections=") {
                    reserved = v.parse().ok();
                }
            }
        }
    }
    let arena = Bump::new();
    for config in embedded_configs(doc, &arena) {
        for path in [
            &["bootstrap", "dcs", "postgresql", "parameters"][..],
            &["postgresql", "parameters"],
        ] {
            if let Some(params) = config.at(path) {
                max = max.or_else(|| params.get("max_connections").and_then(Value::as_i64));
                reserved = reserved.or_else(|| {
                    params
                        .get("superuser_reserved_connections")
                        .and_then(Value::as_i64)
                });
            }
        }
    }
    max.map(|max_connections| PostgresSettings {
        max_connections,
        reserved,
    })
}

/// YAML configurations passed to a container in env (SPILO_CONFIGURATION, PATRONI_* and the like).
fn embedded_configs<'a>(doc: &Doc, arena: &'a Bump) -> Vec<Value<'a>> {
    doc.containers()
        .flat_map(|c| c.get("env").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|e| {
            let text = e.get("value")?.as_str()?;
            (text.contains(':') && text.contains('\n'))
                .then(|| serde_yaml::from_str::<serde_json::Value>(text).ok())
                .flatten()
                .map(|json| Value::from_json(&json, arena))
        })
        .filter(Value::is_object)
        .collect()
}

/// Every map in `values` stored under the key `name`, with its dotted path.
fn find_key_path<'v>(
    values: &'v crate::values::Map,
    prefix: &str,
    name: &str,
    out: &mut Vec<(String, &'v crate::values::Map)>,
) {
    for (key, value) in values {
        if let Val::Map(inner) = value {
            let path = format!("{prefix}{key}");
            if key == name {
                out.push((path.clone(), inner));
            }
            find_key_path(inner, &format!("{path}."), name, out);
        }
    }
}
