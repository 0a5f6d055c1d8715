//! A chart's `crds/` folders as Helm 4 treats them, compared with real Helm: not templated,
//! left out of `template` unless `--include-crds`, then first (the chart's own before its
//! subcharts'); `show crds` prints them; and the validator checks the chart's custom resources
//! against the schemas of the CRDs it ships.

use std::path::{Path, PathBuf};

use crate::support::{aether, chart_with, run_program, tool};

fn helm() -> PathBuf {
    tool("AETHER_HELM", "bin/helm")
}

const WIDGETS: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
                port: {x-kubernetes-int-or-string: true}
";

const GADGETS: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
# {{ .Values.x }} {{ values.x }}: files of crds/ are not templates
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: shipped-with-the-crds
";

/// A chart with CRDs of its own and in a subchart; its one template has no template syntax, so
/// Helm and aether-chart render the same chart.
fn chart(widget: &str) -> tempfile::TempDir {
    chart_with(&[
        ("crds/widgets.yaml", WIDGETS),
        (
            "charts/sub/Chart.yaml",
            "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
        ),
        ("charts/sub/crds/gadgets.yaml", GADGETS),
        ("templates/widget.yaml", widget),
    ])
}

const GOOD_WIDGET: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 3\n  port: http\n";

/// `(source, kind, name)` of every document of a stream; a document without its own
/// `# Source:` line (Helm prints a crds/ file whole) belongs to the one before.
fn objects(stream: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut source = String::new();
    for doc in stream.split("\n---").map(|d| d.trim_start_matches("---")) {
        if let Some(line) = doc.lines().find_map(|l| l.strip_prefix("# Source: ")) {
            source = line.to_string();
        }
        let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(doc) else {
            continue;
        };
        let (Some(kind), Some(name)) = (value["kind"].as_str(), value["metadata"]["name"].as_str())
        else {
            continue;
        };
        out.push((source.clone(), kind.to_string(), name.to_string()));
    }
    out
}

fn both(dir: &Path, args: &[&str]) -> (crate::support::Run, crate::support::Run) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let ours = run_program(&crate::support::bin(), dir, &args, None);
    let theirs = run_program(&helm(), dir, &args, None);
    (ours, theirs)
}

#[test]
fn crds_are_printed_as_helm_prints_them() {
    let dir = chart(GOOD_WIDGET);
    // Without --include-crds, neither prints them.
    let (ours, theirs) = both(dir.path(), &["template", "r", "."]);
    assert_eq!(
        (ours.code, theirs.code),
        (0, 0),
        "{}\n{}",
        ours.stderr,
        theirs.stderr
    );
    assert_eq!(objects(&ours.stdout), objects(&theirs.stdout));
    assert_eq!(objects(&ours.stdout).len(), 1);
    // With it, the chart's own first, then the subchart's, the files untemplated.
    for extra in [&[][..], &["--skip-crds"][..]] {
        let mut args = vec!["template", "r", ".", "--include-crds"];
        args.extend(extra);
        let (ours, theirs) = both(dir.path(), &args);
        assert_eq!(
            (ours.code, theirs.code),
            (0, 0),
            "{}\n{}",
            ours.stderr,
            theirs.stderr
        );
        let listed = objects(&ours.stdout);
        assert_eq!(listed, objects(&theirs.stdout), "{args:?}");
        assert_eq!(
            listed.iter().map(|o| o.0.as_str()).collect::<Vec<_>>(),
            [
                "c/crds/widgets.yaml",
                "c/charts/sub/crds/gadgets.yaml",
                "c/charts/sub/crds/gadgets.yaml",
                "c/templates/widget.yaml"
            ]
        );
        assert!(ours.stdout.contains("# {{ .Values.x }} {{ values.x }}"));
    }
    // `show crds` prints the same bytes as Helm's.
    let (ours, theirs) = both(dir.path(), &["show", "crds", "."]);
    assert_eq!((ours.code, theirs.code), (0, 0), "{}", ours.stderr);
    assert_eq!(ours.stdout, theirs.stdout);
}

#[test]
fn custom_resources_are_checked_against_the_crds_the_chart_ships() {
    let good = chart(GOOD_WIDGET);
    let run = aether(good.path(), &["template", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains("AC202"),
        "the Widget is checked: {}",
        run.stderr
    );
    let bad = chart(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n  colour: red\n",
    );
    let run = aether(bad.path(), &["template", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for expected in [
        "error[AC201 kubernetes-schema] Widget/w (`c/templates/widget.yaml`)",
        "spec.size: \"big\" is not of type \"integer\"",
        "('colour' was unexpected)",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
    // A CRD the API server would refuse is refused when it is printed.
    let broken = chart_with(&[
        (
            "crds/broken.yaml",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: broken.example.com\n",
        ),
        (
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        ),
    ]);
    let run = aether(broken.path(), &["template", ".", "--include-crds"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("CustomResourceDefinition/broken.example.com (`c/crds/broken.yaml`)"),
        "{}",
        run.stderr
    );
}
