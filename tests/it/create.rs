//! `aether-chart create`: the starter has the layout of `helm create` (real Helm 4), renders,
//! lints clean under `--strict`, passes `kubernetes-validate --strict`, and its production
//! overlay passes Checkov with no failure; `docs` describes it; `--starter` copies a team's own.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::{aether, run_program, tool};

/// Every file below `dir`, relative, `/`-separated.
fn files(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                out.insert(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn create_makes_what_helm_create_makes_in_jinja() {
    let work = tempfile::tempdir().unwrap();
    let made = aether(work.path(), &["create", "shop"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let helm = run_program(
        &tool("AETHER_HELM", "bin/helm"),
        work.path(),
        &["create".to_string(), "theirs".to_string()],
        None,
    );
    assert_eq!(helm.code, 0, "{}", helm.stderr);
    let ours = files(&work.path().join("shop"));
    // Helm's Go partials are our Jinja macros.
    for file in files(&work.path().join("theirs")) {
        let file = file.replace("_helpers.tpl", "_helpers.j2");
        assert!(
            ours.contains(&file),
            "helm create makes {file}; create does not"
        );
    }
    for extra in [
        "values.schema.json",
        "values/dev.yaml",
        "values/prod.yaml",
        "aether-lint.yaml",
        "templates/networkpolicy.yaml",
    ] {
        assert!(ours.contains(extra), "{extra} is missing");
    }
    let chart = std::fs::read_to_string(work.path().join("shop/Chart.yaml")).unwrap();
    assert!(chart.contains("name: shop\n"), "{chart}");
    assert!(!files(&work.path().join("shop")).iter().any(|f| {
        std::fs::read_to_string(work.path().join("shop").join(f))
            .unwrap()
            .contains("<CHARTNAME>")
    }));

    // It renders and lints clean, strictly, as made and with each overlay.
    let dir = work.path().join("shop");
    for overlay in [
        &[][..],
        &["-f", "values/dev.yaml"][..],
        &["-f", "values/prod.yaml"][..],
    ] {
        let mut args = vec!["lint", ".", "--strict", "-n", "web"];
        args.extend(overlay);
        let lint = aether(&dir, &args);
        assert_eq!(lint.code, 0, "{overlay:?}: {}", lint.snapshot());
        assert!(
            lint.stdout.contains("no findings"),
            "{overlay:?}: {}",
            lint.stdout
        );
    }
    let render = |args: &[&str]| {
        let mut full = vec!["template", "web", ".", "-n", "web"];
        full.extend(args);
        let run = aether(&dir, &full);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        run.stdout
    };
    let checked = work.path().join("checked");
    std::fs::create_dir_all(&checked).unwrap();
    std::fs::write(checked.join("dev.yaml"), render(&["-f", "values/dev.yaml"])).unwrap();
    std::fs::write(
        checked.join("prod.yaml"),
        render(&["-f", "values/prod.yaml"]),
    )
    .unwrap();
    let routed = render(&[
        "--set",
        "httpRoute.enabled=true,httpRoute.parentRefs[0].name=gateway,ingress.enabled=true",
    ]);
    assert!(routed.contains("kind: HTTPRoute") && routed.contains("kind: Ingress"));

    let validate = run_program(
        &tool("AETHER_KUBERNETES_VALIDATE", "venv/bin/kubernetes-validate"),
        &checked,
        &["--strict", "-k", "1.35.0", "dev.yaml", "prod.yaml"].map(String::from),
        None,
    );
    assert_eq!(validate.code, 0, "{}{}", validate.stdout, validate.stderr);
    let passed = validate
        .stdout
        .lines()
        .chain(validate.stderr.lines())
        .filter(|l| l.contains(" passed for resource "))
        .count();
    assert!(passed >= 12, "{}", validate.stdout);

    // Production (the image pinned by digest) passes Checkov with no failure and no skip.
    std::fs::remove_file(checked.join("dev.yaml")).unwrap();
    let (report, _) = crate::chart_checkers::checkov_report(&checked);
    let summary = &report["summary"];
    assert_eq!(
        summary["failed"], 0,
        "{}",
        report["results"]["failed_checks"]
    );
    assert_eq!(summary["skipped"], 0, "{summary}");
    assert!(summary["passed"].as_u64().unwrap() > 100, "{summary}");

    // docs describes every value from the comments.
    let docs = aether(&dir, &["docs", ".", "-o", "-"]);
    assert_eq!(docs.code, 0, "{}", docs.stderr);
    assert!(
        docs.stdout.contains("| `replicaCount` | integer | `1` |"),
        "{}",
        docs.stdout
    );
    assert!(
        docs.stdout
            .contains("How many pods run when autoscaling is off.")
    );
}

#[test]
fn create_takes_a_starter_and_refuses_what_it_cannot_do() {
    let work = tempfile::tempdir().unwrap();
    assert_eq!(aether(work.path(), &["create", "base"]).code, 0);
    std::fs::write(
        work.path().join("base/templates/extra.yaml"),
        "# <CHARTNAME> extra\n",
    )
    .unwrap();
    let made = aether(work.path(), &["create", "team", "--starter", "base"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let chart = std::fs::read_to_string(work.path().join("team/Chart.yaml")).unwrap();
    assert!(
        chart.contains("name: team\n") && !chart.contains("name: base"),
        "{chart}"
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("team/templates/extra.yaml")).unwrap(),
        "# team extra\n"
    );
    let again = aether(work.path(), &["create", "team"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("exists already"), "{}", again.stderr);
    let bad = aether(work.path(), &["create", "no good"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("is no chart name"), "{}", bad.stderr);
    let empty = tempfile::tempdir().unwrap();
    let not_a_chart = aether(
        work.path(),
        &["create", "x", "--starter", empty.path().to_str().unwrap()],
    );
    assert_eq!(not_a_chart.code, 2);
    assert!(
        not_a_chart.stderr.contains("Chart.yaml` is missing"),
        "{}",
        not_a_chart.stderr
    );
    assert!(!work.path().join("x").exists() && !work.path().join("no good").exists());
}
