//! Loading a chart from a directory or a `.tgz`, with Helm's layout and limits.
//!
//! A directory is walked below its root honouring the root `.helmignore`; an archive must keep
//! every entry under one top folder, with no absolute paths, no `..`, no links and no special
//! files. Both are bounded: [`Limits`] caps the total size and each file's size (Helm's 100 MiB
//! and 5 MiB by default), and an archive's decompressed stream is capped too (gzip bombs).

use std::io::Read;
use std::path::Path;

use super::ignore::{HELMIGNORE, Rules};
use super::metadata::Metadata;
use super::{Chart, File};
use crate::error::{Error, Result};
use crate::fs::{self, ChartDir, Kind};
use crate::values::Map;
use crate::values::file::parse_values;

/// Size limits for loading a chart.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most bytes all files of a chart may hold together.
    pub total: u64,
    /// The most bytes one file may hold.
    pub per_file: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            total: 100 * 1024 * 1024,
            per_file: 5 * 1024 * 1024,
        }
    }
}

/// How many nested archives (`charts/*.tgz` inside archives) are followed.
const MAX_ARCHIVE_NESTING: usize = 8;

/// What is left of the limits while one chart loads: every file of the chart, of its
/// subcharts and of the archives inside it counts against one total, so nesting archives
/// cannot multiply the limit.
struct Budget {
    limits: Limits,
    used: u64,
}

impl Budget {
    fn new(limits: Limits) -> Budget {
        Budget { limits, used: 0 }
    }

    /// The most bytes the next file may have: the per-file limit, or what is left in total.
    fn next_file(&self) -> u64 {
        self.limits
            .per_file
            .min(self.limits.total.saturating_sub(self.used))
    }

    /// Counts `len` more bytes; `shown` names the file that broke a limit.
    fn take(&mut self, len: u64, shown: &str) -> Result<()> {
        if len > self.limits.per_file {
            return Err(Error::input(format!(
                "chart file `{shown}` is {len} bytes, more than the limit of {} per file; \
                 add it to .helmignore or raise --max-file-size",
                self.limits.per_file
            )));
        }
        self.used += len;
        if self.used > self.limits.total {
            return Err(Error::input(format!(
                "the chart, with everything its archives hold, is larger than the limit of {} \
                 bytes (at `{shown}`); add large files to .helmignore or raise --max-chart-size",
                self.limits.total
            )));
        }
        Ok(())
    }
}

/// The most bytes a chart archive may have on disk or on the wire: compressed data is at most
/// a little larger than what it holds.
pub fn archive_limit(limits: Limits) -> u64 {
    limits
        .total
        .saturating_add(limits.total / 8)
        .saturating_add(1 << 20)
}

/// Loads the chart at `path`: a directory, or a gzipped tar archive.
pub fn load(path: &Path, limits: Limits) -> Result<Chart> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::usage(format!(
            "cannot open the chart `{}`: {e}; pass a chart directory or .tgz",
            path.display()
        ))
    })?;
    let mut budget = Budget::new(limits);
    if meta.is_dir() {
        // values.yaml, most often the longest text a chart has to parse, is parsed while the
        // rest of the folder is walked.
        let (files, early) = rayon::join(
            || walk_dir(path, &mut budget, false),
            || early_values(path, limits),
        );
        from_files(files?, origin_of(path), &mut budget, 0, early)
    } else {
        let bytes = fs::read_user_file(path, "the chart", archive_limit(limits))?;
        from_archive(&bytes, &format!("{}:", path.display()), &mut budget, 0)
    }
}

