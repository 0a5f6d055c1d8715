//! Helm's version-constraint grammar (Masterminds semver), over `semver::Version`.
//!
//! The semver crate's `VersionReq` reads constraints the Cargo way (`1.2.3` means `^1.2.3`);
//! Helm users write Masterminds constraints, so this is a small layer with their meaning:
//! a bare `1.2.3` is exact, `||` separates alternatives, spaces or commas AND comparators,
//! `1.2 - 1.4` is a hyphen range, `x`/`X`/`*` (or a missing part) is a wildcard, `~` and `^`
//! work as in npm, and a pre-release version can satisfy an alternative only when one of the
//! alternative's comparators names a pre-release (`>=1.25.0-0` admits `1.30.0-gke.1`,
//! `>=1.0.0 <=2.0.0-beta` admits `1.0.1-beta`). The meaning is Masterminds semver v3.4's,
//! which Helm 4 uses, case for case: its own test tables are this module's tests.

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
        self.alternatives.iter().any(|group| {
            let pre_allowed = group.iter().any(|c| !c.version.pre.is_empty());
            group.iter().all(|c| c.matches(&version, pre_allowed))
        })
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

/// Parses a `--kube-version` as Helm 4 does: an optional `v`, then at least MAJOR.MINOR (`1`
/// alone is no Kubernetes version); a pre-release or build part is kept for
/// `capabilities.kube_version` but not compared (see [`kube_core`]).
pub fn parse_kube_version(text: &str) -> Result<Version, String> {
    let t = text.trim();
    let core = t.strip_prefix('v').unwrap_or(t);
    let core = core.split(['-', '+']).next().unwrap_or_default();
    if core.split('.').count() < 2 {
        return Err(format!(
            "`{text}` is not a Kubernetes version (expected MAJOR.MINOR[.PATCH], e.g. 1.35.0)"
        ));
    }
    parse_lenient(text)
}

/// The version as a chart's `kubeVersion` is checked against it: MAJOR.MINOR.PATCH alone, as
/// Helm compares it (`1.33.4-gke.1245000` satisfies `>=1.28`).
pub fn kube_core(version: &Version) -> Version {
    Version::new(version.major, version.minor, version.patch)
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
    /// The version the comparator compares with: wildcards as 0, the pre-release kept.
    fn floor(&self) -> Version {
        let mut v = Version::new(
            self.major.unwrap_or(0),
            self.minor.unwrap_or(0),
            self.patch.unwrap_or(0),
        );
        v.pre = self.pre.clone();
        v
    }

    /// Which part is the first wildcard (a missing part counts as one).
    fn wild(&self) -> Wild {
        match (self.major, self.minor, self.patch) {
            (None, _, _) => Wild::Major,
            (_, None, _) => Wild::Minor,
            (_, _, None) => Wild::Patch,
            _ => Wild::None,
        }
    }
}

/// The first wildcard part of a comparator's version. Masterminds gives `*` (a wildcard major)
/// rules of its own that are not those of `1.x`: `>*` admits every version above 0, `<=*` and
/// `^*` only 0.0.x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wild {
    None,
    Patch,
    Minor,
    Major,
}

impl Comparator {
    /// Whether `v` (without build metadata) satisfies this comparator; `pre_allowed` is true when
    /// some comparator of the same alternative names a pre-release, which lets pre-release
    /// versions be compared at all (Masterminds semver v3.4, which Helm 4 uses).
    fn matches(&self, v: &Version, pre_allowed: bool) -> bool {
        if !v.pre.is_empty() && !pre_allowed {
            return false;
        }
        let c = self.version.floor();
        let wild = self.version.wild();
        match self.op {
            Op::Eq if wild == Wild::None => *v == c,
            Op::Eq | Op::Tilde => tilde(v, &c, wild),
            Op::Ne => not_equal(v, &c, wild),
            Op::Gt => greater(v, &c, wild),
            Op::Ge => *v >= c,
            Op::Lt => *v < c,
            Op::Le => at_most(v, &c, wild),
            Op::Caret => caret(v, &c, wild),
        }
    }
}

