//! The HTTP every registry and chart-repository transfer shares: one agent with the TLS
//! settings, and limits that make every transfer end.
//!
//! - The whole command's network work ends by `--timeout` (Helm's flag and spelling, default
//!   `5m0s`), counted from its first request; retries never wait past it.
//! - A read that waits [`IDLE`] without a byte fails at once, and is not retried: a server
//!   that accepts and never answers costs 30 seconds, not minutes.
//! - Credentials go only to their origin (scheme, host and port): redirects drop the
//!   `Authorization` header, and the registry client sends none to a `Location` elsewhere.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::client::Connection;
use crate::error::{Error, Result};

/// How long one read may wait for data.
pub const IDLE: Duration = Duration::from_secs(30);
/// How long connecting (with TLS) may take.
const CONNECT: Duration = Duration::from_secs(10);
/// The default of `--timeout`.
pub const DEFAULT_TIMEOUT: &str = "5m0s";
/// The largest certificate or key file read (a bundle of every public root is about 250 KB).
const MAX_PEM_BYTES: u64 = 4 * 1024 * 1024;
/// Pauses before the second, third and fourth attempt of a request.
pub const BACKOFF: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_millis(1000),
    Duration::from_millis(3000),
];

/// An agent and the deadline of the command it works for.
#[derive(Clone)]
pub struct Http {
    pub(super) agent: ureq::Agent,
    deadline: Instant,
    timeout: Duration,
}

impl Http {
    /// The agent for `tls`, its deadline `--timeout` after the command's first transfer.
    pub fn new(tls: &Connection) -> Result<Http> {
        static BEGAN: OnceLock<Instant> = OnceLock::new();
        let began = *BEGAN.get_or_init(Instant::now);
        Ok(Http {
            agent: agent(tls)?,
            deadline: began
                .checked_add(tls.timeout)
                .unwrap_or(began + IDLE * 1_000_000),
            timeout: tls.timeout,
        })
    }

    /// The time left for the request about `what`; an error once the deadline has passed.
    pub(super) fn remaining(&self, what: &str) -> Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.out_of_time(what));
        }
        Ok(left)
    }

    /// Sleeps `pause` before a retry, unless that would pass the deadline.
    pub(super) fn pause(&self, pause: Duration, what: &str) -> Result<()> {
        if self.remaining(what)? <= pause {
            return Err(self.out_of_time(what));
        }
        std::thread::sleep(pause);
        Ok(())
    }

    fn out_of_time(&self, what: &str) -> Error {
        Error::input(format!(
            "{what} did not finish within --timeout {}; raise --timeout for a slow link",
            show_duration(self.timeout)
        ))
    }

    /// A request about `what`, bounded by what is left of the deadline.
    pub(super) fn request<B>(
        &self,
        request: ureq::RequestBuilder<B>,
        what: &str,
    ) -> Result<ureq::RequestBuilder<B>> {
        let left = self.remaining(what)?;
        Ok(request.config().timeout_global(Some(left)).build())
    }

    /// A failed request or body read about `what` from `host`, as a message that says what to
    /// do; `None` when the failure is one a retry may cure (a dropped or refused connection).
    pub(super) fn failure(&self, err: &ureq::Error, host: &str, what: &str) -> Option<Error> {
        use ureq::Timeout;
        let message = match err {
            ureq::Error::Timeout(Timeout::PerRead) => format!(
                "{host} sent nothing for {} s during {what}; the server is stuck or overloaded: \
                 try again later",
                IDLE.as_secs()
            ),
            ureq::Error::Timeout(Timeout::Connect) | ureq::Error::Timeout(Timeout::Resolve) => {
                format!(
                    "cannot connect to {host} within {} s ({what}); check the address",
                    CONNECT.as_secs()
                )
            }
            ureq::Error::Timeout(_) => return Some(self.out_of_time(what)),
            // A TLS handshake with a plain-HTTP server fails as an I/O error: waiting cannot
            // fix it.
            err if err.to_string().contains("InvalidContentType") => format!(
                "{host} does not speak TLS ({err}); for a plain-HTTP server add --plain-http"
            ),
            ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::BodyStalled => {
                return None;
            }
            ureq::Error::BodyExceedsLimit(limit) => {
                format!("{host} sent more than the {limit} bytes allowed for {what}: refusing it")
            }
            err => format!("{host} cannot be reached ({what}): {err}"),
        };
        Some(Error::input(message))
    }

    /// GET `url` (a chart repository's index or archive) under `limit` bytes; dropped
    /// connections and 5xx answers are tried again, within the deadline.
    pub fn get(&self, url: &str, limit: u64) -> Result<Vec<u8>> {
        let what = format!("the download of {url}");
        let host = origin(url).unwrap_or_else(|| url.to_string());
        let mut pauses = BACKOFF.iter();
        loop {
            let last = match self.request(self.agent.get(url), &what)?.call() {
                Ok(mut response) if response.status().is_success() => {
                    let read = response.body_mut().with_config().limit(limit).read_to_vec();
                    match read {
                        Ok(bytes) => return Ok(bytes),
                        Err(e) => match self.failure(&e, &host, &what) {
                            Some(fatal) => return Err(fatal),
                            None => format!("the connection broke off: {e}"),
                        },
                    }
                }
                Ok(response) if response.status().is_server_error() => {
                    format!("answered {}", response.status())
                }
                Ok(response) => {
                    return Err(Error::input(format!(
                        "{url} answered {}",
                        response.status()
                    )));
                }
                Err(e) => match self.failure(&e, &host, &what) {
                    Some(fatal) => return Err(fatal),
                    None => format!("cannot be reached: {e}"),
                },
            };
            match pauses.next() {
                Some(pause) => self.pause(*pause, &what)?,
                None => {
                    return Err(Error::input(format!(
                        "cannot fetch {url}: {last} ({} attempts)",
                        BACKOFF.len() + 1
                    )));
                }
            }
        }
    }
}

