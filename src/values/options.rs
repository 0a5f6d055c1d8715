//! The values flags of every rendering command (`-f`, `--set` and friends) and how they layer.
//!
//! Helm's order, kept so that CI scripts carry over: every `-f` file in order (`-` is stdin), then
//! `--set-json`, `--set`, `--set-string`, `--set-file` and `--set-literal`, grouped by flag type
//! rather than by position on the command line. Each `--set` flavour parses into the values
//! layered so far, so `--set list[1]=x` edits a list that a values file set.

use std::path::Path;

use super::coalesce::merge_maps;
use super::file::parse_values;
use super::strvals::{SetKind, parse_into};
use super::tree::{Map, Value};
use crate::error::{Error, Result};

/// The values layers above a chart's own, in the order the user gave them (each list in the
/// order of its flag; the command line's `-f`, `--set` and friends).
#[derive(Debug, Clone, Default)]
pub struct ValuesOptions {
    /// Values files layered over the chart's values.yaml (`-` reads stdin).
    pub files: Vec<String>,
    /// `--set-json` expressions.
    pub set_json: Vec<String>,
    /// `--set` expressions.
    pub set: Vec<String>,
    /// `--set-string` expressions.
    pub set_string: Vec<String>,
    /// `--set-file` expressions.
    pub set_file: Vec<String>,
    /// `--set-literal` expressions.
    pub set_literal: Vec<String>,
}

impl ValuesOptions {
    /// Layers every user-supplied source into one map (the chart's defaults come later).
    pub fn merge(&self) -> Result<Map> {
        self.merge_keeping_files().map(|(map, _)| map)
    }

    /// Like [`ValuesOptions::merge`], also returning each values file's name and text (for
    /// provenance, so files, and stdin, are read once).
    pub fn merge_keeping_files(&self) -> Result<(Map, Vec<(String, String)>)> {
        let mut base = Map::new();
        let mut texts = Vec::new();
        let mut stdin_used = false;
        for file in &self.files {
            let (bytes, name) = if file.trim() == "-" {
                if stdin_used {
                    return Err(Error::usage(
                        "`-f -` may be given only once: stdin can be read once",
                    ));
                }
                stdin_used = true;
                let bytes = crate::fs::read_bounded(std::io::stdin(), "<stdin>", MAX_VALUES_BYTES)?;
                (bytes, "<stdin>".to_string())
            } else {
                (read_values_file(file)?, file.clone())
            };
            base = merge_maps(base, parse_values(&bytes, &name)?);
            texts.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
        for expr in &self.set_json {
            let trimmed = expr.trim();
            if trimmed.starts_with('{') {
                let object: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(trimmed).map_err(|e| {
                        Error::usage(format!("--set-json `{expr}`: invalid JSON object: {e}"))
                    })?;
                let map = match Value::from_json(serde_json::Value::Object(object)) {
                    Value::Map(map) => map,
                    _ => Map::new(),
                };
                base = merge_maps(base, map);
            } else {
                apply("--set-json", expr, &mut base, SetKind::Json)?;
            }
        }
        for (flag, exprs, kind) in [
            ("--set", &self.set, SetKind::Typed),
            ("--set-string", &self.set_string, SetKind::String),
            ("--set-file", &self.set_file, SetKind::File),
            ("--set-literal", &self.set_literal, SetKind::Literal),
        ] {
            for expr in exprs {
                apply(flag, expr, &mut base, kind)?;
            }
        }
        Ok((base, texts))
    }
}

fn apply(flag: &str, expr: &str, base: &mut Map, kind: SetKind) -> Result<()> {
    parse_into(expr, base, kind, &read_set_file).map_err(|problem| {
        Error::usage(format!(
            "{flag} `{expr}`: {problem}; the syntax is key=value, nested keys with dots (a.b=c), \
             lists as a={{x,y}} or a[0]=x"
        ))
    })
}

/// The largest values file, `--set-file` file or values stream on stdin read (the size of a
/// whole chart).
const MAX_VALUES_BYTES: u64 = 100 * 1024 * 1024;

/// A values file from disk, or from an `http(s)://` URL as Helm's `-f` reads one (the system's
/// certificate authorities, the default time limit, at most the same size).
fn read_values_file(file: &str) -> Result<Vec<u8>> {
    if file.starts_with("https://") || file.starts_with("http://") {
        let http = crate::oci::http::Http::new(&crate::oci::Connection::default())?;
        return http
            .get(file, MAX_VALUES_BYTES)
            .map_err(|e| Error::input(format!("-f {file}: {e}")));
    }
    crate::fs::read_user_file(Path::new(file), "the values file", MAX_VALUES_BYTES)
}

fn read_set_file(path: &str) -> Result<Value, String> {
    let bytes = crate::fs::read_user_file(Path::new(path), "the file", MAX_VALUES_BYTES)
        .map_err(|e| e.to_string())?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| format!("`{path}` is not valid UTF-8 text"))
}
