//! From rendered text to the ordered manifest stream: split into YAML documents, parse and
//! check each one, sort by Helm's install order, and write with `# Source:` headers.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;
use serde::Deserialize;

use super::engine::Rendered;
use super::fastyaml;
use crate::error::{Error, Result};

/// Helm's install order by kind (pkg/release/v1/util/kind_sorter.go); other kinds come after,
/// alphabetically.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The annotation that makes a resource a Helm hook.
const HOOK_ANNOTATION: &str = "helm.sh/hook";

/// One checked Kubernetes document.
#[derive(Debug)]
pub struct Manifest<'a> {
    /// Helm's source name, e.g. `aether/templates/api.yaml`.
    pub source: &'a str,
    /// The document's text.
    pub content: &'a str,
    /// `kind`.
    pub kind: &'a str,
    /// `metadata.name`.
    pub name: &'a str,
    /// `metadata.namespace`, if set.
    pub namespace: Option<&'a str>,
    /// Whether it carries the `helm.sh/hook` annotation.
    pub hook: bool,
}

/// What checking one document found: its text range and head, or the problem.
#[derive(Debug)]
pub struct Checked {
    range: Range<usize>,
    head: std::result::Result<Option<HeadInfo>, Problem>,
}

/// Why a rendered document is not a manifest.
#[derive(Debug, Clone)]
struct Problem {
    message: String,
    /// A character YAML forbids that the document holds, to trace back to a value.
    forbidden: Option<char>,
}

impl From<String> for Problem {
    fn from(message: String) -> Problem {
        Problem {
            message,
            forbidden: None,
        }
    }
}

/// Where a character in the output came from: `values/prod.yaml:3: a = ...`, when some
/// value holds it. `template`, `lint` and `diff` pass one built from the values' provenance.
pub type Tracer<'t> = &'t dyn Fn(char) -> Option<String>;

/// The fields of a document that ordering and checks need.
#[derive(Debug)]
struct HeadInfo {
    kind: String,
    name: String,
    namespace: Option<String>,
    hook: bool,
}

#[derive(Deserialize)]
#[serde(expecting = "a Kubernetes object: a mapping with apiVersion, kind and metadata")]
struct Head {
    #[serde(rename = "apiVersion", default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
#[serde(expecting = "metadata as a mapping")]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, serde::de::IgnoredAny>>,
}

/// A document's text with the line it starts on in the rendered file.
struct Document<'a> {
    rendered: &'a Rendered,
    line: usize,
    range: Range<usize>,
}

impl Document<'_> {
    fn text(&self) -> &str {
        &self.rendered.text[self.range.clone()]
    }
}

/// Splits one rendered file into documents and checks each (in parallel).
pub fn check_file(rendered: &Rendered) -> Vec<Checked> {
    let documents = split(rendered);
    documents
        .par_iter()
        .map(|doc| Checked {
            range: trimmed(doc),
            head: check(doc),
        })
        .collect()
}

/// The document's range without surrounding blank space.
fn trimmed(doc: &Document<'_>) -> Range<usize> {
    let text = doc.text();
    let start = doc.range.start + (text.len() - text.trim_start().len());
    let end = doc.range.start + text.trim_end().len();
    start..end.max(start)
}

