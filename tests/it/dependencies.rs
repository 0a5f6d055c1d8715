//! `dependency update|build|list`: ranges resolved from file://, an HTTP repository on
//! loopback and (in the registry tests) oci://, and Chart.lock digests that Helm 4 computes
//! the same way, so each tool builds from the other's lock.

use std::path::{Path, PathBuf};

use crate::support::{FileServer, Run, aether, failed, ok, run_program_with_env, tool};

/// Writes a minimal chart.
fn chart(dir: &Path, chart_yaml: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(dir.join("Chart.yaml"), chart_yaml).unwrap();
    std::fs::write(
        dir.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ chart.name }}\n",
    )
    .unwrap();
}

fn helm(cwd: &Path, args: &[&str]) -> Run {
    let homes: Vec<(&str, PathBuf)> = ["HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"]
        .iter()
        .map(|k| (*k, cwd.join(".helm").join(k)))
        .collect();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    run_program_with_env(&tool("AETHER_HELM", "bin/helm"), cwd, &args, None, &homes)
}

fn lock_digest(dir: &Path) -> String {
    let lock = std::fs::read_to_string(dir.join("Chart.lock")).unwrap();
    lock.lines()
        .find_map(|l| l.strip_prefix("digest: "))
        .unwrap_or_else(|| panic!("no digest in {lock}"))
        .to_string()
}

const PARENT: &str = "apiVersion: v2\nname: parent\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: \"^1.0\"\n  repository: file://../sub\n  condition: sub.enabled\n  tags: [a, b]\n  alias: child\n  import-values: [data]\n";

#[test]
fn file_dependencies_lock_like_helm() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    chart(
        &root.join("sub"),
        "apiVersion: v2\nname: sub\nversion: 1.2.0\n",
    );
    chart(&root.join("ours"), PARENT);
    chart(&root.join("theirs"), PARENT);
    ok(aether(root, &["dependency", "update", "ours"]));
    ok(helm(root, &["dependency", "update", "theirs"]));
    assert_eq!(
        lock_digest(&root.join("ours")),
        lock_digest(&root.join("theirs"))
    );
    let lock = std::fs::read_to_string(root.join("ours/Chart.lock")).unwrap();
    assert!(lock.starts_with("dependencies:\n- name: sub\n  repository: file://../sub\n  version: 1.2.0\ndigest: sha256:"), "{lock}");

    // Each tool builds from the other's lock.
    std::fs::copy(root.join("theirs/Chart.lock"), root.join("ours/Chart.lock")).unwrap();
    std::fs::remove_dir_all(root.join("ours/charts")).unwrap();
    ok(aether(root, &["dependency", "build", "ours"]));
    let archive = root.join("ours/charts/sub-1.2.0.tgz");
    let first = std::fs::read(&archive).unwrap();
    std::fs::remove_file(&archive).unwrap();
    ok(aether(root, &["dependency", "build", "ours"]));
    assert!(
        std::fs::read(&archive).unwrap() == first,
        "build writes the same bytes again"
    );
    ok(helm(root, &["dependency", "build", "ours"]));

    let list = ok(aether(root, &["dependency", "list", "ours"]));
    assert_eq!(
        list.stdout,
        "NAME  VERSION  REPOSITORY     STATUS\nsub   ^1.0     file://../sub  ok\n"
    );

    // The chart renders with the fetched subchart.
    let rendered = ok(aether(
        root,
        &[
            "template",
            "ours",
            "--skip-validation",
            "--set",
            "sub.enabled=true",
        ],
    ));
    assert!(
        rendered.stdout.contains(
            "# Source: parent/charts/child/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: child\n"
        ),
        "{}",
        rendered.stdout
    );

    // A Chart.yaml edited after locking: build refuses, update relocks.
    let edited = PARENT.replace("^1.0", "~1.2");
    std::fs::write(root.join("ours/Chart.yaml"), &edited).unwrap();
    failed(
        &aether(root, &["dependency", "build", "ours"]),
        "out of sync with Chart.yaml",
    );
    ok(aether(root, &["dependency", "update", "ours"]));
    ok(aether(root, &["dependency", "build", "ours"]));

    // A range nothing satisfies names what there is.
    std::fs::write(root.join("ours/Chart.yaml"), PARENT.replace("^1.0", ">=2")).unwrap();
    failed(
        &aether(root, &["dependency", "update", "ours"]),
        "`sub` >=2 from `file://../sub` (available: 1.2.0)",
    );
}

