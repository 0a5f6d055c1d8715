//! A fast check for the plain block YAML that manifests are almost always written in.
//!
//! Checking every rendered document with a full YAML parser costs more than rendering it, so
//! [`scan`] first tries a line-by-line scanner that understands a strict subset of YAML: block
//! maps and sequences indented with spaces, plain scalars on one line, quoted scalars on one
//! line, flow collections on one line, literal and folded block scalars and comments. It reads
//! `apiVersion`, `kind` and `metadata` (name, namespace, annotation keys) on the way.
//!
//! Whenever the scanner meets anything outside that subset, or anything it is not sure about
//! (anchors, tags, multi-line plain or quoted scalars, odd indentation, values that YAML would
//! read as something other than a string where a string is needed), it answers `None` and the
//! document goes to the full parser, which also produces the error message if the document is
//! broken. So the scanner never decides that a document is invalid; it only ever confirms valid
//! ones. Tests compare it with the full parser on thousands of mutated documents.

use super::yaml::{MAX_FAST_KEY, fast_readable, needs_quotes};

/// The fields of a document's head that rendering needs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Head {
    /// `apiVersion`.
    pub api_version: Option<String>,
    /// `kind`.
    pub kind: Option<String>,
    /// `metadata`, when it is present.
    pub metadata: Option<Metadata>,
}

/// The fields of `metadata` that rendering needs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// `metadata.name`.
    pub name: Option<String>,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// Whether `metadata.annotations` has the `helm.sh/hook` key.
    pub hook: bool,
}

/// How deeply one-line flow collections may nest before the scanner gives up.
const MAX_FLOW_DEPTH: usize = 32;

/// Which map of the head a collection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Root,
    Metadata,
    Annotations,
    /// The value of a head field that must be a scalar.
    Scalar,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Seq,
}

#[derive(Debug)]
struct Frame {
    indent: usize,
    kind: Kind,
    role: Role,
    /// A sequence at the same indentation as the key that holds it (`key:\n- a`).
    compact: bool,
}

impl Frame {
    /// A collection that starts on its own line (not a compact sequence).
    fn open(indent: usize, kind: Kind, role: Role) -> Frame {
        Frame {
            indent,
            kind,
            role,
            compact: false,
        }
    }
}

/// A key or `-` whose value is on the following lines.
struct Pending {
    indent: usize,
    in_map: bool,
    role: Role,
}

/// The body of a literal or folded block scalar.
struct Block {
    parent_indent: usize,
    content_indent: Option<usize>,
    widest_blank: usize,
}

#[derive(Default)]
struct Scanner {
    stack: Vec<Frame>,
    pending: Option<Pending>,
    block: Option<Block>,
    root_seen: bool,
    head: Head,
    seen_root_keys: [bool; 3],
    seen_metadata_keys: [bool; 3],
    annotation_keys: Vec<String>,
    /// Whether the document has a tab anywhere (most have none, which saves a search a line).
    tabs: bool,
}

/// Scans a document; `Some` only when the document is certainly valid YAML in the subset.
pub fn scan(text: &str) -> Option<Head> {
    if !fast_readable(text) {
        return None;
    }
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or_default().trim_start_matches(' ');
    if !(first.is_empty() || first.starts_with('#')) {
        return None;
    }
    let mut scanner = Scanner {
        tabs: text.contains('\t'),
        ..Scanner::default()
    };
    for line in lines {
        scanner.line(line)?;
    }
    scanner.finish()
}

fn leading_spaces(line: &str) -> usize {
    line.bytes().take_while(|&b| b == b' ').count()
}

fn is_item(t: &str) -> bool {
    t == "-" || t.starts_with("- ")
}

/// Whether the rest of a line after a value is empty or a comment.
fn is_end(rest: &str) -> bool {
    let trimmed = rest.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.len() < rest.len() && trimmed.starts_with('#'))
}

impl Scanner {
    fn line(&mut self, line: &str) -> Option<()> {
        let spaces = leading_spaces(line);
        let rest = &line[spaces..];
        if let Some(block) = &mut self.block {
            if rest.starts_with('\t') {
                return None;
            }
            if rest.is_empty() {
                block.widest_blank = block.widest_blank.max(spaces);
                return Some(());
            }
            match block.content_indent {
                None if spaces > block.parent_indent => {
                    if block.widest_blank > spaces {
                        return None;
                    }
                    block.content_indent = Some(spaces);
                    return Some(());
                }
                Some(indent) if spaces >= indent => return Some(()),
                _ => self.block = None,
            }
        }
        if self.tabs && line.contains('\t') {
            return None;
        }
        if rest.is_empty() || rest.starts_with('#') {
            return Some(());
        }
        if spaces == 0 && (rest.starts_with("---") || rest.starts_with("...")) {
            return None;
        }
        self.content(spaces, rest)
    }

