//! From rendered text to the ordered manifest stream: split each rendered file into YAML
//! documents and parse each document exactly once as soon as its file is rendered, while other
//! templates still render (into the tree every later step reads: head, checks, order,
//! validation, diff), sort by Helm's install order, and write with `# Source:` headers.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::ops::Range;
use std::path::Path;

use bumpalo::Bump;
use rayon::prelude::*;

use super::engine::Rendered;
use crate::error::{Error, Result};
use crate::validate::doc::At;
use crate::yaml::block;
use crate::yaml::full::{self, Unreadable};
use crate::yaml::tree::Value;

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

/// One Kubernetes document of the render, parsed once: its text, its head and its tree.
#[derive(Debug)]
pub struct Manifest<'a> {
    /// Helm's source name, e.g. `aether/templates/api.yaml`.
    pub source: &'a str,
    /// Where the template file is, for messages (e.g. `templates/api.yaml`).
    pub file: &'a str,
    /// The document's text.
    pub content: &'a str,
    /// `apiVersion`.
    pub api_version: &'a str,
    /// `kind`.
    pub kind: &'a str,
    /// `metadata.name`.
    pub name: &'a str,
    /// `metadata.namespace`, if set.
    pub namespace: Option<&'a str>,
    /// Whether it carries the `helm.sh/hook` annotation.
    pub hook: bool,
    /// The whole object; strings borrow the rendered text, collections the arenas.
    pub json: Value<'a>,
}

/// Where one document of a rendered file is: found while rendering, parsed afterwards.
#[derive(Debug, Clone)]
pub struct Span {
    /// The document's text without surrounding blank space.
    range: Range<usize>,
    /// The line of the rendered file the document starts on.
    line: usize,
    /// The template it came from when not the rendered file's (a `# Source:` comment of a
    /// manifest stream).
    source: Option<String>,
}

impl Span {
    /// The document's text in the file it was split from.
    pub fn text<'r>(&self, rendered: &'r Rendered) -> &'r str {
        &rendered.text[self.range.clone()]
    }

    /// The name the document goes by when not its file's (its `# Source:` or `FILE:LINE`).
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }
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

/// Where a render's files and parsed documents live, owned by whoever reads the manifests:
/// each rendered file is kept here as soon as it is done, so that its documents can be parsed
/// while other templates still render, and each batch of documents gets an arena of its own
/// on whichever core parses it.
#[derive(Default)]
#[expect(
    clippy::vec_box,
    reason = "each file and arena stays where it is while its list grows: references into it are out"
)]
pub struct Arenas {
    files: std::sync::Mutex<Vec<Box<RenderedFile>>>,
    arenas: std::sync::Mutex<Vec<Box<Bump>>>,
}

/// A rendered file and where its documents are.
type RenderedFile = (Rendered, Vec<Span>);

impl Arenas {
    /// Keeps a rendered file and its document spans for as long as the store lives.
    pub fn keep(&self, file: RenderedFile) -> &RenderedFile {
        hold(&self.files, file)
    }

    /// A fresh arena for the calling thread alone: it is handed out this once, so no other
    /// reference to it exists, and a `&Bump` cannot leave the thread.
    fn arena(&self) -> &Bump {
        hold(&self.arenas, Bump::new())
    }
}

/// Moves `value` into `list` for as long as the list lives, and lends it out for that long.
fn hold<T>(list: &std::sync::Mutex<Vec<Box<T>>>, value: T) -> &T {
    let held = Box::new(value);
    let at: *const T = &*held;
    list.lock().unwrap_or_else(|e| e.into_inner()).push(held);
    // SAFETY: the box belongs to the list until the list is dropped, which the borrow of
    // `list` this reference carries rules out; moving the box into the list moves none of its
    // contents, and nothing changes or removes what the list holds.
    unsafe { &*at }
}

/// How many documents share an arena: enough to make its chunks large, few enough to spread
/// the parsing over every core.
const DOCS_PER_ARENA: usize = 128;

/// A document's text with the line it starts on in the rendered file.
struct Document<'a> {
    rendered: &'a Rendered,
    /// The template it came from.
    source: &'a str,
    line: usize,
    range: Range<usize>,
}

impl<'a> Document<'a> {
    fn text(&self) -> &'a str {
        &self.rendered.text[self.range.clone()]
    }
}

/// Splits one rendered file into its documents (while rendering; nothing is parsed yet).
pub fn split_file(rendered: &Rendered) -> Vec<Span> {
    split(rendered)
        .iter()
        .filter(|doc| {
            !doc.text()
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        })
        .map(|doc| Span {
            range: trimmed(doc),
            line: doc.line,
            source: None,
        })
        .collect()
}

