//! A fast reader for the plain block YAML that rendered manifests are written in, straight into
//! the tree every later step reads (head, checks, order, validation, diff).
//!
//! Parsing every rendered document with the full YAML parser costs more than rendering it, so
//! [`parse`] reads a strict subset itself: block maps and sequences indented with spaces, plain
//! and quoted scalars on one line, literal and folded block scalars, one-line flow collections of
//! scalars, and comments. Plain scalars are typed as Kubernetes clients type them (YAML 1.1, see
//! [`kube`]). For anything outside the subset, or anything it is unsure of (anchors, tags,
//! multi-line plain or quoted scalars, duplicate keys, odd indentation, keys that are no
//! strings), it answers `None` and the caller uses the [full reader](super::full). A test
//! compares the two on thousands of mutated documents.
//!
//! Values files are read by the same reader with YAML 1.2's typing ([`Typing::Core`], see
//! [`core_schema`](super::core_schema)), their own full reader being serde_yaml.

use std::borrow::Cow;

use bumpalo::Bump;

use super::tree::{Map, Value};
use super::{core_schema, kube};

/// How plain scalars (and so keys) are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Typing {
    /// As Kubernetes clients type a rendered manifest: YAML 1.1 (see [`kube`]).
    Kube,
    /// As Helm types a values file: YAML 1.2's core schema (see [`core_schema`]).
    Core,
}

/// How deeply collections may nest before the reader gives up.
const MAX_DEPTH: usize = 64;

/// Parses one rendered document, or `None` when it is outside the subset.
pub fn parse<'a>(text: &'a str, arena: &'a Bump) -> Option<Value<'a>> {
    parse_typed(text, arena, Typing::Kube)
}

/// Parses one document with plain scalars typed by `typing`, or `None` when it is outside the
/// subset.
pub(crate) fn parse_typed<'a>(text: &'a str, arena: &'a Bump, typing: Typing) -> Option<Value<'a>> {
    // Tabs have rules of their own in YAML, and some characters are not for a fast reader
    // (see `fast_readable`): leave them to the full parser.
    if memchr::memchr(b'\t', text.as_bytes()).is_some() || !fast_readable(text) {
        return None;
    }
    let mut lines: Vec<&str> = Vec::with_capacity(text.len() / 16);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
        lines.push(&text[start..end]);
        start = end + 1;
    }
    // The final line break ends the last line; it starts no new one.
    if start < text.len() {
        lines.push(&text[start..]);
    }
    let mut reader = Reader {
        ends_in_break: text.ends_with('\n'),
        lines,
        pos: 0,
        cached: None,
        members: Vec::new(),
        items: Vec::new(),
        arena,
        typing,
    };
    let first = reader.peek()?;
    let value = reader.node(first.0, 0)?;
    // Everything must have been read.
    if reader.peek().is_some() {
        return None;
    }
    Some(value)
}

