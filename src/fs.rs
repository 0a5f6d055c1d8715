//! The one way to read a chart's file and the one way to write a file.
//!
//! Reading: a chart is hostile input. [`ChartDir`] reads files of one chart folder: a link
//! may point only inside the chart, anything but a regular file or folder (a FIFO, a socket, a
//! device) is refused before it is opened, and no read goes past the limit that applies. A
//! file outside the chart is never opened, so no message can quote it. [`read_user_file`]
//! reads a file the user named on the command line: links are the user's own and are
//! followed, pipes work (`-f <(...)`), and the read is bounded all the same.
//!
//! Writing: [`write_file`] creates a temporary file at an unpredictable name in the target
//! folder with `O_CREAT|O_EXCL` (so a planted link is never followed), writes it, syncs it and
//! renames it over the final name, which must not be a link. [`write_tree`] does the same for
//! a whole folder (`pull --untar`): a fresh private temporary folder, moved into place at the
//! end. [`create_dirs`] makes the folders below a base the user chose, refusing any link on
//! the way, so a chart's names cannot steer a write elsewhere.

use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// Permissions of what aether-chart writes for the user to share (charts, manifests, locks);
/// the umask applies.
pub(crate) const SHARED: u32 = 0o666;
/// Permissions of secrets (registry credentials): the owner alone.
pub(crate) const PRIVATE: u32 = 0o600;

/// What a path inside a chart is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file of this many bytes.
    File(u64),
    /// A folder.
    Dir,
}

/// One chart folder, the root every path read through it must stay inside.
#[derive(Debug, Clone)]
pub(crate) struct ChartDir {
    /// The folder as the user named it, for messages and joins.
    root: PathBuf,
    /// The folder with every link resolved, to tell whether a link leaves it.
    canonical: PathBuf,
    /// The folders inside the chart resolved so far (their links followed), by relative
    /// path: a chart's files share a few folders, each resolved once.
    resolved: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, PathBuf>>>,
}

impl ChartDir {
    /// Opens the chart folder `root` (which must be a folder).
    pub(crate) fn open(root: &Path) -> Result<ChartDir> {
        let canonical = root.canonicalize().map_err(|e| {
            Error::usage(format!(
                "cannot open the chart `{}`: {e}; pass a chart directory",
                root.display()
            ))
        })?;
        if !canonical.is_dir() {
            return Err(Error::usage(format!(
                "`{}` is not a chart directory; pass the folder that holds Chart.yaml",
                root.display()
            )));
        }
        Ok(ChartDir {
            root: root.to_path_buf(),
            canonical,
            resolved: Default::default(),
        })
    }

    /// The folder as the user named it.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// `relative` under the chart folder, as shown in messages.
    pub(crate) fn shown(&self, relative: &str) -> String {
        if self.root == Path::new(".") {
            relative.to_string()
        } else {
            self.root.join(relative).display().to_string()
        }
    }

    /// What `relative` (a `/`-separated path inside the chart) is, or `None` when nothing is
    /// there. A link is followed only when it stays inside the chart; a FIFO, socket or
    /// device is an error.
    pub(crate) fn kind(&self, relative: &str) -> Result<Option<Kind>> {
        Ok(self.resolve(relative)?.map(|(_, kind)| kind))
    }

    /// The bytes of the regular file `relative`, at most `limit` of them; `None` when there is
    /// no such file.
    pub(crate) fn read(&self, relative: &str, limit: u64) -> Result<Option<Vec<u8>>> {
        match self.entry(relative)? {
            Some(entry) => entry.read(limit).map(Some),
            None => Ok(None),
        }
    }

    /// What is at `relative`, its links followed and checked, to read without resolving it
    /// again; `None` when nothing is there.
    pub(crate) fn entry(&self, relative: &str) -> Result<Option<Entry>> {
        Ok(self.resolve(relative)?.map(|(path, kind)| Entry {
            path,
            shown: self.shown(relative),
            kind,
        }))
    }

    /// Opens `relative`, which a listing of its folder showed as a regular file, no link:
    /// opened at once without a stat first, refusing a link, and checked again as it is
    /// opened (something else swapped in since is an error); `None` when it is gone.
    pub(crate) fn open_listed(&self, relative: &str) -> Result<Option<OpenFile>> {
        open_regular(&self.root.join(relative), &self.shown(relative))
    }

