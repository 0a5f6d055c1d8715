//! Attacks a chart, a folder or a registry can make on the machine that runs aether-chart,
//! each as an attacker would set it up: links planted at every temporary name a writer could
//! pick (process ids run to 32768), links and special files in place of chart files, archives
//! that expand past the limits only together, template arguments that ask for gigabytes.
//! Nothing outside the target may change, nothing outside the chart may be read or printed,
//! and every run ends soon with exit 2 and a clear message.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::scripted::{Answer, scripted, serve_chart};
use crate::support::{Run, aether, aether_within, demo_chart as chart, failed, ok};

/// The highest process id on the machines this suite runs on (`/proc/sys/kernel/pid_max`).
const PID_MAX: u32 = 32768;

const PRECIOUS: &str = "precious: must never be overwritten\n";

/// A file outside every target, and the test folder around it.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let scene = Scene {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(scene.path("outside/folder")).unwrap();
        std::fs::write(scene.victim(), PRECIOUS).unwrap();
        scene
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// The file an attacker wants overwritten.
    fn victim(&self) -> PathBuf {
        self.path("outside/victim")
    }

    /// The folder an attacker wants filled.
    fn outside_folder(&self) -> PathBuf {
        self.path("outside/folder")
    }

    fn run(&self, args: &[&str]) -> Run {
        aether(self.dir.path(), args)
    }

    /// Neither the victim nor the outside folder changed.
    fn untouched(&self) {
        assert_eq!(
            std::fs::read_to_string(self.victim()).unwrap(),
            PRECIOUS,
            "the file outside the target was overwritten"
        );
        assert!(
            std::fs::read_dir(self.outside_folder())
                .unwrap()
                .next()
                .is_none(),
            "files appeared in the folder outside the target"
        );
    }
}

/// Plants, in `folder`, a link to `target` at `name(pid)` for every process id.
fn plant(folder: &Path, name: impl Fn(u32) -> String, target: &Path) {
    std::fs::create_dir_all(folder).unwrap();
    for pid in 1..=PID_MAX {
        symlink(target, folder.join(name(pid))).unwrap();
    }
}

/// `path` is a regular file (not a link), and holds `prefix` first.
fn regular_file(path: &Path, prefix: &[u8]) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    assert!(
        meta.file_type().is_file(),
        "{} is not a regular file",
        path.display()
    );
    assert!(
        std::fs::read(path).unwrap().starts_with(prefix),
        "{}",
        path.display()
    );
}

const GZIP: &[u8] = &[0x1f, 0x8b];

#[test]
fn package_writes_through_no_planted_link() {
    let scene = Scene::new();
    chart(&scene.path("c"));
    plant(
        &scene.path("out"),
        |pid| format!(".demo-0.1.0.tgz.{pid}.partial"),
        &scene.victim(),
    );
    ok(scene.run(&["package", "c", "-d", "out"]));
    scene.untouched();
    regular_file(&scene.path("out/demo-0.1.0.tgz"), GZIP);

    // A link at the final name is refused, not replaced or followed.
    std::fs::remove_file(scene.path("out/demo-0.1.0.tgz")).unwrap();
    symlink(scene.victim(), scene.path("out/demo-0.1.0.tgz")).unwrap();
    failed(
        &scene.run(&["package", "c", "-d", "out"]),
        "is a symbolic link",
    );
    scene.untouched();
}

#[test]
fn output_dir_writes_through_no_planted_link() {
    let scene = Scene::new();
    chart(&scene.path("c"));
    plant(
        &scene.path("out/demo/templates"),
        |pid| format!(".cm.yaml.aether-chart-{pid}.tmp"),
        &scene.victim(),
    );
    ok(scene.run(&["template", "c", "--output-dir", "out"]));
    scene.untouched();
    regular_file(
        &scene.path("out/demo/templates/cm.yaml"),
        b"---\n# Source: demo/",
    );

    // A linked folder inside the output folder would steer every file elsewhere.
    std::fs::create_dir_all(scene.path("out2")).unwrap();
    symlink(scene.outside_folder(), scene.path("out2/demo")).unwrap();
    failed(
        &scene.run(&["template", "c", "--output-dir", "out2"]),
        "is a symbolic link",
    );
    scene.untouched();
}