struct Reader<'a> {
    lines: Vec<&'a str>,
    /// Whether the text ends with a line break (a block scalar on the last line keeps none
    /// of its own otherwise).
    ends_in_break: bool,
    pos: usize,
    /// The answer of [`Reader::peek`] for `pos`, once computed.
    cached: Option<(usize, Option<(usize, &'a str)>)>,
    /// The members of the maps being read, innermost last (see [`Map::from_stack`]).
    members: Vec<(&'a str, Value<'a>)>,
    /// The items of the sequences being read, innermost last.
    items: Vec<Value<'a>>,
    /// Where collections and unescaped strings go.
    arena: &'a Bump,
    typing: Typing,
}

impl<'a> Reader<'a> {
    /// The next line with content, as (indent, content), skipping blank and comment lines.
    fn peek(&mut self) -> Option<(usize, &'a str)> {
        if let Some((pos, answer)) = self.cached
            && pos == self.pos
        {
            return answer;
        }
        let answer = self.scan();
        // Skipping blank lines moved `pos`; remember the answer for that position.
        self.cached = Some((self.pos, answer));
        answer
    }

    /// Finds the next line with content (see [`Reader::peek`]). Lines hold no tab and no
    /// carriage return: `parse` leaves text with either to the full parser.
    fn scan(&mut self) -> Option<(usize, &'a str)> {
        while let Some(line) = self.lines.get(self.pos) {
            let bytes = line.as_bytes();
            let spaces = bytes.iter().take_while(|&&b| b == b' ').count();
            match bytes.get(spaces) {
                None | Some(b'#') => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            if spaces == 0 && (bytes.starts_with(b"---") || bytes.starts_with(b"...")) {
                return Some((usize::MAX, line));
            }
            return Some((spaces, &line[spaces..]));
        }
        None
    }

    /// A block collection starting at the next line, which is at `indent`.
    fn node(&mut self, indent: usize, depth: usize) -> Option<Value<'a>> {
        if depth > MAX_DEPTH || indent == usize::MAX {
            return None;
        }
        let (_, content) = self.peek()?;
        if is_item(content) {
            self.sequence(indent, depth)
        } else {
            self.map(indent, None, depth)
        }
    }

    /// A block map at `indent`; `first` is a first line already split off a sequence item.
    fn map(&mut self, indent: usize, first: Option<&'a str>, depth: usize) -> Option<Value<'a>> {
        let start = self.members.len();
        let mut pending = first;
        loop {
            let content = match pending.take() {
                Some(content) => content,
                None => match self.peek() {
                    Some((i, c)) if i == indent && !is_item(c) => {
                        self.pos += 1;
                        c
                    }
                    Some((i, _)) if i > indent && i != usize::MAX => return None,
                    _ => break,
                },
            };
            let (key, rest) = split_key(content, self.typing)?;
            let value = self.value(rest, indent, true, depth)?;
            self.members.push((keep(key, self.arena), value));
        }
        Map::from_stack(&mut self.members, start, self.arena).map(Value::Object)
    }

    /// A block sequence at `indent`.
    fn sequence(&mut self, indent: usize, depth: usize) -> Option<Value<'a>> {
        let start = self.items.len();
        while let Some((i, content)) = self.peek() {
            if i != indent || !is_item(content) {
                if i > indent && i != usize::MAX {
                    return None;
                }
                break;
            }
            self.pos += 1;
            let rest = content[1..].trim_start_matches(' ');
            let offset = indent + (content.len() - rest.len());
            let item = if rest.is_empty() || rest.starts_with('#') {
                self.nested(indent, false, depth)?
            } else if is_item(rest) {
                return None;
            } else if looks_like_key(rest, self.typing) {
                self.map(offset, Some(rest), depth + 1)?
            } else {
                self.value(rest, indent, false, depth)?
            };
            self.items.push(item);
        }
        let items = self.arena.alloc_slice_fill_iter(self.items.drain(start..));
        Some(Value::array(items))
    }

    /// The value after `key:` (or `- `) on a line at `indent`.
    fn value(
        &mut self,
        rest: &'a str,
        indent: usize,
        in_map: bool,
        depth: usize,
    ) -> Option<Value<'a>> {
        let rest = rest.trim_start_matches(' ');
        if rest.is_empty() || rest.starts_with('#') {
            return self.nested(indent, in_map, depth);
        }
        let value = match rest.as_bytes()[0] {
            b'|' | b'>' => return self.block_scalar(rest, indent),
            b'"' => {
                let (text, after) = double_quoted(rest)?;
                end_of_line(after)?;
                Value::str(keep(text, self.arena))
            }
            b'\'' => {
                let (text, after) = single_quoted(rest)?;
                end_of_line(after)?;
                Value::str(keep(text, self.arena))
            }
            b'[' | b'{' => {
                let (value, after) = flow(rest, 0, self.arena, self.typing)?;
                end_of_line(after)?;
                value
            }
            _ => plain_value(strip_comment(rest)?, self.typing)?,
        };
        // A more indented line after a scalar would continue it: outside the subset.
        match self.peek() {
            Some((i, _)) if i > indent && i != usize::MAX => None,
            _ => Some(value),
        }
    }

    /// The block collection under `key:` (more indented, or a sequence at the key's indent).
    fn nested(&mut self, indent: usize, in_map: bool, depth: usize) -> Option<Value<'a>> {
        match self.peek() {
            Some((i, _)) if i > indent && i != usize::MAX => self.node(i, depth + 1),
            Some((i, c)) if in_map && i == indent && is_item(c) => self.sequence(i, depth + 1),
            _ => Some(Value::Null),
        }
    }

    /// A literal (`|`) or folded (`>`) block scalar with optional chomping (`-`, `+`).
    fn block_scalar(&mut self, header: &str, indent: usize) -> Option<Value<'a>> {
        let header = strip_comment(header)?;
        let literal = header.starts_with('|');
        let chomp = match &header[1..] {
            "" => Chomp::Clip,
            "-" => Chomp::Strip,
            "+" => Chomp::Keep,
            _ => return None,
        };
        let mut body: Vec<&str> = Vec::new();
        let mut content_indent = None;
        let mut leading_spaces = 0;
        while let Some(line) = self.lines.get(self.pos) {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let trimmed = line.trim_start_matches(' ');
            let spaces = line.len() - trimmed.len();
            if trimmed.is_empty() {
                // A leading blank line may not be indented deeper than the first text line.
                match content_indent {
                    None => leading_spaces = leading_spaces.max(spaces),
                    // Spaces beyond the indentation are content: outside the subset.
                    Some(ci) if spaces > ci => return None,
                    Some(_) => {}
                }
                body.push("");
                self.pos += 1;
                continue;
            }
            if spaces <= indent {
                break;
            }
            let ci = *content_indent.get_or_insert(spaces);
            if spaces < ci || leading_spaces > ci || trimmed.starts_with('\t') {
                return None;
            }
            // Lines more indented than the first keep their spaces; folding them is not in
            // the subset.
            if !literal && spaces > ci {
                return None;
            }
            body.push(&line[ci..]);
            self.pos += 1;
        }
        // Blank lines read past the end belong to the scalar only for `keep`; give them back
        // so that positions stay right, they carry no content anyway.
        let trailing = body.iter().rev().take_while(|l| l.is_empty()).count();
        let content = &body[..body.len() - trailing];
        if content_indent.is_none() || (content.is_empty() && chomp == Chomp::Keep) {
            return None;
        }
        let mut text = if literal {
            content.join("\n")
        } else {
            fold(content)
        };
        // Every line read is followed by a line break, except the input's last line when the
        // input does not end with one.
        let breaks =
            trailing + 1 - usize::from(self.pos == self.lines.len() && !self.ends_in_break);
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => text.push_str(&"\n".repeat(breaks.min(1))),
            Chomp::Keep => text.push_str(&"\n".repeat(breaks)),
        }
        Some(Value::str(self.arena.alloc_str(&text)))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

