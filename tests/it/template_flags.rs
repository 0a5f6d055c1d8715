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

/// `-f` takes an http(s) URL, as Helm's does; provenance names the URL.
#[test]
fn values_files_come_from_urls_too() {
    let served = tempfile::tempdir().unwrap();
    std::fs::write(served.path().join("prod.yaml"), "replicas: 7\n").unwrap();
    let server = crate::support::FileServer::start(served.path());
    let chart = chart_with(&[
        ("values.yaml", "replicas: 1\n"),
        (
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  replicas: \"{{ values.replicas }}\"\n",
        ),
    ]);
    let url = format!("{}/prod.yaml", server.url);
    let run = crate::support::aether(chart.path(), &["template", ".", "-f", &url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("replicas: \"7\""), "{}", run.stdout);
    let explained = crate::support::aether(
        chart.path(),
        &["values", ".", "-f", &url, "--explain", "replicas"],
    );
    assert_eq!(explained.code, 0, "{}", explained.stderr);
    assert!(
        explained.stdout.contains(&format!("{url}:1")),
        "{}",
        explained.stdout
    );
    let missing = format!("{}/nope.yaml", server.url);
    let run = crate::support::aether(chart.path(), &["template", ".", "-f", &missing]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("-f {missing}")),
        "{}",
        run.stderr
    );
}