    fn content(&mut self, n: usize, t: &str) -> Option<()> {
        if let Some(pending) = self.pending.take() {
            let nested = n > pending.indent;
            let compact = n == pending.indent && pending.in_map && is_item(t);
            if !(nested || compact) && pending.role != Role::Other {
                return None;
            }
            if nested || compact {
                if pending.role == Role::Scalar {
                    return None;
                }
                let kind = if is_item(t) { Kind::Seq } else { Kind::Map };
                if kind == Kind::Seq && pending.role != Role::Other {
                    return None;
                }
                self.stack.push(Frame {
                    indent: n,
                    kind,
                    role: pending.role,
                    compact,
                });
            }
        }
        while let Some(top) = self.stack.last() {
            let closes_compact =
                top.indent == n && top.kind == Kind::Seq && top.compact && !is_item(t);
            if top.indent > n || closes_compact {
                self.stack.pop();
            } else {
                break;
            }
        }
        let Some(top) = self.stack.last() else {
            if self.root_seen || is_item(t) {
                return None;
            }
            self.root_seen = true;
            self.stack.push(Frame::open(n, Kind::Map, Role::Root));
            return self.entry(n, t, Role::Root);
        };
        if top.indent != n {
            return None;
        }
        let (kind, role) = (top.kind, top.role);
        match kind {
            Kind::Seq if is_item(t) => self.item(n, t),
            Kind::Map if !is_item(t) => self.entry(n, t, role),
            _ => None,
        }
    }

    fn item(&mut self, n: usize, t: &str) -> Option<()> {
        let after = &t[1..];
        let extra = leading_spaces(after);
        let rest = &after[extra..];
        if rest.is_empty() || (extra > 0 && rest.starts_with('#')) {
            self.pending = Some(Pending {
                indent: n,
                in_map: false,
                role: Role::Other,
            });
            return Some(());
        }
        let column = n + 1 + extra;
        if is_item(rest) {
            self.stack.push(Frame::open(column, Kind::Seq, Role::Other));
            return self.item(column, rest);
        }
        if split_key(rest).is_some() {
            self.stack.push(Frame::open(column, Kind::Map, Role::Other));
            return self.entry(column, rest, Role::Other);
        }
        self.value(rest, n, false).map(|_| ())
    }

    fn entry(&mut self, n: usize, t: &str, role: Role) -> Option<()> {
        let (key, plain, after) = split_key(t)?;
        // Head maps need string keys; a plain key YAML reads otherwise goes to the parser.
        if plain && role != Role::Other && needs_quotes(&key) {
            return None;
        }
        let value = after.trim_start_matches(' ');
        let child = self.note_key(role, &key)?;
        if value.is_empty() || (value.len() < after.len() && value.starts_with('#')) {
            self.pending = Some(Pending {
                indent: n,
                in_map: true,
                role: child,
            });
            return Some(());
        }
        match child {
            Role::Other => self.value(value, n, false).map(|_| ()),
            Role::Scalar => {
                let text = self.value(value, n, true)?;
                self.record(role, &key, text?)
            }
            // `metadata: {...}` or `annotations: {...}` on one line: only the empty map is known.
            Role::Metadata | Role::Annotations if value.trim_end() == "{}" => Some(()),
            _ => None,
        }
    }

    /// Records a key of a head map; returns the role of its value, or `None` on a repeat.
    fn note_key(&mut self, role: Role, key: &str) -> Option<Role> {
        if role == Role::Other {
            return Some(Role::Other);
        }
        let mark = |seen: &mut [bool; 3], i: usize| {
            if std::mem::replace(&mut seen[i], true) {
                None
            } else {
                Some(())
            }
        };
        match (role, key) {
            (Role::Root, "apiVersion") => mark(&mut self.seen_root_keys, 0).map(|_| Role::Scalar),
            (Role::Root, "kind") => mark(&mut self.seen_root_keys, 1).map(|_| Role::Scalar),
            (Role::Root, "metadata") => {
                mark(&mut self.seen_root_keys, 2)?;
                self.head.metadata = Some(Metadata::default());
                Some(Role::Metadata)
            }
            (Role::Metadata, "name") => mark(&mut self.seen_metadata_keys, 0).map(|_| Role::Scalar),
            (Role::Metadata, "namespace") => {
                mark(&mut self.seen_metadata_keys, 1).map(|_| Role::Scalar)
            }
            (Role::Metadata, "annotations") => {
                mark(&mut self.seen_metadata_keys, 2).map(|_| Role::Annotations)
            }
            (Role::Annotations, key) => {
                if self.annotation_keys.iter().any(|k| k == key) {
                    return None;
                }
                self.annotation_keys.push(key.to_string());
                if key == "helm.sh/hook" {
                    self.head
                        .metadata
                        .get_or_insert_with(Metadata::default)
                        .hook = true;
                }
                Some(Role::Other)
            }
            _ => Some(Role::Other),
        }
    }