/// Splits a manifest stream (`helm template`'s output, a GitOps file) into its documents, each
/// named by its `# Source:` comment when it has one, else by `FILE:LINE`.
pub fn split_stream(rendered: &Rendered) -> Vec<Span> {
    let mut spans = split_file(rendered);
    // The line each document's first character is on, counted once through the text.
    let (mut counted, mut line) = (0, 1);
    for span in &mut spans {
        line += memchr::memchr_iter(b'\n', &rendered.text.as_bytes()[counted..span.range.start])
            .count();
        counted = span.range.start;
        let text = &rendered.text[span.range.clone()];
        let named = text
            .lines()
            .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            .find_map(|l| l.trim().strip_prefix("# Source:"))
            .map(str::trim)
            .filter(|s| !s.is_empty());
        span.source = Some(match named {
            Some(source) => source.to_string(),
            None => format!("{}:{line}", rendered.source),
        });
    }
    spans
}

/// The document's range without surrounding blank space.
fn trimmed(doc: &Document<'_>) -> Range<usize> {
    let text = doc.text();
    let start = doc.range.start + (text.len() - text.trim_start().len());
    let end = doc.range.start + text.trim_end().len();
    start..end.max(start)
}

/// The documents of a render, parsed: the manifests in install order, and what kept the
/// others from being manifests.
pub struct Parsed<'a> {
    /// The manifests, sorted into install order.
    pub manifests: Vec<Manifest<'a>>,
    /// Documents that are not YAML or lack apiVersion, kind or metadata.name, one message each.
    pub problems: Vec<String>,
    /// Objects rendered more than once (same kind, namespace and name), one message each.
    pub duplicates: Vec<String>,
}

/// The manifests of `parsed`, or one error listing every document that is not one and every
/// duplicate.
pub fn checked(parsed: Parsed<'_>) -> Result<Vec<Manifest<'_>>> {
    let Parsed {
        manifests,
        mut problems,
        duplicates,
    } = parsed;
    problems.extend(duplicates);
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
    Ok(manifests)
}

/// Parses every document of every file, once and in parallel, into `arenas`; every problem
/// (documents that are not YAML, lack apiVersion, kind or metadata.name, or repeat a
/// kind/namespace/name) is returned beside the manifests, which are in install order.
pub fn parse_all<'a>(
    files: &'a [(Rendered, Vec<Span>)],
    arenas: &'a Arenas,
    release_namespace: &str,
    trace: Tracer<'_>,
) -> Parsed<'a> {
    let parsed: Vec<ParsedFile<'a>> = files
        .par_iter()
        .map(|file| parse_file(file, arenas))
        .collect();
    assemble(parsed, release_namespace, trace)
}

/// One file's documents, parsed: the manifests, and why the others are none.
pub struct ParsedFile<'a> {
    /// The file's template, by which files are ordered.
    source: &'a str,
    manifests: Vec<Manifest<'a>>,
    problems: Vec<Problem>,
}

/// Parses the documents of one rendered file (its spans), in batches that share an arena and
/// that idle cores take up.
pub fn parse_file<'a>(file: &'a (Rendered, Vec<Span>), arenas: &'a Arenas) -> ParsedFile<'a> {
    let (rendered, spans) = file;
    let documents: Vec<Document<'a>> = spans
        .iter()
        .map(|span| Document {
            rendered,
            source: span.source.as_deref().unwrap_or(&rendered.source),
            line: span.line,
            range: span.range.clone(),
        })
        .collect();
    let (manifests, problems) = documents
        .par_chunks(DOCS_PER_ARENA)
        .flat_map_iter(|chunk| {
            let arena = arenas.arena();
            chunk.iter().map(move |doc| parse_document(doc, arena))
        })
        .partition_map(|parsed| match parsed {
            Ok(manifest) => rayon::iter::Either::Left(manifest),
            Err(problem) => rayon::iter::Either::Right(problem),
        });
    ParsedFile {
        source: &rendered.source,
        manifests,
        problems,
    }
}

impl ParsedFile<'_> {
    /// The kinds of the file's manifests, each once, as lower-case `apiversion/kind` (the key
    /// of its schema).
    pub fn kinds(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.manifests
            .iter()
            .map(|m| (m.api_version, m.kind))
            .filter(|&pair| seen.insert(pair))
            .map(|(api_version, kind)| format!("{api_version}/{kind}").to_lowercase())
            .collect()
    }
}

