//! Shell-style patterns with Go's `filepath.Match` rules (`*`, `?`, `[a-z]`, `[^a]`, `\x`),
//! optionally with `**` crossing `/` (as `files.glob` allows). Matching is a bounded dynamic
//! programme, so no pattern can make it take exponential time.

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    tokens: Vec<Token>,
    /// The common shapes (`name`, `*.ext`, `prefix*`), told without the general matcher.
    shape: Shape,
}

/// How a pattern is matched: most `.helmignore` lines are a name or a star and a suffix.
#[derive(Debug, Clone)]
enum Shape {
    /// No wildcard: the name itself.
    Literal(String),
    /// `*` then text: a name ending in the text, with no `/` before it.
    StarThen(String),
    /// Text then `*`: a name starting with the text, with no `/` after it.
    ThenStar(String),
    /// Anything else: the literal text it starts with, then what the general matcher reads
    /// (its tokens from this index on).
    General(String, usize),
}

impl Shape {
    fn of(tokens: &[Token]) -> Shape {
        let literal = |tokens: &[Token]| -> Option<String> {
            tokens
                .iter()
                .map(|t| match t {
                    Token::Char(c) => Some(*c),
                    _ => None,
                })
                .collect()
        };
        match tokens {
            [Token::Star, rest @ ..] if let Some(text) = literal(rest) => Shape::StarThen(text),
            [rest @ .., Token::Star] if let Some(text) = literal(rest) => Shape::ThenStar(text),
            _ => literal(tokens).map_or_else(
                || {
                    let start = tokens
                        .iter()
                        .position(|t| !matches!(t, Token::Char(_)))
                        .unwrap_or(tokens.len());
                    Shape::General(literal(&tokens[..start]).unwrap_or_default(), start)
                },
                Shape::Literal,
            ),
        }
    }
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
        let shape = Shape::of(&tokens);
        Ok(Pattern { tokens, shape })
    }

    /// Whether the whole of `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        match &self.shape {
            Shape::Literal(text) => name == text,
            Shape::StarThen(text) => name
                .strip_suffix(text.as_str())
                .is_some_and(|head| !head.contains('/')),
            Shape::ThenStar(text) => name
                .strip_prefix(text.as_str())
                .is_some_and(|tail| !tail.contains('/')),
            // Most names fail on the literal start (`templates/.?*` against every path).
            Shape::General(start, from) => match name.strip_prefix(start.as_str()) {
                Some(rest) => general(&self.tokens[*from..], rest),
                None => false,
            },
        }
    }

    /// The dynamic programme, for any pattern.
    #[cfg(test)]
    fn general(&self, name: &str) -> bool {
        general(&self.tokens, name)
    }
}

/// Whether `tokens` match the whole of `name`, by a dynamic programme over the name's
/// characters.
fn general(tokens: &[Token], name: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    // row[j]: the tokens so far match name[..j]
    let mut row = vec![false; name.len() + 1];
    let mut next = row.clone();
    row[0] = true;
    for token in tokens {
        for j in 0..=name.len() {
            next[j] = match token {
                Token::Star => row[j] || (j > 0 && next[j - 1] && name[j - 1] != '/'),
                Token::DoubleStar => row[j] || (j > 0 && next[j - 1]),
                _ => j > 0 && row[j - 1] && token.matches_char(name[j - 1]),
            };
        }
        std::mem::swap(&mut row, &mut next);
    }
    row[name.len()]
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

    #[test]
    fn shapes_and_literal_starts_match_as_the_general_matcher() {
        let patterns = [
            "Cargo.toml",
            "*.swp",
            "*~",
            "target",
            "src/*",
            "*",
            "a*",
            "*a*",
            "templates/.?*",
            "src/?x*",
            "a[bc]*",
            "[a-c]?",
        ];
        let names = [
            "Cargo.toml",
            "x.swp",
            ".swp",
            "a/x.swp",
            "x~",
            "target",
            "targets",
            "src/a",
            "src/a/b",
            "src",
            "",
            "a",
            "ab",
            "a/b",
            "ba",
            "templates/.x",
            "templates/.",
            "templates/x",
            "templates/.a/b",
            "src/ax",
            "src/axe",
            "src/x",
            "abc",
        ];
        for pattern in patterns {
            let compiled = Pattern::new(pattern, false).unwrap();
            for name in names {
                assert_eq!(
                    compiled.matches(name),
                    compiled.general(name),
                    "`{pattern}` on `{name}`"
                );
            }
        }
    }
}