/// `--post-renderer`: the manifests go through a program (stdin to stdout), and what it prints
/// is checked and validated before it is printed; a failing program prints nothing.
#[test]
fn post_renderers_take_stdin_and_are_validated_after() {
    use std::os::unix::fs::PermissionsExt;
    let chart = chart_with(&[(
        "templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"1\"\n",
    )]);
    let script = |name: &str, body: &str| {
        let path = chart.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    };
    let relabel = script("relabel.sh", "sed \"s/name: c$/name: $1/\"");
    let run = crate::support::aether(
        chart.path(),
        &[
            "template",
            ".",
            "--post-renderer",
            &relabel,
            "--post-renderer-args",
            "renamed",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("name: renamed") && !run.stdout.contains("name: c\n"),
        "{}",
        run.stdout
    );
    // What it prints is validated: a Deployment without a selector is refused.
    let broken = script(
        "broken.sh",
        "cat; printf -- '---\\napiVersion: apps/v1\\nkind: Deployment\\nmetadata:\\n  name: d\\nspec:\\n  replicas: three\\n'",
    );
    let run = crate::support::aether(chart.path(), &["template", ".", "--post-renderer", &broken]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stderr.contains("AC201") && run.stdout.is_empty(),
        "{}",
        run.snapshot()
    );
    let failing = script(
        "failing.sh",
        "cat >/dev/null; echo 'no cluster context' >&2; exit 3",
    );
    let run = crate::support::aether(
        chart.path(),
        &["template", ".", "--post-renderer", &failing],
    );
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(
        run.stderr.contains("no cluster context") && run.stderr.contains("failed"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    // The memory ceiling is the render's own: the program gets the data limit aether-chart
    // started with.
    let limit = script("limit.sh", "echo \"data limit: $(ulimit -d)\" >&2; cat");
    let run = crate::support::aether(chart.path(), &["template", ".", "--post-renderer", &limit]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let own = std::process::Command::new("sh")
        .args(["-c", "ulimit -d"])
        .output()
        .unwrap();
    let own = String::from_utf8_lossy(&own.stdout);
    assert!(
        run.stderr.contains(&format!("data limit: {}", own.trim())),
        "{} (the tests run with {own})",
        run.stderr
    );
    let absent = crate::support::aether(
        chart.path(),
        &["template", ".", "--post-renderer", "./nope"],
    );
    assert_eq!(absent.code, 2);
    assert!(
        absent
            .stderr
            .contains("cannot run the post-renderer `./nope`"),
        "{}",
        absent.stderr
    );
}

/// `--name-template`, `--generate-name` and `--release-name` (the output-dir layout), against
/// Helm where Helm's `template` honours them.
#[test]
fn release_names_from_flags_match_helm() {
    let jinja = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"{{ release.name }}\"\n";
    let go = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"{{ .Release.Name }}\"\n";
    let ours_chart = chart_with(&[("templates/cm.yaml", jinja)]);
    let theirs_chart = chart_with(&[("templates/cm.yaml", go)]);
    let ours = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        run_program(&crate::support::bin(), ours_chart.path(), &args, None)
    };
    let theirs = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        run_program(&helm(), theirs_chart.path(), &args, None)
    };
    // A template both syntaxes read alike names the release alike.
    let args = ["template", ".", "--name-template", "{{ \"nightly\" }}-web"];
    let (mine, helms) = (ours(&args), theirs(&args));
    assert_eq!(
        (mine.code, helms.code),
        (0, 0),
        "{}\n{}",
        mine.stderr,
        helms.stderr
    );
    assert_eq!(objects(&mine.stdout), objects(&helms.stdout));
    assert_eq!(objects(&mine.stdout)[0].1, "nightly-web");
    // Random parts, through Jinja's filters.
    let random = ours(&[
        "template",
        ".",
        "--name-template",
        "web-{{ randAlpha(6) | lower }}",
    ]);
    let name = objects(&random.stdout)[0].1.clone();
    assert!(
        name.len() == 10 && name[4..].bytes().all(|b| b.is_ascii_lowercase()),
        "{name}"
    );
    // A name the template makes is checked as any release name: both refuse this one.
    let args = ["template", ".", "--name-template", "{{ \"Not_Valid\" }}"];
    let (mine, helms) = (ours(&args), theirs(&args));
    assert_eq!(mine.code, 2, "{}", mine.stderr);
    assert!(
        mine.stderr.contains("release name `Not_Valid` is invalid"),
        "{}",
        mine.stderr
    );
    assert!(
        helms.stderr.contains("invalid release name"),
        "{}",
        helms.stderr
    );
    // NAME and either flag: both refuse, with the same words.
    for flag in [&["-g"][..], &["--name-template", "x"][..]] {
        let mut args = vec!["template", "r", "."];
        args.extend(flag);
        let (mine, helms) = (ours(&args), theirs(&args));
        assert_eq!(mine.code, 2);
        assert_ne!(helms.code, 0);
        let words = if flag[0] == "-g" {
            "cannot set --generate-name and also specify a name"
        } else {
            "cannot set --name-template and also specify a name"
        };
        assert!(mine.stderr.contains(words), "{}", mine.stderr);
        assert!(helms.stderr.contains(words), "{}", helms.stderr);
    }
    // -g names the release as `helm install -g` does: the chart path's last part and the time.
    let generated = ours(&["template", "-g", "."]);
    let name = objects(&generated.stdout)[0].1.clone();
    let (base, secs) = name.rsplit_once('-').unwrap();
    assert_eq!(base, "chart");
    let secs: u64 = secs.parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs <= now && now - secs < 600, "{name}");

    // --release-name puts the files under <DIR>/<release>/, as Helm's does.
    let out = tempfile::tempdir().unwrap();
    for (run, dir) in [
        (&ours as &dyn Fn(&[&str]) -> crate::support::Run, "ours"),
        (&theirs, "theirs"),
    ] {
        let target = out.path().join(dir);
        let target = target.to_str().unwrap();
        let done = run(&[
            "template",
            "rel",
            ".",
            "--output-dir",
            target,
            "--release-name",
        ]);
        assert_eq!(done.code, 0, "{}", done.stderr);
    }
    for dir in ["ours", "theirs"] {
        let written = out.path().join(dir).join("rel/c/templates/cm.yaml");
        let text = std::fs::read_to_string(&written)
            .unwrap_or_else(|e| panic!("{}: {e}", written.display()));
        assert!(
            text.contains("name: \"rel\"") || text.contains("name: rel"),
            "{text}"
        );
    }
}