/// `!=`: a wildcard excludes the versions it covers; with a wildcard patch, a pre-release other
/// than the comparator's own is not covered (`!=4.1-alpha` admits 4.1.0).
fn not_equal(v: &Version, c: &Version, wild: Wild) -> bool {
    if wild != Wild::None {
        if v.major != c.major {
            return true;
        }
        if wild == Wild::Minor {
            return false;
        }
        if v.minor != c.minor {
            return true;
        }
        if wild == Wild::Patch {
            return v.pre != c.pre;
        }
        if v.patch != c.patch {
            return true;
        }
    }
    v != c
}

/// `>`: above everything the wildcard covers (`>1.2` needs 1.3.0).
fn greater(v: &Version, c: &Version, wild: Wild) -> bool {
    if wild == Wild::None || wild == Wild::Major && v.major == c.major {
        return v > c;
    }
    match v.major.cmp(&c.major) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => wild == Wild::Patch && v.minor > c.minor,
    }
}

/// `<=`: up to the end of what the wildcard covers (`<=1.2` admits 1.2.9).
fn at_most(v: &Version, c: &Version, wild: Wild) -> bool {
    if wild == Wild::None {
        return v <= c;
    }
    v.major < c.major || v.major == c.major && (wild == Wild::Minor || v.minor <= c.minor)
}

/// `~` (and a bare or `=` wildcard): at least the version, within its minor (its major when the
/// minor is a wildcard); `~0.0.0` and `~*` admit everything.
fn tilde(v: &Version, c: &Version, wild: Wild) -> bool {
    if v < c {
        return false;
    }
    if (c.major, c.minor, c.patch) == (0, 0, 0) && !matches!(wild, Wild::Minor | Wild::Patch) {
        return true;
    }
    v.major == c.major && (wild == Wild::Minor || v.minor == c.minor)
}

/// `^`: at least the version, within its first non-zero part.
fn caret(v: &Version, c: &Version, wild: Wild) -> bool {
    if v < c {
        return false;
    }
    if c.major > 0 || wild == Wild::Minor {
        return v.major == c.major;
    }
    if v.major > 0 {
        return false;
    }
    if c.minor > 0 || wild == Wild::Patch {
        return v.minor == c.minor;
    }
    v.minor == 0 && v.patch == c.patch
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

    /// Every case of Masterminds semver v3.4's constraint tests (the library Helm 4 links);
    /// tests/it/constraints.rs puts the same cases to Helm itself.
    #[test]
    fn masterminds_test_tables() {
        let table = include_str!("../tests/fixtures/semver/masterminds-v3.4.0-constraints.tsv");
        let mut wrong = Vec::new();
        let mut cases = 0;
        for line in table.lines().filter(|l| !l.starts_with('#')) {
            let [constraint, version, expected] = line.split('\t').collect::<Vec<_>>()[..] else {
                panic!("a case has three columns: {line:?}");
            };
            cases += 1;
            if check(constraint, version) != (expected == "true") {
                wrong.push(format!("{constraint} vs {version}: expected {expected}"));
            }
        }
        assert!(cases > 200, "the table should not shrink");
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn kube_versions_as_helm_reads_them() {
        for bad in ["1", "0", "v1", "1-gke.1", "", "1.x"] {
            assert!(parse_kube_version(bad).is_err(), "{bad:?}");
        }
        let gke = parse_kube_version("v1.33.4-gke.1245000").unwrap();
        assert_eq!(gke.pre.as_str(), "gke.1245000");
        assert_eq!(kube_core(&gke), Version::new(1, 33, 4));
        assert!(
            Constraint::parse(">=1.28")
                .unwrap()
                .matches(&kube_core(&gke))
        );
        assert_eq!(parse_kube_version("1.30").unwrap(), Version::new(1, 30, 0));
    }

    #[test]
    fn lenient_versions() {
        assert_eq!(parse_lenient("v1.35").unwrap(), Version::new(1, 35, 0));
        assert!(parse_lenient("1.x").is_err());
        assert!(Constraint::parse("").is_err());
        assert!(Constraint::parse(">=banana").is_err());
    }
}