/// Gathers the checked documents of every file, reports every problem at once (documents that
/// are not YAML, lack apiVersion, kind or metadata.name, or repeat a kind/namespace/name), and
/// sorts the rest.
pub fn collect<'a>(
    files: &'a [(Rendered, Vec<Checked>)],
    release_namespace: &str,
    trace: Tracer<'_>,
) -> Result<Vec<Manifest<'a>>> {
    let mut manifests = Vec::new();
    let mut problems = Vec::new();
    let mut by_source: Vec<&(Rendered, Vec<Checked>)> = files.iter().collect();
    by_source.sort_by(|a, b| a.0.source.cmp(&b.0.source));
    for (rendered, checked) in by_source {
        for doc in checked {
            match &doc.head {
                Ok(Some(head)) => manifests.push(Manifest {
                    source: &rendered.source,
                    content: &rendered.text[doc.range.clone()],
                    kind: &head.kind,
                    name: &head.name,
                    namespace: head.namespace.as_deref(),
                    hook: head.hook,
                }),
                Ok(None) => {}
                Err(problem) => {
                    let from = problem.forbidden.and_then(trace);
                    problems.push(match from {
                        Some(from) => format!("{}; it comes from {from}", problem.message),
                        None => problem.message.clone(),
                    })
                }
            }
        }
    }
    problems.extend(duplicates(&manifests, release_namespace));
    if !problems.is_empty() {
        return Err(Error::validation(format!(
            "the rendered manifests have {} problem{}:\n{}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems
                .iter()
                .map(|p| format!("  - {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        )));
    }
    sort(&mut manifests);
    Ok(manifests)
}

/// Splits at lines that are a `---` document marker, keeping each document's first line number.
fn split(rendered: &Rendered) -> Vec<Document<'_>> {
    let text = rendered.text.as_str();
    let mut out = Vec::new();
    let (mut start, mut start_line, mut line, mut offset) = (0, 1, 1, 0);
    for raw in text.split_inclusive('\n') {
        let marker = raw
            .strip_prefix("---")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']));
        if marker {
            out.push(Document {
                rendered,
                line: start_line,
                range: start..offset,
            });
            start = offset + 3;
            start_line = line;
        }
        offset += raw.len();
        line += 1;
    }
    out.push(Document {
        rendered,
        line: start_line,
        range: start..text.len(),
    });
    out
}

/// Parses one document's head; `None` for a document with nothing in it.
fn check(doc: &Document<'_>) -> std::result::Result<Option<HeadInfo>, Problem> {
    let text = doc.text();
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(None);
    }
    let at = format!(
        "{} (the document at rendered line {})",
        doc.rendered.file, doc.line
    );
    let head = match fastyaml::scan(text) {
        Some(head) => head,
        None => {
            if let Err(line) = crate::values::file::check_flow_nesting(text) {
                return Err(format!(
                    "`{}`: rendered line {} nests brackets too deeply",
                    doc.rendered.file,
                    line + doc.line - 1
                )
                .into());
            }
            full_parse(text).map_err(|e| match forbidden(doc) {
                Some(problem) => problem,
                None => yaml_problem(doc, &e).into(),
            })?
        }
    };
    let missing = |field: &str| -> Problem {
        format!("`{at}` has no `{field}`; every manifest needs apiVersion, kind and metadata.name")
            .into()
    };
    if head.api_version.as_deref().unwrap_or("").is_empty() {
        return Err(missing("apiVersion"));
    }
    let kind = head
        .kind
        .filter(|k| !k.is_empty())
        .ok_or_else(|| missing("kind"))?;
    let metadata = head.metadata.ok_or_else(|| missing("metadata.name"))?;
    let name = metadata
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing("metadata.name"))?;
    Ok(Some(HeadInfo {
        kind,
        name,
        namespace: metadata.namespace,
        hook: metadata.hook,
    }))
}

/// Reads a document's head with the full YAML parser.
/// The head of a document as serde_yaml reads it: what the fast scan must agree with.
pub(crate) fn full_parse(text: &str) -> std::result::Result<fastyaml::Head, serde_yaml::Error> {
    let head: Head = serde_yaml::from_str(text)?;
    Ok(fastyaml::Head {
        api_version: head.api_version,
        kind: head.kind,
        metadata: head.metadata.map(|m| fastyaml::Metadata {
            name: m.name,
            namespace: m.namespace,
            hook: m
                .annotations
                .is_some_and(|a| a.contains_key(HOOK_ANNOTATION)),
        }),
    })
}

/// The first character of the document that YAML forbids anywhere (C0 and C1 controls but
/// tab, line feed, carriage return and NEL; DEL; U+FFFE; U+FFFF), as a problem naming its line.
fn forbidden(doc: &Document<'_>) -> Option<Problem> {
    let text = doc.text();
    let (at, c) = text.char_indices().find(|&(_, c)| {
        matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
    })?;
    let line = doc.line + text[..at].matches('\n').count();
    Some(Problem {
        message: format!(
            "`{}`: line {line} of the rendered output holds U+{:04X}, a character YAML forbids \
             (kubectl would refuse the manifest); print the value through `quote` or `toyaml`, \
             which escape it, or remove it",
            doc.rendered.file, c as u32
        ),
        forbidden: Some(c),
    })
}

/// Describes a YAML error in rendered output, with the offending line.
fn yaml_problem(doc: &Document<'_>, err: &serde_yaml::Error) -> String {
    let text = err.to_string();
    let problem = text.split(" at line ").next().unwrap_or(&text);
    let problem = crate::error::shorten(problem, crate::values::file::MAX_QUOTED);
    let (line, column) = err
        .location()
        .map_or((doc.line, 0), |l| (l.line() + doc.line - 1, l.column()));
    let shown = doc
        .rendered
        .text
        .lines()
        .nth(line.saturating_sub(1))
        .unwrap_or("")
        .trim_end();
    let shown = crate::error::shorten(shown, crate::values::file::MAX_QUOTED);
    format!(
        "`{}`: line {line}, column {column} of the rendered output is not valid YAML: {problem}; \
         check the template's indentation and quoting\n      {line} | {shown}",
        doc.rendered.file
    )
}

fn duplicates(manifests: &[Manifest<'_>], release_namespace: &str) -> Vec<String> {
    let mut seen: HashMap<(&str, &str, &str), &str> = HashMap::new();
    let mut problems = Vec::new();
    for m in manifests {
        let namespace = m.namespace.unwrap_or(release_namespace);
        if let Some(first) = seen.insert((m.kind, namespace, m.name), m.source) {
            problems.push(format!(
                "{} `{}` in namespace `{namespace}` is rendered twice (by `{first}` and `{}`); give one a different name",
                m.kind, m.name, m.source
            ));
        }
    }
    problems
}

/// Sorts by hook-ness, Helm's kind order, then source path; the split order breaks ties.
fn sort(manifests: &mut Vec<Manifest<'_>>) {
    let rank = |kind: &str| {
        INSTALL_ORDER
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(INSTALL_ORDER.len())
    };
    // Rank each manifest once; the stable sort keeps source order (already by path) and the
    // order within each file.
    let mut keyed: Vec<(bool, usize, &str, usize)> = manifests
        .iter()
        .enumerate()
        .map(|(i, m)| (m.hook, rank(m.kind), m.kind, i))
        .collect();
    keyed.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let mut slots: Vec<Option<Manifest<'_>>> = manifests.drain(..).map(Some).collect();
    manifests.extend(keyed.into_iter().filter_map(|(_, _, _, i)| slots[i].take()));
}

/// Writes the manifests as one stream, each with `---` and a `# Source:` header.
pub fn write_stream(manifests: &[&Manifest<'_>], out: &mut dyn Write) -> std::io::Result<()> {
    for m in manifests {
        write_one(m, out)?;
    }
    Ok(())
}

fn write_one(m: &Manifest<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(b"---\n# Source: ")?;
    out.write_all(m.source.as_bytes())?;
    out.write_all(b"\n")?;
    out.write_all(m.content.as_bytes())?;
    out.write_all(b"\n")
}

/// Writes `<dir>/<source>` for every source file, each file whole or not at all.
pub fn write_dir(manifests: &[&Manifest<'_>], dir: &Path) -> Result<()> {
    let mut files: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    for m in manifests {
        let buffer = files.entry(m.source).or_default();
        write_one(m, buffer).map_err(|e| Error::input(format!("cannot buffer output: {e}")))?;
    }
    for (source, bytes) in files {
        let (folder, name) = source.rsplit_once('/').unwrap_or(("", source));
        if name.is_empty() || name == ".." || name == "." {
            return Err(Error::input(format!(
                "refusing to write `{source}`: not a plain relative path"
            )));
        }
        let folder = crate::fs::create_dirs(dir, folder)?;
        crate::fs::write_file(&folder, name, &bytes, crate::fs::SHARED)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{fastyaml, full_parse};

    /// Documents like those charts render, as seeds for mutation.
    const SEEDS: &[&str] = &[
        "\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: prod\n  labels:\n    app: api\n  annotations:\n    helm.sh/hook: pre-install\n    note: \"a # b\"\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: api\n          image: \"nginx:1.25\"\n          args: [\"--port\", \"80\", {a: b}]\n          env:\n          - name: A\n            value: 'it''s'\n      script: |-\n        echo hi\n\n        exit 0\n      empty: {}\n",
        "\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg # trailing comment\ndata:\n  config.yaml: |\n    a: 1\n    b: [x, y]\n  folded: >\n    one\n    two\n  list:\n  - - nested\n    - items\n  - key: value\n    other: \"\\u00e9\\n\"\n",
        "\n# comment first\napiVersion: v1\nkind: Service\nmetadata: {}\nspec:\n  ports: [{port: 80, name: http}]\n  selector: {app: web, tier: \"front end\"}\n",
    ];

    /// A deterministic pseudo-random sequence (no dependency needed for this).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, bound: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % bound.max(1)
        }
    }

    /// Whenever the fast scanner accepts a document, the full parser must accept it too and
    /// read the same head. Checked on the seeds and on many random mutations of them.
    #[test]
    fn fast_scan_agrees_with_the_full_parser() {
        const PIECES: &[&str] = &[
            " ",
            "  ",
            "-",
            "- ",
            ":",
            ": ",
            "#",
            " #",
            "\"",
            "'",
            "[",
            "]",
            "{",
            "}",
            ",",
            "|",
            ">",
            "&a ",
            "*a",
            "!",
            "?",
            "\n",
            "\n  ",
            "\t",
            "---",
            "kind: X\n",
            "y",
            "1",
            "null",
            "\\",
            "%",
            "@",
            "`",
            // What YAML 1.1 reads as line breaks, and what YAML forbids.
            "\u{2028}",
            "\u{2029}",
            "\u{85}",
            "\0",
            "\u{1b}",
            "\u{7f}",
            "\u{ffff}",
            "\u{feff}",
            "\r",
            "\\u+00e",
        ];
        let mut rng = Lcg(42);
        let (mut accepted, mut total) = (0, 0);
        for seed in SEEDS {
            assert_eq!(
                fastyaml::scan(seed),
                Some(full_parse(seed).unwrap()),
                "seed should take the fast path: {seed}"
            );
            for _ in 0..5000 {
                let mut doc = seed.to_string();
                for _ in 0..1 + rng.next(6) {
                    let mut at = rng.next(doc.len());
                    while !doc.is_char_boundary(at) {
                        at -= 1;
                    }
                    match rng.next(3) {
                        0 => doc.insert_str(at, PIECES[rng.next(PIECES.len())]),
                        1 => {
                            let end = (at + 1 + rng.next(4)).min(doc.len());
                            if doc.is_char_boundary(end) {
                                doc.replace_range(at..end, "");
                            }
                        }
                        _ => {
                            let end = (at + 1).min(doc.len());
                            if doc.is_char_boundary(end) {
                                doc.replace_range(at..end, PIECES[rng.next(PIECES.len())]);
                            }
                        }
                    }
                }
                total += 1;
                if let Some(fast) = fastyaml::scan(&doc) {
                    accepted += 1;
                    match full_parse(&doc) {
                        Ok(full) => assert_eq!(fast, full, "heads differ for {doc:?}"),
                        Err(e) => panic!(
                            "the fast scan accepted a document the parser rejects ({e}): {doc:?}"
                        ),
                    }
                }
            }
        }
        assert!(
            accepted > total / 10,
            "the mutations should often stay in the subset ({accepted} of {total})"
        );
    }
}
