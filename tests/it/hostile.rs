//! Hostile and broken inputs generated on the fly: bad bytes, bombs, malicious archives.
//! Each must end in a clear error (exit 1 or 2), never a panic, and write nothing.

use std::io::Write;

use crate::support::{aether, bin, demo_chart as chart, run_program};

fn assert_clean_error(run: &crate::support::Run, needle: &str) {
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stdout.is_empty(), "{}", run.snapshot());
    assert!(
        run.stderr.contains(needle),
        "expected `{needle}` in: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn invalid_utf8_values_file() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    std::fs::write(dir.path().join("bad.yaml"), b"a: ok\nb: \xff\xfe\n").unwrap();
    let run = aether(dir.path(), &["template", "-f", "bad.yaml"]);
    assert_clean_error(&run, "`bad.yaml:2:4` is not valid UTF-8");
}

#[test]
fn deeply_nested_yaml() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    let deep = format!("a: {}\n", "[".repeat(100_000));
    std::fs::write(dir.path().join("deep.yaml"), deep).unwrap();
    let run = aether(dir.path(), &["template", "-f", "deep.yaml"]);
    assert_clean_error(&run, "deep.yaml");
}

#[test]
fn alias_bomb_yaml() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    std::fs::write(dir.path().join("bomb.yaml"), bomb).unwrap();
    let run = aether(dir.path(), &["template", "-f", "bomb.yaml"]);
    assert_clean_error(&run, "bomb.yaml");
}

#[test]
fn deeply_nested_set_indexes() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    let expr = format!("a{}=1", "[0]".repeat(200));
    let run = aether(dir.path(), &["template", "--set", &expr]);
    assert_clean_error(&run, "maximum supported nested level");
}

#[test]
fn values_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    let args = ["template", "-f", "-"].map(String::from);
    let run = run_program(&bin(), dir.path(), &args, Some(b"a: from-stdin\n"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("a: \"from-stdin\""), "{}", run.stdout);
}

#[test]
fn output_dir_writes_each_template_file() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    let run = aether(dir.path(), &["template", "--output-dir", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let written = std::fs::read_to_string(dir.path().join("out/demo/templates/cm.yaml")).unwrap();
    assert!(
        written.starts_with("---\n# Source: demo/templates/cm.yaml\napiVersion: v1\n"),
        "{written}"
    );
}

#[test]
fn output_dir_untouched_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    std::fs::write(
        dir.path().join("templates/broken.yaml"),
        "{{ values.nope.deeper }}\n",
    )
    .unwrap();
    let run = aether(dir.path(), &["template", "--output-dir", "out"]);
    assert_clean_error(&run, "templates/broken.yaml:1");
    assert!(
        !dir.path().join("out").exists(),
        "nothing may be written when rendering fails"
    );
}

/// One archive entry: raw name bytes, type, link target and data.
struct Entry<'a> {
    name: &'a [u8],
    kind: tar::EntryType,
    link: &'a [u8],
    data: &'a [u8],
}

fn entry<'a>(name: &'a str, data: &'a [u8]) -> Entry<'a> {
    Entry {
        name: name.as_bytes(),
        kind: tar::EntryType::Regular,
        link: b"",
        data,
    }
}

