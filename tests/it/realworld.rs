//! The real-world corpus: public charts (bitnami, prometheus-community, grafana, argo,
//! ingress-nginx, cert-manager, metrics-server, vault) rendered by Helm 4.1.4 with
//! `scripts/render-corpus.py` and kept gzipped under tests/fixtures/realworld/. Every
//! error-level finding `validate` reports on them must be one judged a real defect below, with
//! the reason; and no document fails the schema check that `kubernetes-validate --strict`
//! accepts, while the documented differences (nulls the API server takes as no value) stay
//! differences.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use crate::support::{bin, repo_root, run_program, tool};

/// Error-level findings on the corpus judged to be real defects: (case, rule, object, why).
/// Today there are none: each error the corpus once raised was judged a false one and fixed
/// (see docs/rules.md for the severity rule every check is held to).
const JUDGED: &[(&str, &str, &str, &str)] = &[];

/// Documents the API server accepts and `kubernetes-validate --strict` refuses, which the schema
/// check accepts on purpose: (case, object, why).
const LENIENT: &[(&str, &str, &str)] = &[
    (
        "bitnami-spark",
        "NetworkPolicy/spark-worker",
        "`port: null` is a port left unset to the API server",
    ),
    (
        "bitnami-harbor-full",
        "NetworkPolicy/harbor-trivy",
        "`port: null` is a port left unset to the API server",
    ),
];

/// Each case of the corpus: its name and its stream.
fn corpus() -> Vec<(String, String)> {
    let dir = repo_root().join("tests/fixtures/realworld");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".yaml.gz"))
        .collect();
    cases.sort();
    cases
        .iter()
        .map(|path| {
            let mut text = String::new();
            flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
                .read_to_string(&mut text)
                .unwrap();
            let name = path.file_name().unwrap().to_string_lossy();
            (name.trim_end_matches(".yaml.gz").to_string(), text)
        })
        .collect()
}

/// The findings of `validate --format json` on one stream.
fn findings(dir: &Path, stream: &str) -> (i32, Vec<serde_json::Value>) {
    let args: Vec<String> = ["validate", "--format", "json", "-"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let run = run_program(&bin(), dir, &args, Some(stream.as_bytes()));
    let findings =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    (run.code, findings)
}

/// The document of `stream` that is `object` (`Kind/name`), as text.
fn document(stream: &str, object: &str) -> String {
    stream
        .split("\n---\n")
        .find(|text| {
            let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
                return false;
            };
            let kind = doc.get("kind").and_then(|k| k.as_str());
            let name = doc
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(|n| n.as_str());
            kind.zip(name)
                .is_some_and(|(k, n)| format!("{k}/{n}") == object)
        })
        .unwrap_or_else(|| panic!("no {object} in the stream"))
        .to_string()
}

#[test]
fn every_error_on_public_charts_is_a_judged_defect() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = corpus();
    let (mut documents, mut kinds, mut crds) = (0, BTreeSet::new(), 0);
    let mut unjudged = Vec::new();
    let mut judged_seen = BTreeSet::new();
    let mut schema_refused = Vec::new();
    for (case, stream) in &corpus {
        for text in stream.split("\n---\n") {
            if let Some(kind) = text.lines().find_map(|l| l.strip_prefix("kind: ")) {
                documents += 1;
                crds += usize::from(kind == "CustomResourceDefinition");
                kinds.insert(kind.trim().to_string());
            }
        }
        let (code, found) = findings(tmp.path(), stream);
        let errors: Vec<&serde_json::Value> = found
            .iter()
            .filter(|f| f["severity"] == "error" && f["suppressed"].is_null())
            .collect();
        assert_eq!(code, i32::from(!errors.is_empty()), "{case}");
        for error in errors {
            let rule = error["rule"].as_str().unwrap();
            let object = error["object"].as_str().unwrap_or("");
            match JUDGED
                .iter()
                .position(|(c, r, o, _)| c == case && *r == rule && *o == object)
            {
                Some(i) => {
                    judged_seen.insert(i);
                }
                None => unjudged.push(format!("{case}: {rule} {object}: {}", error["message"])),
            }
            if rule == "AC201" {
                schema_refused.push((case.clone(), object.to_string()));
            }
        }
    }
    assert!(documents > 2500, "{documents} documents");
    assert!(kinds.len() > 25, "{} kinds: {kinds:?}", kinds.len());
    assert!(crds > 30, "{crds} custom resource definitions");
    assert!(
        unjudged.is_empty(),
        "error-level findings on public charts that no one has judged a defect (judge each: \
         a real defect goes into JUDGED with its reason, a false one is a bug of the rule):\n{}",
        unjudged.join("\n")
    );
    assert_eq!(
        judged_seen.len(),
        JUDGED.len(),
        "judged defects the corpus no longer shows: remove them"
    );

    // kubernetes-validate --strict refuses every document the schema check refuses, and the
    // documented lenient ones; the schema check accepts those.
    let kv = tool("AETHER_KUBERNETES_VALIDATE", "venv/bin/kubernetes-validate");
    let mut files = Vec::new();
    for (i, (case, object)) in schema_refused
        .iter()
        .chain(
            LENIENT
                .iter()
                .map(|(c, o, _)| (c.to_string(), o.to_string()))
                .collect::<Vec<_>>()
                .iter(),
        )
        .enumerate()
    {
        let stream = &corpus.iter().find(|(c, _)| c == case).unwrap().1;
        let name = format!("d{i}.yaml");
        std::fs::write(tmp.path().join(&name), document(stream, object)).unwrap();
        files.push((name, case.clone(), object.clone()));
    }
    let mut args = vec!["--strict".to_string(), "-k".into(), "1.35.0".into()];
    args.extend(files.iter().map(|(n, _, _)| n.clone()));
    let theirs = run_program(&kv, tmp.path(), &args, None);
    for (name, case, object) in &files {
        assert!(
            theirs
                .stdout
                .lines()
                .any(|l| l.starts_with(&format!("ERROR {name} "))),
            "{case}: kubernetes-validate accepts {object}, which the schema check refuses or \
             documents as refused by it:\n{}",
            theirs.stdout
        );
    }
    for (case, object, _) in LENIENT {
        let stream = &corpus.iter().find(|(c, _)| c == case).unwrap().1;
        let (_, found) = findings(tmp.path(), stream);
        assert!(
            !found
                .iter()
                .any(|f| f["rule"] == "AC201" && f["object"] == *object),
            "{case}: {object} should pass the schema check"
        );
    }
}