    /// The path to open for `relative` (links resolved) and what it is.
    fn resolve(&self, relative: &str) -> Result<Option<(PathBuf, Kind)>> {
        let shown = self.shown(relative);
        let mut parts = Vec::new();
        for part in relative.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    return Err(Error::input(format!(
                        "`{shown}` climbs out of the chart with `..`"
                    )));
                }
                part => parts.push(part),
            }
        }
        let Some((name, folders)) = parts.split_last() else {
            return Ok(Some((self.canonical.clone(), Kind::Dir)));
        };
        // The folders on the way may be links too: resolve them all, then judge the result.
        let parent = match self.resolve_folder(&folders.join("/")) {
            Ok(parent) => parent,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", Path::new(&shown), e)),
        };
        if !parent.starts_with(&self.canonical) {
            return Err(Error::input(format!(
                "`{shown}` lies in a linked folder outside the chart; copy the files into the \
                 chart or add the folder to .helmignore"
            )));
        }
        let path = parent.join(name);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", Path::new(&shown), e)),
        };
        let (path, meta) = if meta.file_type().is_symlink() {
            self.follow(&path, &shown)?
        } else {
            (path, meta)
        };
        let kind = if meta.is_dir() {
            Kind::Dir
        } else if meta.is_file() {
            Kind::File(meta.len())
        } else {
            return Err(not_regular(&shown, &meta));
        };
        Ok(Some((path, kind)))
    }

    /// The folder `folders` (relative, `/`-separated) with every link on the way resolved.
    fn resolve_folder(&self, folders: &str) -> std::io::Result<PathBuf> {
        let mut resolved = self.resolved.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(path) = resolved.get(folders) {
            return Ok(path.clone());
        }
        let path = self.canonical.join(folders).canonicalize()?;
        resolved.insert(folders.to_string(), path.clone());
        Ok(path)
    }

    /// Follows the link `path`, which must lead to a place inside the chart.
    fn follow(&self, path: &Path, shown: &str) -> Result<(PathBuf, std::fs::Metadata)> {
        let target = path.canonicalize().map_err(|e| {
            Error::input(format!(
                "`{shown}` is a link that cannot be followed ({e}); fix or remove it"
            ))
        })?;
        if !target.starts_with(&self.canonical) {
            let written = std::fs::read_link(path)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            return Err(Error::input(format!(
                "`{shown}` is a link to `{written}`, outside the chart; copy the file into the \
                 chart or add it to .helmignore"
            )));
        }
        let meta = std::fs::metadata(&target).map_err(|e| Error::io("read", &target, e))?;
        Ok((target, meta))
    }
}

/// A path inside a chart, resolved by [`ChartDir::entry`].
pub(crate) struct Entry {
    /// The path to open, links resolved.
    path: PathBuf,
    /// The path as messages show it.
    shown: String,
    /// What it is.
    pub(crate) kind: Kind,
}

impl Entry {
    /// The bytes of this regular file, at most `limit` of them.
    pub(crate) fn read(&self, limit: u64) -> Result<Vec<u8>> {
        let Kind::File(len) = self.kind else {
            return Err(Error::input(format!(
                "`{}` is a folder; a file was expected there",
                self.shown
            )));
        };
        if len > limit {
            return Err(too_large(&self.shown, limit));
        }
        read_regular(&self.path, &self.shown, limit)
    }
}

/// Reads a file the user named (a values file, a certificate, an archive to push): links are
/// followed, pipes are read, at most `limit` bytes; a folder is an error. `what` names the
/// file in messages (`the values file`).
pub(crate) fn read_user_file(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::usage(format!("cannot read {what} `{shown}`: {e}; check the path")))?;
    if meta.is_dir() {
        return Err(Error::usage(format!(
            "{what} `{shown}` is a directory; pass a file"
        )));
    }
    if meta.is_file() && meta.len() > limit {
        return Err(too_large(&shown, limit));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| Error::usage(format!("cannot read {what} `{shown}`: {e}")))?;
    let expected = if meta.is_file() { meta.len() } else { 0 };
    read_sized(file, expected, &shown, limit)
}

/// Reads at most `limit` bytes of `reader` (stdin, say); more is an error naming `shown`.
pub(crate) fn read_bounded(reader: impl Read, shown: &str, limit: u64) -> Result<Vec<u8>> {
    read_sized(reader, 0, shown, limit)
}

/// [`read_bounded`] for a reader of about `expected` bytes (a file's size): the buffer is made
/// that large at once, so a small file takes one read instead of a doubling series of them.
fn read_sized(reader: impl Read, expected: u64, shown: &str, limit: u64) -> Result<Vec<u8>> {
    // One byte more than expected, so the read that finds the end needs no new buffer.
    let mut bytes = Vec::with_capacity(expected.min(limit).saturating_add(1) as usize);
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", Path::new(shown), e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(shown, limit));
    }
    Ok(bytes)
}

/// Opens a path already known to be a regular file without following a link or blocking on
/// a FIFO swapped in since, checks again what it opened, and reads at most `limit` bytes.
pub(crate) fn read_regular(path: &Path, shown: &str, limit: u64) -> Result<Vec<u8>> {
    match open_regular(path, shown)? {
        Some(file) => file.read(limit),
        None => Err(Error::io(
            "read",
            Path::new(shown),
            std::io::ErrorKind::NotFound.into(),
        )),
    }
}

