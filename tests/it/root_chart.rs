//! The repository root is the Aether chart: each overlay renders and is pinned by a snapshot, every
//! render keeps the chart's conventions (labels, namespaces, pool annotations), and each variant
//! an overlay can choose (world-server pvc or none, every deploy strategy and traffic router,
//! Patroni on or off, secrets created or external) renders what it promises.

use serde_yaml::Value;

use crate::support::{aether, repo_root};

/// The overlays ops teams edit.
pub const OVERLAYS: [&str; 3] = ["values/dev.yaml", "values/staging.yaml", "values/prod.yaml"];

/// The component label values the chart may use.
const COMPONENTS: [&str; 7] = [
    "api",
    "scheduler",
    "ui",
    "postgres",
    "mlflow",
    "migration",
    "world-server",
];

/// The digest the strategy variants give the next release's image.
const NEXT: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

/// Kinds that live outside any namespace.
const CLUSTER_SCOPED: [&str; 1] = ["Namespace"];

/// Renders the root chart with `args` after `template`; the render must succeed.
pub fn render(args: &[&str]) -> String {
    let mut full = vec!["template"];
    full.extend_from_slice(args);
    let run = aether(&repo_root(), &full);
    assert_eq!(run.code, 0, "template {args:?} failed: {}", run.stderr);
    run.stdout
}

/// The documents of a render.
pub fn documents(stream: &str) -> Vec<Value> {
    stream
        .split("\n---\n")
        .filter_map(|doc| serde_yaml::from_str::<Value>(doc).ok())
        .filter(|doc| doc.get("kind").is_some())
        .collect()
}

/// The text at `path` (keys separated by `:`, since label keys contain `/`) of a document.
fn text<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    at(doc, path).and_then(Value::as_str)
}

/// The node at `path` (keys separated by `:`, list indexes as numbers).
fn at<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split(':')
        .try_fold(doc, |node, key| match key.parse::<usize>() {
            Ok(index) => node.get(index),
            Err(_) => node.get(key),
        })
}

/// The one document of `kind` named `name`.
fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| text(d, "kind") == Some(kind) && text(d, "metadata:name") == Some(name))
        .unwrap_or_else(|| panic!("no {kind} named {name}"))
}

/// Every document's `kind/name`.
fn names(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .map(|d| {
            format!(
                "{}/{}",
                text(d, "kind").unwrap_or("?"),
                text(d, "metadata:name").unwrap_or("?")
            )
        })
        .collect()
}

#[test]
fn overlays_render() {
    for overlay in OVERLAYS {
        let name = overlay
            .trim_start_matches("values/")
            .trim_end_matches(".yaml");
        insta::assert_snapshot!(format!("root-{name}"), render(&["-f", overlay]));
    }
}