#[test]
fn refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    chart(
        &root.join("sub"),
        "apiVersion: v2\nname: sub\nversion: 1.2.0\n",
    );
    chart(&root.join("parent"), PARENT);
    // A symlinked Chart.lock.
    std::fs::write(
        root.join("elsewhere.lock"),
        "dependencies: []\ndigest: x\ngenerated: y\n",
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("elsewhere.lock"), root.join("parent/Chart.lock"))
        .unwrap();
    #[cfg(unix)]
    {
        failed(
            &aether(root, &["dependency", "build", "parent"]),
            "is a symbolic link",
        );
        failed(
            &aether(root, &["dependency", "update", "parent"]),
            "is a symbolic link",
        );
        std::fs::remove_file(root.join("parent/Chart.lock")).unwrap();
    }
    // A cycle of file:// dependencies.
    chart(
        &root.join("a"),
        "apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- name: b\n  version: 1.0.0\n  repository: file://../b\n",
    );
    chart(
        &root.join("b"),
        "apiVersion: v2\nname: b\nversion: 1.0.0\ndependencies:\n- name: a\n  version: 1.0.0\n  repository: file://../a\n",
    );
    failed(
        &aether(root, &["dependency", "update", "a"]),
        "cycle: a -> b -> a",
    );
    // Repository names from `helm repo add` are not read.
    chart(
        &root.join("named"),
        "apiVersion: v2\nname: named\nversion: 1.0.0\ndependencies:\n- name: x\n  version: 1.0.0\n  repository: \"@stable\"\n",
    );
    failed(
        &aether(root, &["dependency", "update", "named"]),
        "use file://, http(s):// or oci://",
    );
    assert!(!root.join("named/Chart.lock").exists());
}

#[test]
fn http_repositories_are_digest_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let repo = root.join("repo");
    for version in ["1.0.0", "1.2.0", "2.0.0"] {
        chart(
            &root.join("src"),
            &format!("apiVersion: v2\nname: sub\nversion: {version}\n"),
        );
        ok(aether(
            root,
            &["package", "src", "-d", repo.to_str().unwrap()],
        ));
    }
    let server = FileServer::start(&repo);
    ok(aether(
        root,
        &[
            "repo",
            "index",
            repo.to_str().unwrap(),
            "--url",
            &server.url,
        ],
    ));
    let parent = |range: &str| {
        format!(
            "apiVersion: v2\nname: parent\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: \"{range}\"\n  repository: {}\n",
            server.url
        )
    };
    chart(&root.join("parent"), &parent("^1.0"));
    ok(aether(root, &["dependency", "update", "parent"]));
    assert!(root.join("parent/charts/sub-1.2.0.tgz").is_file());
    let lock = std::fs::read_to_string(root.join("parent/Chart.lock")).unwrap();
    assert!(lock.contains("  version: 1.2.0\n"), "{lock}");

    // Helm, with the repository added, locks to the same digest.
    chart(&root.join("helm-parent"), &parent("^1.0"));
    ok(helm(root, &["repo", "add", "local", &server.url]));
    ok(helm(root, &["dependency", "update", "helm-parent"]));
    assert_eq!(
        lock_digest(&root.join("parent")),
        lock_digest(&root.join("helm-parent"))
    );

    // An archive that no longer matches the index digest is refused; nothing changes.
    let before = std::fs::read(root.join("parent/Chart.lock")).unwrap();
    let archive = repo.join("sub-1.2.0.tgz");
    let mut bytes = std::fs::read(&archive).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&archive, bytes).unwrap();
    std::fs::remove_file(root.join("parent/charts/sub-1.2.0.tgz")).unwrap();
    failed(
        &aether(root, &["dependency", "build", "parent"]),
        "not the sha256:",
    );
    assert!(!root.join("parent/charts/sub-1.2.0.tgz").exists());
    assert_eq!(
        std::fs::read(root.join("parent/Chart.lock")).unwrap(),
        before
    );

    // Broken indexes.
    for (text, expect) in [
        ("", "is empty"),
        ("apiVersion: v1\nentries: {sub: [\n", "index.yaml"),
        ("apiVersion: v1\nentries: {}\nentries: {}\n", "duplicate"),
    ] {
        std::fs::write(repo.join("index.yaml"), text).unwrap();
        failed(&aether(root, &["dependency", "update", "parent"]), expect);
    }
}
