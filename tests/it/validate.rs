//! `aether-chart validate`: manifests from another tool (real Helm 4's output on stdin) and
//! from a GitOps folder, checked against the schemas and the generic rules.

use std::path::Path;

use crate::support::{aether, failed, run_program, tool};

fn helm() -> std::path::PathBuf {
    tool("AETHER_HELM", "bin/helm")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| a.to_string()).collect()
}

/// `helm create NAME` in `dir`, then `helm template` of it with `extra` flags: Helm's stream.
fn helm_stream(dir: &Path, extra: &[&str]) -> Vec<u8> {
    let created = run_program(&helm(), dir, &args(&["create", "web"]), None);
    assert_eq!(created.code, 0, "helm create: {}", created.stderr);
    let mut template = vec!["template", "shop", "web"];
    template.extend_from_slice(extra);
    let rendered = run_program(&helm(), dir, &args(&template), None);
    assert_eq!(rendered.code, 0, "helm template: {}", rendered.stderr);
    rendered.stdout.into_bytes()
}

#[test]
fn helm_output_on_stdin_is_checked_document_by_document() {
    let tmp = tempfile::tempdir().unwrap();
    let stream = helm_stream(tmp.path(), &[]);
    let clean = run_program(
        &crate::support::bin(),
        tmp.path(),
        &args(&["validate", "-"]),
        Some(&stream),
    );
    assert_eq!(clean.code, 0, "{}", clean.snapshot());
    // Helm's starter chart runs without a security context: warnings, named by `# Source:`.
    assert!(
        clean.stdout.contains(
            "warning[AC301 run-as-non-root] Deployment/shop-web (`web/templates/deployment.yaml`)"
        ),
        "{}",
        clean.stdout
    );
    assert!(
        clean
            .stdout
            .contains("objects from 1 input checked against Kubernetes 1.35"),
        "{}",
        clean.stdout
    );
    assert!(!clean.stdout.contains("error["), "{}", clean.stdout);

    // A value the schema refuses: the finding names the template Helm rendered it from.
    let tmp = tempfile::tempdir().unwrap();
    let stream = helm_stream(tmp.path(), &["--set", "replicaCount=two"]);
    let refused = run_program(
        &crate::support::bin(),
        tmp.path(),
        &args(&["validate"]),
        Some(&stream),
    );
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(
        refused.stdout.contains(
            "error[AC201 kubernetes-schema] Deployment/shop-web (`web/templates/deployment.yaml`): \
             does not match the Kubernetes 1.35 schema of apps/v1 Deployment: spec.replicas: \
             \"two\" is not of types \"null\", \"integer\""
        ),
        "{}",
        refused.stdout
    );
    // --strict makes the starter chart's warnings fail.
    let stream = helm_stream(tempfile::tempdir().unwrap().path(), &[]);
    let strict = run_program(
        &crate::support::bin(),
        tmp.path(),
        &args(&["validate", "--strict", "-"]),
        Some(&stream),
    );
    assert_eq!(strict.code, 1, "{}", strict.snapshot());
    assert!(strict.stdout.contains("error[AC301"), "{}", strict.stdout);
}

/// A GitOps folder: manifests in nested folders, kustomize's configuration, a values file, a
/// hidden folder, a link out of the tree.
fn gitops(dir: &Path) {
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "apps/web.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  a: \"1\"\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    \
         matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n\
         \x20     volumes:\n        - name: config\n          configMap:\n            name: web-config\n\
         \x20           defaultMode: 0755\n      containers:\n        - name: web\n          \
         image: nginx:1.27\n          ports:\n            - containerPort: eighty\n",
    );
    write(
        "apps/service.json",
        r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}"#,
    );
    write(
        "base/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../apps]\n",
    );
    write("base/values.yaml", "replicaCount: 2\n");
    write(".git/broken.yaml", "key: [open\n");
    write("apps/README.md", "not a manifest\n");
    std::os::unix::fs::symlink("/etc/hostname", dir.join("apps/link.yaml")).unwrap();
}

