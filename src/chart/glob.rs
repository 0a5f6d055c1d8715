//! Shell-style patterns with Go's `filepath.Match` rules (`*`, `?`, `[a-z]`, `[^a]`, `\x`),
//! optionally with `**` crossing `/` (as `files.glob` allows). Matching is a bounded dynamic
//! programme, so no pattern can make it take exponential time.

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone)]
enum Token {
    Char(char),
    AnyChar,
    Star,
    DoubleStar,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Pattern {
    /// Compiles `pattern`; with `double_star`, `**` matches across `/`.
    pub fn new(pattern: &str, double_star: bool) -> Result<Pattern, String> {
        let bad = |why: &str| format!("bad pattern `{pattern}`: {why}");
        let mut tokens = Vec::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            let token = match c {
                '*' if double_star && chars.peek() == Some(&'*') => {
                    chars.next();
                    Token::DoubleStar
                }
                '*' => Token::Star,
                '?' => Token::AnyChar,
                '\\' => Token::Char(chars.next().ok_or_else(|| bad("ends with `\\`"))?),
                '[' => {
                    let negated = chars.peek() == Some(&'^');
                    if negated {
                        chars.next();
                    }
                    let mut ranges = Vec::new();
                    loop {
                        let mut lo = chars.next().ok_or_else(|| bad("unclosed `[`"))?;
                        if lo == ']' && !ranges.is_empty() {
                            break;
                        }
                        if lo == ']' {
                            return Err(bad("empty `[]`"));
                        }
                        if lo == '\\' {
                            lo = chars.next().ok_or_else(|| bad("unclosed `[`"))?;
                        }
                        let mut hi = lo;
                        if chars.peek() == Some(&'-') {
                            chars.next();
                            hi = chars.next().ok_or_else(|| bad("unclosed range"))?;
                            if hi == '\\' {
                                hi = chars.next().ok_or_else(|| bad("unclosed range"))?;
                            }
                            if hi == ']' {
                                return Err(bad("unclosed range"));
                            }
                        }
                        ranges.push((lo, hi));
                    }
                    Token::Class { negated, ranges }
                }
                c => Token::Char(c),
            };
            tokens.push(token);
        }
        Ok(Pattern { tokens })
    }

    /// Whether the whole of `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        // row[j]: tokens so far match name[..j]
        let mut row = vec![false; name.len() + 1];
        row[0] = true;
        for token in &self.tokens {
            let mut next = vec![false; name.len() + 1];
            for j in 0..=name.len() {
                next[j] = match token {
                    Token::Star => row[j] || (j > 0 && next[j - 1] && name[j - 1] != '/'),
                    Token::DoubleStar => row[j] || (j > 0 && next[j - 1]),
                    _ => j > 0 && row[j - 1] && token.matches_char(name[j - 1]),
                };
            }
            row = next;
        }
        row[name.len()]
    }
}

impl Token {
    fn matches_char(&self, c: char) -> bool {
        match self {
            Token::Char(expected) => *expected == c,
            Token::AnyChar => c != '/',
            Token::Class { negated, ranges } => {
                c != '/' && ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
            }
            Token::Star | Token::DoubleStar => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn go_match_rules() {
        let m = |p: &str, n: &str| Pattern::new(p, false).unwrap().matches(n);
        assert!(m("*.yaml", "a.yaml"));
        assert!(!m("*.yaml", "dir/a.yaml"));
        assert!(m("templates/*", "templates/x.yaml"));
        assert!(m("[a-c]?", "bz"));
        assert!(!m("[^a-c]?", "bz"));
        assert!(m("a\\*", "a*"));
        assert!(Pattern::new("[", false).is_err());
        assert!(Pattern::new("a\\", false).is_err());
        let g = |p: &str, n: &str| Pattern::new(p, true).unwrap().matches(n);
        assert!(g("conf/**", "conf/a/b.txt"));
        assert!(g("**/*.txt", "a/b/c.txt"));
    }
}