/// Every render the other tests look at, by name: the overlays, prod in each region, and prod
/// with each strategy under each traffic router.
pub fn variants() -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = OVERLAYS
        .iter()
        .map(|o| (o.to_string(), vec!["-f".into(), o.to_string()]))
        .collect();
    for region in ["us-east-1", "us-west-2", "eu-west-1"] {
        out.push((
            format!("prod+{region}"),
            vec![
                "-f".into(),
                "values/prod.yaml".into(),
                "-f".into(),
                format!("values/regions/{region}.yaml"),
            ],
        ));
    }
    // Canary at every stage; blue-green with either colour active; A/B. Each under both routers.
    let mut strategies: Vec<(String, &str, String)> = (0..4)
        .map(|stage| {
            (
                format!("canary{stage}"),
                "canary",
                format!("api.strategy.canary.stage={stage},ui.strategy.canary.stage={stage}"),
            )
        })
        .collect();
    for color in ["blue", "green"] {
        strategies.push((
            format!("blueGreen-{color}"),
            "blueGreen",
            format!("api.strategy.blueGreen.activeColor={color},ui.strategy.blueGreen.activeColor={color}"),
        ));
    }
    strategies.push(("ab".into(), "ab", "api.strategy.ab.value=b".into()));
    for (name, strategy, settings) in strategies {
        for router in ["nginxIngress", "gatewayApi"] {
            out.push((
                format!("prod-{name}-{router}"),
                vec![
                    "-f".into(),
                    "values/prod.yaml".into(),
                    "--set".into(),
                    format!("api.strategy.type={strategy},ui.strategy.type={strategy},{settings}"),
                    "--set".into(),
                    format!("api.trafficRouter={router},ui.trafficRouter={router},api.strategy.canary.image.tag=1.1.0,api.strategy.canary.image.digest={NEXT},api.strategy.blueGreen.green.image.tag=1.1.0,api.strategy.blueGreen.green.image.digest={NEXT},api.strategy.ab.image.tag=1.1.0,api.strategy.ab.image.digest={NEXT}"),
                ],
            ));
        }
    }
    out.push((
        "prod-without-patroni-and-pvc".into(),
        vec![
            "-f".into(),
            "values/prod.yaml".into(),
            "--set".into(),
            "postgres.patroni.enabled=false,world-server.pvc=null,metrics.enabled=true".into(),
        ],
    ));
    out.push((
        "prod-with-adapter-rules".into(),
        vec![
            "-f".into(),
            "values/prod.yaml".into(),
            "--set".into(),
            "world-server.metricsAdapter.render=true".into(),
        ],
    ));
    out
}

/// Renders every variant.
pub fn render_variants() -> Vec<(String, String)> {
    render_variants_for(None)
}

