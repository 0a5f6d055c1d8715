//! From rendered text to the ordered manifest stream: split into YAML documents, parse and
//! check each one, sort by Helm's install order, and write with `# Source:` headers.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;
use serde::Deserialize;

use super::engine::Rendered;
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
    head: std::result::Result<Option<HeadInfo>, String>,
}

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
) -> Result<Vec<Manifest<'a>>> {
    let mut manifests = Vec::new();
    let mut problems = Vec::new();
    for (rendered, checked) in files {
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
                Err(problem) => problems.push(problem.clone()),
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
fn check(doc: &Document<'_>) -> std::result::Result<Option<HeadInfo>, String> {
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
    if let Err(line) = crate::values::file::check_flow_nesting(text) {
        return Err(format!(
            "`{}`: rendered line {} nests brackets too deeply",
            doc.rendered.file,
            line + doc.line - 1
        ));
    }
    let head: Head = serde_yaml::from_str(text).map_err(|e| yaml_problem(doc, &e))?;
    let missing = |field: &str| {
        format!("`{at}` has no `{field}`; every manifest needs apiVersion, kind and metadata.name")
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
    let hook = metadata
        .annotations
        .is_some_and(|a| a.contains_key(HOOK_ANNOTATION));
    Ok(Some(HeadInfo {
        kind,
        name,
        namespace: metadata.namespace,
        hook,
    }))
}

/// Describes a YAML error in rendered output, with the offending line.
fn yaml_problem(doc: &Document<'_>, err: &serde_yaml::Error) -> String {
    let text = err.to_string();
    let problem = text.split(" at line ").next().unwrap_or(&text);
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
fn sort(manifests: &mut [Manifest<'_>]) {
    let rank = |kind: &str| {
        INSTALL_ORDER
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(INSTALL_ORDER.len())
    };
    manifests.sort_by(|a, b| {
        a.hook
            .cmp(&b.hook)
            .then_with(|| rank(a.kind).cmp(&rank(b.kind)))
            .then_with(|| a.kind.cmp(b.kind))
            .then_with(|| a.source.cmp(b.source))
    });
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
        if source
            .split('/')
            .any(|part| part == ".." || part.is_empty())
        {
            return Err(Error::input(format!(
                "refusing to write `{source}`: not a plain relative path"
            )));
        }
        let path = dir.join(source);
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io("create the directory", parent, e))?;
        let temporary = parent.join(format!(
            ".{}.aether-chart-{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
            std::process::id()
        ));
        std::fs::write(&temporary, &bytes)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&temporary);
                Error::io("write", &path, e)
            })?;
    }
    Ok(())
}
