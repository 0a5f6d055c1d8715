//! The differential suite: for every case under tests/fixtures/differential/, the layered
//! values aether-chart computes must equal what real Helm 4 computes for the same chart,
//! values files and flags. Each chart (and every subchart) gets a template that dumps its
//! values as JSON, written once in Jinja and once in Go templates; both tools render their
//! version and the dumps are compared. A case may list expected differences (our deliberate
//! departures from Helm), and each listed difference must actually occur; when both tools
//! refuse a case, `errors` says what each must say. A case with `variants/` is compared once
//! per variant.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::{bin, copy_dir, read_args, repo_root, run_program_with_env, tool};

/// `PARENTS` becomes the folder path of the chart's parents (`subchart1.`), so that a subchart
/// used by two parents gets two dumps; the chart's own name comes from the tool, so that each
/// alias of a subchart gets its own.
const JINJA_DUMP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dump-PARENTS{{ chart.name | lower }}\ndata:\n  values: {{ values | tojson | quote }}\n";
const GO_DUMP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dump-PARENTS{{ .Chart.Name | lower }}\ndata:\n  values: {{ .Values | toJson | quote }}\n";

/// The Helm 4 binary the suite compares against (installed by scripts/install-test-tools.sh).
fn helm() -> PathBuf {
    tool("AETHER_HELM", "bin/helm")
}

/// Adds the dump template to a chart directory and every subchart directory below it;
/// `parents` is `None` for the root chart, whose subcharts have no parent in their names.
fn add_dump(chart: &Path, template: &str, parents: Option<&str>) {
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("templates/dump.yaml"),
        template.replace("PARENTS", parents.unwrap_or_default()),
    )
    .unwrap();
    let Ok(entries) = std::fs::read_dir(chart.join("charts")) else {
        return;
    };
    let below = match parents {
        None => String::new(),
        Some(parents) => {
            let name = chart.file_name().unwrap().to_string_lossy().to_lowercase();
            format!("{parents}{name}.")
        }
    };
    for entry in entries.flatten() {
        if entry.file_type().unwrap().is_dir() {
            add_dump(&entry.path(), template, Some(&below));
        }
    }
}

/// Parses a rendered stream into dump name -> values JSON.
fn dumps(stdout: &str) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for doc in stdout.split("\n---") {
        let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(doc) else {
            continue;
        };
        let name = value["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(json) = value["data"]["values"].as_str() {
            out.insert(name, serde_json::from_str(json).expect("a dump is JSON"));
        }
    }
    out
}

/// Lists the JSON pointers where two values differ (numbers compared as numbers).
fn diff(
    ours: &serde_json::Value,
    theirs: &serde_json::Value,
    at: String,
    out: &mut Vec<(String, String)>,
) {
    use serde_json::Value::*;
    match (ours, theirs) {
        (Object(a), Object(b)) => {
            let keys: BTreeSet<&std::string::String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let (x, y) = (a.get(key).unwrap_or(&Null), b.get(key).unwrap_or(&Null));
                if a.contains_key(key) != b.contains_key(key) {
                    out.push((
                        format!("{at}/{key}"),
                        format!("ours {:?} vs helm {:?}", a.get(key), b.get(key)),
                    ));
                } else {
                    diff(x, y, format!("{at}/{key}"), out);
                }
            }
        }
        (Array(a), Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(x, y, format!("{at}/{i}"), out);
            }
        }
        (Number(a), Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) if a == b => {}
        (a, b) => out.push((at, format!("ours {a} vs helm {b}"))),
    }
}

/// One comparison: a case folder (its chart), and optionally one of its `variants/`, each a
/// set of files `NAME.args`, `NAME.expected-differences`, `NAME.errors` that replace the case's
/// `args`, `expected-differences` and `errors`: the same chart under other values and flags.
struct Comparison<'a> {
    case: &'a Path,
    variant: Option<String>,
}

impl Comparison<'_> {
    fn file(&self, what: &str) -> PathBuf {
        match &self.variant {
            None => self.case.join(what),
            Some(variant) => self.case.join("variants").join(format!("{variant}.{what}")),
        }
    }

    fn label(&self) -> String {
        let case = self.case.file_name().unwrap().to_string_lossy();
        match &self.variant {
            None => case.to_string(),
            Some(variant) => format!("{case}/{variant}"),
        }
    }
}