/// A chart `c` with the file:// dependency `sub` 0.1.0.
fn chart_with_dependency(scene: &Scene) {
    chart(&scene.path("c"));
    std::fs::write(
        scene.path("c/Chart.yaml"),
        "apiVersion: v2\nname: demo\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 0.1.0\n  repository: file://../sub\n",
    )
    .unwrap();
    std::fs::create_dir_all(scene.path("sub")).unwrap();
    std::fs::write(
        scene.path("sub/Chart.yaml"),
        "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
    )
    .unwrap();
}

#[test]
fn dependency_update_writes_through_no_planted_link() {
    let scene = Scene::new();
    chart_with_dependency(&scene);
    plant(
        &scene.path("c"),
        |pid| format!(".Chart.lock.{pid}.partial"),
        &scene.victim(),
    );
    plant(
        &scene.path("c/charts"),
        |pid| format!(".sub-0.1.0.tgz.{pid}.partial"),
        &scene.victim(),
    );
    ok(scene.run(&["dependency", "update", "c"]));
    scene.untouched();
    regular_file(&scene.path("c/Chart.lock"), b"dependencies:");
    regular_file(&scene.path("c/charts/sub-0.1.0.tgz"), GZIP);

    // A charts/ folder that is a link out of the chart receives nothing.
    let other = scene.path("c2");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(scene.path("c/Chart.yaml"), other.join("Chart.yaml")).unwrap();
    symlink(scene.outside_folder(), other.join("charts")).unwrap();
    std::fs::create_dir_all(scene.path("sub2")).unwrap();
    let run = aether(&other, &["dependency", "update", "."]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(
        run.stderr.contains("outside the chart") || run.stderr.contains("symbolic link"),
        "{}",
        run.stderr
    );
    scene.untouched();
}

#[test]
fn pull_writes_through_no_planted_link() {
    let scene = Scene::new();
    chart(&scene.path("c"));
    ok(scene.run(&["package", "c", "-d", "archives"]));
    let archive = std::fs::read(scene.path("archives/demo-0.1.0.tgz")).unwrap();
    let host = serve_chart(archive.clone(), archive.len() as u64, false);
    let reference = format!("oci://{host}/charts/demo");
    let pull = |extra: &[&str]| {
        let mut args = vec!["pull", &reference, "--version", "0.1.0", "--plain-http"];
        args.extend(extra);
        scene.run(&args)
    };

    plant(
        &scene.path("out"),
        |pid| format!(".demo-0.1.0.tgz.{pid}.partial"),
        &scene.victim(),
    );
    ok(pull(&["-d", "out"]));
    scene.untouched();
    regular_file(&scene.path("out/demo-0.1.0.tgz"), GZIP);

    // --untar: a link to a folder at every name the temporary folder could have.
    plant(
        &scene.path("untarred"),
        |pid| format!(".demo.{pid}.partial"),
        &scene.outside_folder(),
    );
    ok(pull(&["-d", "untarred", "--untar"]));
    scene.untouched();
    regular_file(&scene.path("untarred/demo/Chart.yaml"), b"apiVersion: v2");
    let mode = std::fs::metadata(scene.path("untarred/demo"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o755,
        "the unpacked chart is readable as Helm leaves it"
    );

    // A link where the chart folder goes is refused.
    std::fs::create_dir_all(scene.path("dest")).unwrap();
    symlink(scene.outside_folder(), scene.path("dest/demo")).unwrap();
    failed(&pull(&["-d", "dest", "--untar"]), "exists already");
    scene.untouched();
}

#[test]
fn credentials_file_writes_through_no_planted_link() {
    let scene = Scene::new();
    let (host, _) = scripted(|_, _| Answer::Full(200, vec![], b"{}".to_vec()));
    plant(
        &scene.path("cfg"),
        |pid| format!(".config.json.{pid}.partial"),
        &scene.victim(),
    );
    let login = |config: &str| {
        let args: Vec<String> = [
            "registry",
            "login",
            &host,
            "-u",
            "ops",
            "--password-stdin",
            "--plain-http",
            "--registry-config",
            config,
        ]
        .map(String::from)
        .to_vec();
        crate::support::run_program(
            &crate::support::bin(),
            scene.dir.path(),
            &args,
            Some(b"s3cret\n"),
        )
    };
    ok(login("cfg/config.json"));
    scene.untouched();
    regular_file(&scene.path("cfg/config.json"), b"{");
    let mode = std::fs::metadata(scene.path("cfg/config.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "credentials are the owner's alone");

    // A credentials file that is a link (to valid JSON) is read, never written through.
    let kept = scene.path("outside/kept.json");
    std::fs::write(&kept, "{}").unwrap();
    symlink(&kept, scene.path("cfg/linked.json")).unwrap();
    failed(&login("cfg/linked.json"), "is a symbolic link");
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "{}");
    scene.untouched();
}

#[test]
fn chart_files_linked_outside_are_never_read_or_quoted() {
    let scene = Scene::new();
    // Chart.yaml is /etc/passwd: the dependency commands must not print it.
    let c = scene.path("c");
    std::fs::create_dir_all(&c).unwrap();
    symlink("/etc/passwd", c.join("Chart.yaml")).unwrap();
    for command in ["list", "update", "build"] {
        let run = scene.run(&["dependency", command, "c"]);
        failed(&run, "outside the chart");
        assert!(
            !run.stderr.contains("root:"),
            "{command} printed /etc/passwd: {}",
            run.stderr
        );
    }
    for args in [
        &["template", "c"][..],
        &["package", "c"],
        &["show", "chart", "c"],
    ] {
        let run = scene.run(args);
        failed(&run, "outside the chart");
        assert!(!run.stderr.contains("root:"), "{args:?}: {}", run.stderr);
    }

    // A .helmignore linked to a file outside: its lines are never quoted.
    std::fs::write(scene.path("outside/secret"), "SECRET-TOKEN-[\n").unwrap();
    let d = scene.path("d");
    chart(&d);
    symlink(scene.path("outside/secret"), d.join(".helmignore")).unwrap();
    let run = scene.run(&["template", "d"]);
    failed(&run, "outside the chart");
    assert!(!run.stderr.contains("SECRET"), "{}", run.stderr);

    // What .helmignore leaves out is never opened: a link out or a FIFO there is no error.
    let e = scene.path("e");
    chart(&e);
    std::fs::write(e.join(".helmignore"), "passwd\npipe\n").unwrap();
    symlink("/etc/passwd", e.join("passwd")).unwrap();
    let name = std::ffi::CString::new(e.join("pipe").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o644) }, 0);
    ok(scene.run(&["template", "e"]));
}

#[test]
fn special_files_end_in_errors_not_hangs() {
    let scene = Scene::new();
    let limit = Duration::from_secs(20);
    let fifo = |path: &Path| {
        let name = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o644) }, 0);
    };
    let cases: [(&str, &str, &[&str]); 3] = [
        ("lock", "Chart.lock", &["dependency", "build", "."]),
        ("chart", "Chart.yaml", &["dependency", "update", "."]),
        ("ignore", ".helmignore", &["template", "."]),
    ];
    for (folder, special, args) in cases {
        let dir = scene.path(folder);
        chart(&dir);
        if special == "Chart.yaml" {
            std::fs::remove_file(dir.join(special)).unwrap();
        }
        fifo(&dir.join(special));
        let run = aether_within(limit, &dir, args, &[]);
        failed(&run, "is a FIFO");
    }
    // Linked to /dev/zero, which never ends.
    for (folder, special, args) in [
        ("zero-ignore", ".helmignore", &["template", "."][..]),
        ("zero-chart", "Chart.yaml", &["dependency", "update", "."]),
    ] {
        let dir = scene.path(folder);
        chart(&dir);
        let _ = std::fs::remove_file(dir.join(special));
        symlink("/dev/zero", dir.join(special)).unwrap();
        let run = aether_within(limit, &dir, args, &[]);
        failed(&run, "outside the chart");
    }
}