/// A regular file of a chart, open, its size known.
pub(crate) struct OpenFile {
    file: std::fs::File,
    len: u64,
    shown: String,
}

/// Opens `path` without following a link or blocking on a FIFO, and checks that what it
/// opened is a regular file; `None` when nothing is there.
fn open_regular(path: &Path, shown: &str) -> Result<Option<OpenFile>> {
    let failed = |e| Error::io("read", Path::new(shown), e);
    let file = match std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(failed(e)),
    };
    let meta = file.metadata().map_err(failed)?;
    if !meta.is_file() {
        return Err(not_regular(shown, &meta));
    }
    Ok(Some(OpenFile {
        file,
        len: meta.len(),
        shown: shown.to_string(),
    }))
}

impl OpenFile {
    /// Its size when it was opened.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Its bytes, at most `limit` of them: as many as it held when it was opened (bytes
    /// appended since are not read, which spares the read that would find the end).
    pub(crate) fn read(self, limit: u64) -> Result<Vec<u8>> {
        if self.len > limit {
            return Err(too_large(&self.shown, limit));
        }
        let mut bytes = Vec::with_capacity(self.len as usize);
        self.file
            .take(self.len)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("read", Path::new(&self.shown), e))?;
        Ok(bytes)
    }
}

fn too_large(shown: &str, limit: u64) -> Error {
    Error::input(format!(
        "`{shown}` is larger than the limit of {limit} bytes"
    ))
}

fn not_regular(shown: &str, meta: &std::fs::Metadata) -> Error {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    let what = if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    };
    Error::input(format!(
        "`{shown}` is {what}; a chart holds only regular files and folders"
    ))
}

/// Makes the folders `relative` (a `/`-separated path the chart or the tool chose) below
/// `base` (a folder the user chose, created if missing) and returns the innermost. A link
/// anywhere below `base`, or a file where a folder should be, is refused: a chart's names
/// never steer a write out of `base`.
pub(crate) fn create_dirs(base: &Path, relative: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(base).map_err(|e| Error::io("create the folder", base, e))?;
    let mut dir = base.to_path_buf();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => dir.push(part),
            Component::CurDir => continue,
            _ => {
                return Err(Error::input(format!(
                    "refusing to write under `{relative}`: not a plain relative path"
                )));
            }
        }
        if let Err(e) = std::fs::create_dir(&dir)
            && e.kind() != std::io::ErrorKind::AlreadyExists
        {
            return Err(Error::io("create the folder", &dir, e));
        }
        // Whether made just now or there before, it must be a real folder.
        let meta =
            std::fs::symlink_metadata(&dir).map_err(|e| Error::io("create the folder", &dir, e))?;
        if meta.file_type().is_symlink() {
            return Err(Error::input(format!(
                "`{}` is a symbolic link; aether-chart does not write through links: remove it",
                dir.display()
            )));
        }
        if !meta.is_dir() {
            return Err(Error::input(format!(
                "`{}` is a file where a folder is needed; remove it",
                dir.display()
            )));
        }
    }
    Ok(dir)
}

