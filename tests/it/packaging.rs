//! `package`, `show` and `repo index`: reproducible archives that Helm 4 reads, and an index
//! that `helm repo add`, `helm search repo` and `helm pull` use over loopback HTTP.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::support::{
    FileServer, aether, archive_with_entry, repo_root, run_program_with_env, tool,
};

fn helm() -> PathBuf {
    tool("AETHER_HELM", "bin/helm")
}

/// Packages `chart` into `dest` with extra environment; returns the archive's bytes.
fn package(chart: &Path, dest: &Path, env: &[(&str, PathBuf)]) -> Vec<u8> {
    let args: Vec<String> = [
        "package",
        chart.to_str().unwrap(),
        "-d",
        dest.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = run_program_with_env(&crate::support::bin(), &repo_root(), &args, None, env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::read(dest.join("aether-0.1.0.tgz")).expect("the archive")
}

/// (path, mode, uid, gid, mtime) of every entry.
fn entries(archive: &[u8]) -> Vec<(String, u32, u64, u64, u64)> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    tar.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                e.path().unwrap().to_string_lossy().into_owned(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                h.mtime().unwrap(),
            )
        })
        .collect()
}

/// Unpacks an archive into `dir`.
fn unpack(archive: &[u8], dir: &Path) {
    tar::Archive::new(flate2::read::GzDecoder::new(archive))
        .unpack(dir)
        .expect("unpack");
}

#[test]
fn the_root_chart_packages_reproducibly() {
    let tmp = tempfile::tempdir().unwrap();
    let first = package(&repo_root(), &tmp.path().join("a"), &[]);
    // The gzip header holds no time and no file name.
    assert_eq!(&first[..3], &[0x1f, 0x8b, 8]);
    assert_eq!(first[3] & 0x08, 0, "no file name in the gzip header");
    assert_eq!(&first[4..8], &[0, 0, 0, 0], "no time in the gzip header");

    let listed = entries(&first);
    let names: Vec<&str> = listed.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names[0], "aether/Chart.yaml");
    // The repository is also the Rust crate: only the chart's own files are packaged.
    let chart_parts = [
        "Chart.yaml",
        "values.yaml",
        "values.schema.json",
        ".helmignore",
        "aether-lint.yaml",
        "templates",
        "charts",
        "values",
    ];
    for name in &names {
        let first = name.split('/').nth(1).unwrap_or_default();
        assert!(
            chart_parts.contains(&first),
            "{name} is not part of the chart"
        );
    }
    let mut sorted = names[1..].to_vec();
    sorted.sort();
    assert_eq!(
        names[1..],
        sorted[..],
        "entries after Chart.yaml are sorted"
    );
    for (name, mode, uid, gid, mtime) in &listed {
        assert!(name.starts_with("aether/"), "{name}");
        assert_eq!(
            (*mode, *uid, *gid, *mtime),
            (0o644, 0, 0, 315_532_800),
            "{name}"
        );
        for excluded in [
            "src/",
            "target/",
            "tests/",
            "Cargo.",
            ".git/",
            ".ci/",
            "README.md",
            "benches/",
            ".tools/",
        ] {
            assert!(
                !name.starts_with(&format!("aether/{excluded}")),
                "{name} must not ship"
            );
        }
    }
    for shipped in [
        "aether/values.yaml",
        "aether/values/prod.yaml",
        "aether/charts/world-server/Chart.yaml",
        "aether/templates/_helpers.j2",
    ] {
        assert!(names.contains(&shipped), "{shipped} is missing");
    }

    // A fresh copy with other mtimes packages to the same bytes.
    let copy = tmp.path().join("copy");
    unpack(&first, &copy);
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400 * 400);
    for (name, ..) in &listed {
        let file = std::fs::File::options()
            .write(true)
            .open(copy.join(name))
            .unwrap();
        file.set_modified(later).unwrap();
    }
    let second = package(&copy.join("aether"), &tmp.path().join("b"), &[]);
    assert!(first == second, "touching every file changed the archive");

    // SOURCE_DATE_EPOCH sets every mtime.
    let dated = package(
        &repo_root(),
        &tmp.path().join("c"),
        &[("SOURCE_DATE_EPOCH", PathBuf::from("1700000000"))],
    );
    assert!(entries(&dated).iter().all(|e| e.4 == 1_700_000_000));
    assert!(dated != first);

    // What the archive renders is what the directory renders.
    let archive = tmp.path().join("a/aether-0.1.0.tgz");
    let from_archive = aether(
        &repo_root(),
        &[
            "template",
            archive.to_str().unwrap(),
            "-f",
            "values/prod.yaml",
        ],
    );
    let from_dir = aether(&repo_root(), &["template", ".", "-f", "values/prod.yaml"]);
    assert_eq!(from_archive.code, 0, "{}", from_archive.stderr);
    assert_eq!(from_archive.stdout, from_dir.stdout);

    // Helm 4 reads the archive.
    let shown = run_program_with_env(
        &helm(),
        tmp.path(),
        &[
            "show".into(),
            "chart".into(),
            archive.to_str().unwrap().into(),
        ],
        None,
        &[],
    );
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown.stdout.contains("name: aether") && shown.stdout.contains("version: 0.1.0"),
        "{}",
        shown.stdout
    );
}

