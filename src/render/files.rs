//! `files`: read-only access from templates to the chart's non-template files.
//!
//! Only files inside the chart are reachable: paths are relative to the chart root, and any path
//! that is absolute or climbs with `..` is refused. Files under `templates/` and `charts/`,
//! `Chart.yaml` and `values.yaml` are not part of it, as in Helm.

use std::sync::Arc;

use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};

use super::context::map_value;
use crate::chart::File;
use crate::chart::glob::Pattern;

/// The `files` object of one chart.
#[derive(Debug)]
pub struct Files {
    files: Vec<File>,
}

impl Files {
    /// The `files` value for a chart's non-template files.
    pub fn value(files: &[File]) -> Value {
        Value::from_object(Files {
            files: files.to_vec(),
        })
    }

    fn find(&self, path: &str) -> Result<&File, Error> {
        let clean = clean_path(path)?;
        self.files.iter().find(|f| f.name == clean).ok_or_else(|| {
            invalid(format!(
                "files.get: the chart has no file `{path}` (paths are relative to the chart root; \
                 templates/, charts/, Chart.yaml and values.yaml are not files)"
            ))
        })
    }

    fn text(&self, path: &str) -> Result<String, Error> {
        let file = self.find(path)?;
        String::from_utf8(file.data.clone())
            .map_err(|_| invalid(format!("files.get: `{path}` is not UTF-8 text")))
    }
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// Normalizes a path inside the chart, refusing anything that leaves it.
fn clean_path(path: &str) -> Result<String, Error> {
    let outside = || {
        invalid(format!(
            "files: `{path}` reaches outside the chart; use a path relative to the chart root"
        ))
    };
    if path.starts_with('/')
        || path.contains('\\')
        || path.contains(':') && path.len() > 1 && path.as_bytes()[1] == b':'
    {
        return Err(outside());
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or_else(outside)?;
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

impl Object for Files {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let arg = |i: usize| -> Result<String, Error> {
            args.get(i)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| invalid(format!("files.{method} takes a path string")))
        };
        match method {
            "get" => self.text(&arg(0)?).map(Value::from),
            "lines" => Ok(Value::from(
                self.text(&arg(0)?)?
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
            )),
            "glob" => {
                let pattern = Pattern::new(&arg(0)?, true).map_err(invalid)?;
                let matched: Vec<(String, Value)> = self
                    .files
                    .iter()
                    .filter(|f| pattern.matches(&f.name))
                    .map(|f| {
                        (
                            f.name.clone(),
                            Value::from(String::from_utf8_lossy(&f.data).into_owned()),
                        )
                    })
                    .collect();
                Ok(map_value(matched))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("files has no method `{method}`; use get, lines or glob"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::clean_path;

    #[test]
    fn paths_stay_inside() {
        assert_eq!(clean_path("conf/./a.txt").unwrap(), "conf/a.txt");
        assert_eq!(clean_path("conf/../a.txt").unwrap(), "a.txt");
        assert!(clean_path("../a.txt").is_err());
        assert!(clean_path("/etc/passwd").is_err());
        assert!(clean_path("conf/../../x").is_err());
    }
}