/// The first `: ` (or a `:` ending the text) in `text`, by bytes.
fn key_colon(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' ') {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Folds the lines of a `>` scalar: line breaks between text lines become spaces, a blank line
/// becomes one line break.
fn fold(lines: &[&str]) -> String {
    let mut out = String::new();
    let mut previous_blank = true;
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            out.push('\n');
            previous_blank = true;
            continue;
        }
        if i > 0 && !previous_blank {
            out.push(' ');
        }
        out.push_str(line);
        previous_blank = false;
    }
    out
}

/// Whether a line's content is a sequence item (`-` then a space or nothing).
fn is_item(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// Whether the text after `- ` starts a compact map (`- key: value`).
fn looks_like_key(rest: &str, typing: Typing) -> bool {
    split_key(rest, typing).is_some()
}

/// Splits `key: rest` (or `key:` at the end); the key must be a plain string.
fn split_key(content: &str, typing: Typing) -> Option<(Cow<'_, str>, &str)> {
    let (key, rest) = split_any_key(content, typing)?;
    // The key's span (quotes included) must stay within YAML's limit for implicit keys.
    if content.len() - rest.len() > MAX_FAST_KEY {
        return None;
    }
    Some((key, rest))
}

/// The bytes of the usual key: ASCII letters and digits, `-`, `_`, `.` and `/`.
const KEY_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/');
        b += 1;
    }
    table
};

