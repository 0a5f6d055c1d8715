//! Release names made by flags: `--generate-name` and `--name-template`, as `helm install`
//! makes them.
//!
//! Helm renders `--name-template` as a Go template with Sprig's functions and no data. Here it
//! is a Jinja template like every other, with the Sprig functions name templates use for
//! randomness (`randAlpha(n)`, `randAlphaNum(n)`, `randNumeric(n)`) and `now()` (Unix seconds);
//! Jinja's own filters (`lower`, `upper`, `trunc`, ...) are there as in any template.

use minijinja::{Environment, Error, ErrorKind};
use rand::Rng as _;

use crate::error::Result;

/// The most characters a random function makes (a release name has at most 53).
const MAX_RANDOM: usize = 256;
/// The fuel of a name template: names are short, and a loop must end.
const FUEL: u64 = 100_000;

/// `<base>-<unix seconds>`, where base is the last path part of `chart` up to its first `.`
/// (`chart` for `.`), as `helm install --generate-name` names a release.
pub fn generated(chart: &str, now: u64) -> String {
    let trimmed = chart.trim_end_matches('/');
    let base = trimmed.rsplit('/').next().unwrap_or_default();
    let base = base.split('.').next().unwrap_or_default();
    let base = if base.is_empty() { "chart" } else { base };
    format!("{base}-{now}")
}

/// The release name `--name-template TEXT` renders to.
pub fn from_template(text: &str) -> Result<String> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.add_function("randAlpha", |n: usize| {
        random(n, b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    });
    env.add_function("randAlphaNum", |n: usize| {
        random(
            n,
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        )
    });
    env.add_function("randNumeric", |n: usize| random(n, b"0123456789"));
    env.add_function("now", || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let failed = |e: Error| {
        crate::error::Error::usage(format!(
            "--name-template `{text}`: {e} (it is a Jinja template, such as `web-{{{{ randAlphaNum(5) | lower }}}}`)"
        ))
    };
    env.render_str(text, ()).map_err(failed)
}

/// `n` characters drawn from `alphabet`.
fn random(n: usize, alphabet: &[u8]) -> std::result::Result<String, Error> {
    if n > MAX_RANDOM {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("at most {MAX_RANDOM} random characters, not {n}"),
        ));
    }
    let mut rng = rand::thread_rng();
    Ok((0..n)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::{from_template, generated};

    #[test]
    fn generated_names_follow_helm() {
        assert_eq!(generated("./charts/web", 17), "web-17");
        assert_eq!(generated(".", 17), "chart-17");
        assert_eq!(generated("web-1.2.0.tgz", 17), "web-1-17");
        assert_eq!(generated("oci://example.com/charts/web/", 17), "web-17");
    }

    #[test]
    fn templates_render_with_random_parts() {
        let name = from_template("web-{{ randAlphaNum(6) | lower }}").unwrap();
        assert_eq!(name.len(), 10);
        assert!(
            name[4..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(from_template("{{ \"foobar\" }}").unwrap(), "foobar");
        assert!(from_template("{{ randAlpha(100000) }}").is_err());
        assert!(from_template("{% for i in range(100000000) %}{% endfor %}").is_err());
    }
}