    fn record(&mut self, role: Role, key: &str, text: String) -> Option<()> {
        let slot = match (role, key) {
            (Role::Root, "apiVersion") => &mut self.head.api_version,
            (Role::Root, "kind") => &mut self.head.kind,
            (Role::Metadata, "name") => {
                &mut self
                    .head
                    .metadata
                    .get_or_insert_with(Metadata::default)
                    .name
            }
            (Role::Metadata, "namespace") => {
                &mut self
                    .head
                    .metadata
                    .get_or_insert_with(Metadata::default)
                    .namespace
            }
            _ => return None,
        };
        *slot = Some(text);
        Some(())
    }

    /// Checks a value that starts on this line. With `want_text`, the inner option is the value
    /// as a string when it is certainly one (a quoted scalar, or a plain one YAML reads as a
    /// string).
    fn value(&mut self, v: &str, parent_indent: usize, want_text: bool) -> Option<Option<String>> {
        let first = v.chars().next()?;
        match first {
            '"' => {
                let (text, rest) = double_quoted(v, want_text)?;
                is_end(rest).then_some(Some(text))
            }
            '\'' => {
                let (text, rest) = single_quoted(v, want_text)?;
                is_end(rest).then_some(Some(text))
            }
            '[' | '{' => {
                let rest = flow_node(v, 0)?;
                is_end(rest).then_some(None)
            }
            '|' | '>' => {
                let header = &v[1..];
                let chomp = header.strip_prefix(['-', '+']).unwrap_or(header);
                if !is_end(chomp) {
                    return None;
                }
                self.block = Some(Block {
                    parent_indent,
                    content_indent: None,
                    widest_blank: 0,
                });
                Some(None)
            }
            '-' if is_item(v) => None,
            '&' | '*' | '!' | '%' | '@' | '`' | '?' | ':' | ',' | ']' | '}' | '#' => None,
            _ => {
                let text = plain(v)?;
                Some((want_text && !needs_quotes(text)).then(|| text.to_string()))
            }
        }
    }

    fn finish(self) -> Option<Head> {
        if !self.root_seen {
            return None;
        }
        if self.pending.as_ref().is_some_and(|p| p.role != Role::Other) {
            return None;
        }
        Some(self.head)
    }
}

/// Splits `key: value` (or `key:` at the end of the line) into the key, whether it is plain,
/// and the rest; `None` if this is not a simple key.
fn split_key(t: &str) -> Option<(std::borrow::Cow<'_, str>, bool, &str)> {
    let (key, plain, rest) = split_any_key(t)?;
    // The key's span (quotes included) must stay within YAML's limit for implicit keys.
    if t.len() - rest.len() > MAX_FAST_KEY {
        return None;
    }
    Some((key, plain, rest))
}

fn split_any_key(t: &str) -> Option<(std::borrow::Cow<'_, str>, bool, &str)> {
    let (key, plain, rest) = match t.chars().next()? {
        '"' => {
            let (key, rest) = double_quoted(t, true)?;
            (key.into(), false, rest.strip_prefix(':')?)
        }
        '\'' => {
            let (key, rest) = single_quoted(t, true)?;
            (key.into(), false, rest.strip_prefix(':')?)
        }
        c if "-?:,[]{}#&*!|>%@`".contains(c) => return None,
        _ => {
            let bytes = t.as_bytes();
            let colon = (0..bytes.len())
                .find(|&i| bytes[i] == b':' && matches!(bytes.get(i + 1), None | Some(b' ')))?;
            let key = &t[..colon];
            if key.ends_with(' ') || find_pair(key.as_bytes(), b' ', b'#').is_some() {
                return None;
            }
            (key.into(), true, &t[colon + 1..])
        }
    };
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, plain, rest))
}

/// The first position of the byte pair `first`, `second` in `bytes`.
fn find_pair(bytes: &[u8], first: u8, second: u8) -> Option<usize> {
    bytes
        .windows(2)
        .position(|w| w[0] == first && w[1] == second)
}

/// A plain scalar running to the end of the line (or a comment); `None` if it is not simple.
fn plain(v: &str) -> Option<&str> {
    let end = find_pair(v.as_bytes(), b' ', b'#').unwrap_or(v.len());
    let text = v[..end].trim_end_matches(' ');
    if text.is_empty() || find_pair(text.as_bytes(), b':', b' ').is_some() || text.ends_with(':') {
        return None;
    }
    if text.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return None;
    }
    Some(text)
}

