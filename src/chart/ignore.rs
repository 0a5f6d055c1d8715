//! `.helmignore`: which files of a chart directory are left out, with Helm's rules
//! (pkg/ignore): one pattern a line, `#` comments, `!` negation, a trailing `/` for directories
//! only, a leading `/` or any inner `/` matches the whole relative path, otherwise the base name;
//! `**` is refused. `templates/.?*` is always ignored.
//!
//! Helm's negation is kept as Helm has it: a `!pattern` line ignores everything that does *not*
//! match the pattern.

use super::glob::Pattern;

/// The file name Helm reads ignore rules from.
pub const HELMIGNORE: &str = ".helmignore";

/// Parsed ignore rules.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: Pattern,
    negate: bool,
    dir_only: bool,
    whole_path: bool,
}

impl Rules {
    /// Parses a `.helmignore` file; the error names the line.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let mut rules = Rules::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (number, line) in text.lines().enumerate() {
            rules
                .add(line)
                .map_err(|e| format!("`.helmignore:{}`: {e}", number + 1))?;
        }
        rules.add("templates/.?*")?;
        Ok(rules)
    }

    /// The rules used when a chart has no `.helmignore`.
    pub fn defaults() -> Rules {
        Rules::parse("").unwrap_or_default()
    }

    fn add(&mut self, line: &str) -> Result<(), String> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        if line.contains("**") {
            return Err("double-star (**) syntax is not supported".into());
        }
        let (negate, rest) = match line.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let (dir_only, rest) = match rest.strip_suffix('/') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let (whole_path, rest) = match rest.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (rest.contains('/'), rest),
        };
        let pattern = Pattern::new(rest, false)?;
        self.rules.push(Rule {
            pattern,
            negate,
            dir_only,
            whole_path,
        });
        Ok(())
    }

    /// Whether `path` (relative to the chart, `/`-separated) is ignored.
    pub fn ignored(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        for rule in &self.rules {
            let subject = if rule.whole_path { path } else { base };
            if rule.negate {
                if rule.dir_only && !is_dir {
                    return true;
                }
                if !rule.pattern.matches(subject) {
                    return true;
                }
                continue;
            }
            if rule.dir_only && !is_dir {
                continue;
            }
            if rule.pattern.matches(subject) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::Rules;

    #[test]
    fn helm_rules() {
        let rules = Rules::parse("# comment\ntarget/\n*.swp\n/Cargo.*\nsrc/*.rs\n").unwrap();
        assert!(rules.ignored("target", true));
        assert!(!rules.ignored("target", false));
        assert!(rules.ignored("a/b.swp", false));
        assert!(rules.ignored("Cargo.toml", false));
        assert!(rules.ignored("src/main.rs", false));
        assert!(rules.ignored("templates/.hidden", false));
        assert!(!rules.ignored("templates/api.yaml", false));
        assert!(Rules::parse("a/**/b").is_err());
    }
}