fn expected_differences(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn check_case(comparison: &Comparison<'_>, helm: &Path) -> Vec<String> {
    let case = comparison.case;
    let name = comparison.label();
    let work = tempfile::tempdir().unwrap();
    let homes = work.path().join("helm-home");
    std::fs::create_dir_all(&homes).unwrap();
    let mut rendered = Vec::new();
    for (tool, template) in [("aether", JINJA_DUMP), ("helm", GO_DUMP)] {
        let chart = work.path().join(tool);
        copy_dir(case, &chart);
        add_dump(&chart, template, None);
        let mut args = vec![
            "template".to_string(),
            "rel".to_string(),
            chart.display().to_string(),
        ];
        args.extend(read_args(&comparison.file("args")));
        let stdin = std::fs::read(case.join("stdin")).ok();
        let program = if tool == "aether" {
            bin()
        } else {
            helm.to_path_buf()
        };
        // Both run in the case folder, so relative paths in the arguments mean the same.
        let env = [
            ("HELM_CACHE_HOME", homes.join("cache")),
            ("HELM_CONFIG_HOME", homes.join("config")),
            ("HELM_DATA_HOME", homes.join("data")),
        ];
        let run = run_program_with_env(&program, case, &args, stdin.as_deref(), &env);
        rendered.push(run);
    }
    let (ours, theirs) = (&rendered[0], &rendered[1]);
    let expected = expected_differences(&comparison.file("expected-differences"));
    if (ours.code == 0) != (theirs.code == 0) {
        if expected.contains("exit") {
            return Vec::new();
        }
        return vec![format!(
            "{name}: aether-chart exit {} but helm exit {}\n  ours: {}\n  helm: {}",
            ours.code,
            theirs.code,
            ours.stderr.trim(),
            theirs.stderr.trim()
        )];
    }
    if ours.code != 0 {
        return compare_errors(
            &name,
            &comparison.file("errors"),
            &ours.stderr,
            &theirs.stderr,
        );
    }
    if comparison.file("errors").exists() {
        return vec![format!(
            "{name}: both tools rendered, but `errors` lists the errors they should give"
        )];
    }
    if expected.contains("exit") {
        return vec![format!(
            "{name}: expected difference `exit` did not occur; update expected-differences"
        )];
    }
    let (ours, theirs) = (dumps(&ours.stdout), dumps(&theirs.stdout));
    let mut problems = Vec::new();
    let names: BTreeSet<&std::string::String> = ours.keys().chain(theirs.keys()).collect();
    assert!(!names.is_empty(), "{name}: no dumps were rendered");
    let mut seen = BTreeSet::new();
    for dump in names {
        let (Some(a), Some(b)) = (ours.get(dump), theirs.get(dump)) else {
            problems.push(format!("{name}: `{dump}` is rendered by only one tool"));
            continue;
        };
        let mut differences = Vec::new();
        diff(a, b, String::new(), &mut differences);
        for (path, what) in differences {
            let key = format!("{dump} {path}");
            if expected.contains(&key) {
                seen.insert(key);
            } else {
                problems.push(format!("{name}: {dump} {path}: {what}"));
            }
        }
    }
    for missing in expected.difference(&seen) {
        problems.push(format!(
            "{name}: expected difference `{missing}` did not occur; update expected-differences"
        ));
    }
    problems
}

/// When both tools refuse a case, the case's `errors` file says what each must say: lines
/// `helm: TEXT` and `aether: TEXT`, each TEXT a part of that tool's message.
fn compare_errors(name: &str, errors: &Path, ours: &str, theirs: &str) -> Vec<String> {
    let Ok(listed) = std::fs::read_to_string(errors) else {
        return vec![format!(
            "{name}: both tools refused the case; list their errors in `errors`\n  ours: {}\n  helm: {}",
            ours.trim(),
            theirs.trim()
        )];
    };
    let mut problems = Vec::new();
    let mut said = BTreeSet::new();
    for line in listed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (tool, text, stderr) = if let Some(text) = line.strip_prefix("helm:") {
            ("helm", text.trim(), theirs)
        } else if let Some(text) = line.strip_prefix("aether:") {
            ("aether", text.trim(), ours)
        } else {
            problems.push(format!("{name}: `errors` line `{line}` names no tool"));
            continue;
        };
        said.insert(tool);
        if !stderr.contains(text) {
            problems.push(format!(
                "{name}: {tool} did not say `{text}`; it said: {}",
                stderr.trim()
            ));
        }
    }
    if said.len() != 2 {
        problems.push(format!("{name}: `errors` must list what both tools say"));
    }
    problems
}

/// The case itself, or, when it has `variants/`, each variant.
fn comparisons(case: &Path) -> Vec<Comparison<'_>> {
    let Ok(entries) = std::fs::read_dir(case.join("variants")) else {
        return vec![Comparison {
            case,
            variant: None,
        }];
    };
    let mut variants: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter_map(|f| f.strip_suffix(".args").map(str::to_string))
        .collect();
    variants.sort();
    assert!(
        !variants.is_empty(),
        "{}: variants/ has no .args",
        case.display()
    );
    variants
        .into_iter()
        .map(|variant| Comparison {
            case,
            variant: Some(variant),
        })
        .collect()
}

#[test]
fn layered_values_match_helm() {
    let helm = helm();
    let root = repo_root().join("tests/fixtures/differential");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "the corpus should not shrink silently");
    let problems: Vec<String> = cases
        .iter()
        .flat_map(|case| comparisons(case))
        .flat_map(|comparison| check_case(&comparison, &helm))
        .collect();
    assert!(
        problems.is_empty(),
        "differences from Helm:\n{}",
        problems.join("\n")
    );
}