/// The files of a chart directory as they are on disk (after `.helmignore`), relative to its
/// root and sorted by path: what a package holds.
pub fn dir_files(root: &Path, limits: Limits) -> Result<Vec<File>> {
    let mut files = walk_dir(root, &mut Budget::new(limits), true)?;
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// The files of a gzipped tar chart as they are in the archive, relative to its top folder;
/// `label` prefixes messages.
pub fn archive_files(bytes: &[u8], label: &str, limits: Limits) -> Result<Vec<File>> {
    read_archive(bytes, label, &mut Budget::new(limits), true)
}

/// Loads a chart from the bytes of a gzipped tar archive; `label` prefixes messages.
pub fn load_archive(bytes: &[u8], label: &str, limits: Limits) -> Result<Chart> {
    from_archive(bytes, label, &mut Budget::new(limits), 0)
}

/// Walks a chart directory through the one chart reader, returning its files relative to
/// `root`; `raw` keeps the bytes as they are (no byte-order mark removed).
fn walk_dir(root: &Path, budget: &mut Budget, raw: bool) -> Result<Vec<File>> {
    let dir = ChartDir::open(root)?;
    // A folder that is no chart says so before anything below it is read (a home folder or
    // `/` would otherwise be walked first).
    if !matches!(dir.kind("Chart.yaml")?, Some(crate::fs::Kind::File(_))) {
        return Err(missing_chart_yaml(&origin_of(root)));
    }
    let rules = match dir.read(HELMIGNORE, budget.limits.per_file)? {
        Some(bytes) => Rules::parse(&String::from_utf8_lossy(&bytes)).map_err(Error::input)?,
        None => Rules::defaults(),
    };
    let mut walker = Walker {
        dir,
        rules,
        budget,
        files: Vec::new(),
        raw,
    };
    walker.walk("")?;
    Ok(walker.files)
}

struct Walker<'b> {
    dir: ChartDir,
    rules: Rules,
    budget: &'b mut Budget,
    files: Vec<File>,
    raw: bool,
}

impl Walker<'_> {
    /// Reads the folder `prefix` (empty, or ending in `/`) of the chart.
    fn walk(&mut self, prefix: &str) -> Result<()> {
        let folder = self.dir.root().join(prefix);
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&folder)
            .map_err(|e| Error::io("read the directory", &folder, e))?
            .filter_map(|e| e.ok())
        {
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                return Err(Error::input(format!(
                    "`{}` has a file name that is not UTF-8; rename it",
                    entry.path().display()
                )));
            };
            // The entry's own type, when it is no link, spares a stat below.
            let own_type = entry.file_type().ok().filter(|t| !t.is_symlink());
            names.push((name, own_type));
        }
        names.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, own_type) in names {
            let relative = format!("{prefix}{name}");
            // What .helmignore leaves out is never read, whatever it is: a stat tells whether
            // the rules see a folder (a link counts as what it points to).
            let is_dir = match own_type {
                Some(own) => own.is_dir(),
                None => std::fs::metadata(folder.join(&name)).is_ok_and(|m| m.is_dir()),
            };
            if self.rules.ignored(&relative, is_dir) {
                continue;
            }
            // A regular file as listed is opened at once; the open checks it again.
            if own_type.is_some_and(|own| own.is_file()) {
                let Some(file) = self.dir.open_listed(&relative)? else {
                    continue;
                };
                self.budget.take(file.len(), &relative)?;
                let data = file.read(self.budget.limits.per_file)?;
                self.push(relative, data);
                continue;
            }
            let Some(entry) = self.dir.entry(&relative)? else {
                continue;
            };
            match entry.kind {
                Kind::Dir => self.walk(&format!("{relative}/"))?,
                Kind::File(len) => {
                    self.budget.take(len, &relative)?;
                    let data = entry.read(len)?;
                    self.push(relative, data);
                }
            }
        }
        Ok(())
    }

    fn push(&mut self, name: String, data: Vec<u8>) {
        let data = if self.raw { data } else { strip_bom(data) };
        self.files.push(File { name, data });
    }
}

/// The values.yaml of the chart folder `root`, read on its own and parsed; `None` when it
/// cannot be read so (the walk then reads it, and reports what is wrong). The walk decides
/// whether this parse is used: only when it read the same bytes.
fn early_values(root: &Path, limits: Limits) -> Option<(Vec<u8>, Result<Map>)> {
    let data = strip_bom(
        ChartDir::open(root)
            .ok()?
            .read("values.yaml", limits.per_file)
            .ok()??,
    );
    let parsed = parse_values(&data, &format!("{}values.yaml", origin_of(root)));
    Some((data, parsed))
}

fn strip_bom(mut data: Vec<u8>) -> Vec<u8> {
    if data.starts_with(&[0xEF, 0xBB, 0xBF]) {
        data.drain(..3);
    }
    data
}