/// A chart archive `sub` 1.0.0 holding 19 files of 5 MiB of zeros (95 MiB expanded, about
/// 100 KB compressed).
fn expanding_archive() -> Vec<u8> {
    let mut bytes = Vec::new();
    let gz = flate2::write::GzEncoder::new(&mut bytes, flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    let mut add = |name: &str, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, name, data).unwrap();
    };
    add(
        "sub/Chart.yaml",
        b"apiVersion: v2\nname: sub\nversion: 1.0.0\n",
    );
    let zeros = vec![0u8; 5 * 1024 * 1024 - 1];
    for i in 0..19 {
        add(&format!("sub/files/{i}.bin"), &zeros);
    }
    tar.into_inner().unwrap().finish().unwrap();
    bytes
}

#[test]
fn the_size_limit_holds_for_all_a_chart_expands_to() {
    let scene = Scene::new();
    let c = scene.path("c");
    chart(&c);
    let archive = expanding_archive();
    std::fs::create_dir_all(c.join("charts")).unwrap();
    for i in 0..36 {
        std::fs::write(c.join(format!("charts/sub{i}.tgz")), &archive).unwrap();
    }
    let total: u64 = std::fs::read_dir(c.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(
        total < 10 << 20,
        "the chart on disk is small: {total} bytes"
    );
    let run = aether_within(Duration::from_secs(60), &c, &["template", "."], &[]);
    failed(&run, "nested archives included");
    // Packaged, the same chart is refused when loaded from the archive too.
    let run = aether_within(Duration::from_secs(60), &c, &["package", "."], &[]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
}

#[test]
fn template_arguments_cannot_ask_for_gigabytes() {
    let scene = Scene::new();
    let c = scene.path("c");
    chart(&c);
    for (template, expect) in [
        (
            r#"{{ "a\nb" | nindent(2000000000) }}"#,
            "nindent would build",
        ),
        (r#"{{ "a\nb" | indent(2000000000) }}"#, "indent would build"),
        (
            r#"{{ "a\nb" | indent(width=2000000000) }}"#,
            "indent would build",
        ),
        (
            r#"{{ "%2000000000s" | format("a") }}"#,
            "format would build",
        ),
        (
            r#"{{ ("x" * 1000) | replace("x", "y" * 1000000) }}"#,
            "replace would build",
        ),
        (
            r#"{{ ("x" * 10000) | replace("", "y" * 100000) }}"#,
            "replace would build",
        ),
        (
            r#"{{ (["a"] * 100000) | join("," * 10000) }}"#,
            "join would build",
        ),
        (
            r#"{{ [1, 2] | slice(2000000000) }}"#,
            "more than the limit of 1000000",
        ),
        (
            r#"{{ [1, 2] | batch(2000000000, 0) }}"#,
            "more than the limit of 1000000",
        ),
        (
            r#"{{ {"a": [1]} | tojson(indent=2000000000) }}"#,
            "an indent of more than",
        ),
    ] {
        std::fs::write(c.join("templates/x.yaml"), format!("{template}\n")).unwrap();
        let run = aether_within(Duration::from_secs(30), &c, &["template", "."], &[]);
        failed(&run, expect);
        assert!(
            run.stderr.contains("templates/x.yaml:1"),
            "{template}: {}",
            run.stderr
        );
    }
    // What no argument check sees (a string doubled forty times) meets the memory ceiling.
    std::fs::write(
        c.join("templates/x.yaml"),
        "{% macro d(x, n) %}{% if n %}{{ d(x ~ x, n - 1) }}{% else %}{{ x | length }}{% endif %}{% endmacro %}a: {{ d(\"ab\" * 1000000, 40) }}\n",
    )
    .unwrap();
    let ceiling = (512u64 << 20).to_string();
    let run = aether_within(
        Duration::from_secs(60),
        &c,
        &["template", "."],
        &[("AETHER_CHART_MEMORY_LIMIT", &ceiling)],
    );
    failed(&run, "needs more memory than aether-chart allows itself");
    assert!(run.stdout.is_empty());
}

#[test]
fn repo_index_and_docs_write_through_no_planted_link() {
    let scene = Scene::new();
    chart(&scene.path("c"));
    ok(scene.run(&["package", "c", "-d", "repo"]));
    plant(
        &scene.path("repo"),
        |pid| format!(".index.yaml.{pid}.partial"),
        &scene.victim(),
    );
    ok(scene.run(&["repo", "index", "repo"]));
    scene.untouched();
    regular_file(&scene.path("repo/index.yaml"), b"apiVersion: v1");

    // `docs` writes into the chart's own docs/ folder, which the chart's author controls
    // (and leaves out of the chart, as links out of a chart are refused when it loads).
    std::fs::write(scene.path("c/values.yaml"), "# A value.\na: x\n").unwrap();
    std::fs::write(scene.path("c/.helmignore"), "docs/\n").unwrap();
    plant(
        &scene.path("c/docs"),
        |pid| format!(".values.md.{pid}.partial"),
        &scene.victim(),
    );
    ok(scene.run(&["docs", "c"]));
    scene.untouched();
    regular_file(&scene.path("c/docs/values.md"), b"");
}