/// Builds a .tgz byte by byte, so that names the tar crate would refuse can be written.
fn archive(entries: &[Entry<'_>]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    for e in entries {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..e.name.len()].copy_from_slice(e.name);
        header.as_old_mut().linkname[..e.link.len()].copy_from_slice(e.link);
        header.set_entry_type(e.kind);
        header.set_size(e.data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, e.data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

const CHART_YAML: &[u8] = b"apiVersion: v2\nname: demo\nversion: 0.1.0\n";
const CM: &[u8] = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n";

fn render_archive(bytes: &[u8]) -> crate::support::Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::File::create(dir.path().join("demo.tgz"))
        .unwrap()
        .write_all(bytes)
        .unwrap();
    let run = aether(dir.path(), &["template", "demo.tgz", "--output-dir", "out"]);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    if run.code != 0 {
        assert_eq!(
            leftovers.len(),
            1,
            "a failed render must write nothing: {leftovers:?}"
        );
    }
    run
}

#[test]
fn archive_renders() {
    let run = render_archive(&archive(&[
        entry("demo/Chart.yaml", CHART_YAML),
        entry("demo/templates/cm.yaml", CM),
    ]));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn archive_with_parent_path() {
    let run = render_archive(&archive(&[
        entry("demo/Chart.yaml", CHART_YAML),
        entry("demo/../../evil.yaml", CM),
    ]));
    assert_clean_error(&run, "reaches outside the chart folder");
}

#[test]
fn archive_with_absolute_path() {
    let run = render_archive(&archive(&[
        entry("demo/Chart.yaml", CHART_YAML),
        entry("/etc/cron.d/evil", CM),
    ]));
    assert_clean_error(&run, "absolute path");
}

#[test]
fn archive_with_symlink() {
    let link = Entry {
        name: b"demo/templates/link.yaml",
        kind: tar::EntryType::Symlink,
        link: b"/etc/passwd",
        data: b"",
    };
    let run = render_archive(&archive(&[entry("demo/Chart.yaml", CHART_YAML), link]));
    assert_clean_error(&run, "symbolic link");
}

#[test]
fn archive_with_hard_link() {
    let link = Entry {
        name: b"demo/templates/link.yaml",
        kind: tar::EntryType::Link,
        link: b"demo/Chart.yaml",
        data: b"",
    };
    let run = render_archive(&archive(&[entry("demo/Chart.yaml", CHART_YAML), link]));
    assert_clean_error(&run, "hard link");
}

#[test]
fn archive_file_over_the_per_file_limit() {
    let big = vec![0u8; 6 * 1024 * 1024];
    let run = render_archive(&archive(&[
        entry("demo/Chart.yaml", CHART_YAML),
        entry("demo/big.bin", &big),
    ]));
    assert_clean_error(&run, "limit");
}

#[test]
fn gzip_bomb_over_the_total_limit() {
    let chunk = vec![0u8; 4 * 1024 * 1024];
    let names: Vec<String> = (0..30).map(|i| format!("demo/blob{i}.bin")).collect();
    let mut entries = vec![entry("demo/Chart.yaml", CHART_YAML)];
    entries.extend(names.iter().map(|n| entry(n, &chunk)));
    let bytes = archive(&entries);
    assert!(
        bytes.len() < 2 * 1024 * 1024,
        "the bomb should compress well"
    );
    let run = render_archive(&bytes);
    assert_clean_error(&run, "limit");
}

#[test]
fn not_an_archive() {
    let run = render_archive(b"apiVersion: v2\n");
    assert_clean_error(&run, "not a gzipped chart archive");
}

/// A rendered U+2029 ends a comment for kubectl (YAML 1.1 line breaks); the validator must
/// see the key that follows it, as the cluster will, not hide it from the duplicate check.
#[test]
fn a_rendered_line_separator_hides_nothing_from_the_checks() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    std::fs::write(
        dir.path().join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x # {{ values.c }}\n",
    )
    .unwrap();
    let run = aether(
        dir.path(),
        &[
            "template",
            "--set-string",
            "c=note\u{2029}  namespace: evil",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(run.stdout.contains("namespace: evil"), "{}", run.stdout);
    // The same without the separator is a real duplicate.
    let run = aether(dir.path(), &["template", "--set-string", "c=note"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(run.stderr.contains("x"), "{}", run.stderr);
}

/// Characters YAML forbids, rendered from a value, are refused with the template named.
#[test]
fn forbidden_characters_in_output_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    std::fs::write(
        dir.path().join("templates/raw.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\ndata:\n  b: {{ values.a }}\n",
    )
    .unwrap();
    // Escaped in the values file, so the file itself is valid YAML.
    for value in [r"a\0b", r"a\uffff", r"a\e[31m"] {
        std::fs::write(dir.path().join("v.yaml"), format!("a: \"{value}\"\n")).unwrap();
        let run = aether(dir.path(), &["template", "-f", "v.yaml"]);
        assert_eq!(run.code, 1, "{value:?}: {}", run.snapshot());
        assert!(run.stderr.contains("templates/raw.yaml"), "{}", run.stderr);
        assert!(
            run.stderr.contains("a character YAML forbids"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("it comes from v.yaml:1: a = "),
            "{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("templates/cm.yaml"),
            "quote escapes: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
}

/// A version part at u64::MAX has no successor; it once wrapped to 0 and matched everything.
#[test]
fn kube_version_constraints_at_the_integer_limit() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    for (constraint, expect) in [
        (">18446744073709551615", "has a part too large"),
        ("0.18446744073709551615", "has a part too large"),
        (">18446744073709551614", "does not satisfy"),
    ] {
        std::fs::write(
            dir.path().join("Chart.yaml"),
            format!("apiVersion: v2\nname: demo\nversion: 0.1.0\nkubeVersion: \"{constraint}\"\n"),
        )
        .unwrap();
        let run = aether(dir.path(), &["template"]);
        assert_eq!(run.code, 2, "{constraint}: {}", run.snapshot());
        assert!(run.stderr.contains(expect), "{constraint}: {}", run.stderr);
    }
}