/// Reads a gzipped tar chart; `label` prefixes messages (e.g. `aether-0.1.0.tgz:`).
fn from_archive(bytes: &[u8], label: &str, budget: &mut Budget, nesting: usize) -> Result<Chart> {
    if nesting > MAX_ARCHIVE_NESTING {
        return Err(Error::input(format!(
            "`{label}` nests chart archives more than {MAX_ARCHIVE_NESTING} deep"
        )));
    }
    let files = read_archive(bytes, label, budget, false)?;
    from_files(files, label.to_string(), budget, nesting, None)
}

/// The files of a gzipped tar chart, checked entry by entry against traversal, links and the
/// size limits.
fn read_archive(bytes: &[u8], label: &str, budget: &mut Budget, raw: bool) -> Result<Vec<File>> {
    let limits = budget.limits;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(Error::input(format!(
            "`{}` is not a gzipped chart archive; pass a chart directory or a .tgz made by `package`",
            label.trim_end_matches(':')
        )));
    }
    // Tar headers and padding come on top of file data; allow them a generous but finite budget.
    let stream_cap = limits
        .total
        .saturating_mul(2)
        .saturating_add(16 * 1024 * 1024);
    let decoder = flate2::read::GzDecoder::new(bytes).take(stream_cap);
    let mut archive = tar::Archive::new(decoder);
    let mut files = Vec::new();
    let bad = |what: String| Error::input(format!("`{label}` {what}"));
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("cannot be read: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("is not a valid archive: {e}")))?;
        let kind = entry.header().entry_type();
        let shown = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        match kind {
            tar::EntryType::Directory | tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {
                continue;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Symlink => {
                return Err(bad(format!(
                    "contains a symbolic link `{shown}`; charts hold regular files only"
                )));
            }
            tar::EntryType::Link => {
                return Err(bad(format!(
                    "contains a hard link `{shown}`; charts hold regular files only"
                )));
            }
            _ => {
                return Err(bad(format!(
                    "contains `{shown}`, which is not a regular file"
                )));
            }
        }
        let name = entry_name(&shown).map_err(bad)?;
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > limits.per_file {
            return Err(bad(format!(
                "holds `{shown}` of {size} bytes, more than the limit of {} per file",
                limits.per_file
            )));
        }
        // Read no further than the file's share of what is left, whatever the header says.
        let allowed = budget.next_file();
        let mut data = Vec::with_capacity(size.min(allowed).min(1 << 20) as usize);
        (&mut entry)
            .take(allowed + 1)
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("cannot be read: {e}")))?;
        if data.len() as u64 > allowed {
            return Err(bad(format!(
                "decompresses to more than the limit of {} bytes (with everything the chart \
                 holds, nested archives included)",
                limits.total
            )));
        }
        budget
            .take(data.len() as u64, &shown)
            .map_err(|e| e.context(format!("`{label}`")))?;
        let data = if raw { data } else { strip_bom(data) };
        files.push(File { name, data });
    }
    if files.is_empty() {
        return Err(bad("holds no files".into()));
    }
    Ok(files)
}

/// The path of an archive entry inside the chart: everything after the top folder.
fn entry_name(raw: &str) -> std::result::Result<String, String> {
    let normalized = raw.replace('\\', "/");
    if normalized.starts_with('/') {
        return Err(format!("contains the absolute path `{raw}`"));
    }
    let mut parts = normalized.split('/');
    let top = parts.next().unwrap_or_default();
    if top == "Chart.yaml" {
        return Err("has Chart.yaml outside a top folder; entries must be under `<name>/`".into());
    }
    let mut clean: Vec<&str> = Vec::new();
    for part in parts {
        match part {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "contains `{raw}`, which reaches outside the chart folder"
                ));
            }
            part => clean.push(part),
        }
    }
    if top == ".." {
        return Err(format!(
            "contains `{raw}`, which reaches outside the chart folder"
        ));
    }
    if clean.is_empty() {
        return Err(format!("contains `{raw}` outside the chart folder"));
    }
    if clean[0].len() == 2 && clean[0].ends_with(':') {
        return Err(format!("contains the drive path `{raw}`"));
    }
    Ok(clean.join("/"))
}