/// An HTTP agent with the TLS settings of `tls` (CA file, client certificate, verification),
/// the idle and connect limits, and redirects that never carry credentials.
fn agent(tls: &Connection) -> Result<ureq::Agent> {
    let mut builder =
        ureq::tls::TlsConfig::builder().disable_verification(tls.insecure_skip_tls_verify);
    if let Some(ca) = &tls.ca_file {
        let pem = crate::fs::read_user_file(ca, "the CA file", MAX_PEM_BYTES)?;
        let certs = certificates(&pem);
        if certs.is_empty() {
            return Err(Error::usage(format!(
                "--ca-file `{}` holds no PEM certificate",
                ca.display()
            )));
        }
        builder = builder.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
        let chain_pem = crate::fs::read_user_file(cert, "the client certificate", MAX_PEM_BYTES)?;
        let chain = certificates(&chain_pem);
        let key_pem = crate::fs::read_user_file(key, "the client key", MAX_PEM_BYTES)?;
        let key = ureq::tls::PrivateKey::from_pem(&key_pem).map_err(|e| {
            Error::usage(format!(
                "--key-file `{}` holds no usable key: {e}",
                key.display()
            ))
        })?;
        if chain.is_empty() {
            return Err(Error::usage(format!(
                "--cert-file `{}` holds no PEM certificate",
                cert.display()
            )));
        }
        builder = builder.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&chain, key)));
    }
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(builder.build())
        .timeout_connect(Some(CONNECT))
        .timeout_per_read(Some(IDLE))
        .max_redirects(5)
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::Never)
        .build();
    Ok(config.new_agent())
}

fn certificates(pem: &[u8]) -> Vec<ureq::tls::Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect()
}

/// `scheme://host:port` of an absolute URL (the port spelled out), or `None` for anything else.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?.to_ascii_lowercase();
    if authority.is_empty() {
        return None;
    }
    let has_port = match authority.rfind(':') {
        Some(colon) => !authority[colon..].contains(']'),
        None => false,
    };
    let default = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    Some(if has_port {
        format!("{scheme}://{authority}")
    } else {
        format!("{scheme}://{authority}:{default}")
    })
}

/// Parses a Go duration as Helm's `--timeout` takes it: `5m0s`, `90s`, `1h30m`, `1.5h`,
/// `300ms` (units h, m, s, ms, us, µs, ns; a bare `0` is no time at all).
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration; write it as Helm does, e.g. 5m0s, 90s or 1h");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text.trim();
    if rest.is_empty() || rest.starts_with('-') {
        return Err(bad());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..number_end].parse().map_err(|_| bad())?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return Err(bad()),
        };
        total += number * seconds;
        rest = &rest[unit_end..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// A duration the way Go prints one (`5m0s`, `1h0m0s`, `30s`, `1.5s`).
pub fn show_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    let fraction = duration.subsec_millis();
    let seconds = if fraction == 0 {
        format!("{}s", secs % 60)
    } else {
        let number = format!("{}.{fraction:03}", secs % 60);
        format!("{}s", number.trim_end_matches('0'))
    };
    match (secs / 3600, secs / 60 % 60) {
        (0, 0) => seconds,
        (0, m) => format!("{m}m{seconds}"),
        (h, m) => format!("{h}h{m}m{seconds}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{origin, parse_duration, show_duration};
    use std::time::Duration;

    #[test]
    fn go_durations() {
        for (text, secs) in [
            ("5m0s", 300.0),
            ("90s", 90.0),
            ("1h30m", 5400.0),
            ("1.5h", 5400.0),
            ("300ms", 0.3),
            ("0", 0.0),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs_f64(secs)),
                "{text}"
            );
        }
        for bad in ["", "5", "m", "-1s", "5x", "1e9h", "99999999999999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(show_duration(Duration::from_secs(300)), "5m0s");
        assert_eq!(show_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(show_duration(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn origins_spell_out_the_port() {
        assert_eq!(
            origin("https://r.example/v2/x").as_deref(),
            Some("https://r.example:443")
        );
        assert_eq!(
            origin("http://127.0.0.1:5000/v2/").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(
            origin("HTTP://User@Host:80?x").as_deref(),
            Some("http://host:80")
        );
        assert_eq!(
            origin("https://[::1]/x").as_deref(),
            Some("https://[::1]:443")
        );
        assert_eq!(origin("/v2/x"), None);
    }
}
