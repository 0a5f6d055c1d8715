//! The one error model of aether-chart.
//!
//! Every failure a user can cause ends up as an [`Error`]: its message says what failed, where
//! (a file and line, or the flag) and what to do, and its [`Error::exit_code`] tells `main` how to
//! exit: 1 for validation findings about the chart's output or values, 2 for everything else.

use std::fmt;
use std::path::Path;

/// A user-facing failure: a message and the class that decides the exit code.
#[derive(Debug, thiserror::Error)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// What kind of failure an [`Error`] is; it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A flag or argument is wrong (exit 2).
    Usage,
    /// An input file, chart or template cannot be read, parsed or rendered (exit 2).
    Input,
    /// The chart rendered, but its values or output break a rule (exit 1).
    Validation,
}

impl Error {
    /// A wrong flag or argument.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Usage,
            message: message.into(),
        }
    }

    /// A broken input: file, chart, template.
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Input,
            message: message.into(),
        }
    }

    /// A validation finding about values or rendered manifests.
    pub fn validation(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Validation,
            message: message.into(),
        }
    }

    /// An I/O failure on `path`, with what was being done.
    pub fn io(action: &str, path: &Path, err: std::io::Error) -> Self {
        Self::input(format!("cannot {action} `{}`: {err}", path.display()))
    }

    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The process exit code for this error: 1 for validation findings, 2 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Validation => 1,
            ErrorKind::Usage | ErrorKind::Input => 2,
        }
    }

    /// Prefixes the message with more context, keeping the kind.
    pub fn context(self, context: impl fmt::Display) -> Self {
        Self {
            kind: self.kind,
            message: format!("{context}: {}", self.message),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The result type used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `text` cut to its first `max` characters, saying how many were left out: quoted input
/// (a YAML scalar in a parse error, a rendered line) may be megabytes long.
pub(crate) fn shorten(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => text.into(),
        Some((end, _)) => {
            let left = text[end..].chars().count();
            format!("{}… ({left} more characters)", &text[..end]).into()
        }
    }
}

/// The 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// Decodes `bytes` as UTF-8, naming the file, line and column of the first bad byte.
pub(crate) fn utf8<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|err| {
        let valid = err.valid_up_to();
        let text = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let (line, col) = line_col(text, valid);
        Error::input(format!(
            "`{name}:{line}:{col}` is not valid UTF-8; save the file as UTF-8"
        ))
    })
}