#[test]
fn package_overrides_and_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("out");
    let run = aether(
        &repo_root(),
        &[
            "package",
            ".",
            "-d",
            dest.to_str().unwrap(),
            "--version",
            "2.0.0-rc.1+b7",
            "--app-version",
            "3.1",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let archive = std::fs::read(dest.join("aether-2.0.0-rc.1+b7.tgz")).unwrap();
    let mut chart_yaml = String::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive.as_slice()));
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some("aether/Chart.yaml") {
            entry.read_to_string(&mut chart_yaml).unwrap();
        }
    }
    assert!(
        chart_yaml.contains("version: 2.0.0-rc.1+b7") && chart_yaml.contains("appVersion: '3.1'"),
        "{chart_yaml}"
    );

    let bad = aether(
        &repo_root(),
        &[
            "package",
            ".",
            "-d",
            dest.to_str().unwrap(),
            "--version",
            "1.2",
        ],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("--version `1.2` is not SemVer 2"),
        "{}",
        bad.stderr
    );

    // A chart that does not load is never packaged, and nothing is left behind.
    let broken = tmp.path().join("broken");
    std::fs::create_dir_all(broken.join("templates")).unwrap();
    std::fs::write(
        broken.join("Chart.yaml"),
        "apiVersion: v2\nname: broken\nversion: one\n",
    )
    .unwrap();
    let empty = tmp.path().join("empty");
    let run = aether(
        &repo_root(),
        &[
            "package",
            broken.to_str().unwrap(),
            "-d",
            empty.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("version `one` is not SemVer 2"),
        "{}",
        run.stderr
    );
    assert!(!empty.exists() || std::fs::read_dir(&empty).unwrap().next().is_none());
    let run = aether(&repo_root(), &["package", "Cargo.toml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("is not a chart directory"),
        "{}",
        run.stderr
    );
}

#[test]
fn show_reads_directories_and_archives() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("aether-0.1.0.tgz");
    package(&repo_root(), tmp.path(), &[]);
    let chart_yaml = std::fs::read_to_string(repo_root().join("Chart.yaml")).unwrap();
    let values_yaml = std::fs::read_to_string(repo_root().join("values.yaml")).unwrap();
    for chart in [repo_root(), archive.clone()] {
        let chart = chart.to_str().unwrap();
        let run = aether(&repo_root(), &["show", "chart", chart]);
        assert_eq!((run.code, run.stdout.as_str()), (0, chart_yaml.as_str()));
        let run = aether(&repo_root(), &["show", "values", chart]);
        assert_eq!((run.code, run.stdout.as_str()), (0, values_yaml.as_str()));
        // The repository's README is the project's, not the chart's: .helmignore keeps it out.
        let run = aether(&repo_root(), &["show", "readme", chart]);
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("has no README"), "{}", run.stderr);
    }
    let sub = repo_root().join("charts/world-server");
    let run = aether(&repo_root(), &["show", "all", sub.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("name: world-server") && run.stdout.contains("\n---\n"));
    let run = aether(&repo_root(), &["show", "chart", "no-such-chart.tgz"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("cannot read the chart `no-such-chart.tgz`"),
        "{}",
        run.stderr
    );
}

#[test]
fn repo_index_serves_helm() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    package(&repo_root(), &repo, &[]);
    let run = aether(
        &repo_root(),
        &[
            "package",
            ".",
            "-d",
            repo.join("older").to_str().unwrap(),
            "--version",
            "0.0.9",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let server = FileServer::start(&repo);
    let run = aether(
        &repo_root(),
        &[
            "repo",
            "index",
            repo.to_str().unwrap(),
            "--url",
            &server.url,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let index = std::fs::read_to_string(repo.join("index.yaml")).unwrap();
    let newest = index.find("version: 0.1.0").expect("0.1.0 is indexed");
    let oldest = index.find("version: 0.0.9").expect("0.0.9 is indexed");
    assert!(
        newest < oldest,
        "versions are listed newest first:\n{index}"
    );
    assert!(
        index.contains(&format!("- {}/older/aether-0.0.9.tgz", server.url)),
        "{index}"
    );

    let homes: Vec<(&str, PathBuf)> = ["HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"]
        .iter()
        .map(|k| (*k, tmp.path().join(k)))
        .collect();
    let helm_run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let run = run_program_with_env(&helm(), tmp.path(), &args, None, &homes);
        assert_eq!(run.code, 0, "helm {args:?}: {}", run.stderr);
        run
    };
    helm_run(&["repo", "add", "local", &server.url]);
    let search = helm_run(&["search", "repo", "local/aether", "--versions"]);
    assert!(
        search.stdout.contains("0.1.0") && search.stdout.contains("0.0.9"),
        "{}",
        search.stdout
    );
    let pulled = tmp.path().join("pulled");
    std::fs::create_dir_all(&pulled).unwrap();
    helm_run(&[
        "pull",
        "local/aether",
        "--version",
        "0.0.9",
        "-d",
        pulled.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(pulled.join("aether-0.0.9.tgz")).unwrap(),
        std::fs::read(repo.join("older/aether-0.0.9.tgz")).unwrap()
    );

    // Merging keeps what the existing index says about a version.
    let merged = tmp.path().join("merged");
    package(&repo_root(), &merged, &[]);
    let old = index.replace("Aether on Kubernetes", "Kept from the old index");
    std::fs::write(tmp.path().join("old.yaml"), &old).unwrap();
    let run = aether(
        &repo_root(),
        &[
            "repo",
            "index",
            merged.to_str().unwrap(),
            "--merge",
            tmp.path().join("old.yaml").to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let index = std::fs::read_to_string(merged.join("index.yaml")).unwrap();
    assert!(
        index.contains("Kept from the old index") && !index.contains("Aether on Kubernetes"),
        "{index}"
    );
}

#[test]
fn repo_index_refuses_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (name, text, expect) in [
        ("empty.yaml", "", "is empty"),
        (
            "broken.yaml",
            "apiVersion: v1\nentries: {a: [\n",
            "broken.yaml",
        ),
        (
            "twice.yaml",
            "apiVersion: v1\nentries: {}\nentries: {}\n",
            "duplicate",
        ),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
        let run = aether(dir, &["repo", "index", ".", "--merge", name]);
        assert_eq!(run.code, 2, "{name}");
        assert!(run.stderr.contains(expect), "{name}: {}", run.stderr);
    }
    // An archive that climbs out of its folder is refused by name.
    let bytes = archive_with_entry("evil/../../evil.yaml");
    std::fs::write(dir.join("evil-1.0.0.tgz"), &bytes).unwrap();
    let run = aether(dir, &["repo", "index", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("evil-1.0.0.tgz") && run.stderr.contains("reaches outside"),
        "{}",
        run.stderr
    );
    assert!(
        !dir.join("index.yaml").exists(),
        "no index is written on error"
    );
}