fn split_any_key(content: &str, typing: Typing) -> Option<(Cow<'_, str>, &str)> {
    let bytes = content.as_bytes();
    if matches!(bytes.first(), Some(b'"' | b'\'')) {
        let (key, after) = if bytes[0] == b'"' {
            double_quoted(content)?
        } else {
            single_quoted(content)?
        };
        let rest = after.strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        return Some((key, rest));
    }
    // The usual key (`name`, `app.kubernetes.io/name`) is a string whatever YAML's rules say
    // about scalars that start with digits or indicators: found in one pass.
    let simple_end = if bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        bytes.iter().position(|&b| !KEY_BYTES[usize::from(b)])
    } else {
        None
    };
    if let Some(end) = simple_end
        && bytes[end] == b':'
        && bytes.get(end + 1).is_none_or(|&b| b == b' ')
    {
        let key = &content[..end];
        // `on`, `yes`, `n`, `null` and the like are no strings to Kubernetes clients (and
        // `null`, `true`, `false` none to YAML 1.2).
        let typed = end <= 5
            && matches!(
                bytes[0],
                b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O'
            )
            && plain_key(key, typing).is_none();
        if !typed {
            return Some((Cow::Borrowed(key), &content[end + 1..]));
        }
    }
    let colon = key_colon(content)?;
    let key = &content[..colon];
    if key.is_empty() || key.ends_with(' ') || !plain_start(key) || key.contains(" #") {
        return None;
    }
    // Keys that are not strings to Kubernetes clients are outside the subset, and so is the
    // merge key `<<`, which they apply.
    if key == "<<" {
        return None;
    }
    Some((
        Cow::Borrowed(plain_key(key, typing)?),
        &content[colon + 1..],
    ))
}

/// Whether a plain scalar may start this way (no indicator characters).
fn plain_start(text: &str) -> bool {
    let first = text.as_bytes()[0];
    !matches!(
        first,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    ) || (first == b'-'
        && text.len() > 1
        && !text[1..].starts_with(' ')
        && text.as_bytes()[1] != b'-')
}

/// A plain scalar's text without a trailing comment; `None` if it contains `: ` or ends in `:`.
fn strip_comment(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'#' if i > 0 && bytes[i - 1] == b' ' => {
                end = i;
                break;
            }
            b':' if i + 1 == bytes.len() || bytes[i + 1] == b' ' => return None,
            _ => {}
        }
    }
    let text = text[..end].trim_end_matches(' ');
    if text.ends_with(':') {
        return None;
    }
    Some(text)
}

/// The value of a plain scalar, typed as Kubernetes clients type it (see [`kube`]) or as
/// YAML 1.2 does (see [`core_schema`]); `None` for what no manifest can carry (`.inf`) and
/// for what is left to the full reader.
fn plain_value(text: &str, typing: Typing) -> Option<Value<'_>> {
    match typing {
        Typing::Kube => kube::value(text, plain_scalar(text)?),
        Typing::Core if text.is_empty() || !plain_start(text) => None,
        Typing::Core => core_schema::value(text),
    }
}

