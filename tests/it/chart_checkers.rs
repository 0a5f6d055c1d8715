//! Real checkers on the Aether chart's renders: `kubernetes-validate --strict` (Kubernetes' own
//! JSON schemas, unknown fields rejected) for 1.30 and 1.35, and Checkov's Kubernetes checks on
//! production, where a check may be skipped only by a `checkov.io/skipN` annotation listed here.

use std::collections::BTreeSet;
use std::path::Path;

use crate::root_chart::{render_variants, render_variants_for};
use crate::support::{run_program, tool};

/// Custom resources, which the Kubernetes schemas do not describe.
const CUSTOM_KINDS: [&str; 3] = ["ExternalSecret", "HTTPRoute", "ServiceMonitor"];

/// The Checkov skips the chart may carry: (check, kind, name prefix, why it is accepted).
const ALLOWED_SKIPS: [(&str, &str, &str); 7] = [
    // Aether's processes read their secrets from the environment (aether-deploy's configuration contract).
    ("CKV_K8S_35", "Deployment", "aether-api"),
    ("CKV_K8S_35", "Deployment", "aether-scheduler"),
    ("CKV_K8S_35", "Job", "aether-migrate-"),
    // Spilo (Patroni) needs a token for its DCS, its own UID, a writable home, env passwords.
    ("CKV_K8S_35", "StatefulSet", "aether-postgres"),
    ("CKV_K8S_38", "StatefulSet", "aether-postgres"),
    ("CKV_K8S_40", "StatefulSet", "aether-postgres"),
    ("CKV_K8S_22", "StatefulSet", "aether-postgres"),
];

/// Writes every variant's render (for `kube_version`, or the default) into `dir`, one file each.
fn write_renders(
    dir: &Path,
    kube_version: Option<&str>,
    only: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut written = Vec::new();
    for (name, stream) in render_variants_for(kube_version) {
        if only(&name) {
            let file = format!("{}.yaml", name.replace(['/', '+'], "-"));
            std::fs::write(dir.join(&file), stream).unwrap();
            written.push(file);
        }
    }
    written
}

#[test]
fn every_render_passes_strict_kubernetes_schemas() {
    let validate = tool("AETHER_KUBERNETES_VALIDATE", "venv/bin/kubernetes-validate");
    for version in ["1.35.0", "1.30.0"] {
        // Rendered for the version it is checked against, as a deployment would be.
        let dir = tempfile::tempdir().unwrap();
        let files = write_renders(dir.path(), Some(version), |_| true);
        let mut args = vec!["--strict".to_string(), "-k".into(), version.into()];
        args.extend(files.iter().cloned());
        let run = run_program(&validate, dir.path(), &args, None);
        assert_eq!(run.code, 0, "{version}:\n{}{}", run.stdout, run.stderr);
        let mut validated = 0;
        for line in run.stdout.lines().chain(run.stderr.lines()) {
            if line.starts_with("INFO") && line.contains(" passed for resource ") {
                validated += 1;
            } else if line.starts_with("WARN") {
                assert!(
                    CUSTOM_KINDS
                        .iter()
                        .any(|k| line.contains(&format!("schema for kind {k} "))),
                    "{version}: {line}"
                );
            } else if !line.trim().is_empty() {
                panic!("{version}: unexpected output: {line}");
            }
        }
        assert!(
            validated > files.len() * 20,
            "{version}: only {validated} documents validated"
        );
    }
}

#[test]
fn production_passes_checkov_with_only_the_listed_skips() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_renders(dir.path(), None, |name| name.starts_with("prod"));
    assert!(files.len() >= 5);
    let (report, run) = checkov_report(dir.path());
    let summary = &report["summary"];
    assert_eq!(summary["failed"], 0, "{}", failures(&report));
    assert_eq!(summary["parsing_errors"], 0, "{summary}");
    assert!(summary["passed"].as_u64().unwrap() > 500, "{summary}");
    assert_eq!(run.code, 0, "{}", run.stderr);

    let mut used = BTreeSet::new();
    for skip in report["results"]["skipped_checks"].as_array().unwrap() {
        let id = skip["check_id"].as_str().unwrap();
        let resource = skip["resource"].as_str().unwrap();
        let (kind, rest) = resource.split_once('.').unwrap();
        let name = rest.split_once('.').map_or(rest, |(_, name)| name);
        let allowed = ALLOWED_SKIPS
            .iter()
            .position(|(i, k, prefix)| *i == id && *k == kind && name.starts_with(prefix));
        let reason = skip["check_result"]["suppress_comment"]
            .as_str()
            .unwrap_or("");
        assert!(
            allowed.is_some(),
            "{id} skipped on {resource} ({reason}) is not allowed"
        );
        assert!(
            reason.len() > 20,
            "{id} on {resource}: the skip needs a reason"
        );
        used.insert(allowed.unwrap());
    }
    assert_eq!(
        used.len(),
        ALLOWED_SKIPS.len(),
        "every allowed skip is still needed; remove the unused ones"
    );
}