/// Renders every variant for a target Kubernetes version (the default one without).
pub fn render_variants_for(kube_version: Option<&str>) -> Vec<(String, String)> {
    variants()
        .into_iter()
        .map(|(name, mut args)| {
            if let Some(version) = kube_version {
                args.extend(["--kube-version".to_string(), version.to_string()]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            (name, render(&args))
        })
        .collect()
}

#[test]
fn every_object_keeps_the_chart_conventions() {
    for (variant, stream) in render_variants() {
        let docs = documents(&stream);
        assert!(docs.len() > 20, "{variant}: only {} objects", docs.len());
        for doc in &docs {
            let kind = text(doc, "kind").unwrap_or_default();
            let name = text(doc, "metadata:name").unwrap_or_default();
            let what = format!("{variant}: {kind}/{name}");
            let labels = at(doc, "metadata:labels").unwrap_or_else(|| panic!("{what}: no labels"));
            for key in [
                "name",
                "instance",
                "version",
                "component",
                "part-of",
                "managed-by",
            ] {
                let label = format!("app.kubernetes.io/{key}");
                assert!(labels.get(&label).is_some(), "{what}: no {label}");
            }
            let component = labels["app.kubernetes.io/component"].as_str().unwrap();
            assert!(
                COMPONENTS.contains(&component),
                "{what}: component {component}"
            );
            if !CLUSTER_SCOPED.contains(&kind) {
                assert!(
                    text(doc, "metadata:namespace").is_some(),
                    "{what}: no namespace"
                );
            }
            check_workload(doc, &docs, &what);
        }
    }
}

/// A workload's selector uses only stable labels and matches its pods; a Deployment under an
/// HPA states no replicas; every database client carries its pool annotations.
fn check_workload(doc: &Value, docs: &[Value], what: &str) {
    let kind = text(doc, "kind").unwrap_or_default();
    if !["Deployment", "StatefulSet"].contains(&kind) {
        return;
    }
    let selector = at(doc, "spec:selector:matchLabels").expect("a selector");
    let pod_labels = at(doc, "spec:template:metadata:labels").expect("pod labels");
    for (key, value) in selector.as_mapping().unwrap() {
        let key = key.as_str().unwrap();
        assert!(
            [
                "app.kubernetes.io/name",
                "app.kubernetes.io/instance",
                "app.kubernetes.io/component",
                "aether.dev/track"
            ]
            .contains(&key),
            "{what}: selector uses {key}"
        );
        assert_eq!(pod_labels.get(key), Some(value), "{what}: pods lack {key}");
    }
    let name = text(doc, "metadata:name").unwrap();
    let scaled = docs.iter().any(|d| {
        text(d, "kind") == Some("HorizontalPodAutoscaler")
            && text(d, "spec:scaleTargetRef:name") == Some(name)
    });
    assert_eq!(
        at(doc, "spec:replicas").is_none(),
        scaled,
        "{what}: replicas must be absent exactly when an HPA scales it"
    );
    let component = text(doc, "metadata:labels:app.kubernetes.io/component").unwrap();
    if ["api", "scheduler", "mlflow"].contains(&component) {
        for key in ["aether.dev/db-pool-size", "aether.dev/db-max-overflow"] {
            let value = text(doc, &format!("metadata:annotations:{key}"));
            assert!(
                value.is_some_and(|v| v.parse::<u32>().is_ok()),
                "{what}: {key} is {value:?}"
            );
        }
    }
}

#[test]
fn world_server_is_a_statefulset_exactly_when_a_wal_pvc_is_set() {
    let with_pvc = documents(&render(&["-f", "values/prod.yaml"]));
    let set = find(&with_pvc, "StatefulSet", "aether-world-server");
    assert_eq!(
        text(set, "spec:volumeClaimTemplates:0:metadata:name"),
        Some("wal")
    );
    let mounts = at(set, "spec:template:spec:containers:0:volumeMounts").unwrap();
    assert!(
        mounts
            .as_sequence()
            .unwrap()
            .iter()
            .any(|m| text(m, "mountPath") == Some("/data/wal"))
    );
    let hpa = find(&with_pvc, "HorizontalPodAutoscaler", "aether-world-server");
    assert_eq!(text(hpa, "spec:scaleTargetRef:kind"), Some("StatefulSet"));
    assert_eq!(
        text(hpa, "spec:metrics:0:pods:metric:name"),
        Some("aether_world_player_count")
    );
    assert_eq!(
        text(hpa, "spec:metrics:0:pods:target:averageValue"),
        Some("50")
    );
    assert_eq!(
        at(hpa, "spec:behavior:scaleUp:stabilizationWindowSeconds"),
        Some(&Value::from(60))
    );
    assert_eq!(
        at(hpa, "spec:behavior:scaleDown:stabilizationWindowSeconds"),
        Some(&Value::from(300))
    );

    let without = documents(&render(&[
        "-f",
        "values/prod.yaml",
        "--set",
        "world-server.pvc=null",
    ]));
    let deployment = find(&without, "Deployment", "aether-world-server");
    assert!(at(deployment, "spec:volumeClaimTemplates").is_none());
    assert!(
        !names(&without).contains(&"StatefulSet/aether-world-server".to_string()),
        "no StatefulSet without a pvc"
    );
    let hpa = find(&without, "HorizontalPodAutoscaler", "aether-world-server");
    assert_eq!(text(hpa, "spec:scaleTargetRef:kind"), Some("Deployment"));
}

#[test]
fn world_server_spreads_across_zones_and_publishes_its_routing_table() {
    let docs = documents(&render(&[
        "-f",
        "values/prod.yaml",
        "-f",
        "values/regions/eu-west-1.yaml",
    ]));
    let set = find(&docs, "StatefulSet", "aether-world-server");
    let pod = at(set, "spec:template:spec").unwrap();
    assert_eq!(
        text(pod, "topologySpreadConstraints:0:topologyKey"),
        Some("topology.kubernetes.io/zone")
    );
    assert_eq!(
        text(pod, "topologySpreadConstraints:0:whenUnsatisfiable"),
        Some("ScheduleAnyway"),
        "replicas must not be capped at the zone count"
    );
    let affinity = at(
        pod,
        "affinity:podAffinity:preferredDuringSchedulingIgnoredDuringExecution:0",
    )
    .unwrap();
    assert_eq!(at(affinity, "weight"), Some(&Value::from(80)));
    assert_eq!(
        text(
            affinity,
            "podAffinityTerm:labelSelector:matchLabels:app.kubernetes.io/name"
        ),
        Some("voice-relay")
    );
    let container = at(pod, "containers:0").unwrap();
    assert_eq!(
        text(container, "livenessProbe:httpGet:path"),
        Some("/healthz")
    );
    assert_eq!(
        text(container, "readinessProbe:httpGet:path"),
        Some("/readyz")
    );

    let routing = find(&docs, "ConfigMap", "aether-world-server-routing");
    let table: Value = serde_yaml::from_str(text(routing, "data:routing.yaml").unwrap()).unwrap();
    assert_eq!(text(&table, "localRegion"), Some("eu-west-1"));
    assert_eq!(at(&table, "failoverEnabled"), Some(&Value::from(true)));
    let regions = at(&table, "regions").unwrap().as_sequence().unwrap();
    let weights: i64 = regions.iter().map(|r| r["weight"].as_i64().unwrap()).sum();
    assert_eq!(weights, 100);
    let topology: Value =
        serde_yaml::from_str(text(routing, "data:topology.yaml").unwrap()).unwrap();
    assert_eq!(
        text(&topology, "regions:0:datacenters:0:env"),
        Some("production")
    );
}

/// The api Deployments, Services and routes of prod rendered with `strategy` and `router`.
fn strategy_docs(strategy: &str, router: &str, extra: &str) -> Vec<Value> {
    documents(&render(&[
        "-f",
        "values/prod.yaml",
        "--set",
        &format!("api.strategy.type={strategy},api.trafficRouter={router}{extra}"),
    ]))
}

#[test]
fn canary_splits_traffic_by_the_current_stage() {
    let docs = strategy_docs(
        "canary",
        "gatewayApi",
        ",api.strategy.canary.stage=1,api.strategy.canary.image.tag=1.1.0,api.strategy.canary.image.digest=",
    );
    let stable = find(&docs, "Deployment", "aether-api");
    let canary = find(&docs, "Deployment", "aether-api-canary");
    assert!(
        text(stable, "spec:template:spec:containers:0:image")
            .unwrap()
            .contains(":1.0.0@sha256:")
    );
    assert_eq!(
        text(canary, "spec:template:spec:containers:0:image"),
        Some("registry.example.com/aether/api:1.1.0")
    );
    assert_eq!(
        text(
            find(&docs, "Service", "aether-api-canary"),
            "spec:selector:aether.dev/track"
        ),
        Some("canary")
    );
    let route = find(&docs, "HTTPRoute", "aether-api");
    let backends = at(route, "spec:rules:0:backendRefs").unwrap();
    assert_eq!(text(backends, "0:name"), Some("aether-api"));
    assert_eq!(at(backends, "0:weight"), Some(&Value::from(75)));
    assert_eq!(text(backends, "1:name"), Some("aether-api-canary"));
    assert_eq!(at(backends, "1:weight"), Some(&Value::from(25)));
    // The Ingress no longer routes /api: the HTTPRoute does.
    let ingress = find(&docs, "Ingress", "aether");
    let paths: Vec<&str> = at(ingress, "spec:rules:0:http:paths")
        .unwrap()
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|p| text(p, "path"))
        .collect();
    assert_eq!(paths, ["/"]);

    let nginx = strategy_docs("canary", "nginxIngress", ",api.strategy.canary.stage=2");
    let split = find(&nginx, "Ingress", "aether-api-canary");
    assert_eq!(
        text(
            split,
            "metadata:annotations:nginx.ingress.kubernetes.io/canary-weight"
        ),
        Some("50")
    );
    assert_eq!(
        text(split, "spec:rules:0:http:paths:0:backend:service:name"),
        Some("aether-api-canary")
    );
}

#[test]
fn blue_green_service_selects_the_active_colour() {
    for (active, idle) in [("blue", "green"), ("green", "blue")] {
        let docs = strategy_docs(
            "blueGreen",
            "nginxIngress",
            &format!(",api.strategy.blueGreen.activeColor={active}"),
        );
        find(&docs, "Deployment", "aether-api-blue");
        find(&docs, "Deployment", "aether-api-green");
        find(&docs, "HorizontalPodAutoscaler", "aether-api-blue");
        let main = find(&docs, "Service", "aether-api");
        assert_eq!(text(main, "spec:selector:aether.dev/track"), Some(active));
        let preview = find(&docs, "Service", "aether-api-preview");
        assert_eq!(text(preview, "spec:selector:aether.dev/track"), Some(idle));
    }
}

#[test]
fn ab_routes_by_header() {
    let docs = strategy_docs("ab", "gatewayApi", "");
    find(&docs, "Deployment", "aether-api-b");
    let route = find(&docs, "HTTPRoute", "aether-api");
    let header = at(route, "spec:rules:0:matches:0:headers:0").unwrap();
    assert_eq!(text(header, "name"), Some("X-Aether-Variant"));
    assert_eq!(text(header, "value"), Some("b"));
    assert_eq!(
        text(route, "spec:rules:0:backendRefs:0:name"),
        Some("aether-api-b")
    );
    assert_eq!(
        text(route, "spec:rules:1:backendRefs:0:name"),
        Some("aether-api")
    );

    let nginx = strategy_docs("ab", "nginxIngress", "");
    let split = find(&nginx, "Ingress", "aether-api-b");
    assert_eq!(
        text(
            split,
            "metadata:annotations:nginx.ingress.kubernetes.io/canary-by-header"
        ),
        Some("X-Aether-Variant")
    );
}

#[test]
fn scheduler_is_a_recreated_singleton_whose_budget_allows_eviction() {
    for overlay in OVERLAYS {
        let docs = documents(&render(&["-f", overlay]));
        let scheduler = find(&docs, "Deployment", "aether-scheduler");
        assert_eq!(at(scheduler, "spec:replicas"), Some(&Value::from(1)));
        assert_eq!(text(scheduler, "spec:strategy:type"), Some("Recreate"));
        let pdb = find(&docs, "PodDisruptionBudget", "aether-scheduler");
        assert_eq!(at(pdb, "spec:minAvailable"), Some(&Value::from(0)));
        assert!(!docs.iter().any(|d| {
            text(d, "kind") == Some("HorizontalPodAutoscaler")
                && text(d, "spec:scaleTargetRef:name") == Some("aether-scheduler")
        }));
    }
}

#[test]
fn patroni_runs_spilo_with_kubernetes_as_its_dcs() {
    let on = documents(&render(&["-f", "values/prod.yaml"]));
    let set = find(&on, "StatefulSet", "aether-postgres");
    assert_eq!(at(set, "spec:replicas"), Some(&Value::from(3)));
    let env = at(set, "spec:template:spec:containers:0:env").unwrap();
    let config = env
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| text(e, "name") == Some("SPILO_CONFIGURATION"))
        .and_then(|e| text(e, "value"))
        .unwrap();
    let config: Value = serde_yaml::from_str(config).unwrap();
    let dcs = at(&config, "bootstrap:dcs").unwrap();
    for (key, value) in [
        ("ttl", 30),
        ("loop_wait", 10),
        ("retry_timeout", 10),
        ("maximum_lag_on_failover", 1_048_576),
    ] {
        assert_eq!(dcs.get(key), Some(&Value::from(value)), "{key}");
    }
    assert_eq!(
        at(dcs, "postgresql:parameters:max_connections"),
        Some(&Value::from(300))
    );
    for kind in ["ServiceAccount", "Role", "RoleBinding"] {
        find(&on, kind, "aether-postgres");
    }
    let leader = find(&on, "Service", "aether-postgres");
    assert_eq!(text(leader, "spec:selector:spilo-role"), Some("primary"));
    let policy = find(&on, "NetworkPolicy", "aether-postgres");
    let ports = serde_yaml::to_string(at(policy, "spec:ingress").unwrap()).unwrap();
    assert!(ports.contains("8008"), "peer traffic on 8008: {ports}");

    let off = documents(&render(&[
        "-f",
        "values/prod.yaml",
        "--set",
        "postgres.patroni.enabled=false",
    ]));
    let set = find(&off, "StatefulSet", "aether-postgres");
    assert_eq!(at(set, "spec:replicas"), Some(&Value::from(1)));
    let args =
        serde_yaml::to_string(at(set, "spec:template:spec:containers:0:args").unwrap()).unwrap();
    assert!(args.contains("max_connections=300"), "{args}");
    assert!(!names(&off).contains(&"Role/aether-postgres".to_string()));
    assert!(
        text(
            find(&off, "Service", "aether-postgres"),
            "spec:selector:spilo-role"
        )
        .is_none()
    );
}

