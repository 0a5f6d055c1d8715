//! Manifests no chart of ours rendered, for `validate`: another tool's output on stdin
//! (`helm template ... | aether-chart validate -`), files, and folders such as a GitOps
//! repository's, read into documents named by their `# Source:` comment or `FILE:LINE`.
//!
//! A named file is read as the user's own (links followed, pipes read); a folder is walked
//! without following links or entering hidden folders, for `*.yaml`, `*.yml` and `*.json`.
//! Every read is bounded, and so are the walk's depth and the inputs' total size.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Finding, Severity};
use crate::error::{Error, Result};
use crate::render::engine::Rendered;
use crate::render::manifest::{self, Span};

/// The most the inputs may hold together, in bytes.
pub const MAX_INPUT_BYTES: u64 = 512 << 20;
/// How deep a folder is walked.
const MAX_DEPTH: usize = 32;
/// How many files a walk reads at most.
const MAX_FILES: usize = 100_000;

/// The check that every document is a readable Kubernetes object.
pub const READ_RULE: (&str, &str) = ("AC200", "not-a-manifest");
/// The check that no object appears twice.
pub const DUPLICATE_RULE: (&str, &str) = ("AC203", "duplicate-object");

/// The documents of every input, and what a folder walk passed over.
#[derive(Default)]
pub struct Inputs {
    /// Each file's text and its documents.
    pub files: Vec<(Rendered, Vec<Span>)>,
    /// What was left out and why, one line each (`k8s/kustomization.yaml: ...`).
    pub skipped: Vec<String>,
    /// The bytes read so far.
    read: u64,
}

/// One stream of documents already in memory (a post-renderer's output), named `shown`.
pub fn from_text(shown: &str, bytes: Vec<u8>) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    inputs.add(shown, bytes, false)?;
    Ok(inputs)
}

/// Reads `paths` (`-` is `stdin`, once) into documents.
pub fn read(paths: &[String], stdin: impl Read) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    let mut stdin = Some(stdin);
    for path in paths {
        if path == "-" {
            let Some(reader) = stdin.take() else {
                return Err(Error::usage("`-` (stdin) is named twice; name it once"));
            };
            let bytes = crate::fs::read_bounded(reader, "<stdin>", inputs.left())?;
            inputs.add("<stdin>", bytes, false)?;
            continue;
        }
        let at = Path::new(path);
        let meta = std::fs::metadata(at)
            .map_err(|e| Error::usage(format!("cannot read `{path}`: {e}; check the path")))?;
        if meta.is_dir() {
            inputs.walk(at, 0)?;
        } else {
            let bytes = crate::fs::read_user_file(at, "the manifest file", inputs.left())?;
            inputs.add(path, bytes, false)?;
        }
    }
    Ok(inputs)
}

impl Inputs {
    /// The bytes the inputs may still hold.
    fn left(&self) -> u64 {
        MAX_INPUT_BYTES.saturating_sub(self.read)
    }

