//! The validator: one failing fixture per rule (a values overlay on a small non-Aether chart that
//! follows the conventions), each pinned with its message, numbers and the values file and line
//! behind it; the fixture chart and the Aether overlays lint clean.

use crate::root_chart::OVERLAYS;
use crate::support::{aether, bin, chart_with, read_args, repo_root, run_program};

#[test]
fn every_rule_has_a_failing_fixture() {
    let mut seen = Vec::new();
    insta::glob!("../fixtures/lint/cases", "*/cmd", |cmd| {
        let dir = cmd.parent().expect("case directory");
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap()
            .to_string();
        let rule = name.split('-').next().unwrap().to_string();
        let mut args = vec!["lint".to_string(), "../../chart".to_string()];
        args.extend(read_args(cmd));
        let run = run_program(&bin(), dir, &args, None);
        let expected = if rule == "AC202" { 0 } else { 1 };
        assert_eq!(run.code, expected, "{name}: {}", run.snapshot());
        assert!(
            run.stdout.contains(&format!("[{rule} ")),
            "{name} does not report {rule}: {}",
            run.stdout
        );
        assert!(!run.stderr.contains("panicked"), "{name} panicked");
        insta::assert_snapshot!(run.snapshot());
        seen.push(rule);
    });
    let ids = aether_chart::validate::RULES
        .iter()
        .map(|r| r.id.to_string());
    for id in ids.chain(["AC201".to_string(), "AC202".to_string()]) {
        assert!(
            seen.contains(&id),
            "rule {id} has no fixture under tests/fixtures/lint/cases"
        );
    }
}