#[test]
fn a_gitops_folder_is_walked_and_findings_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    gitops(&tmp.path().join("deploy"));
    let run = aether(tmp.path(), &["validate", "deploy"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    let out = &run.stdout;
    // The second document of web.yaml starts on line 8; `0755` is YAML 1.1's octal 493.
    assert!(
        out.contains(
            "error[AC201 kubernetes-schema] Deployment/web (`deploy/apps/web.yaml:8`): does not \
             match the Kubernetes 1.35 schema of apps/v1 Deployment: \
             spec.template.spec.containers.0.ports.0.containerPort: \"eighty\" is not of type \
             \"integer\""
        ),
        "{out}"
    );
    assert!(!out.contains("defaultMode"), "{out}");
    assert_eq!(out.matches("error[").count(), 1, "{out}");
    assert!(
        out.contains("`deploy/apps/link.yaml` is a link: not followed"),
        "{out}"
    );
    assert!(
        out.contains("`deploy/base/kustomization.yaml:1`: kustomize's configuration"),
        "{out}"
    );
    assert!(
        out.contains("`deploy/base/values.yaml:1`: no apiVersion and kind"),
        "{out}"
    );
    assert!(
        !out.contains(".git"),
        "hidden folders are not entered: {out}"
    );
    assert!(!out.contains("README"), "{out}");
    assert!(out.contains("3 objects from 4 inputs checked"), "{out}");

    // SARIF points code scanning at the file and line.
    let sarif = aether(tmp.path(), &["validate", "deploy", "--format", "sarif"]);
    assert_eq!(sarif.code, 1);
    let log: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let schema = results.iter().find(|r| r["ruleId"] == "AC201").unwrap();
    let location = &schema["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "deploy/apps/web.yaml");
    assert_eq!(location["region"]["startLine"], 8);
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().any(|r| r["id"] == "AC200"));

    // JSON for scripts: the same findings.
    let json = aether(tmp.path(), &["validate", "deploy", "--format", "json"]);
    let findings: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).unwrap();
    let errors: Vec<_> = findings
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{}", json.stdout);
    assert_eq!(errors[0]["template"], "deploy/apps/web.yaml:8");
}

#[test]
fn validate_refuses_what_is_not_a_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let stream = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkey: [open\n---\n\
                   - a list\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
    let run = run_program(
        &crate::support::bin(),
        tmp.path(),
        &args(&["validate"]),
        Some(stream),
    );
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stdout
            .contains("error[AC200 not-a-manifest]: `<stdin>`: line 5"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("is not a Kubernetes object but a list"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "warning[AC203 duplicate-object]: ConfigMap `a` in namespace `default` is rendered \
             twice (by `<stdin>:1` and `<stdin>:9`)"
        ),
        "{}",
        run.stdout
    );
    // A named file is the user's: what it holds is judged, never skipped.
    std::fs::write(tmp.path().join("values.yaml"), "replicaCount: 2\n").unwrap();
    let named = aether(tmp.path(), &["validate", "values.yaml"]);
    assert_eq!(named.code, 1, "{}", named.snapshot());
    assert!(
        named.stdout.contains("has no `apiVersion`"),
        "{}",
        named.stdout
    );

    failed(
        &aether(tmp.path(), &["validate", "missing.yaml"]),
        "cannot read `missing.yaml`",
    );
    std::fs::write(tmp.path().join("binary.yaml"), [0xff, 0xfe, 0]).unwrap();
    failed(
        &aether(tmp.path(), &["validate", "binary.yaml"]),
        "`binary.yaml` is not UTF-8",
    );
    failed(&aether(tmp.path(), &["validate", "-", "-"]), "named twice");
    failed(
        &aether(
            tmp.path(),
            &["validate", "--kube-version", "x", "values.yaml"],
        ),
        "--kube-version",
    );
}

/// `validate -` with `text` on stdin, in `dir`.
fn validate_stdin(dir: &std::path::Path, text: &str) -> crate::support::Run {
    run_program(
        &crate::support::bin(),
        dir,
        &args(&["validate"]),
        Some(text.as_bytes()),
    )
}

