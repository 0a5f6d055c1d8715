//! Jinja's own filters whose arguments decide how much they build (`indent`'s width,
//! `replace`'s replacement, `join`'s separator, `format`'s padding, `batch` and `slice`
//! counts, `tojson`'s indent), checked against the output cap before anything is allocated,
//! then run as minijinja runs them. A chart is hostile input: `indent(2000000000)` must end in
//! an error naming the template and line, not in a 16 GB allocation.

use minijinja::value::{Kwargs, Rest, StringInput, Value, ValueOrKwargs};
use minijinja::{Error, ErrorKind, State, filters};

use super::MAX_OUTPUT;

/// The most items `batch` and `slice` may make (each is at least a list of its own).
const MAX_ITEMS: usize = 1_000_000;
/// The widest `tojson` indent (deeper indents only waste space).
const MAX_JSON_INDENT: usize = 1024;

/// `base + width * count`, or `None` when it overflows.
pub(super) fn grown(base: usize, width: usize, count: usize) -> Option<usize> {
    width.checked_mul(count)?.checked_add(base)
}

/// Fails when `size` (what `filter` would build, `None` for past `usize`) exceeds the cap.
pub(super) fn check_size(filter: &str, size: Option<usize>) -> Result<(), Error> {
    match size {
        Some(size) if size <= MAX_OUTPUT => Ok(()),
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "{filter} would build a string of more than {MAX_OUTPUT} bytes, the limit of a \
                 template's output; use a smaller width or count"
            ),
        )),
    }
}

fn check_count(filter: &str, count: usize) -> Result<(), Error> {
    if count > MAX_ITEMS {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{filter}: a count of {count} is more than the limit of {MAX_ITEMS}"),
        ));
    }
    Ok(())
}

/// Jinja's `indent(width=4, first=false, blank=false)`.
pub(super) fn indent(
    value: StringInput<'_>,
    width: Option<usize>,
    first: Option<bool>,
    blank: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let width = match width {
        Some(width) => width,
        None => kwargs.get::<Option<usize>>("width")?.unwrap_or(4),
    };
    let first = match first {
        Some(first) => first,
        None => kwargs.get::<Option<bool>>("first")?.unwrap_or(false),
    };
    let blank = match blank {
        Some(blank) => blank,
        None => kwargs.get::<Option<bool>>("blank")?.unwrap_or(false),
    };
    kwargs.assert_all_used()?;
    let text = value.as_str();
    let lines = text.split('\n').count();
    check_size("indent", grown(text.len(), width, lines))?;
    filters::indent(
        value,
        Some(width),
        Some(first),
        Some(blank),
        Kwargs::from_iter(std::iter::empty::<(&str, Value)>()),
    )
}

/// Jinja's `replace(old, new)`.
pub(super) fn replace(
    state: &mut State,
    value: StringInput<'_>,
    from: StringInput<'_>,
    to: StringInput<'_>,
) -> Result<Value, Error> {
    let text = value.as_str();
    let (old, new) = (from.as_str().len(), to.as_str().len());
    if new > old {
        // An empty `old` matches between every character and at both ends.
        let matches = if old == 0 {
            text.chars().count() + 1
        } else {
            text.matches(from.as_str()).count()
        };
        check_size("replace", grown(text.len(), new - old, matches))?;
    }
    filters::replace(state, value, from, to)
}

/// Jinja's `join(separator="", attribute=none)`.
pub(super) fn join(
    state: &mut State,
    value: &Value,
    joiner: Option<StringInput<'_>>,
    attribute: Option<&str>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let separator = joiner.as_ref().map_or(0, |j| j.as_str().len());
    if separator > 0
        && let Some(items) = value.len()
    {
        check_size("join", grown(0, separator, items.saturating_sub(1)))?;
    }
    filters::join(state, value, joiner, attribute, kwargs)
}

/// Jinja's `format(...)` (printf style): a width or precision past the cap is refused.
pub(super) fn format(
    state: &mut State,
    format: &Value,
    args: Rest<ValueOrKwargs>,
) -> Result<Value, Error> {
    if let Some(text) = format.as_str() {
        check_size("format", largest_field(text))?;
    }
    filters::format(state, format, args)
}

/// The largest width or precision a printf format string asks for (`None` past `usize`).
fn largest_field(format: &str) -> Option<usize> {
    let bytes = format.as_bytes();
    let mut largest = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        // Flags, then width, `.`, precision: every digit run is a number to check.
        while i < bytes.len() && matches!(bytes[i], b'-' | b'+' | b' ' | b'#' | b'0' | b'.') {
            i += 1;
        }
        loop {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i > start {
                let number: usize = format[start..i].parse().ok()?;
                largest = largest.max(number);
            }
            if i < bytes.len() && bytes[i] == b'.' {
                i += 1;
            } else {
                break;
            }
        }
    }
    Some(largest)
}

/// Jinja's `batch(count, fill_with=none)`.
pub(super) fn batch(
    state: &State,
    value: Value,
    count: usize,
    fill_with: Option<Value>,
) -> Result<Value, Error> {
    if fill_with.is_some() {
        check_count("batch", count)?;
    }
    filters::batch(state, value, count, fill_with)
}

/// Jinja's `slice(count, fill_with=none)`.
pub(super) fn slice(
    state: &State,
    value: Value,
    count: usize,
    fill_with: Option<Value>,
) -> Result<Value, Error> {
    check_count("slice", count)?;
    filters::slice(state, value, count, fill_with)
}

/// Jinja's `tojson(indent=none)`.
pub(super) fn tojson(value: &Value, indent: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let width = indent
        .clone()
        .or(kwargs.get::<Option<Value>>("indent")?)
        .filter(|v| !matches!(v.kind(), minijinja::value::ValueKind::Bool))
        .and_then(|v| usize::try_from(v).ok());
    if width.is_some_and(|w| w > MAX_JSON_INDENT) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("tojson: an indent of more than {MAX_JSON_INDENT} is refused"),
        ));
    }
    filters::tojson(value, indent, kwargs)
}

#[cfg(test)]
mod tests {
    use super::{grown, largest_field};

    #[test]
    fn printf_fields() {
        assert_eq!(largest_field("%s and %d"), Some(0));
        assert_eq!(largest_field("%-20s|%08.3f"), Some(20));
        assert_eq!(largest_field("%2000000000s"), Some(2_000_000_000));
        assert_eq!(largest_field("%.99999999999999999999999s"), None);
        assert_eq!(largest_field("100%"), Some(0));
    }

    #[test]
    fn growth_overflows_to_none() {
        assert_eq!(grown(1, 2, 3), Some(7));
        assert_eq!(grown(1, usize::MAX, 2), None);
    }
}
