//! Entry points for the fuzz targets under `fuzz/` and for replaying their corpora in the test
//! suite (`tests/it/fuzz_corpus.rs`). Each takes arbitrary bytes, runs one parser a hostile
//! chart, values file, flag or server reaches, and panics only when an invariant breaks: a
//! panic inside the parser itself, or a fast reader that disagrees with serde_yaml.
//!
//! Not a stable interface: it exists for the fuzzers.

use crate::chart::provenance::{self as prov, Keyring};
use crate::chart::{Limits, ignore::Rules, loader};
use crate::oci::Reference;
use crate::validate::quantity::Quantity;
use crate::values::strvals::{SetKind, parse_into};
use crate::values::{Map, Value};
use crate::version::Constraint;
use crate::yaml::block;

/// A fuzz target: arbitrary bytes in, a panic only when an invariant breaks.
pub type Target = fn(&[u8]);

/// The fuzz targets by name (the files under `fuzz/fuzz_targets/`), for the corpus replay.
pub const TARGETS: &[(&str, Target)] = &[
    ("set_flags", set_flags),
    ("values_file", values_file),
    ("block_yaml", block_yaml),
    ("chart_archive", chart_archive),
    ("helmignore", helmignore),
    ("version_constraint", version_constraint),
    ("quantity", quantity),
    ("oci_reference", oci_reference),
    ("provenance", provenance),
];

/// Splits `data` at its first line break: two texts for targets that take two inputs.
fn two(data: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(data);
    match text.split_once('\n') {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (text.into_owned(), String::new()),
    }
}

/// `--set` and its flavours: the first byte picks one, the rest is the expression (applied
/// twice, as repeated flags are, so merging into existing values is exercised too).
pub fn set_flags(data: &[u8]) {
    let Some((&flavour, rest)) = data.split_first() else {
        return;
    };
    let kind = match flavour % 5 {
        0 => SetKind::Typed,
        1 => SetKind::String,
        2 => SetKind::Json,
        3 => SetKind::Literal,
        _ => SetKind::File,
    };
    let expr = String::from_utf8_lossy(rest);
    let reader = |path: &str| -> Result<Value, String> { Ok(Value::String(path.to_string())) };
    let mut values = Map::new();
    for _ in 0..2 {
        if parse_into(&expr, &mut values, kind, &reader).is_err() {
            return;
        }
    }
}

/// A values file (YAML 1.2 with the flow-nesting guard): whenever the fast reader reads it,
/// serde_yaml must read the same values.
pub fn values_file(data: &[u8]) {
    let _ = crate::values::file::parse_values(data, "fuzz.yaml");
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(fast) = crate::values::file::read_fast(text)
    {
        match crate::values::file::read_full(text, "fuzz.yaml") {
            Ok(full) => assert_eq!(fast, full, "the values differ for {text:?}"),
            Err(e) => panic!("the fast reader accepted what serde_yaml refuses ({e}): {text:?}"),
        }
    }
}

/// The fast block-YAML reader every rendered document goes through first: whenever it reads
/// a document, the full reader (serde_yaml's judgement, Kubernetes clients' typing) must read
/// the same value (and so the same head).
pub fn block_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let arena = bumpalo::Bump::new();
    let fast = block::parse(text, &arena);
    let full = crate::yaml::full::read(text);
    if let Some(value) = fast {
        match full {
            Ok(full) => assert_eq!(value.to_json(), full, "the values differ for {text:?}"),
            Err(e) => {
                panic!("the block reader accepted what the full reader refuses ({e:?}): {text:?}")
            }
        }
    }
}

/// A chart archive under small limits: listed, and loaded as a chart.
pub fn chart_archive(data: &[u8]) {
    let limits = Limits {
        total: 256 * 1024,
        per_file: 64 * 1024,
    };
    let _ = loader::archive_files(data, "fuzz.tgz:", limits);
    let _ = loader::load_archive(data, "fuzz.tgz:", limits);
}

/// `.helmignore` rules (first line: the path to test; the rest: the rules).
pub fn helmignore(data: &[u8]) {
    let (path, rules) = two(data);
    if let Ok(rules) = Rules::parse(&rules) {
        rules.ignored(&path, false);
        rules.ignored(&path, true);
    }
}

/// A version constraint (first line) against a version (second line).
pub fn version_constraint(data: &[u8]) {
    let (constraint, version) = two(data);
    if let Ok(constraint) = Constraint::parse(&constraint) {
        if let Ok(version) = semver::Version::parse(version.trim()) {
            constraint.matches(&version);
        }
        if let Ok(version) = crate::version::parse_lenient(version.trim()) {
            constraint.matches(&version);
        }
    }
}

/// A Kubernetes resource quantity.
pub fn quantity(data: &[u8]) {
    if let Some(q) = Quantity::parse(&String::from_utf8_lossy(data)) {
        assert!(q.value().is_finite(), "a quantity must be a finite number");
    }
}

/// An `oci://` reference: whatever parses prints as a reference that parses the same.
pub fn oci_reference(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(reference) = Reference::parse(&text, "fuzz") {
        let mut again = format!("oci://{}", reference.display());
        if let Some(digest) = &reference.digest {
            again.push('@');
            again.push_str(digest);
        }
        let reparsed = Reference::parse(&again, "fuzz")
            .unwrap_or_else(|e| panic!("{text:?} printed as {again:?}, which fails: {e}"));
        assert_eq!(reparsed, reference, "{text:?} printed as {again:?}");
    }
}

/// Helm's test key, the keyring the provenance target verifies against.
const HELM_TEST_KEY: &[u8] = include_bytes!("../tests/fixtures/provenance/helm-test-key.pub");

/// A keyring file and a provenance file from a hostile server or chart: both read without a
/// panic, and a provenance file verifies only for the archive whose digest it signs.
pub fn provenance(data: &[u8]) {
    let _ = Keyring::parse(data.to_vec(), "fuzz");
    let ring =
        Keyring::parse(HELM_TEST_KEY.to_vec(), "helm-test-key.pub").expect("Helm's test key reads");
    if let Ok(verified) = prov::verify(&ring, data, "fuzz.prov", "hashtest-1.2.3.tgz", b"") {
        panic!("a provenance file verified for an empty archive: {verified:?}");
    }
}