/// The parsed files of a render as one stream: files by template path, the manifests in
/// install order, the problems (traced to the values where a character YAML forbids came
/// from) and the duplicates beside them.
pub fn assemble<'a>(
    mut files: Vec<ParsedFile<'a>>,
    release_namespace: &str,
    trace: Tracer<'_>,
) -> Parsed<'a> {
    files.sort_by(|a, b| a.source.cmp(b.source));
    // One list of exactly the right size; each file's list is freed once its manifests moved.
    let total = files.iter().map(|f| f.manifests.len()).sum::<usize>();
    let mut manifests = Vec::with_capacity(total);
    let mut problems = Vec::new();
    for mut file in files {
        manifests.append(&mut file.manifests);
        problems.extend(file.problems.into_iter().map(|problem| {
            match problem.forbidden.and_then(trace) {
                Some(from) => format!("{}; it comes from {from}", problem.message),
                None => problem.message,
            }
        }));
    }
    let duplicates = duplicates(&manifests, release_namespace);
    sort(&mut manifests);
    Parsed {
        manifests,
        problems,
        duplicates,
    }
}

/// Splits at lines that are a `---` document marker, keeping each document's first line number.
fn split(rendered: &Rendered) -> Vec<Document<'_>> {
    let text = rendered.text.as_str();
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut start_line) = (0, 1);
    // Each line start: the text's, then every one after a line break.
    let mut line = 0;
    for at in std::iter::once(0).chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1)) {
        line += 1;
        let marker = bytes[at..].starts_with(b"---")
            && bytes
                .get(at + 3)
                .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        if marker {
            out.push(Document {
                rendered,
                source: &rendered.source,
                line: start_line,
                range: start..at,
            });
            start = at + 3;
            start_line = line;
        }
    }
    out.push(Document {
        rendered,
        source: &rendered.source,
        line: start_line,
        range: start..text.len(),
    });
    out
}

/// Reads one document into a tree (the fast block reader, else the full parser) and its head.
fn parse_document<'a>(
    doc: &Document<'a>,
    arena: &'a Bump,
) -> std::result::Result<Manifest<'a>, Problem> {
    let text = doc.text();
    let json = match block::parse(text, arena) {
        Some(json) => json,
        None => full_parse(doc, arena)?,
    };
    let at = || {
        format!(
            "{} (the document at rendered line {})",
            doc.rendered.file, doc.line
        )
    };
    if !json.is_object() {
        let first = text.lines().next().unwrap_or_default();
        return Err(format!(
            "`{}` is not a Kubernetes object but {}; a manifest is a mapping with apiVersion, \
             kind and metadata: check the template's indentation and quoting\n      {} | {}",
            at(),
            describe(&json),
            doc.line,
            crate::error::shorten(first, crate::yaml::parse::MAX_QUOTED)
        )
        .into());
    }
    let field = |path: &[&str], name: &str| -> std::result::Result<&'a str, Problem> {
        match json.at(path) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.as_str()),
            None | Some(Value::Null) | Some(Value::String(_)) => Err(format!(
                "`{}` has no `{name}`; every manifest needs apiVersion, kind and metadata.name",
                at()
            )
            .into()),
            Some(other) => Err(format!(
                "`{}` has `{name}` {}, not a string; every manifest needs apiVersion, kind and \
                 metadata.name as strings",
                at(),
                describe(other)
            )
            .into()),
        }
    };
    let api_version = field(&["apiVersion"], "apiVersion")?;
    let kind = field(&["kind"], "kind")?;
    if let Some(metadata) = json.get("metadata")
        && !metadata.is_object()
        && !metadata.is_null()
    {
        return Err(format!(
            "`{}` has `metadata` {}, not a mapping",
            at(),
            describe(metadata)
        )
        .into());
    }
    let name = field(&["metadata", "name"], "metadata.name")?;
    let namespace = json.at(&["metadata", "namespace"]).and_then(Value::as_str);
    let hook = json
        .at(&["metadata", "annotations"])
        .and_then(Value::as_object)
        .is_some_and(|a| a.contains_key(HOOK_ANNOTATION));
    Ok(Manifest {
        source: doc.source,
        file: &doc.rendered.file,
        content: text,
        api_version,
        kind,
        name,
        namespace,
        hook,
        json,
    })
}

