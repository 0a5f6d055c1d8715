//! The validator: one failing fixture per rule (a values overlay on a small non-Aether chart that
//! follows the conventions), each pinned with its message, numbers and the values file and line
//! behind it; the fixture chart and the Aether overlays lint clean.

use crate::root_chart::OVERLAYS;
use crate::support::{aether, bin, read_args, repo_root, run_program};

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
