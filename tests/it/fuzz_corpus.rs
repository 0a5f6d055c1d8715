//! Replays the fuzz targets' committed corpora (`fuzz/corpus/<target>/`): the seeds and every
//! input a fuzzing run found, so what was fixed stays fixed without running a fuzzer in CI.

use aether_chart::fuzzing::TARGETS;

use crate::support::repo_root;

#[test]
fn every_fuzz_corpus_replays_clean() {
    let corpus = repo_root().join("fuzz/corpus");
    for (name, target) in TARGETS {
        let folder = corpus.join(name);
        let mut inputs: Vec<_> = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .map(|e| e.unwrap().path())
            .collect();
        inputs.sort();
        assert!(inputs.len() >= 3, "{name} has seeds");
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name} fails on {}", input.display());
        }
    }
    let targets: Vec<String> = std::fs::read_dir(repo_root().join("fuzz/fuzz_targets"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .collect();
    for target in &targets {
        assert!(
            TARGETS.iter().any(|(name, _)| name == target),
            "fuzz/fuzz_targets/{target}.rs has no entry in aether_chart::fuzzing::TARGETS"
        );
    }
    assert_eq!(targets.len(), TARGETS.len(), "one fuzz target per entry");
}