#[test]
fn secrets_have_one_source_and_never_sit_in_prod() {
    let dev = documents(&render(&["-f", "values/dev.yaml"]));
    let secret = find(&dev, "Secret", "aether-secrets");
    let password = text(secret, "stringData:POSTGRES_PASSWORD").unwrap();
    let url = text(secret, "stringData:DATABASE_URL").unwrap();
    assert_eq!(
        url,
        format!("postgresql://aether:{password}@aether-postgres.aether-dev.svc:5432/aether")
    );

    let prod = documents(&render(&["-f", "values/prod.yaml"]));
    assert!(
        !prod.iter().any(|d| text(d, "kind") == Some("Secret")),
        "prod renders no Secret"
    );
    let external = find(&prod, "ExternalSecret", "aether-secrets");
    let composed = text(external, "spec:target:template:data:DATABASE_URL").unwrap();
    assert!(
        composed.contains("{{ .POSTGRES_PASSWORD | urlquery }}"),
        "{composed}"
    );

    let staging = documents(&render(&["-f", "values/staging.yaml"]));
    let api = find(&staging, "Deployment", "aether-api");
    let env =
        serde_yaml::to_string(at(api, "spec:template:spec:containers:0:env").unwrap()).unwrap();
    assert!(env.contains("name: aether-secrets"), "{env}");
}

