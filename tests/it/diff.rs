//! `aether-chart diff`: added, removed and changed objects between overlays, or between a render
//! and earlier output; ordering and formatting never show; exit 0, 1 or 2 like diff(1).

use std::path::Path;

use crate::support::{aether, failed};

const CHART: &str = "apiVersion: v2\nname: shop\nversion: 1.0.0\n";
const VALUES: &str = "replicas: 1\nimage: shop:1.0\ncache: false\nextraPort: false\n";
const TEMPLATE: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels: {app: shop}
spec:
  replicas: {{ values.replicas }}
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
        - name: sidecar
          image: proxy:2
        - name: shop
          image: {{ values.image }}
          ports:
            - containerPort: 8080
{%- if values.extraPort %}
            - containerPort: 9090
{%- endif %}
{%- if values.cache %}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-cache
data:
  size: "64Mi"
{%- else %}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-legacy
data:
  mode: "disk"
{%- endif %}
"#;

fn chart(dir: &Path) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(dir.join("Chart.yaml"), CHART).unwrap();
    std::fs::write(dir.join("values.yaml"), VALUES).unwrap();
    std::fs::write(dir.join("templates/app.yaml"), TEMPLATE).unwrap();
    std::fs::write(dir.join("staging.yaml"), "replicas: 2\n").unwrap();
    std::fs::write(
        dir.join("prod.yaml"),
        "replicas: 4\nimage: shop:1.1\ncache: true\nextraPort: true\n",
    )
    .unwrap();
}

#[test]
fn added_removed_and_changed_objects() {
    let tmp = tempfile::tempdir().unwrap();
    chart(tmp.path());
    let run = aether(
        tmp.path(),
        &[
            "diff",
            "--from",
            "staging.yaml",
            "--to",
            "prod.yaml",
            "--color",
            "never",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!("diff-text", run.stdout);
    let run = aether(
        tmp.path(),
        &[
            "diff",
            "--from",
            "staging.yaml",
            "--to",
            "prod.yaml",
            "--output",
            "json",
        ],
    );
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("diff-json", run.stdout);
    let colored = aether(
        tmp.path(),
        &[
            "diff",
            "--from",
            "staging.yaml",
            "--to",
            "prod.yaml",
            "--color",
            "always",
        ],
    );
    assert!(
        colored
            .stdout
            .contains("\u{1b}[32m+ ConfigMap/shop-cache\u{1b}[0m"),
        "{}",
        colored.stdout
    );
    let same = aether(
        tmp.path(),
        &["diff", "--from", "prod.yaml", "--to", "prod.yaml"],
    );
    assert_eq!((same.code, same.stdout.as_str()), (0, "no differences\n"));
}

#[test]
fn earlier_output_compares_without_formatting_noise() {
    let tmp = tempfile::tempdir().unwrap();
    chart(tmp.path());
    // The same objects, reordered, re-indented, re-quoted, with keys in another order.
    let earlier = tmp.path().join("gitops");
    std::fs::create_dir_all(earlier.join("apps")).unwrap();
    std::fs::write(
        earlier.join("apps/config.yml"),
        "kind: ConfigMap\napiVersion: v1\ndata: {mode: disk}\nmetadata: {name: 'shop-legacy'}\n",
    )
    .unwrap();
    std::fs::write(
        earlier.join("deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n    labels:\n        app: \"shop\"\n    name: shop\nspec:\n    selector: {matchLabels: {app: shop}}\n    replicas: 2\n    template:\n        spec:\n            containers:\n            -   image: shop:1.0\n                name: shop\n                ports: [{containerPort: 8080}]\n            -   name: sidecar\n                image: \"proxy:2\"\n        metadata: {labels: {app: shop}}\n",
    )
    .unwrap();
    let run = aether(
        tmp.path(),
        &["diff", "--from", "staging.yaml", "--to-dir", "gitops"],
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "no differences\n"),
        "{}",
        run.stderr
    );
    // A saved stream, one value changed.
    let rendered = aether(tmp.path(), &["template", "-f", "staging.yaml"]).stdout;
    std::fs::write(
        tmp.path().join("saved.yaml"),
        rendered.replace("replicas: 2", "replicas: 3"),
    )
    .unwrap();
    let run = aether(
        tmp.path(),
        &[
            "diff",
            "--from",
            "staging.yaml",
            "--to-file",
            "saved.yaml",
            "--color",
            "never",
        ],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "~ Deployment/shop\n    spec.replicas: 2 -> 3\n0 added, 0 removed, 1 changed\n"
    );
}

#[test]
fn a_side_that_fails_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    chart(tmp.path());
    failed(
        &aether(
            tmp.path(),
            &["diff", "--from", "staging.yaml", "--to", "missing.yaml"],
        ),
        "the --to side does not render",
    );
    std::fs::write(tmp.path().join("broken.yaml"), "replicas: [\n").unwrap();
    failed(
        &aether(
            tmp.path(),
            &["diff", "--from", "broken.yaml", "--to", "prod.yaml"],
        ),
        "the --from side does not render",
    );
    failed(&aether(tmp.path(), &["diff"]), "give the sides to compare");
    std::fs::create_dir_all(tmp.path().join("empty")).unwrap();
    failed(
        &aether(
            tmp.path(),
            &["diff", "--from", "staging.yaml", "--to-dir", "empty"],
        ),
        "holds no .yaml or .yml file",
    );
    std::fs::write(
        tmp.path().join("twice.yaml"),
        "kind: A\nmetadata: {name: a}\n---\nkind: A\nmetadata: {name: a}\n",
    )
    .unwrap();
    failed(
        &aether(
            tmp.path(),
            &["diff", "--from", "staging.yaml", "--to-file", "twice.yaml"],
        ),
        "A/a appears twice",
    );
}