/// Refuses a final name that is a link: it would be replaced, or, by a less careful tool,
/// written through.
fn check_target(target: &Path) -> Result<()> {
    match std::fs::symlink_metadata(target) {
        Ok(meta) if meta.file_type().is_symlink() => Err(Error::input(format!(
            "`{}` is a symbolic link; aether-chart does not write through links: remove it or \
             write elsewhere",
            target.display()
        ))),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `dir/name` whole or not at all: a temporary file at an unpredictable name
/// in `dir`, created exclusively with `mode` (the umask applies), synced, then renamed over
/// `name`. `dir` must exist (see [`create_dirs`]).
pub(crate) fn write_file(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> Result<PathBuf> {
    let target = dir.join(name);
    check_target(&target)?;
    let failed = |e: std::io::Error| Error::io("write", &target, e);
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(failed)?;
    temp.write_all(bytes).map_err(failed)?;
    temp.as_file().sync_all().map_err(failed)?;
    temp.persist(&target).map_err(|e| failed(e.error))?;
    sync_dir(dir);
    Ok(target)
}

/// Writes `bytes` as `name` in the folder `dir` the user chose (made when missing), whole or
/// not at all; see [`write_file`].
pub(crate) fn write_into(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create the folder", dir, e))?;
    write_file(dir, name, bytes, mode)
}

/// Writes `bytes` to the file `path` the user named (its folder made when missing), whole or
/// not at all; see [`write_file`].
pub(crate) fn write_path(path: &Path, bytes: &[u8], mode: u32) -> Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::usage(format!("`{}` names no file", path.display())))?;
    write_into(dir, name, bytes, mode)
}

/// Writes `files` (`/`-separated relative names, already checked to stay inside) as the new
/// folder `dir/name`: into a fresh private temporary folder first, moved into place once all
/// is written. An existing `dir/name` (or a link there) is refused.
pub(crate) fn write_tree(dir: &Path, name: &str, files: &[(&str, &[u8])]) -> Result<PathBuf> {
    let target = dir.join(name);
    if std::fs::symlink_metadata(&target).is_ok() {
        return Err(Error::input(format!(
            "`{}` exists already; remove it or write into another folder",
            target.display()
        )));
    }
    let failed = |e: std::io::Error| Error::io("write", &target, e);
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempdir_in(dir)
        .map_err(failed)?;
    for (relative, bytes) in files {
        let path = Path::new(relative);
        if !path.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(Error::input(format!(
                "refusing to write `{relative}`: not a plain relative path"
            )));
        }
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => {
                create_dirs(temp.path(), &parent.to_string_lossy())?
            }
            _ => temp.path().to_path_buf(),
        };
        let file_name = path.file_name().unwrap_or_default();
        let mut file = std::fs::File::options()
            .write(true)
            .create_new(true)
            .mode(SHARED)
            .open(parent.join(file_name))
            .map_err(failed)?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(failed)?;
    }
    // The temporary folder is private (0700) while it fills; the chart folder is not.
    std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755))
        .map_err(failed)?;
    check_target(&target)?;
    let kept = temp.keep();
    if let Err(e) = std::fs::rename(&kept, &target) {
        let _ = std::fs::remove_dir_all(&kept);
        return Err(failed(e));
    }
    sync_dir(dir);
    Ok(target)
}

/// Makes a rename in `dir` durable (best effort: not every file system can sync a folder).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::{ChartDir, Kind, create_dirs, write_file, write_tree};

    #[test]
    fn links_inside_the_chart_are_followed_and_links_out_refused() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("c");
        std::fs::create_dir_all(chart.join("real")).unwrap();
        std::fs::write(chart.join("real/a.txt"), "a").unwrap();
        std::fs::write(dir.path().join("secret"), "secret").unwrap();
        symlink("real/a.txt", chart.join("inside")).unwrap();
        symlink("real", chart.join("folder")).unwrap();
        symlink("../secret", chart.join("outside")).unwrap();
        symlink("..", chart.join("up")).unwrap();
        let c = ChartDir::open(&chart).unwrap();
        assert_eq!(c.read("inside", 10).unwrap().unwrap(), b"a");
        assert_eq!(c.read("folder/a.txt", 10).unwrap().unwrap(), b"a");
        assert_eq!(c.kind("folder").unwrap(), Some(Kind::Dir));
        assert_eq!(c.kind("missing").unwrap(), None);
        for bad in ["outside", "up/secret", "../secret", "real/../../secret"] {
            let err = c.read(bad, 10).unwrap_err().to_string();
            assert!(!err.contains("secret\n"), "{bad}: {err}");
            assert!(
                err.contains("outside the chart") || err.contains("`..`"),
                "{bad}: {err}"
            );
        }
        assert!(
            c.read("real/a.txt", 0)
                .unwrap_err()
                .to_string()
                .contains("larger than the limit")
        );
    }

    #[test]
    fn writes_replace_whole_files_and_refuse_links() {
        let dir = tempfile::tempdir().unwrap();
        let out = create_dirs(dir.path(), "a/b").unwrap();
        write_file(&out, "f", b"one", super::SHARED).unwrap();
        write_file(&out, "f", b"two", super::SHARED).unwrap();
        assert_eq!(std::fs::read(out.join("f")).unwrap(), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
        symlink(dir.path().join("elsewhere"), out.join("g")).unwrap();
        assert!(write_file(&out, "g", b"x", super::SHARED).is_err());
        assert!(!dir.path().join("elsewhere").exists());
        symlink(dir.path(), dir.path().join("linked")).unwrap();
        assert!(create_dirs(dir.path(), "linked/x").is_err());
        assert!(create_dirs(dir.path(), "../x").is_err());
        let tree = write_tree(dir.path(), "t", &[("x/y.txt", b"y"), ("z", b"z")]).unwrap();
        assert_eq!(std::fs::read(tree.join("x/y.txt")).unwrap(), b"y");
        assert!(
            write_tree(dir.path(), "t", &[]).is_err(),
            "an existing folder is refused"
        );
        assert!(write_tree(dir.path(), "u", &[("../escape", b"e")]).is_err());
        assert!(!dir.path().join("escape").exists());
    }
}
