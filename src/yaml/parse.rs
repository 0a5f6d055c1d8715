//! serde_yaml behind one door: its errors as `name:line:column: problem`, quoted input
//! shortened. serde_yaml is no longer maintained; this is the place to swap it for a fork.

use crate::error::Error;

/// The most characters of a parse error's own text shown (it may quote a whole scalar).
pub(crate) const MAX_QUOTED: usize = 300;

/// A YAML error in the file `name`, as `name:line:column: problem`.
pub(crate) fn yaml_error(err: &serde_yaml::Error, name: &str) -> Error {
    Error::input(yaml_message(err, name, 0))
}

/// The text of a YAML error as `name:line:column: problem`, with `line_offset` added to the line.
pub(crate) fn yaml_message(err: &serde_yaml::Error, name: &str, line_offset: usize) -> String {
    let text = err.to_string();
    let problem = match text.find(" at line ") {
        Some(at) => &text[..at],
        None => &text,
    };
    let problem = crate::error::shorten(problem, MAX_QUOTED);
    match err.location() {
        Some(loc) => format!(
            "`{name}:{}:{}`: invalid YAML: {problem}",
            loc.line() + line_offset,
            loc.column()
        ),
        None => format!("`{name}`: invalid YAML: {problem}"),
    }
}
