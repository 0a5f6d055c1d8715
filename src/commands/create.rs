//! `aether-chart create NAME [--starter DIR]`: a new chart, as `helm create` makes one for Go
//! templates: a Deployment, Service, ServiceAccount, HPA, Ingress and HTTPRoute, a NetworkPolicy,
//! a test hook, NOTES.txt, `_helpers.j2`, commented values with a values.schema.json, dev and prod
//! overlays, `.helmignore` and `aether-lint.yaml`. It renders, lints clean under `--strict` and
//! passes `kubernetes-validate --strict` and Checkov. `--starter DIR` copies a team's own
//! starter instead; in both, `<CHARTNAME>` becomes the chart's name.

use std::path::{Path, PathBuf};

use crate::chart::{Limits, loader};
use crate::error::{Error, Result};

/// The default starter's files (the repository's `starters/default/`).
const STARTER: &[(&str, &str)] = &[
    (
        ".helmignore",
        include_str!("../../starters/default/.helmignore"),
    ),
    (
        "Chart.yaml",
        include_str!("../../starters/default/Chart.yaml"),
    ),
    (
        "aether-lint.yaml",
        include_str!("../../starters/default/aether-lint.yaml"),
    ),
    (
        "templates/NOTES.txt",
        include_str!("../../starters/default/templates/NOTES.txt"),
    ),
    (
        "templates/_helpers.j2",
        include_str!("../../starters/default/templates/_helpers.j2"),
    ),
    (
        "templates/deployment.yaml",
        include_str!("../../starters/default/templates/deployment.yaml"),
    ),
    (
        "templates/hpa.yaml",
        include_str!("../../starters/default/templates/hpa.yaml"),
    ),
    (
        "templates/httproute.yaml",
        include_str!("../../starters/default/templates/httproute.yaml"),
    ),
    (
        "templates/ingress.yaml",
        include_str!("../../starters/default/templates/ingress.yaml"),
    ),
    (
        "templates/networkpolicy.yaml",
        include_str!("../../starters/default/templates/networkpolicy.yaml"),
    ),
    (
        "templates/service.yaml",
        include_str!("../../starters/default/templates/service.yaml"),
    ),
    (
        "templates/serviceaccount.yaml",
        include_str!("../../starters/default/templates/serviceaccount.yaml"),
    ),
    (
        "templates/tests/test-connection.yaml",
        include_str!("../../starters/default/templates/tests/test-connection.yaml"),
    ),
    (
        "values.schema.json",
        include_str!("../../starters/default/values.schema.json"),
    ),
    (
        "values.yaml",
        include_str!("../../starters/default/values.yaml"),
    ),
    (
        "values/dev.yaml",
        include_str!("../../starters/default/values/dev.yaml"),
    ),
    (
        "values/prod.yaml",
        include_str!("../../starters/default/values/prod.yaml"),
    ),
];

/// Arguments of `create`.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// The new chart's folder; its last part is the chart's name.
    #[arg(value_name = "NAME")]
    pub name: PathBuf,
    /// A starter chart folder to copy instead of the built-in one.
    #[arg(long, short = 'p', value_name = "DIR")]
    pub starter: Option<PathBuf>,
}

/// Runs `create`.
pub fn run(args: &CreateArgs) -> Result<u8> {
    let name = args
        .name
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::usage(format!("`{}` names no chart folder", args.name.display())))?
        .to_string();
    // Helm's rule for chart names: letters, digits, `.`, `_` and `-`.
    if name.starts_with('.')
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(Error::usage(format!(
            "`{name}` is no chart name: use letters, digits, `.`, `_` and `-`"
        )));
    }
    crate::chart::metadata::check_name(&name)
        .map_err(|e| Error::usage(format!("chart name `{name}` {e}")))?;
    let parent = match args.name.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let files: Vec<(String, Vec<u8>)> = match &args.starter {
        None => STARTER
            .iter()
            .map(|(path, text)| {
                (
                    path.to_string(),
                    text.replace("<CHARTNAME>", &name).into_bytes(),
                )
            })
            .collect(),
        Some(dir) => starter_files(dir, &name)?,
    };
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    let target = crate::fs::write_tree(&parent, &name, &borrowed)?;
    crate::outln!("Created {}", target.display());
    Ok(0)
}

/// A starter's Chart.yaml with the new chart's name, as Helm's `create --starter` renames it.
fn renamed(chart_yaml: &str, name: &str) -> String {
    chart_yaml
        .replace("<CHARTNAME>", name)
        .lines()
        .map(|line| match line.strip_prefix("name:") {
            Some(_) => format!("name: {name}\n"),
            None => format!("{line}\n"),
        })
        .collect()
}

/// A starter folder's files, read as a chart is (links inside only, limits, `.helmignore`),
/// with `<CHARTNAME>` replaced in the text files.
fn starter_files(dir: &Path, name: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let files = loader::dir_files(dir, Limits::default())?;
    if !files.iter().any(|f| f.name == "Chart.yaml") {
        return Err(Error::input(format!(
            "the starter `{}` has no Chart.yaml; a starter is a chart folder",
            dir.display()
        )));
    }
    Ok(files
        .into_iter()
        .map(|f| {
            let data = match String::from_utf8(f.data) {
                Ok(text) if f.name == "Chart.yaml" => renamed(&text, name).into_bytes(),
                Ok(text) => text.replace("<CHARTNAME>", name).into_bytes(),
                Err(e) => e.into_bytes(),
            };
            (f.name, data)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    /// The embedded list is every file of starters/default, so an added file is not forgotten.
    #[test]
    fn the_starter_is_embedded_whole() {
        fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    out.push(
                        path.strip_prefix(root)
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("starters/default");
        let mut on_disk = Vec::new();
        walk(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = super::STARTER.iter().map(|(p, _)| p.to_string()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
    }
}
