//! The guard in front of every YAML parser: deep flow nesting is refused before a parser
//! sees it (parsers slow down with depth, and hostile input nests without end).

/// How deeply `[` and `{` may nest in YAML we parse (the YAML parser slows down
/// quadratically with depth, so hostile input is refused before it reaches it).
pub const MAX_FLOW_NESTING: usize = 128;

/// Checks that flow collections (`[...]`, `{...}`) nest at most [`MAX_FLOW_NESTING`] deep;
/// the error is the 1-based line where the limit is passed.
pub fn check_flow_nesting(text: &str) -> std::result::Result<(), usize> {
    // Fast path: with no more opening brackets than the limit, the limit cannot be passed.
    let openers = text.bytes().filter(|&b| b == b'[' || b == b'{').count();
    if openers <= MAX_FLOW_NESTING {
        return Ok(());
    }
    let (mut depth, mut line) = (0usize, 1usize);
    let mut quote: Option<u8> = None;
    let mut previous = b'\n';
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match (quote, b) {
            (_, b'\n') => {
                line += 1;
                if quote == Some(b'#') {
                    quote = None;
                }
            }
            (Some(b'"'), b'\\') => {
                bytes.next();
            }
            (Some(q), b) if q == b && q != b'#' => quote = None,
            (Some(_), _) => {}
            (None, b'#') if previous.is_ascii_whitespace() => quote = Some(b'#'),
            (None, b'"' | b'\'') if b" \t\n:[{,-".contains(&previous) => quote = Some(b),
            (None, b'[' | b'{') => {
                depth += 1;
                if depth > MAX_FLOW_NESTING {
                    return Err(line);
                }
            }
            (None, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        previous = b;
    }
    Ok(())
}
