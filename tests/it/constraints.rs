//! Version constraints as Helm 4 reads them: every case of Masterminds semver v3.4's
//! constraint tests (tests/fixtures/semver/) is put to real Helm and to aether-chart as a
//! `file://` dependency whose chart has the case's version, so both resolve the same range
//! against the same version in one `dependency update` each. Helm must agree with the table
//! (it links that library) and aether-chart with Helm.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::{Run, bin, repo_root, run_program_with_env, tool};

fn helm() -> PathBuf {
    tool("AETHER_HELM", "bin/helm")
}

struct Case {
    constraint: String,
    version: String,
    satisfied: bool,
}

fn cases() -> Vec<Case> {
    let table = std::fs::read_to_string(
        repo_root().join("tests/fixtures/semver/masterminds-v3.4.0-constraints.tsv"),
    )
    .unwrap();
    table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            assert_eq!(columns.len(), 3, "a case has three columns: {line:?}");
            Case {
                constraint: columns[0].to_string(),
                version: columns[1].to_string(),
                satisfied: columns[2] == "true",
            }
        })
        .collect()
}

/// A parent chart with one `file://` dependency `cN` per case, the subchart at the case's version.
fn parent(dir: &Path, cases: &[&Case]) {
    let mut chart = String::from("apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n");
    for (i, case) in cases.iter().enumerate() {
        let sub = dir.join(format!("subs/c{i}"));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            sub.join("Chart.yaml"),
            format!(
                "apiVersion: v2\nname: c{i}\nversion: {}\n",
                serde_json::to_string(&case.version).unwrap()
            ),
        )
        .unwrap();
        chart.push_str(&format!(
            "- name: c{i}\n  version: {}\n  repository: file://subs/c{i}\n",
            serde_json::to_string(&case.constraint).unwrap()
        ));
    }
    std::fs::write(dir.join("Chart.yaml"), chart).unwrap();
}

fn update(program: &Path, chart: &Path, homes: &Path) -> Run {
    let env = [
        ("HELM_CACHE_HOME", homes.join("cache")),
        ("HELM_CONFIG_HOME", homes.join("config")),
        ("HELM_DATA_HOME", homes.join("data")),
    ];
    let args = ["dependency", "update", "."].map(String::from);
    run_program_with_env(program, chart, &args, None, &env)
}

/// The dependencies a run reports as unresolved: Helm quotes them `"c7" (repository ...`,
/// aether-chart names them `` `c7` >=1.2 from ... ``.
fn unresolved(run: &Run, open: char, close: char) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    let text = &run.stderr;
    let mut rest = text.as_str();
    while let Some(at) = rest.find(&format!("{open}c")) {
        let after = &rest[at + 2..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && after[digits.len()..].starts_with(close) {
            out.insert(digits.parse().unwrap());
        }
        rest = after;
    }
    out
}

#[test]
fn constraints_resolve_as_helm_resolves_them() {
    let all = cases();
    assert!(all.len() > 200, "the table should not shrink");
    // Chart versions that are not SemVer 2 (`1`, `1.4`) are refused by aether-chart's chart
    // loader, a deliberate difference (README); they are checked apart below.
    let (strict, lenient): (Vec<&Case>, Vec<&Case>) = all
        .iter()
        .partition(|c| semver::Version::parse(&c.version).is_ok());
    let work = tempfile::tempdir().unwrap();
    let homes = work.path().join("homes");
    let mut unresolved_by = Vec::new();
    for (name, program, open, close) in [("helm", helm(), '"', '"'), ("aether", bin(), '`', '`')] {
        let chart = work.path().join(name);
        parent(&chart, &strict);
        let run = update(&program, &chart, &homes);
        let missing = unresolved(&run, open, close);
        assert!(
            run.code != 0 && !missing.is_empty(),
            "{name}: the table has unsatisfied cases, so the update must fail naming them: {}",
            run.stderr
        );
        unresolved_by.push(missing);
    }
    let expected: BTreeSet<usize> = (0..strict.len())
        .filter(|&i| !strict[i].satisfied)
        .collect();
    let show = |set: &BTreeSet<usize>| {
        set.iter()
            .map(|&i| format!("`{}` vs {}", strict[i].constraint, strict[i].version))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (theirs, ours) = (&unresolved_by[0], &unresolved_by[1]);
    assert_eq!(
        theirs,
        &expected,
        "Helm no longer agrees with Masterminds' table: it refuses {} ; the table refuses {}",
        show(&theirs.difference(&expected).copied().collect()),
        show(&expected.difference(theirs).copied().collect())
    );
    assert_eq!(
        ours,
        theirs,
        "aether-chart refuses {} that Helm resolves, and resolves {} that Helm refuses",
        show(&ours.difference(theirs).copied().collect()),
        show(&theirs.difference(ours).copied().collect())
    );

    // The deliberate difference occurs: Helm reads `1.4` as 1.4.0, aether-chart names the
    // chart version that is not SemVer 2.
    assert!(!lenient.is_empty());
    for case in lenient {
        let mut outcomes = Vec::new();
        for (name, program) in [("helm", helm()), ("aether", bin())] {
            let chart = work.path().join(format!("{name}-lenient"));
            let _ = std::fs::remove_dir_all(&chart);
            parent(&chart, &[case]);
            outcomes.push(update(&program, &chart, &homes));
        }
        assert_eq!(
            outcomes[0].code == 0,
            case.satisfied,
            "helm on `{}` vs {}: {}",
            case.constraint,
            case.version,
            outcomes[0].stderr
        );
        assert!(
            outcomes[1].code == 2
                && outcomes[1]
                    .stderr
                    .contains(&format!("version `{}` is not SemVer 2", case.version)),
            "aether-chart should name the chart version `{}`: {}",
            case.version,
            outcomes[1].stderr
        );
    }
}

/// An empty range: Helm refuses it as Masterminds does, and aether-chart too, naming the
/// dependency.
#[test]
fn an_empty_range_is_refused_by_both() {
    let work = tempfile::tempdir().unwrap();
    let homes = work.path().join("homes");
    let case = Case {
        constraint: String::new(),
        version: "1.0.0".into(),
        satisfied: false,
    };
    let mut runs = Vec::new();
    for (name, program) in [("helm", helm()), ("aether", bin())] {
        let chart = work.path().join(name);
        parent(&chart, &[&case]);
        runs.push(update(&program, &chart, &homes));
    }
    assert!(
        runs[0].code != 0
            && runs[0]
                .stderr
                .contains("\"c0\" has an invalid version/constraint format"),
        "helm: {}",
        runs[0].stderr
    );
    assert!(
        runs[1].code == 2
            && runs[1]
                .stderr
                .contains("`c0` has an invalid version range: the version constraint is empty"),
        "aether-chart: {}",
        runs[1].stderr
    );
}
