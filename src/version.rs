//! Helm's version-constraint grammar (Masterminds semver), over `semver::Version`.
//!
//! The semver crate's `VersionReq` reads constraints the Cargo way (`1.2.3` means `^1.2.3`);
//! Helm users write Masterminds constraints, so this is a small layer with their meaning:
//! a bare `1.2.3` is exact, `||` separates alternatives, spaces or commas AND comparators,
//! `1.2 - 1.4` is a hyphen range, `x`/`X`/`*` (or a missing part) is a wildcard, `~` and `^`
//! work as in npm, and a pre-release version only satisfies a comparator that names a
//! pre-release itself (`>=1.25.0-0` admits `1.30.0-gke.1`).

use std::fmt;

use semver::{BuildMetadata, Prerelease, Version};

/// A parsed constraint such as `>=1.25.0-0 <1.36.0 || ^2`.
#[derive(Debug, Clone)]
pub struct Constraint {
    text: String,
    alternatives: Vec<Vec<Comparator>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Tilde,
    Caret,
}

/// A version with optional (wildcard) parts, as written in a constraint.
#[derive(Debug, Clone)]
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
    pre: Prerelease,
}

#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    version: Partial,
}

impl Constraint {
    /// Parses Helm's constraint grammar; the error says what is wrong with the text.
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("the version constraint is empty".into());
        }
        let alternatives = trimmed
            .split("||")
            .map(parse_group)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("invalid version constraint `{text}`: {e}"))?;
        Ok(Constraint {
            text: trimmed.to_string(),
            alternatives,
        })
    }

    /// Whether `version` satisfies the constraint.
    pub fn matches(&self, version: &Version) -> bool {
        let mut version = version.clone();
        version.build = BuildMetadata::EMPTY;
        self.alternatives
            .iter()
            .any(|group| group.iter().all(|c| c.matches(&version)))
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses a version leniently, as Helm does for Kubernetes and chart versions: an optional `v`,
/// and missing minor or patch parts taken as 0 (`1.35` is `1.35.0`).
pub fn parse_lenient(text: &str) -> Result<Version, String> {
    let bad = || format!("`{text}` is not a version (expected MAJOR.MINOR.PATCH, e.g. 1.35.0)");
    let t = text.trim();
    let t = t.strip_prefix('v').unwrap_or(t);
    let (core, rest) = match t.find(['-', '+']) {
        Some(at) => (&t[..at], &t[at..]),
        None => (t, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let mut full = parts.join(".");
    for _ in parts.len()..3 {
        full.push_str(".0");
    }
    Version::parse(&format!("{full}{rest}")).map_err(|_| bad())
}

fn parse_group(group: &str) -> Result<Vec<Comparator>, String> {
    let tokens: Vec<&str> = group
        .split([' ', ',', '\t'])
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.is_empty() {
        return Err("an alternative between `||` is empty".into());
    }
    let mut comparators = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens.get(i + 1) == Some(&"-") {
            let upper = tokens
                .get(i + 2)
                .ok_or("a hyphen range needs an upper bound")?;
            comparators.push(Comparator {
                op: Op::Ge,
                version: parse_partial(tokens[i])?,
            });
            comparators.push(Comparator {
                op: Op::Le,
                version: parse_partial(upper)?,
            });
            i += 3;
            continue;
        }
        let mut token = tokens[i].to_string();
        if is_operator(&token) {
            let next = tokens
                .get(i + 1)
                .ok_or_else(|| format!("`{token}` needs a version"))?;
            token.push_str(next);
            i += 1;
        }
        comparators.push(parse_comparator(&token)?);
        i += 1;
    }
    Ok(comparators)
}

fn is_operator(token: &str) -> bool {
    matches!(
        token,
        "=" | "!=" | ">" | ">=" | "=>" | "<" | "<=" | "=<" | "~" | "~>" | "^"
    )
}

fn parse_comparator(token: &str) -> Result<Comparator, String> {
    const OPS: [(&str, Op); 11] = [
        ("!=", Op::Ne),
        (">=", Op::Ge),
        ("=>", Op::Ge),
        ("<=", Op::Le),
        ("=<", Op::Le),
        ("~>", Op::Tilde),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("~", Op::Tilde),
        ("^", Op::Caret),
        ("=", Op::Eq),
    ];
    let (op, rest) = OPS
        .iter()
        .find_map(|(prefix, op)| token.strip_prefix(prefix).map(|rest| (*op, rest)))
        .unwrap_or((Op::Eq, token));
    Ok(Comparator {
        op,
        version: parse_partial(rest)?,
    })
}

fn parse_partial(text: &str) -> Result<Partial, String> {
    let t = text.strip_prefix('v').unwrap_or(text);
    let (core, pre) = match t.find('-') {
        Some(at) => (&t[..at], &t[at + 1..]),
        None => (t, ""),
    };
    let core = core.split('+').next().unwrap_or(core);
    let pre = pre.split('+').next().unwrap_or(pre);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3 || core.is_empty() {
        return Err(format!("`{text}` is not a version"));
    }
    let mut numbers = [None, None, None];
    for (slot, part) in numbers.iter_mut().zip(&parts) {
        *slot = match *part {
            "x" | "X" | "*" => None,
            digits => Some(
                digits
                    .parse::<u64>()
                    .ok()
                    // The largest number has no successor, which a wildcard range needs.
                    .filter(|&n| n < u64::MAX)
                    .ok_or_else(|| {
                        format!("`{text}` is not a version (or has a part too large)")
                    })?,
            ),
        };
    }
    // A wildcard makes every later part a wildcard too (`1.x.3` is `1.x.x`).
    if let Some(first) = numbers.iter().position(Option::is_none) {
        numbers[first..].iter_mut().for_each(|n| *n = None);
    }
    let pre = if pre.is_empty() {
        Prerelease::EMPTY
    } else {
        Prerelease::new(pre).map_err(|_| format!("`{text}` has an invalid pre-release"))?
    };
    Ok(Partial {
        major: numbers[0],
        minor: numbers[1],
        patch: numbers[2],
        pre,
    })
}

impl Partial {
    /// The lowest version the partial stands for (wildcards as 0).
    fn floor(&self) -> Version {
        let mut v = Version::new(
            self.major.unwrap_or(0),
            self.minor.unwrap_or(0),
            self.patch.unwrap_or(0),
        );
        v.pre = self.pre.clone();
        v
    }

    /// The first version above everything the wildcard covers, if any part is a wildcard.
    fn ceiling(&self) -> Option<Version> {
        match (self.major, self.minor, self.patch) {
            (None, _, _) => None,
            // Parts are below u64::MAX (see `parse_partial`), so these never overflow.
            (Some(major), None, _) => Some(Version::new(major.saturating_add(1), 0, 0)),
            (Some(major), Some(minor), None) => {
                Some(Version::new(major, minor.saturating_add(1), 0))
            }
            _ => None,
        }
    }

    fn is_wild(&self) -> bool {
        self.patch.is_none()
    }
}

impl Comparator {
    fn matches(&self, v: &Version) -> bool {
        if !v.pre.is_empty() && self.version.pre.is_empty() {
            return false;
        }
        let c = &self.version;
        let floor = c.floor();
        let below_ceiling = |v: &Version| c.ceiling().is_none_or(|ceiling| base(v) < ceiling);
        match self.op {
            Op::Eq => Self::equal(c, v),
            Op::Ne => !Self::equal(c, v),
            Op::Gt => match c.ceiling() {
                Some(ceiling) => base(v) >= ceiling,
                None if c.major.is_none() => false,
                None => *v > floor,
            },
            Op::Ge => *v >= floor,
            Op::Lt => *v < floor,
            Op::Le => {
                if c.is_wild() {
                    c.major.is_none() || below_ceiling(v)
                } else {
                    *v <= floor
                }
            }
            Op::Tilde => {
                *v >= floor
                    && c.major.is_none_or(|m| v.major == m)
                    && c.minor.is_none_or(|m| v.minor == m)
            }
            Op::Caret => {
                if *v < floor {
                    return false;
                }
                match (c.major, c.minor, c.patch) {
                    (None, _, _) => true,
                    (Some(m), _, _) if m > 0 => v.major == m,
                    (Some(_), None, _) => v.major == 0,
                    (Some(_), Some(n), _) if n > 0 => v.major == 0 && v.minor == n,
                    (Some(_), Some(_), None) => v.major == 0 && v.minor == 0,
                    (Some(_), Some(_), Some(p)) => v.major == 0 && v.minor == 0 && v.patch == p,
                }
            }
        }
    }

    fn equal(c: &Partial, v: &Version) -> bool {
        if c.major.is_none() {
            return true;
        }
        if c.is_wild() {
            return base(v) >= base(&c.floor())
                && c.ceiling().is_none_or(|ceiling| base(v) < ceiling);
        }
        *v == c.floor()
    }
}

/// The version without pre-release, for wildcard range checks.
fn base(v: &Version) -> Version {
    Version::new(v.major, v.minor, v.patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(constraint: &str, version: &str) -> bool {
        Constraint::parse(constraint)
            .unwrap()
            .matches(&parse_lenient(version).unwrap())
    }

    #[test]
    fn helm_grammar() {
        let cases = [
            ("1.2.3", "1.2.3", true),
            ("1.2.3", "1.2.4", false),
            (">=1.25.0-0", "1.30.0-gke.1", true),
            (">=1.25.0", "1.30.0-gke.1", false),
            (">=1.25.0", "1.30.0", true),
            ("^1.2.3", "1.9.0", true),
            ("^1.2.3", "2.0.0", false),
            ("^0.2.3", "0.3.0", false),
            ("^0.2.3", "0.2.9", true),
            ("~1.2.3", "1.2.9", true),
            ("~1.2.3", "1.3.0", false),
            ("1.2.x", "1.2.7", true),
            ("1.2.x", "1.3.0", false),
            ("*", "4.0.0", true),
            ("1.2 - 1.4.5", "1.4.5", true),
            ("1.2 - 1.4.5", "1.4.6", false),
            ("1.2.3 - 2.3", "2.3.9", true),
            ("1.2.3 - 2.3", "2.4.0", false),
            (">=1.0.0 <2.0.0 || >=3.0.0", "3.1.0", true),
            (">=1.0.0, <2.0.0", "2.0.0", false),
            (">= 1.0.0", "1.0.0", true),
            (">1.2", "1.2.9", false),
            (">1.2", "1.3.0", true),
            ("<=1.2", "1.2.9", true),
            ("<1.2", "1.1.9", true),
            ("!=1.2.3", "1.2.3", false),
            ("v1.2.3", "1.2.3", true),
        ];
        for (constraint, version, expected) in cases {
            assert_eq!(
                check(constraint, version),
                expected,
                "{constraint} vs {version}"
            );
        }
    }

    #[test]
    fn lenient_versions() {
        assert_eq!(parse_lenient("v1.35").unwrap(), Version::new(1, 35, 0));
        assert!(parse_lenient("1.x").is_err());
        assert!(Constraint::parse("").is_err());
        assert!(Constraint::parse(">=banana").is_err());
    }
}