/// A double-quoted scalar on one line: its text (when `decode`) and the rest of the line.
fn double_quoted(v: &str, decode: bool) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = v.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &v[i + 1..])),
            '\\' => {
                let (_, e) = chars.next()?;
                let decoded = match e {
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    ' ' => ' ',
                    'u' => {
                        let hex: String = (0..4)
                            .filter_map(|_| chars.next().map(|(_, h)| h))
                            .collect();
                        // `from_str_radix` would take a sign (`\u+00e`): four hex digits only.
                        if hex.len() != 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return None;
                        }
                        char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                    }
                    _ => return None,
                };
                if decode {
                    out.push(decoded);
                }
            }
            c if c.is_control() || c == '\u{feff}' => return None,
            c if decode => out.push(c),
            _ => {}
        }
    }
    None
}

/// A single-quoted scalar on one line: its text (when `decode`) and the rest of the line.
fn single_quoted(v: &str, decode: bool) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = v.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' if chars.peek().map(|(_, n)| *n) == Some('\'') => {
                chars.next();
                if decode {
                    out.push('\'');
                }
            }
            '\'' => return Some((out, &v[i + 1..])),
            c if c.is_control() || c == '\u{feff}' => return None,
            c if decode => out.push(c),
            _ => {}
        }
    }
    None
}

/// A flow collection or scalar on one line; returns the rest of the line after it.
fn flow_node(v: &str, depth: usize) -> Option<&str> {
    if depth > MAX_FLOW_DEPTH {
        return None;
    }
    let v = v.trim_start_matches(' ');
    match v.chars().next()? {
        '[' => flow_items(&v[1..], ']', depth),
        '{' => flow_items(&v[1..], '}', depth),
        '"' => double_quoted(v, false).map(|(_, rest)| rest),
        '\'' => single_quoted(v, false).map(|(_, rest)| rest),
        c if "-?:,[]{}#&*!|>%@`".contains(c) => None,
        _ => {
            let bytes = v.as_bytes();
            let mut end = v.len();
            for (i, &b) in bytes.iter().enumerate() {
                match b {
                    b',' | b'[' | b']' | b'{' | b'}' => {
                        end = i;
                        break;
                    }
                    b':' if bytes.get(i + 1) == Some(&b' ') => {
                        end = i;
                        break;
                    }
                    // `a:b` and a comment inside an unclosed collection: leave to the parser.
                    b':' => return None,
                    b'#' if i > 0 && bytes[i - 1] == b' ' => return None,
                    _ => {}
                }
            }
            let text = v[..end].trim_end_matches(' ');
            if text.is_empty() || text.chars().any(|c| c.is_control()) {
                return None;
            }
            Some(&v[end..])
        }
    }
}

/// The entries of a flow sequence (`close` = `]`) or map (`close` = `}`), up to the closer.
fn flow_items(mut v: &str, close: char, depth: usize) -> Option<&str> {
    v = v.trim_start_matches(' ');
    if let Some(rest) = v.strip_prefix(close) {
        return Some(rest);
    }
    loop {
        if close == '}' {
            let key = v;
            v = flow_node(v, depth + 1)?.trim_start_matches(' ');
            if key.len() - v.len() > MAX_FAST_KEY {
                return None;
            }
            v = v.strip_prefix(": ")?;
        }
        v = flow_node(v, depth + 1)?.trim_start_matches(' ');
        if let Some(rest) = v.strip_prefix(close) {
            return Some(rest);
        }
        v = v.strip_prefix(',')?.trim_start_matches(' ');
        if v.starts_with(close) || v.starts_with(',') {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_head_of_plain_manifests() {
        let doc = "\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: \"prod\"\n  labels: {a: b}\n  annotations:\n    helm.sh/hook: pre-install\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: api\n          args: [\"--port\", 80]\n          env:\n          - name: A\n            value: '1'\n      script: |\n        echo hi\n\n        exit 0\n";
        let head = scan(doc).expect("in the subset");
        assert_eq!(head.api_version.as_deref(), Some("apps/v1"));
        assert_eq!(head.kind.as_deref(), Some("Deployment"));
        let metadata = head.metadata.unwrap();
        assert_eq!(metadata.name.as_deref(), Some("api"));
        assert_eq!(metadata.namespace.as_deref(), Some("prod"));
        assert!(metadata.hook);
    }

    #[test]
    fn gives_up_outside_the_subset() {
        for doc in [
            "\na: &x 1\n",
            "\na: *x\n",
            "\na: !!str 1\n",
            "\nkind: multi\n  line\n",
            "\nkind: \"open\n",
            "\n- a\n",
            "\nkind: 1\n",
            "\nkind: a: b\n",
            "\n  kind: a\nb: c\n",
            "\nkind: a\nkind: b\n",
            "\na:\tb\n",
        ] {
            assert_eq!(scan(doc), None, "{doc:?}");
        }
    }
}