    /// Reads the manifest files below `dir`, in name order.
    fn walk(&mut self, dir: &Path, depth: usize) -> Result<()> {
        let shown = dir.display().to_string();
        if depth > MAX_DEPTH {
            return Err(Error::input(format!(
                "`{shown}` lies more than {MAX_DEPTH} folders deep; name a folder nearer the files"
            )));
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::io("read the folder", dir, e))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<std::io::Result<_>>()
            .map_err(|e| Error::io("read the folder", dir, e))?;
        entries.sort();
        for path in entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let shown = path.display().to_string();
            let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io("read", &path, e))?;
            if name.starts_with('.') {
                continue;
            }
            if meta.file_type().is_symlink() {
                self.skipped
                    .push(format!("`{shown}` is a link: not followed"));
            } else if meta.is_dir() {
                self.walk(&path, depth + 1)?;
            } else if meta.is_file() && manifest_name(name) {
                if self.files.len() >= MAX_FILES {
                    return Err(Error::input(format!(
                        "the inputs hold more than {MAX_FILES} manifest files; name fewer folders"
                    )));
                }
                if meta.len() > self.left() {
                    return Err(Error::input(format!(
                        "the inputs are larger than the limit of {MAX_INPUT_BYTES} bytes \
                         (at `{shown}`); name fewer files"
                    )));
                }
                let bytes = crate::fs::read_regular(&path, &shown, self.left())?;
                self.add(&shown, bytes, true)?;
            }
        }
        Ok(())
    }

    /// Adds one file's documents; `found` files (met in a walk) leave out documents that are
    /// not Kubernetes objects (values files, kustomize's own configuration) with a note.
    fn add(&mut self, shown: &str, bytes: Vec<u8>, found: bool) -> Result<()> {
        self.read += bytes.len() as u64;
        let mut text = String::from_utf8(bytes).map_err(|e| {
            Error::input(format!(
                "`{shown}` is not UTF-8 text (byte {}); manifests are UTF-8 YAML or JSON",
                e.utf8_error().valid_up_to()
            ))
        })?;
        if let Some(rest) = text.strip_prefix('\u{feff}') {
            text = rest.to_string();
        }
        let rendered = Rendered {
            source: shown.to_string(),
            file: shown.to_string(),
            text,
        };
        let mut spans = manifest::split_stream(&rendered);
        if found {
            spans.retain(|span| match not_an_object(&rendered, span) {
                Some(why) => {
                    self.skipped
                        .push(format!("`{}`: {why}: skipped", span_name(&rendered, span)));
                    false
                }
                None => true,
            });
        }
        self.files.push((rendered, spans));
        Ok(())
    }
}

/// Whether a file found in a folder may hold manifests.
fn manifest_name(name: &str) -> bool {
    [".yaml", ".yml", ".json"]
        .iter()
        .any(|ext| name.len() > ext.len() && name.to_ascii_lowercase().ends_with(ext))
}

/// Why a document found in a folder is not a Kubernetes object, if it is not one: it names
/// no `apiVersion` and `kind`, or it configures kustomize.
fn not_an_object(rendered: &Rendered, span: &Span) -> Option<&'static str> {
    let text = span.text(rendered);
    if !(text.contains("apiVersion") && text.contains("kind")) {
        return Some("no apiVersion and kind, not a Kubernetes object");
    }
    let head = text.lines().find_map(|l| {
        let rest = l.strip_prefix("apiVersion:")?;
        Some(rest.trim().trim_matches(['"', '\'']))
    });
    head.filter(|v| {
        v.starts_with("kustomize.config.k8s.io/") || v.starts_with("config.kubernetes.io/")
    })
    .map(|_| "kustomize's configuration, not an object it sends to the cluster")
}

/// `FILE:LINE` or the `# Source:` name of a document.
fn span_name(rendered: &Rendered, span: &Span) -> String {
    span.source()
        .map_or_else(|| rendered.source.clone(), str::to_string)
}

/// The findings about reading the inputs: documents that are not manifests (errors), objects
/// given twice (warnings: a later apply overwrites the earlier), what a walk skipped (notes).
pub fn findings(parsed: &manifest::Parsed<'_>, inputs: &Inputs) -> Vec<Finding> {
    let finding = |rule: (&'static str, &str), severity, message: &String| Finding {
        rule: rule.0,
        severity,
        message: message.clone(),
        object: None,
        template: None,
        values: Vec::new(),
        suppressed: None,
    };
    let problems = parsed
        .problems
        .iter()
        .map(|m| finding(READ_RULE, Severity::Error, m));
    let duplicates = parsed
        .duplicates
        .iter()
        .map(|m| finding(DUPLICATE_RULE, Severity::Warning, m));
    let skipped = inputs
        .skipped
        .iter()
        .map(|m| finding(READ_RULE, Severity::Note, m));
    problems.chain(duplicates).chain(skipped).collect()
}