/// How Kubernetes clients type the plain scalar `text`; `None` for what this reader leaves to
/// the full one.
fn plain_scalar(text: &str) -> Option<kube::Scalar> {
    if text.is_empty() || !plain_start(text) {
        return None;
    }
    // An integer past 64 bits (in any base) is a float or a string to Kubernetes clients, but
    // serde_yaml refuses the document: the full reader says so. A leading zero that is no
    // octal (`08`, a float to go-yaml) is left to it as well.
    let scalar = kube::resolve(text);
    if integer_shaped(text) && !matches!(scalar, kube::Scalar::Int(_) | kube::Scalar::Uint(_)) {
        return None;
    }
    Some(scalar)
}

/// Whether `text` is an integer's digits, signed or not: decimal, or `0x`, `0o` or `0b` and
/// digits of that base.
fn integer_shaped(text: &str) -> bool {
    let unsigned = text.trim_start_matches(['+', '-']);
    let radix = [("0x", 16), ("0o", 8), ("0b", 2)]
        .iter()
        .find_map(|(prefix, radix)| unsigned.strip_prefix(prefix).map(|d| (d, *radix)));
    let (digits, radix) = radix.unwrap_or((unsigned, 10));
    !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))
}

/// A plain scalar as a mapping key: only one that reads as the same string.
fn plain_key(text: &str, typing: Typing) -> Option<&str> {
    let string = match typing {
        Typing::Kube => plain_scalar(text)? == kube::Scalar::Str,
        Typing::Core => matches!(plain_value(text, typing)?, Value::String(_)),
    };
    string.then_some(text)
}

/// A string read from the text: the slice itself, or its unescaped copy moved into `arena`.
fn keep<'a>(text: Cow<'a, str>, arena: &'a Bump) -> &'a str {
    match text {
        Cow::Borrowed(text) => text,
        Cow::Owned(text) => arena.alloc_str(&text),
    }
}

/// Only spaces or a comment may follow a value.
fn end_of_line(after: &str) -> Option<()> {
    let after = after.trim_start_matches(' ');
    (after.is_empty() || after.starts_with('#')).then_some(())
}

/// A double-quoted scalar at the start of `text` with simple escapes; the rest of the line.
fn double_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    // Most quoted text has no escapes: then it is a slice of the line.
    if let Some(end) = text[1..].find(['"', '\\'])
        && text.as_bytes()[end + 1] == b'"'
    {
        return Some((Cow::Borrowed(&text[1..end + 1]), &text[end + 2..]));
    }
    let mut out = String::new();
    let mut chars = text[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((Cow::Owned(out), &text[i + 2..])),
            '\\' => {
                let (_, e) = chars.next()?;
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    '0' => '\0',
                    _ => return None,
                });
            }
            _ => out.push(c),
        }
    }
    None
}

/// A single-quoted scalar at the start of `text` (`''` is a quote); the rest of the line.
fn single_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    if let Some(end) = text[1..].find('\'')
        && text.as_bytes().get(end + 2) != Some(&b'\'')
    {
        return Some((Cow::Borrowed(&text[1..end + 1]), &text[end + 2..]));
    }
    let mut out = String::new();
    let body = &text[1..];
    let mut i = 0;
    let bytes = body.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            return Some((Cow::Owned(out), &body[i + 1..]));
        }
        let c = body[i..].chars().next()?;
        out.push(c);
        i += c.len_utf8();
    }
    None
}

