//! `oci://HOST[:PORT]/PATH/NAME[:TAG|@DIGEST]` references, checked against the distribution
//! spec's grammar so a hostile reference never turns into a surprising URL.

use crate::error::{Error, Result};

/// A registry, a repository in it and optionally a tag or digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host` or `host:port`.
    pub host: String,
    /// The repository path, e.g. `charts/aether` (may be empty for a push target).
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    /// Parses `oci://...`; `what` names the argument in messages.
    pub fn parse(text: &str, what: &str) -> Result<Reference> {
        let bad = |why: &str| {
            Error::usage(format!(
                "{what} `{text}` {why}; write oci://HOST[:PORT]/PATH (e.g. oci://127.0.0.1:5000/charts)"
            ))
        };
        let rest = text
            .strip_prefix("oci://")
            .ok_or_else(|| bad("is not an oci:// reference"))?;
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_host = !host.is_empty()
            && host.len() <= 255
            && host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            })
            && host.split(':').nth(1).is_none_or(|p| {
                !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) || host.starts_with('[')
            });
        if !valid_host {
            return Err(bad("has no valid registry host"));
        }
        let (path, digest) = match path.split_once('@') {
            Some((p, d)) => (p, Some(d.to_string())),
            None => (path, None),
        };
        if let Some(d) = &digest {
            let hex = d.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(bad("has a digest that is not sha256:<64 hex digits>"));
            }
        }
        let (path, tag) = match path.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => (p, Some(t.to_string())),
            _ => (path, None),
        };
        if let Some(t) = &tag
            && !valid_tag(t)
        {
            return Err(bad("has an invalid tag"));
        }
        let path = path.trim_end_matches('/');
        if !path.is_empty() && !path.split('/').all(valid_component) {
            return Err(bad(
                "has a repository path outside the registry grammar (lower-case letters, digits and . _ - between them)",
            ));
        }
        Ok(Reference {
            host: host.to_string(),
            repository: path.to_string(),
            tag,
            digest,
        })
    }

    /// `host/repository[:tag]`, as Helm prints references.
    pub fn display(&self) -> String {
        let mut out = format!("{}/{}", self.host, self.repository);
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        out
    }

    /// The repository `name` under this one.
    pub fn child(&self, name: &str) -> Result<Reference> {
        if !valid_component(name) {
            return Err(Error::usage(format!(
                "chart name `{name}` cannot be a registry repository name (lower-case letters, digits and . _ -)"
            )));
        }
        let repository = if self.repository.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.repository)
        };
        Ok(Reference {
            host: self.host.clone(),
            repository,
            tag: None,
            digest: None,
        })
    }

    /// The last path component: the chart name.
    pub fn name(&self) -> &str {
        self.repository.rsplit('/').next().unwrap_or_default()
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes.iter().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
        && !component.contains("..")
        && !component.contains("___")
}

/// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`
pub(crate) fn valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::Reference;

    #[test]
    fn grammar() {
        let r = Reference::parse("oci://127.0.0.1:5000/charts/aether:0.1.0", "the chart").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "charts/aether", Some("0.1.0"))
        );
        assert_eq!(r.name(), "aether");
        let r = Reference::parse("oci://reg.example/a", "x").unwrap();
        assert_eq!((r.repository.as_str(), r.tag), ("a", None));
        assert_eq!(
            Reference::parse("oci://reg.example", "x")
                .unwrap()
                .repository,
            ""
        );
        for bad in [
            "https://reg/a",
            "oci:///a",
            "oci://reg/../a",
            "oci://reg/A",
            "oci://reg/a:bad/tag",
            "oci://reg:port/a",
            "oci://reg/a@sha256:xyz",
            "oci://reg/a//b",
            "oci://r eg/a",
        ] {
            assert!(Reference::parse(bad, "x").is_err(), "{bad}");
        }
        assert!(
            Reference::parse("oci://reg/a", "x")
                .unwrap()
                .child("../b")
                .is_err()
        );
    }
}