#[test]
fn the_fixture_chart_lints_clean() {
    let chart = repo_root().join("tests/fixtures/lint/chart");
    let run = aether(&chart, &["lint", ".", "--strict"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert_eq!(run.stdout, "shop: no findings\n");
}

#[test]
fn the_aether_overlays_lint_clean() {
    for overlay in OVERLAYS {
        let run = aether(
            &repo_root(),
            &["lint", "-f", overlay, "--strict", "--format", "json"],
        );
        assert_eq!(run.code, 0, "{overlay}: {}", run.snapshot());
        let findings: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
        for finding in findings {
            let unsuppressed = finding.get("suppressed").is_none();
            assert!(
                finding["severity"] == "note" || !unsuppressed,
                "{overlay}: {finding}"
            );
        }
    }
}

#[test]
fn sarif_points_at_the_values_line() {
    let dir = repo_root().join("tests/fixtures/lint/cases/AC102-connection-budget");
    let args: Vec<String> = [
        "lint",
        "../../chart",
        "-f",
        "overlay.yaml",
        "--format",
        "sarif",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = run_program(&bin(), &dir, &args, None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "AC102");
    assert_eq!(result["level"], "error");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "overlay.yaml");
    assert_eq!(location["region"]["startLine"], 2);
    // `  maxConnections: 50`: the key's column, from the place the values layer recorded.
    assert_eq!(location["region"]["startColumn"], 3);
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().any(|r| r["id"] == "AC102"));
}

#[test]
fn template_refuses_findings_and_skip_validation_opts_out() {
    let dir = repo_root().join("tests/fixtures/lint/cases/AC102-connection-budget");
    let args = |extra: &[&str]| -> Vec<String> {
        ["template", "../../chart", "-f", "overlay.yaml"]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    let run = run_program(&bin(), &dir, &args(&[]), None);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty(), "no manifests on stdout");
    assert!(
        run.stderr.contains("error[AC102 connection-budget]"),
        "{}",
        run.stderr
    );
    let run = run_program(&bin(), &dir, &args(&["--skip-validation"]), None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("kind: StatefulSet"));
    // Warnings are printed but do not fail a render.
    let warn = repo_root().join("tests/fixtures/lint/cases/AC302-read-only-root-filesystem");
    let args: Vec<String> = ["template", "../../chart", "-f", "overlay.yaml"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let run = run_program(&bin(), &warn, &args, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("warning[AC302"), "{}", run.stderr);
}

/// Every leaf of a YAML document as a dotted path (lists, empty maps and nulls are leaves).
fn leaves(node: &serde_yaml::Value, prefix: &str, out: &mut Vec<String>) {
    match node {
        serde_yaml::Value::Mapping(map) if !map.is_empty() => {
            for (key, value) in map {
                let key = key.as_str().expect("string keys");
                leaves(value, &format!("{prefix}{key}."), out);
            }
        }
        _ => out.push(prefix.trim_end_matches('.').to_string()),
    }
}

#[test]
fn explain_names_the_overlay_line_of_every_leaf() {
    for overlay in OVERLAYS {
        let text = std::fs::read_to_string(repo_root().join(overlay)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut keys = Vec::new();
        leaves(&serde_yaml::from_str(&text).unwrap(), "", &mut keys);
        assert!(keys.len() > 10, "{overlay}: {keys:?}");
        for key in keys {
            let run = aether(&repo_root(), &["values", "-f", overlay, "--explain", &key]);
            assert_eq!(run.code, 0, "{overlay} {key}: {}", run.stderr);
            let last = run.stdout.lines().last().unwrap_or_default();
            let prefix = format!("=> {overlay}:");
            let rest = last.strip_prefix(&prefix).unwrap_or_else(|| {
                panic!("{key}: the winning layer is not {overlay}: {}", run.stdout)
            });
            let (line, setting) = rest.split_once(": ").unwrap();
            assert!(setting.starts_with(&format!("{key} = ")), "{last}");
            let line: usize = line.parse().unwrap();
            let leaf = key.rsplit('.').next().unwrap();
            assert!(
                lines[line - 1]
                    .trim_start()
                    .starts_with(&format!("{leaf}:")),
                "{overlay}:{line} is `{}`, not the line of {key}",
                lines[line - 1]
            );
        }
    }
}

#[test]
fn explain_lists_every_layer_in_order() {
    let run = aether(
        &repo_root(),
        &[
            "values",
            "-f",
            "values/prod.yaml",
            "--set",
            "api.autoscaling.maxReplicas=12",
            "--explain",
            "api.autoscaling.maxReplicas",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(lines[0].starts_with("   values.yaml:"), "{}", lines[0]);
    assert!(lines[1].starts_with("   values/prod.yaml:"), "{}", lines[1]);
    assert_eq!(
        lines[2],
        "=> --set api.autoscaling.maxReplicas=12: api.autoscaling.maxReplicas = 12"
    );
    let run = aether(
        &repo_root(),
        &["values", "-f", "values/prod.yaml", "--explain", "api.nope"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no values file or flag sets this key"),
        "{}",
        run.stderr
    );
}

/// A copy of the fixture chart, with `extra` files written into it.
fn fixture_chart(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::support::copy_dir(&repo_root().join("tests/fixtures/lint/chart"), dir.path());
    for (name, text) in extra {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn the_chart_configures_its_rules() {
    let raised = fixture_chart(&[
        (
            "aether-lint.yaml",
            "rules:\n  AC302:\n    severity: error\n  AC311:\n    severity: off\n    reason: the platform adds a default-deny policy\n    environments: [staging]\n",
        ),
        (
            "overlay.yaml",
            "security:\n  readOnlyRootFilesystem: false\nnetworkPolicy: false\n",
        ),
    ]);
    let run = aether(raised.path(), &["lint", ".", "-f", "overlay.yaml"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(run.stdout.contains("error[AC302 "), "{}", run.stdout);
    assert!(
        !run.stdout.contains("AC311"),
        "AC311 is off in staging: {}",
        run.stdout
    );
    let run = aether(
        raised.path(),
        &[
            "lint",
            ".",
            "-f",
            "overlay.yaml",
            "--set",
            "global.environment=dev",
        ],
    );
    assert!(
        run.stdout.contains("warning[AC311 "),
        "AC311 applies in dev: {}",
        run.stdout
    );

    for (config, message) in [
        (
            "rules:\n  AC999:\n    severity: error\n",
            "unknown rule `AC999`",
        ),
        (
            "rules:\n  AC302:\n    severity: off\n",
            "turned off without a reason",
        ),
        (
            "rules:\n  AC302:\n    severity: loud\n",
            "is not a valid rule configuration",
        ),
        ("rules: [\n", "is not a valid rule configuration"),
    ] {
        let chart = fixture_chart(&[("aether-lint.yaml", config)]);
        let run = aether(chart.path(), &["lint", "."]);
        assert_eq!(run.code, 2, "{config}: {}", run.snapshot());
        assert!(run.stderr.contains(message), "{config}: {}", run.stderr);
    }
}

#[test]
fn schema_versions_and_custom_schemas() {
    let chart = fixture_chart(&[]);
    let run = aether(chart.path(), &["lint", ".", "--kube-version", "1.20.0"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(
        run.stderr
            .contains("schemas are bundled for Kubernetes 1.25 to 1.37"),
        "{}",
        run.stderr
    );
    let run = aether(chart.path(), &["lint", ".", "--kube-version", "1.30.4"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());

    let widget = "extraObjects:\n  - apiVersion: example.com/v1\n    kind: Widget\n    metadata:\n      name: w\n    spec:\n      size: large\n";
    let schema = r#"{"type": "object", "properties": {"apiVersion": {"type": "string"}, "kind": {"enum": ["Widget"]},
        "metadata": {"type": "object"}, "spec": {"type": "object", "properties": {"size": {"type": "integer"}},
        "additionalProperties": false}}, "additionalProperties": false}"#;
    let chart = fixture_chart(&[
        ("overlay.yaml", widget),
        ("schemas/example.com/widget_v1.json", schema),
    ]);
    let run = aether(
        chart.path(),
        &["lint", ".", "-f", "overlay.yaml", "--schema-dir", "schemas"],
    );
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stdout
            .contains("error[AC201 kubernetes-schema] Widget/w")
            && run.stdout.contains("spec.size"),
        "{}",
        run.stdout
    );
    for (file, text, message) in [
        (
            "schemas/example.com/widget_v1.json",
            "{ not json",
            "is not valid JSON",
        ),
        (
            "schemas/example.com/widget_v1.json",
            r#"{"$ref": "../../secrets.json"}"#,
            "outside itself",
        ),
    ] {
        let chart = fixture_chart(&[(file, text)]);
        let run = aether(chart.path(), &["lint", ".", "--schema-dir", "schemas"]);
        assert_eq!(run.code, 2, "{}", run.snapshot());
        assert!(run.stderr.contains(message), "{}", run.stderr);
    }
}

#[test]
fn docs_describe_every_rule() {
    let docs = std::fs::read_to_string(repo_root().join("docs/rules.md")).unwrap();
    let ids = aether_chart::validate::RULES.iter().map(|r| (r.id, r.name));
    for (id, name) in ids.chain([("AC201", "kubernetes-schema"), ("AC202", "unchecked-kind")]) {
        assert!(
            docs.contains(&format!("### {id}\n")),
            "docs/rules.md has no section for {id}"
        );
        assert!(
            docs.contains(&format!("| [{id}](#{}) | {name} |", id.to_lowercase())),
            "docs/rules.md's table lacks {id} {name}"
        );
    }
}

#[test]
fn bundled_crd_schemas_check_the_custom_resources_the_chart_uses() {
    let route = "extraObjects:\n  - apiVersion: gateway.networking.k8s.io/v1\n    kind: HTTPRoute\n    metadata:\n      name: r\n    spec:\n      parentRefs: [{name: gw}]\n      rules:\n        - backendRefs:\n            - name: web\n              port: 80\n              weight: heavy\n          mirror: true\n";
    let chart = fixture_chart(&[("overlay.yaml", route)]);
    let run = aether(chart.path(), &["lint", ".", "-f", "overlay.yaml"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stdout
            .contains("error[AC201 kubernetes-schema] HTTPRoute/r"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("weight") && run.stdout.contains("mirror"),
        "{}",
        run.stdout
    );

    // The Aether chart's own custom resources are checked, not merely noted.
    let run = aether(
        &repo_root(),
        &[
            "lint",
            "-f",
            "values/prod.yaml",
            "--format",
            "json",
            "--set",
            "api.trafficRouter=gatewayApi,metrics.enabled=true,metrics.serviceMonitor.enabled=true",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(!run.stdout.contains("AC202"), "{}", run.stdout);
}

#[test]
fn extreme_numbers_are_findings_not_crashes() {
    let overlay = "web:\n  surge: 9223372036854775807\n  autoscaling:\n    maxReplicas: 2147483647\n  database:\n    poolSize: 9223372036854775807\n    maxOverflow: 9223372036854775807\nquota:\n  requests:\n    cpu: \"1e308\"\n    memory: 1e999Gi\npatroni:\n  retryTimeout: 9223372036854775807\n";
    let chart = fixture_chart(&[("overlay.yaml", overlay)]);
    let run = aether(chart.path(), &["lint", ".", "-f", "overlay.yaml"]);
    assert!(!run.stderr.contains("panicked"), "{}", run.snapshot());
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stdout.contains("AC102") && run.stdout.contains("AC109"),
        "{}",
        run.stdout
    );
}

#[test]
fn explain_follows_import_values() {
    let chart = "tests/fixtures/differential/import-values";
    let explain = |key: &str| {
        let run = aether(&repo_root(), &["values", chart, "--explain", key]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let child = format!("{chart}/charts/child/values.yaml");
    // A table imported under a parent key; the parent's own value wins over the imported one.
    assert_eq!(
        explain("imported.network.mode"),
        format!("=> {child}:6 (import-values from child): imported.network.mode = bridge\n")
    );
    assert_eq!(
        explain("imported.network.mtu"),
        format!(
            "   {child}:6 (import-values from child): imported.network.mtu = 1500\n=> {chart}/values.yaml:2: imported.network.mtu = 9000\n"
        )
    );
    // An `exports` table imported at the root.
    assert_eq!(
        explain("port"),
        format!("=> {child}:4 (import-values from child): port = 8080\n")
    );
}

/// The API server prunes a custom resource's null fields that its schema does not declare
/// nullable before validating it, and accepts a null where the schema declares it nullable:
/// neither is an error; a wrong type still is.
#[test]
fn custom_resources_nulls_are_pruned_as_the_api_server_prunes_them() {
    let schema = r#"{"type": "object", "properties": {"apiVersion": {"type": "string"}, "kind": {"enum": ["Widget"]},
        "metadata": {"type": "object"}, "spec": {"type": "object", "properties": {"size": {"type": "integer"},
        "note": {"type": "string", "nullable": true}, "colour": {"type": "string"}},
        "additionalProperties": false}}, "additionalProperties": false}"#;
    let widget = |spec: &str| {
        format!(
            "extraObjects:\n  - apiVersion: example.com/v1\n    kind: Widget\n    metadata:\n      name: w\n    spec: {spec}\n"
        )
    };
    for (spec, code) in [
        ("{size: null, colour: ~}", 0),
        ("{size: 3, note: null}", 0),
        ("{size: null, colour: 5}", 1),
    ] {
        let chart = fixture_chart(&[
            ("overlay.yaml", &widget(spec)),
            ("schemas/example.com/widget_v1.json", schema),
        ]);
        let run = aether(
            chart.path(),
            &["lint", ".", "-f", "overlay.yaml", "--schema-dir", "schemas"],
        );
        assert_eq!(run.code, code, "{spec}: {}", run.snapshot());
        if code == 1 {
            assert!(
                run.stdout
                    .contains("error[AC201 kubernetes-schema] Widget/w"),
                "{spec}: {}",
                run.stdout
            );
        }
    }
}

/// What the cluster may satisfy from outside the render is a warning with its reason: a Service
/// for pods an operator runs, a numeric targetPort no container declares. A named targetPort no
/// container declares gets no endpoints, but the pods run (charts keep a TLS port with TLS
/// off): a warning too, which `--strict` makes fail.
#[test]
fn services_that_may_serve_nothing_are_warnings_with_their_reason() {
    let dir = chart_with(&[]);
    std::fs::create_dir(dir.path().join("templates")).unwrap();
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: \"r.example.com/web:1.0\"\n          ports: [{name: http, containerPort: 8080}]\n";
    let service = |name: &str, app: &str, target: &str| {
        format!(
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector: {{app: {app}}}\n  ports: [{{port: 80, targetPort: {target}}}]\n"
        )
    };
    let write = |services: &str| {
        std::fs::write(
            dir.path().join("templates/all.yaml"),
            format!("{deployment}{services}"),
        )
        .unwrap()
    };
    write(&(service("operated", "prometheus", "9090") + &service("numeric", "web", "9000")));
    let run = aether(dir.path(), &["lint", "."]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("warning[AC112 service-reaches-pods] Service/operated")
            && run.stdout.contains("selects no pod of this release")
            && run
                .stdout
                .contains("warning[AC112 service-reaches-pods] Service/numeric")
            && run
                .stdout
                .contains("still works if the process listens there"),
        "{}",
        run.stdout
    );
    write(&service("named", "web", "metrics"));
    let run = aether(dir.path(), &["lint", "."]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("warning[AC112 service-reaches-pods] Service/named")
            && run.stdout.contains("so the port has no endpoints"),
        "{}",
        run.stdout
    );
    let strict = aether(dir.path(), &["lint", ".", "--strict"]);
    assert_eq!(strict.code, 1, "{}", strict.stdout);
    assert!(strict.stdout.contains("error[AC112 "), "{}", strict.stdout);
}

#[test]
fn aether_rules_run_only_where_the_chart_enables_them() {
    let overlay = (
        "overlay.yaml",
        "worker:\n  replicas: 2\n  strategy: RollingUpdate\n",
    );
    // The fixture chart opts in: its scheduler is held to one replica.
    let enabled = fixture_chart(&[overlay]);
    let run = aether(enabled.path(), &["lint", ".", "-f", "overlay.yaml"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(run.stdout.contains("[AC101 "), "{}", run.stdout);

    // Another chart whose scheduler happens to carry the same label (Airflow's runs several
    // replicas by design) is not: without the policy, or with it naming other components.
    for config in [
        "rules: {}\n",
        "aether:\n  scheduler: [cron]\n  database: [postgres]\n",
    ] {
        let chart = fixture_chart(&[overlay, ("aether-lint.yaml", config)]);
        let run = aether(chart.path(), &["lint", ".", "-f", "overlay.yaml"]);
        assert!(!run.stdout.contains("AC101"), "{config}: {}", run.stdout);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }

    // The policy names the components, whatever they are called.
    let renamed = fixture_chart(&[
        overlay,
        ("aether-lint.yaml", "aether:\n  scheduler: [api]\n"),
    ]);
    let run = aether(renamed.path(), &["lint", "."]);
    assert!(
        run.stdout.contains("[AC101 ") && run.stdout.contains("Deployment/"),
        "the api component plays the scheduler here: {}",
        run.stdout
    );

    let wrong = fixture_chart(&[("aether-lint.yaml", "aether:\n  schedulers: [x]\n")]);
    let run = aether(wrong.path(), &["lint", "."]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(
        run.stderr.contains("unknown field `schedulers`"),
        "{}",
        run.stderr
    );
}

/// `values --explain` is how a refused overlay is understood: it prints the layers even when
/// the values break the schema (then the violations, exit 1), and a null that deleted a table
/// says what it deleted.
#[test]
fn explain_works_on_values_the_schema_refuses() {
    let dir = repo_root().join("tests/fixtures/cases/err-schema-null-deletes-table");
    let run = aether(
        &dir,
        &["values", "-f", "values/prod.yaml", "--explain", "image"],
    );
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert_eq!(
        run.stdout,
        "=> values/prod.yaml:2: image = null (deletes image.tag = \"1.0\" from values.yaml:5)\n"
    );
    assert!(
        run.stderr
            .contains("deleted at values/prod.yaml:2: image = null"),
        "{}",
        run.stderr
    );
    let leaf = aether(
        &dir,
        &["values", "-f", "values/prod.yaml", "--explain", "image.tag"],
    );
    assert_eq!(
        leaf.stdout,
        "   values.yaml:5: image.tag = \"1.0\"\n=> values/prod.yaml:2: image.tag = null (deleted with `image`)\n"
    );
}