/// A one-line flow collection of scalars and flow collections; the rest of the line.
fn flow<'a>(
    text: &'a str,
    depth: usize,
    arena: &'a Bump,
    typing: Typing,
) -> Option<(Value<'a>, &'a str)> {
    if depth > MAX_DEPTH || (depth == 0 && text.contains('#')) {
        return None;
    }
    let (close, is_map) = if text.starts_with('[') {
        (']', false)
    } else {
        ('}', true)
    };
    let finish = |mut members: Vec<_>, list: Vec<_>| {
        if is_map {
            Map::from_stack(&mut members, 0, arena).map(Value::Object)
        } else {
            Some(Value::array(arena.alloc_slice_fill_iter(list)))
        }
    };
    let mut rest = text[1..].trim_start_matches(' ');
    let mut list = Vec::new();
    let mut members = Vec::new();
    if let Some(after) = rest.strip_prefix(close) {
        return Some((finish(members, list)?, after));
    }
    loop {
        if is_map {
            let colon = rest.find(": ")?;
            if colon > MAX_FAST_KEY {
                return None;
            }
            let key = plain_key(rest[..colon].trim_end_matches(' '), typing)?;
            if key == "<<" || key.contains([',', '{', '}', '[', ']']) {
                return None;
            }
            let (value, after) = flow_item(
                rest[colon + 2..].trim_start_matches(' '),
                close,
                depth,
                arena,
                typing,
            )?;
            members.push((key, value));
            rest = after;
        } else {
            let (value, after) = flow_item(rest, close, depth, arena, typing)?;
            list.push(value);
            rest = after;
        }
        rest = rest.trim_start_matches(' ');
        if let Some(after) = rest.strip_prefix(close) {
            return Some((finish(members, list)?, after));
        }
        rest = rest.strip_prefix(',')?.trim_start_matches(' ');
        if rest.starts_with(close) {
            return None;
        }
    }
}

/// One item of a flow collection and what follows it.
fn flow_item<'a>(
    text: &'a str,
    close: char,
    depth: usize,
    arena: &'a Bump,
    typing: Typing,
) -> Option<(Value<'a>, &'a str)> {
    match text.as_bytes().first()? {
        b'[' | b'{' => flow(text, depth + 1, arena, typing),
        b'"' => double_quoted(text).map(|(s, r)| (Value::str(keep(s, arena)), r)),
        b'\'' => single_quoted(text).map(|(s, r)| (Value::str(keep(s, arena)), r)),
        _ => {
            let end = text.find([',', close]).unwrap_or(text.len());
            let item = text[..end].trim_end_matches(' ');
            if item.contains([':', '#', '[', ']', '{', '}']) {
                return None;
            }
            Some((plain_value(item, typing)?, &text[end..]))
        }
    }
}

/// The longest implicit key the fast readers take (YAML allows 1024 characters; a reader that
/// counts differently at the edge goes to the full parser, which decides).
const MAX_FAST_KEY: usize = 1000;