/// How messages name a chart folder's files: nothing for `.`, else the folder and a slash.
fn origin_of(path: &Path) -> String {
    if path == Path::new(".") {
        String::new()
    } else {
        format!("{}/", path.display())
    }
}

fn missing_chart_yaml(origin: &str) -> Error {
    Error::input(format!(
        "`{origin}Chart.yaml` is missing; a chart needs a Chart.yaml with apiVersion: v2, name and version"
    ))
}

/// Sorts loaded files into a chart (Helm's `LoadFiles`); `early` is a values.yaml already read
/// and parsed ([`early_values`]).
fn from_files(
    files: Vec<File>,
    origin: String,
    budget: &mut Budget,
    nesting: usize,
    early: Option<(Vec<u8>, Result<Map>)>,
) -> Result<Chart> {
    let chart_yaml = files
        .iter()
        .find(|f| f.name == "Chart.yaml")
        .ok_or_else(|| missing_chart_yaml(&origin))?;
    let metadata = Metadata::parse(&chart_yaml.data, &format!("{origin}Chart.yaml"))?;
    let mut chart = Chart {
        metadata,
        values: Default::default(),
        values_text: String::new(),
        schema: None,
        templates: Vec::new(),
        files: Vec::new(),
        dependencies: Vec::new(),
        origin: origin.clone(),
    };
    let mut subcharts: std::collections::BTreeMap<String, Vec<File>> = Default::default();
    let mut values = None;
    for file in files {
        match file.name.as_str() {
            "Chart.yaml" | "Chart.lock" => {}
            "values.yaml" => values = Some(file.data),
            "values.schema.json" => chart.schema = Some(file.data),
            name if name.starts_with("templates/") => chart.templates.push(file),
            name if name.starts_with("charts/") && !name.ends_with(".prov") => {
                let inner = &name["charts/".len()..];
                let top = inner.split('/').next().unwrap_or_default().to_string();
                subcharts.entry(top).or_default().push(file);
            }
            _ => chart.files.push(file),
        }
    }
    // The values are read while the subcharts load.
    let parse = || match (&values, early) {
        (Some(data), Some((read, parsed))) if read == *data => parsed,
        (Some(data), _) => parse_values(data, &format!("{origin}values.yaml")),
        (None, _) => Ok(Default::default()),
    };
    let (parsed, dependencies) =
        rayon::join(parse, || subcharts_of(subcharts, &origin, budget, nesting));
    chart.values = parsed?;
    if let Some(data) = values {
        chart.values_text = String::from_utf8_lossy(&data).into_owned();
    }
    chart.dependencies = dependencies?;
    Ok(chart)
}

/// Loads the subcharts of the chart at `origin` from their files (by folder or archive name).
fn subcharts_of(
    subcharts: std::collections::BTreeMap<String, Vec<File>>,
    origin: &str,
    budget: &mut Budget,
    nesting: usize,
) -> Result<Vec<Chart>> {
    let mut dependencies = Vec::new();
    for (top, files) in subcharts {
        if top.starts_with(['_', '.']) {
            continue;
        }
        let sub_origin = format!("{origin}charts/{top}");
        let sub = if top.ends_with(".tgz") {
            let file = &files[0];
            from_archive(&file.data, &format!("{sub_origin}:"), budget, nesting + 1)?
        } else {
            let prefix = format!("charts/{top}/");
            let files = files
                .into_iter()
                .filter_map(|f| {
                    f.name.strip_prefix(&prefix).map(|n| File {
                        name: n.to_string(),
                        data: f.data,
                    })
                })
                .collect();
            from_files(files, format!("{sub_origin}/"), budget, nesting, None)?
        };
        dependencies.push(sub);
    }
    Ok(dependencies)
}

#[cfg(test)]
mod tests {
    use super::entry_name;

    #[test]
    fn archive_entry_names() {
        assert_eq!(
            entry_name("aether/templates/a.yaml").unwrap(),
            "templates/a.yaml"
        );
        assert!(entry_name("/etc/passwd").is_err());
        assert!(entry_name("aether/../../x").is_err());
        assert!(entry_name("Chart.yaml").is_err());
        assert!(entry_name("aether/").is_err());
    }
}
