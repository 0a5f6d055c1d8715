//! Helm's other `template` switches, compared with real Helm on the same chart written once in
//! Jinja and once in Go templates: `--is-upgrade`, `--skip-tests`, `--no-hooks`, `--description`.

use std::path::PathBuf;

use crate::support::{chart_with, run_program, tool};

fn helm() -> PathBuf {
    tool("AETHER_HELM", "bin/helm")
}

const TEST_HOOK: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: smoke\n  annotations:\n    helm.sh/hook: test\nspec:\n  restartPolicy: Never\n  containers: [{name: t, image: busybox:1.37}]\n";
const LEGACY_TEST_HOOK: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: legacy\n  annotations:\n    helm.sh/hook: test-success\nspec:\n  restartPolicy: Never\n  containers: [{name: t, image: busybox:1.37}]\n";
const INSTALL_HOOK: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n";

/// `(kind, name, data)` of every document, in order.
fn objects(stream: &str) -> Vec<(String, String, String)> {
    stream
        .split("\n---")
        .filter_map(|doc| serde_yaml::from_str::<serde_yaml::Value>(doc).ok())
        .filter(|v| v["kind"].is_string())
        .map(|v| {
            (
                v["kind"].as_str().unwrap().to_string(),
                v["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                serde_yaml::to_string(&v["data"]).unwrap(),
            )
        })
        .collect()
}

#[test]
fn release_switches_match_helm() {
    let jinja = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: release\ndata:\n  upgrade: \"{{ release.is_upgrade }}\"\n  install: \"{{ release.is_install }}\"\n  revision: \"{{ release.revision }}\"\n";
    let go = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: release\ndata:\n  upgrade: \"{{ .Release.IsUpgrade }}\"\n  install: \"{{ .Release.IsInstall }}\"\n  revision: \"{{ .Release.Revision }}\"\n";
    let chart = |release: &str| {
        chart_with(&[
            ("templates/release.yaml", release),
            ("templates/tests/smoke.yaml", TEST_HOOK),
            ("templates/tests/legacy.yaml", LEGACY_TEST_HOOK),
            ("templates/before.yaml", INSTALL_HOOK),
        ])
    };
    let (ours_chart, theirs_chart) = (chart(jinja), chart(go));
    for flags in [
        &[][..],
        &["--is-upgrade"][..],
        &["--skip-tests"][..],
        &["--is-upgrade", "--skip-tests"][..],
        &["--no-hooks"][..],
        &["--description", "nightly rebuild"][..],
    ] {
        let mut args: Vec<String> = ["template", "r", "."].map(String::from).to_vec();
        args.extend(flags.iter().map(|f| f.to_string()));
        let ours = run_program(&crate::support::bin(), ours_chart.path(), &args, None);
        let theirs = run_program(&helm(), theirs_chart.path(), &args, None);
        assert_eq!(
            (ours.code, theirs.code),
            (0, 0),
            "{flags:?}\n{}\n{}",
            ours.stderr,
            theirs.stderr
        );
        let mut listed = objects(&ours.stdout);
        let mut expected = objects(&theirs.stdout);
        // Hooks come after the other objects in both; among hooks the order may differ.
        listed.sort();
        expected.sort();
        assert_eq!(listed, expected, "{flags:?}");
    }
    // The switches did something: an upgrade says so, and --skip-tests drops both test hooks
    // but keeps the install hook.
    let run = |flags: &[&str]| {
        let mut args: Vec<String> = ["template", "r", "."].map(String::from).to_vec();
        args.extend(flags.iter().map(|f| f.to_string()));
        objects(&run_program(&crate::support::bin(), ours_chart.path(), &args, None).stdout)
    };
    assert!(
        run(&["--is-upgrade"])
            .iter()
            .any(|o| o.2.contains("upgrade: 'true'"))
    );
    let names: Vec<String> = run(&["--skip-tests"]).into_iter().map(|o| o.1).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"before".to_string()) && names.contains(&"release".to_string()));
}