/// Whether `text` holds only characters the fast YAML readers may read as they are: anything
/// else goes to the full parser, which reads it as kubectl does or refuses it. Outside are the
/// characters YAML forbids (C0 and C1 controls but tab and line feed, DEL, U+FFFE, U+FFFF),
/// carriage returns, the byte-order mark, and the line breaks of YAML 1.1 beyond `\n` (NEL,
/// U+2028, U+2029), which would let a rendered value end a comment and start a key the cluster
/// sees and the fast reader does not.
fn fast_readable(text: &str) -> bool {
    // The common case, ASCII without controls, in one pass the compiler vectorizes.
    let unusual = text.bytes().fold(false, |acc, b| {
        acc | ((b < 0x20 && b != b'\n' && b != b'\t') || b >= 0x7f)
    });
    !unusual
        || text.chars().all(|c| match c {
            '\n' | '\t' => true,
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => false,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => false,
            _ => true,
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::parse;
    use crate::yaml::full;

    /// Seeds: the shapes rendered manifests take.
    pub(crate) const SEEDS: &[&str] = &[
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\n  annotations:\n    a/b: \"1\"\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"r/web:1.0@sha256:ab\"\n          args: [\"-c\", max_connections=200]\n          resources:\n            requests: {cpu: 250m, memory: 1Gi}\n          ports:\n          - containerPort: 8080\n            protocol: TCP\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c # comment\ndata:\n  script: |\n    #!/bin/sh\n    echo hi\n\n    exit 0\n  folded: >-\n    one\n    two\n\n    three\n  keep: |+\n    x\n\n  empty: ''\n  quote: 'it''s'\n  num: 0755\n  f: 1.5\n  e: 1e3\n  hex: 0x1F\n  neg: -12\n  t: True\n  nil: ~\n  s: -x\n  mode: 0644\n  q: \"no\"\n  b: off\n",
        "apiVersion: v1\nkind: List\nitems:\n- a\n-\n  - b\n- key: v\n  other: [1, 2, {x: y}]\n- \"q\"\n",
        // Block scalars that run to the end of input, with no line break after them.
        "data:\n  a: |\n    x\n  b: >\n    y\n    z",
    ];

    /// A deterministic generator (no dependency needed for a test).
    pub(crate) struct Rng(pub(crate) u64);
    impl Rng {
        pub(crate) fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    pub(crate) const PIECES: &[&str] = &[
        " ",
        "  ",
        "\n",
        ":",
        ": ",
        "-",
        "- ",
        "#",
        " #",
        "\"",
        "'",
        "|",
        ">",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&a",
        "*a",
        "!t",
        "\t",
        "\\",
        "0",
        "1",
        "0x",
        ".",
        "e",
        "true",
        "~",
        "null",
        "\n  ",
        "\n- ",
        "key: ",
        "  - ",
        "---",
        "?",
        "%",
        "@",
        "é",
        // What YAML 1.1 reads as line breaks, and what YAML forbids.
        "\u{2028}",
        "\u{2029}",
        "\u{85}",
        "\0",
        "\u{1b}",
        "\u{7f}",
        "\u{ffff}",
        "\u{feff}",
        "\r",
        // An implicit key past YAML's 1,024 characters.
        concat!(
            "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: "
        ),
    ];

    /// One to four edits of `text`: a piece inserted, or a few characters removed.
    pub(crate) fn mutate(text: &mut String, rng: &mut Rng) {
        for _ in 0..=rng.next(3) {
            let at = rng.next(text.len() + 1);
            let at = (0..=at)
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(0);
            if rng.next(3) == 1 {
                let end = (at + 1 + rng.next(4)).min(text.len());
                let end = (end..=text.len())
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(text.len());
                text.replace_range(at..end, "");
            } else {
                text.insert_str(at, PIECES[rng.next(PIECES.len())]);
            }
        }
    }

    #[test]
    fn agrees_with_the_full_reader_on_mutations() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut fast = 0;
        for round in 0..20_000 {
            let seed = SEEDS[round % SEEDS.len()];
            let mut text = seed.to_string();
            mutate(&mut text, &mut rng);
            let arena = bumpalo::Bump::new();
            if let Some(value) = parse(&text, &arena) {
                fast += 1;
                match full::read(&text) {
                    Ok(full) => assert_eq!(value.to_json(), full, "mutation {round}:\n{text}"),
                    Err(e) => {
                        panic!(
                            "mutation {round}: accepted what the full reader refuses ({e:?}):\n{text}"
                        )
                    }
                }
            }
        }
        assert!(fast > 4_000, "the fast path took only {fast} of 20000");
    }

    /// Found by fuzzing: integers past 64 bits, which serde_yaml refuses, are left to the
    /// full reader rather than read as the string or float Kubernetes clients make of them.
    #[test]
    fn leaves_integers_past_64_bits_to_the_full_reader() {
        for text in [
            "\n \n \n- 0o2022222000000000000000",
            "a: 0x1FFFFFFFFFFFFFFFFF\n",
        ] {
            let arena = bumpalo::Bump::new();
            assert!(parse(text, &arena).is_none(), "{text:?}");
            assert!(full::read(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn reads_the_seeds() {
        for seed in SEEDS {
            let full = full::read(seed).unwrap();
            let arena = bumpalo::Bump::new();
            assert_eq!(
                parse(seed, &arena).map(|v| v.to_json()),
                Some(full),
                "{seed}"
            );
        }
    }
}