/// Checkov's Kubernetes checks on the manifests in `dir`: its JSON report, and the run.
pub fn checkov_report(dir: &Path) -> (serde_json::Value, crate::support::Run) {
    let args = [
        "-d",
        ".",
        "--framework",
        "kubernetes",
        "--skip-download",
        "--output",
        "json",
    ]
    .map(String::from);
    let run = run_program(
        &tool("AETHER_CHECKOV", "venv/bin/checkov"),
        dir,
        &args,
        None,
    );
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("checkov output is not JSON ({e}):\n{}", run.stderr));
    (report, run)
}

/// The failed checks of a Checkov report, one a line.
fn failures(report: &serde_json::Value) -> String {
    report["results"]["failed_checks"]
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .map(|c| format!("{} {} {}\n", c["check_id"], c["resource"], c["check_name"]))
                .collect()
        })
        .unwrap_or_default()
}

/// Breaks a document in one of four ways (or not), by its index: an unknown field, a wrong
/// type, a wrong type deep in a pod, or nothing.
fn mutate(doc: &mut serde_yaml::Value, index: usize) {
    use serde_yaml::Value;
    let map = doc.as_mapping_mut().unwrap();
    match index % 5 {
        0 => {
            map.insert("bogus".into(), Value::from(1));
        }
        1 => {
            let meta = map.get_mut("metadata").unwrap().as_mapping_mut().unwrap();
            meta.insert("labels".into(), Value::Sequence(vec![Value::from("x")]));
        }
        2 => {
            let pod = map
                .get_mut("spec")
                .and_then(|s| s.get_mut("template"))
                .and_then(|t| t.get_mut("spec"))
                .and_then(|s| s.get_mut("containers"))
                .and_then(|c| c.get_mut(0))
                .and_then(Value::as_mapping_mut);
            match pod {
                Some(container) => {
                    container.insert("ports".into(), Value::from("8080"));
                }
                None => {
                    let meta = map.get_mut("metadata").unwrap().as_mapping_mut().unwrap();
                    meta.insert("generation".into(), Value::from("first"));
                }
            }
        }
        _ => {}
    }
}

#[test]
fn schema_check_agrees_with_kubernetes_validate() {
    let validate = tool("AETHER_KUBERNETES_VALIDATE", "venv/bin/kubernetes-validate");
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    let docs_dir = dir.path().join("docs");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::create_dir_all(&docs_dir).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: corpus\nversion: 1.0.0\n",
    )
    .unwrap();
    let mut names = Vec::new();
    for (variant, stream) in render_variants().into_iter().take(3) {
        for (i, text) in stream.split("\n---\n").enumerate() {
            let Ok(mut doc) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
                continue;
            };
            if doc.get("kind").is_none() || text.contains("{{") {
                continue;
            }
            let n = names.len();
            mutate(&mut doc, n);
            let name = format!("d{n:03}");
            let meta = doc.get_mut("metadata").unwrap().as_mapping_mut().unwrap();
            meta.insert("name".into(), name.clone().into());
            meta.insert("namespace".into(), "corpus".into());
            let yaml = serde_yaml::to_string(&doc).unwrap();
            std::fs::write(docs_dir.join(format!("{name}.yaml")), &yaml).unwrap();
            std::fs::write(chart.join(format!("templates/{name}.yaml")), &yaml).unwrap();
            names.push((name, format!("{variant} #{i}")));
        }
    }
    assert!(names.len() > 100, "{} documents", names.len());

    let mut args = vec!["--strict".to_string(), "-k".into(), "1.35.0".into()];
    args.extend(names.iter().map(|(n, _)| format!("{n}.yaml")));
    let theirs = run_program(&validate, &docs_dir, &args, None);
    let rejected_by_them: BTreeSet<String> = theirs
        .stdout
        .lines()
        .filter(|l| l.starts_with("ERROR"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|f| f.trim_end_matches(".yaml").to_string())
        .collect();

    let lint: Vec<String> = ["lint", ".", "--format", "json", "--kube-version", "1.35.0"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let ours = run_program(&crate::support::bin(), &chart, &lint, None);
    let findings: Vec<serde_json::Value> =
        serde_json::from_str(&ours.stdout).unwrap_or_else(|e| panic!("{e}: {}", ours.stderr));
    let rejected_by_us: BTreeSet<String> = findings
        .iter()
        .filter(|f| f["rule"] == "AC201")
        .filter_map(|f| {
            f["object"]
                .as_str()?
                .split_once('/')
                .map(|(_, n)| n.to_string())
        })
        .collect();
    assert!(
        rejected_by_us.len() > 50,
        "{} rejected",
        rejected_by_us.len()
    );
    assert!(
        names.len() - rejected_by_us.len() > 20,
        "valid documents are in the corpus too"
    );
    let unchecked = names.len()
        - rejected_by_them.len()
        - theirs
            .stdout
            .lines()
            .filter(|l| l.starts_with("INFO"))
            .count();
    assert_eq!(
        rejected_by_us, rejected_by_them,
        "the two checkers disagree ({unchecked} documents unchecked by kubernetes-validate)"
    );
}
