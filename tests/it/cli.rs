//! Shell completions and the man page come from the command-line definitions.

use crate::support::{aether, chart_with, ok, repo_root};

#[test]
fn completions_cover_every_command_and_parse() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = ok(aether(&repo_root(), &["completions", shell])).stdout;
        for command in [
            "template",
            "lint",
            "package",
            "push",
            "pull",
            "dependency",
            "scale",
            "route",
        ] {
            assert!(
                script.contains(command),
                "{shell} completion lacks {command}"
            );
        }
    }
    let bash = ok(aether(&repo_root(), &["completions", "bash"])).stdout;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("aether-chart.bash"), bash).unwrap();
    let check = std::process::Command::new("bash")
        .args(["-n", dir.path().join("aether-chart.bash").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let run = aether(&repo_root(), &["completions", "tcsh"]);
    assert_eq!(run.code, 2);
}

#[test]
fn the_man_page_has_a_section_per_command() {
    let page = ok(aether(&repo_root(), &["man"])).stdout;
    assert!(page.contains(".TH aether-chart 1"));
    for command in [
        "template",
        "package",
        "push",
        "pull",
        "registry",
        "repo",
        "dependency",
        "scale",
        "route",
    ] {
        assert!(
            page.contains(&format!(".TH aether-chart-{command} 1")),
            "no page for {command}"
        );
    }
}

#[test]
fn docs_values_md_is_current() {
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("values.md");
    ok(aether(
        &repo_root(),
        &["docs", ".", "-o", fresh.to_str().unwrap()],
    ));
    let fresh = std::fs::read_to_string(fresh).unwrap();
    let committed = std::fs::read_to_string(repo_root().join("docs/values.md")).unwrap_or_default();
    assert!(
        fresh == committed,
        "docs/values.md is stale: run `cargo run -- docs` and commit it"
    );
    // Every leaf of values.yaml is listed, with the overlays as columns.
    assert!(fresh.contains("| Key | Type | Default | dev | prod | regions/eu-west-1 |"));
    for key in [
        "`api.replicas`",
        "`world-server.scaling.targetPlayersPerPod`",
        "`global.environment`",
    ] {
        assert!(fresh.contains(key), "{key} is missing");
    }
}

#[test]
fn a_closed_pipe_ends_every_printing_command_quietly() {
    // `aether-chart values | head -1`: the reader is gone before the output is written.
    let commands: [&[&str]; 5] = [
        &["values", ".", "-f", "values/prod.yaml"],
        &["show", "values", "."],
        &["lint", ".", "-f", "values/prod.yaml"],
        &[
            "diff",
            "--from",
            "values/staging.yaml",
            "--to",
            "values/prod.yaml",
            "--output",
            "json",
        ],
        &["docs", ".", "--output", "-"],
    ];
    for args in commands {
        let mut child = std::process::Command::new(crate::support::bin())
            .args(args)
            .current_dir(repo_root())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("internal error"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn a_folder_that_is_no_chart_says_so_before_reading_it() {
    // Run where there is no Chart.yaml, above files a chart could never hold: the missing
    // Chart.yaml is the error, not whatever the walk meets first.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.bin"), vec![0u8; 6 << 20]).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("sub/outside")).unwrap();
    for command in ["template", "lint", "values", "package"] {
        let run = aether(dir.path(), &[command, "."]);
        assert_eq!(run.code, 2, "{command}: {}", run.stderr);
        assert!(
            run.stderr.contains("`Chart.yaml` is missing"),
            "{command}: {}",
            run.stderr
        );
    }
}

#[test]
fn docs_attach_a_comment_only_to_the_key_below_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("values.yaml"),
        "# Number of pods\nreplicas: 3\nother: x\n# The image\nimage:\n  tag: \"1\"\n  pull: Always # When to pull\n",
    )
    .unwrap();
    let run = ok(aether(dir.path(), &["docs", ".", "--output", "-"]));
    let row = |key: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(&format!("| `{key}` |")))
            .unwrap_or_else(|| panic!("no row for {key}: {}", run.stdout))
            .to_string()
    };
    assert!(
        row("replicas").ends_with("| Number of pods |"),
        "{}",
        row("replicas")
    );
    assert!(row("other").ends_with("|  |"), "{}", row("other"));
    assert!(
        row("image.tag").ends_with("| The image |"),
        "{}",
        row("image.tag")
    );
    assert!(
        row("image.pull").ends_with("| When to pull |"),
        "{}",
        row("image.pull")
    );
}