/// What a value is, for messages: `the integer 3`, `a list`.
fn describe(value: &Value<'_>) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {:?}", crate::error::shorten(s, 40)),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// The document as the full reader reads it (the tree Kubernetes clients build), into `arena`.
fn full_parse<'a>(doc: &Document<'a>, arena: &'a Bump) -> std::result::Result<Value<'a>, Problem> {
    let text = doc.text();
    if let Err(line) = crate::yaml::guard::check_flow_nesting(text) {
        return Err(format!(
            "`{}`: rendered line {} nests brackets too deeply",
            doc.rendered.file,
            line + doc.line - 1
        )
        .into());
    }
    match full::read(text) {
        Ok(json) => Ok(Value::from_json(&json, arena)),
        Err(Unreadable::Yaml(e)) => Err(match forbidden(doc) {
            Some(problem) => problem,
            None => Problem::from(yaml_problem(doc, &e)),
        }),
        Err(Unreadable::NotJson(line, problem)) => {
            let line = line + doc.line - 1;
            Err(Problem::from(format!(
                "`{}`: line {line} of the rendered output: {problem}\n      {line} | {}",
                doc.rendered.file,
                rendered_line(doc, line)
            )))
        }
    }
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
    let problem = crate::error::shorten(problem, crate::yaml::parse::MAX_QUOTED);
    let (line, column) = err
        .location()
        .map_or((doc.line, 0), |l| (l.line() + doc.line - 1, l.column()));
    let shown = rendered_line(doc, line);
    format!(
        "`{}`: line {line}, column {column} of the rendered output is not valid YAML: {problem}; \
         check the template's indentation and quoting\n      {line} | {shown}",
        doc.rendered.file
    )
}

/// Line `line` of the template's rendered output, shortened, to show under a message.
fn rendered_line(doc: &Document<'_>, line: usize) -> String {
    let shown = doc.rendered.text.lines().nth(line.saturating_sub(1));
    crate::error::shorten(
        shown.unwrap_or("").trim_end(),
        crate::yaml::parse::MAX_QUOTED,
    )
    .into()
}

/// One message for each object rendered again (same kind, namespace and name).
fn duplicates<'a>(manifests: &[Manifest<'a>], release_namespace: &'a str) -> Vec<String> {
    use std::hash::BuildHasher;
    let identity = |m: &Manifest<'a>| (m.kind, m.namespace.unwrap_or(release_namespace), m.name);
    // Objects are told apart by a hash of their identity first (8 bytes each, not 48); equal
    // hashes are compared in full.
    let hasher = std::collections::hash_map::RandomState::new();
    let mut first: HashMap<u64, usize> = HashMap::with_capacity(manifests.len());
    let mut collided: HashMap<(&str, &str, &str), &str> = HashMap::new();
    let mut problems = Vec::new();
    for (i, m) in manifests.iter().enumerate() {
        let id = identity(m);
        let earlier = match first.entry(hasher.hash_one(id)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(i);
                continue;
            }
            std::collections::hash_map::Entry::Occupied(slot) => &manifests[*slot.get()],
        };
        let repeated = if identity(earlier) == id {
            Some(earlier.source)
        } else {
            collided.insert(id, m.source)
        };
        if let Some(by) = repeated {
            let (kind, namespace, name) = id;
            problems.push(format!(
                "{kind} `{name}` in namespace `{namespace}` is rendered twice (by `{by}` and `{}`); give one a different name",
                m.source
            ));
        }
    }
    problems
}

/// Sorts the files of `crds/` folders first, then by hook-ness, Helm's kind order and source
/// path; the split order breaks ties.
fn sort(manifests: &mut [Manifest<'_>]) {
    // The files of `crds/` folders come first, as Helm prints them: a chart's own before its
    // subcharts', depth first (`\0` sorts a chart's `crds/` before its `charts/`); a file
    // keeps its documents in the file's order.
    let crd_order = |source: &str| source.replace("/crds/", "/\0crds/");
    let mut crd_files: Vec<String> = manifests
        .iter()
        .filter(|m| crate::chart::crds::is_crd_source(m.source))
        .map(|m| crd_order(m.source))
        .collect();
    crd_files.sort_unstable();
    crd_files.dedup();
    // Then Helm's kind order, kinds it does not know after those, by name.
    let mut unknown: Vec<&str> = manifests
        .iter()
        .map(|m| m.kind)
        .filter(|kind| !INSTALL_ORDER.contains(kind))
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    let rank = |kind: &str| match INSTALL_ORDER.iter().position(|k| *k == kind) {
        Some(i) => i,
        None => INSTALL_ORDER.len() + unknown.binary_search(&kind).unwrap_or_default(),
    };
    // One number per manifest: the crds/ files, then hooks after the rest, then the kind's
    // rank; the stable sort keeps source order (already by path) and each file's order.
    manifests.sort_by_cached_key(|m| match crate::chart::crds::is_crd_source(m.source) {
        true => crd_files
            .binary_search(&crd_order(m.source))
            .unwrap_or_default() as u64,
        false => (1 << 40) + (u64::from(m.hook) << 32) + rank(m.kind) as u64,
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