#[test]
fn migration_job_is_a_hook_named_by_its_image() {
    let first = documents(&render(&["-f", "values/prod.yaml"]));
    let second = documents(&render(&[
        "-f",
        "values/prod.yaml",
        "--set",
        "api.image.tag=1.0.1",
    ]));
    let job_name = |docs: &[Value]| {
        names(docs)
            .into_iter()
            .find(|n| n.starts_with("Job/aether-migrate-"))
            .expect("a migration Job")
    };
    assert_ne!(job_name(&first), job_name(&second));
    let job = first
        .iter()
        .find(|d| text(d, "kind") == Some("Job"))
        .unwrap();
    assert_eq!(
        text(job, "metadata:annotations:helm.sh/hook"),
        Some("post-install,pre-upgrade")
    );
    assert!(text(job, "metadata:annotations:argocd.argoproj.io/hook").is_some());
    assert_eq!(
        serde_yaml::to_string(at(job, "spec:template:spec:containers:0:command").unwrap()).unwrap(),
        "- alembic\n- upgrade\n- head\n"
    );
}

#[test]
fn overlay_mistakes_are_refused_with_the_value_to_fix() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["-f", "values/prod.yaml", "--set", "secrets.create=true"],
            "set exactly one of secrets.create",
        ),
        (
            &[
                "-f",
                "values/prod.yaml",
                "--set",
                "secrets.externalSecret.enabled=false,secrets.create=true,secrets.values.postgresPassword=x",
            ],
            "production must not put secret values in an overlay",
        ),
        (
            &[
                "-f",
                "values/prod.yaml",
                "--set",
                "api.strategy.type=canary,api.strategy.canary.stage=4",
            ],
            "api.strategy.canary.stage is 4 but there are only 4 stages",
        ),
        (
            &[
                "-f",
                "values/prod.yaml",
                "--set",
                "api.terminationGracePeriodSeconds=30",
            ],
            "must be above api.proxy.gracefulShutdownTimeoutSecs",
        ),
        (
            &[
                "-f",
                "values/prod.yaml",
                "--set",
                "api.strategy.type=bluegreen",
            ],
            "api.strategy.type",
        ),
        (
            &["-f", "values/prod.yaml", "--set", "scheduler.replicas=2"],
            "scheduler.replicas",
        ),
    ];
    for (args, message) in cases {
        let mut full = vec!["template"];
        full.extend_from_slice(args);
        let run = aether(&repo_root(), &full);
        assert!(run.code == 1 || run.code == 2, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: wrote output");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn root_chart_leaves_the_crate_out() {
    // Rendering reads only chart files: files.glob over everything finds no Rust source.
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    crate::support::copy_dir(&repo_root().join("templates"), &chart.join("templates"));
    crate::support::copy_dir(&repo_root().join("charts"), &chart.join("charts"));
    for file in [
        "Chart.yaml",
        "values.yaml",
        "values.schema.json",
        ".helmignore",
    ] {
        std::fs::copy(repo_root().join(file), chart.join(file)).unwrap();
    }
    std::fs::create_dir_all(chart.join("src")).unwrap();
    std::fs::write(chart.join("src/lib.rs"), "fn main() {}").unwrap();
    std::fs::write(chart.join("Cargo.toml"), "[package]").unwrap();
    std::fs::write(
        chart.join("templates/files.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: files\ndata:\n  all: {{ files.glob(\"**\") | list | join(\",\") | quote }}\n",
    )
    .unwrap();
    let run = aether(
        &chart,
        &[
            "template",
            "-s",
            "templates/files.yaml",
            "--set",
            "secrets.existingSecret=x",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("all: \".helmignore\""),
        "{}",
        run.stdout
    );
}

/// Every generated name is one the API server accepts at any legal release name: 1 to 53
/// characters (Helm's limit). Long names are shortened with a hash, so they stay distinct.
#[test]
fn names_are_valid_at_any_release_name() {
    let longest = "r".repeat(53);
    for release in ["a", longest.as_str()] {
        for overlay in OVERLAYS {
            let run = aether(&repo_root(), &["template", release, ".", "-f", overlay]);
            assert_eq!(run.code, 0, "{release} {overlay}: {}", run.stderr);
            let mut seen = std::collections::BTreeSet::new();
            for doc in run.stdout.split("\n---\n") {
                let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(doc) else {
                    continue;
                };
                let (Some(kind), Some(name)) = (
                    value.get("kind").and_then(|k| k.as_str()),
                    value["metadata"].get("name").and_then(|n| n.as_str()),
                ) else {
                    continue;
                };
                assert!(
                    name.len() <= 63,
                    "{overlay}: {kind} `{name}` is {} long",
                    name.len()
                );
                assert!(
                    seen.insert(format!("{kind}/{name}")),
                    "{overlay}: {kind}/{name} twice"
                );
            }
            assert!(seen.len() > 20, "{overlay}: {} objects", seen.len());
        }
    }
}

/// Where every variant's render is pinned, without its `# Source:` lines: how the templates are
/// laid out in files may change, what the cluster receives may not without updating the pin
/// (`AETHER_PIN_RENDERS=1 cargo test -- renders_are_pinned`): the same objects byte for byte, and
/// the kinds in the same install order.
const PINNED: &str = "tests/fixtures/root-renders.json.gz";

/// A render without the `# Source:` lines, which name template files.
fn without_sources(render: &str) -> String {
    render
        .lines()
        .filter(|l| !l.starts_with("# Source: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn renders_are_pinned_apart_from_their_sources() {
    use std::io::{Read, Write};
    let renders: std::collections::BTreeMap<String, String> = render_variants()
        .into_iter()
        .map(|(name, render)| (name, without_sources(&render)))
        .collect();
    let path = repo_root().join(PINNED);
    if std::env::var_os("AETHER_PIN_RENDERS").is_some() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(serde_json::to_string_pretty(&renders).unwrap().as_bytes())
            .unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
    }
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let pinned: std::collections::BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
    assert_eq!(
        pinned.keys().collect::<Vec<_>>(),
        renders.keys().collect::<Vec<_>>(),
        "the variants changed; re-pin"
    );
    for (name, render) in &renders {
        let (mut before, mut now) = (documents_of(&pinned[name]), documents_of(render));
        // Kinds come in the same install order; within a kind, objects follow the template
        // files' paths (as in Helm), so moving a template may reorder objects of its kind.
        let kinds = |docs: &[String]| -> Vec<String> {
            docs.iter()
                .map(|d| {
                    d.lines()
                        .find(|l| l.starts_with("kind: "))
                        .unwrap_or("")
                        .to_string()
                })
                .collect()
        };
        assert_eq!(
            kinds(&before),
            kinds(&now),
            "{name}: the kinds changed order"
        );
        before.sort();
        now.sort();
        for (a, b) in before.iter().zip(&now) {
            assert!(
                a == b,
                "{name}: an object changed:\npinned:\n{a}\nnow:\n{b}"
            );
        }
        assert_eq!(
            before.len(),
            now.len(),
            "{name}: the number of objects changed"
        );
    }
}

/// The documents of a stream without `# Source:` lines, each as its text.
fn documents_of(stream: &str) -> Vec<String> {
    stream
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The macros a chart's templates define (in every folder below `dir`), by name.
fn macros(dir: &str) -> std::collections::BTreeSet<String> {
    fn walk(dir: &std::path::Path, out: &mut std::collections::BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            for tag in text.split("{%").skip(1) {
                if let Some(rest) = tag
                    .trim_start_matches('-')
                    .trim_start()
                    .strip_prefix("macro ")
                {
                    out.insert(rest.split('(').next().unwrap().trim().to_string());
                }
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(&repo_root().join(dir), &mut out);
    out
}

#[test]
fn shared_macros_live_once_in_the_library_chart() {
    let library = macros("charts/aether-common/templates");
    let root = macros("templates");
    let world = macros("charts/world-server/templates");
    for shared in [
        "fullname",
        "labels",
        "selector",
        "metadata",
        "image",
        "pod_defaults",
        "http_probe",
    ] {
        assert!(library.contains(shared), "aether-common lacks `{shared}`");
    }
    for (chart, own) in [("the root chart", &root), ("world-server", &world)] {
        let twice: Vec<&String> = own.intersection(&library).collect();
        assert!(twice.is_empty(), "{chart} defines {twice:?} again");
    }
    let twice: Vec<&String> = root.intersection(&world).collect();
    assert!(
        twice.is_empty(),
        "world-server and the root chart both define {twice:?}"
    );
    let chart =
        std::fs::read_to_string(repo_root().join("charts/aether-common/Chart.yaml")).unwrap();
    assert!(chart.contains("type: library"));
    // A library renders nothing of its own: the renders hold no object from it.
    let prod = render(&["-f", "values/prod.yaml"]);
    assert!(!prod.contains("# Source: aether/charts/aether-common/"));
}