/// Kubernetes clients read rendered manifests as YAML 1.1, so the checks do: a values string
/// `"on"` printed bare reaches the API server as `true`, which a replica count cannot be.
#[test]
fn a_bare_yaml11_boolean_is_judged_as_the_cluster_reads_it() {
    let dir = chart_with(&[
        ("values.yaml", "replicas: \"on\"\n"),
        (
            "templates/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {{ values.replicas }}\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: \"r.example.com/web:1.0\"\n",
        ),
    ]);
    let run = aether(dir.path(), &["template", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error[AC201 kubernetes-schema] Deployment/web")
            && run.stderr.contains("spec.replicas: true is not of types"),
        "{}",
        run.stderr
    );
    // Quoted, or a number, it renders.
    let run = aether(dir.path(), &["template", ".", "--set", "replicas=2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A mis-indented overlay nulls `image`: the explanation says the tag was deleted with it, by
/// which line, and what the null deleted.
#[test]
fn explain_follows_a_null_that_deletes_a_table() {
    let dir = chart_with(&[
        (
            "values.yaml",
            "image:\n  repository: r/web\n  tag: \"1.0\"\n",
        ),
        ("bad.yaml", "image:\ntag: \"2.0\"\n"),
        (
            "templates/c.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        ),
    ]);
    let run = aether(
        dir.path(),
        &["values", ".", "-f", "bad.yaml", "--explain", "image.tag"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "   values.yaml:3: image.tag = \"1.0\"\n=> bad.yaml:1: image.tag = null (deleted with `image`)\n"
    );
    let run = aether(
        dir.path(),
        &["values", ".", "-f", "bad.yaml", "--explain", "image"],
    );
    assert_eq!(
        run.stdout,
        "=> bad.yaml:1: image = null (deletes image.repository = r/web from values.yaml:2, image.tag = \"1.0\" from values.yaml:3)\n"
    );
}

/// A region without datacenters could not render the world server's topology: the values
/// schema refuses it, naming the overlay's line, before any template runs.
#[test]
fn a_region_without_datacenters_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = dir.path().join("regions.yaml");
    std::fs::write(
        &overlay,
        "world-server:\n  regions:\n    - {code: us-east-1, latencyMs: 20, healthy: true, weight: 100}\n",
    )
    .unwrap();
    let overlay = overlay.to_str().unwrap();
    let run = aether(
        &repo_root(),
        &["template", "-f", "values/prod.yaml", "-f", overlay],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("world-server.regions.0: \"datacenters\" is a required property")
            && run
                .stderr
                .contains(&format!("set at {overlay}:2: world-server.regions")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("routing.yaml"), "{}", run.stderr);
}

/// `template -q` prints only errors; the summary line counts the warnings it hides.
#[test]
fn quiet_template_prints_only_errors_and_counts_the_rest() {
    let dir = chart_with(&[]);
    std::fs::create_dir(dir.path().join("templates")).unwrap();
    for (name, replicas) in [("a", "1"), ("b", "on")] {
        std::fs::write(
            dir.path().join(format!("templates/{name}.yaml")),
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n        - name: web\n          image: \"r.example.com/web:1.0\"\n"),
        )
        .unwrap();
    }
    let loud = aether(dir.path(), &["template", "."]);
    assert_eq!(loud.code, 1, "{}", loud.stderr);
    assert!(
        loud.stderr.contains("  in 2 objects: Deployment/a (`c/templates/a.yaml`), Deployment/b (`c/templates/b.yaml`)\n"),
        "{}",
        loud.stderr
    );
    assert!(
        loud.stderr.ends_with("1 error, 18 warnings in 2 objects\n"),
        "{}",
        loud.stderr
    );
    let quiet = aether(dir.path(), &["template", ".", "-q"]);
    assert_eq!(quiet.code, 1);
    assert!(!quiet.stderr.contains("warning["), "{}", quiet.stderr);
    assert!(
        quiet
            .stderr
            .starts_with("error[AC201 kubernetes-schema] Deployment/b")
            && quiet
                .stderr
                .ends_with("1 error in 1 object (18 warnings not shown)\n"),
        "{}",
        quiet.stderr
    );
}