/// The API server's field rules, which no JSON schema carries: names per kind, label values,
/// port names, mounts of undeclared volumes; a StatefulSet's claim templates are volumes.
#[test]
fn the_api_servers_field_rules_refuse_what_it_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let pod = |mount: &str| {
        format!(
            "  template:\n    metadata:\n      labels: {{app: db}}\n    spec:\n      containers:\n\
             \x20       - name: db\n          image: postgres:17\n          ports: [{{name: pg, containerPort: 5432}}]\n\
             \x20         volumeMounts: [{{name: {mount}, mountPath: /data}}]\n"
        )
    };
    let good = format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: db\n  \
         selector:\n    matchLabels: {{app: db}}\n{}  volumeClaimTemplates:\n    - metadata: {{name: data}}\n      \
         spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n",
        pod("data")
    );
    let bad = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: db2\n  labels: {{tier: -backend}}\nspec:\n  \
         selector:\n    matchLabels: {{app: db}}\n{}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: 1db\n\
         spec:\n  selector: {{app: db}}\n  ports: [{{port: 5432, targetPort: pg}}, {{port: 80}}]\n",
        pod("cache")
    );
    let run = |text: &str| validate_stdin(tmp.path(), text);
    let clean = run(&good);
    assert!(!clean.stdout.contains("AC204"), "{}", clean.stdout);
    let refused = run(&bad);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    for expected in [
        "Deployment/db2 (`<stdin>:1`): the API server refuses it: metadata.labels value `-backend` (of `tier`) must be empty or at most 63 characters",
        "Deployment/db2 (`<stdin>:1`): the API server refuses it: container `db` mounts volume `cache`, which the pod does not declare",
        "Service/1db (`<stdin>:19`): the API server refuses it: metadata.name `1db` must be an RFC 1035 label",
        "Service/1db (`<stdin>:19`): the API server refuses it: spec.ports[0] has no name; a Service with several ports must name each",
    ] {
        assert!(
            refused.stdout.contains(expected),
            "{expected}\n{}",
            refused.stdout
        );
    }
}

/// More of the API server's rules: a CronJob's schedule must parse, env names are printable ASCII
/// without `=`, resources are quantities.
#[test]
fn selectors_schedules_env_names_and_quantities() {
    let tmp = tempfile::tempdir().unwrap();
    let workload = |selector: &str, env: &str, cpu: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {selector}\n  \
             template:\n    metadata:\n      labels: {{app: web, tier: front}}\n    spec:\n      containers:\n\
             \x20       - name: web\n          image: nginx:1.27\n          env: [{{name: {env}, value: x}}]\n\
             \x20         resources: {{requests: {{cpu: {cpu}}}}}\n"
        )
    };
    let job = |schedule: &str| {
        format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  schedule: \"{schedule}\"\n  \
             jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          \
             containers: [{{name: run, image: busybox:1.37}}]\n"
        )
    };
    let run = |text: &str| validate_stdin(tmp.path(), text);
    let good = [
        workload(
            "{matchLabels: {app: web}, matchExpressions: [{key: tier, operator: In, values: [front]}]}",
            "\"my.var-1\"",
            "500m",
        ),
        job("*/15 2-4 * JAN-MAR mon,fri"),
        job("@daily"),
        job("@every 1h30m"),
    ]
    .join("---\n");
    let clean = run(&good);
    assert!(!clean.stdout.contains("AC204"), "{}", clean.stdout);
    let bad = [
        workload("{matchLabels: {app: web}}", "\"A=B\"", "\"1 Gi\""),
        job("61 * * * *"),
    ]
    .join("---\n");
    let refused = run(&bad);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    for expected in [
        "env name `A=B` of container `web` must be printable ASCII without `=`",
        "resources.requests.cpu `1 Gi` of container `web` is not a quantity",
        "CronJob/nightly (`<stdin>:17`): the API server refuses it: spec.schedule `61 * * * *` has a minute field `61` outside 0-59",
    ] {
        assert!(
            refused.stdout.contains(expected),
            "{expected}\n{}",
            refused.stdout
        );
    }
}
