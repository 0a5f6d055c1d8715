//! The distribution protocol, as much as charts need: blobs and manifests up and down, tags,
//! and the registry's authentication (HTTP basic, or a bearer token fetched from the realm its
//! `WWW-Authenticate` challenge names). Dropped connections and 5xx answers are retried a few
//! times with growing pauses; every other failure is an error that names the registry.

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

use super::credentials::Credentials;
use super::http::{BACKOFF, DEFAULT_TIMEOUT, Http, origin, parse_duration};
use super::{Descriptor, MANIFEST_MEDIA_TYPE, MAX_MANIFEST_BYTES};
use crate::chart::repo::hex;
use crate::error::{Error, Result};

/// How the connection to a registry or chart repository is made (Helm's flags of the same
/// names).
#[derive(Debug, Clone)]
pub struct Connection {
    /// Speak plain HTTP to the registry.
    pub plain_http: bool,
    /// Accept any server certificate.
    pub insecure_skip_tls_verify: bool,
    /// Trust the certificate authorities in this PEM file (instead of the built-in roots).
    pub ca_file: Option<PathBuf>,
    /// Present this client certificate (PEM), with `key_file`.
    pub cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub key_file: Option<PathBuf>,
    /// The registry credentials file (default: Helm's registry/config.json).
    pub registry_config: Option<PathBuf>,
    /// How long all transfers of the command may take together.
    pub timeout: Duration,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            plain_http: false,
            insecure_skip_tls_verify: false,
            ca_file: None,
            cert_file: None,
            key_file: None,
            registry_config: None,
            timeout: parse_duration(DEFAULT_TIMEOUT).expect("the default parses"),
        }
    }
}

/// The most bytes of tag lists read for one repository, all pages together.
const MAX_TAG_LIST_BYTES: u64 = 16 * 1024 * 1024;
/// The most pages of a tag list followed.
const MAX_TAG_PAGES: usize = 100;

/// Upload pieces for blobs larger than this go up in this size, with progress between them.
const CHUNK: usize = 8 * 1024 * 1024;

/// A connection to one registry.
pub struct Client {
    http: Http,
    base: String,
    /// The origin (`scheme://host:port`) of `base`: credentials go there only.
    origin: String,
    host: String,
    credentials: Option<Credentials>,
    /// The `Authorization` header that worked, and the scope it was fetched for.
    authorization: Option<(String, String)>,
    progress: bool,
}

enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
}

impl Method {
    fn name(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
        }
    }
}

impl Client {
    /// A client for `host` (`host[:port]`).
    pub fn new(host: &str, tls: &Connection, credentials: Option<Credentials>) -> Result<Client> {
        let http = Http::new(tls)?;
        let scheme = if tls.plain_http { "http" } else { "https" };
        let base = format!("{scheme}://{host}");
        Ok(Client {
            http,
            origin: origin(&format!("{base}/")).unwrap_or_else(|| base.clone()),
            base,
            host: host.to_string(),
            credentials,
            authorization: None,
            progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        })
    }

    /// One request with authentication and retries; `scope` is the token scope it needs.
    /// Credentials go with it only when `url` is on the registry's own origin.
    fn call(
        &mut self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        scope: &str,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let home = origin(url).is_some_and(|o| o == self.origin);
        let what = format!("{} {}", method.name(), path_of(url));
        let mut authenticated = false;
        let mut pauses = BACKOFF.iter();
        loop {
            let authorization = self
                .authorization
                .as_ref()
                .filter(|(_, s)| home && (s == scope || s.is_empty() && scope.is_empty()))
                .map(|(h, _)| h.clone());
            let result = self.send(&method, url, headers, body, authorization.as_deref(), &what)?;
            let retry = match result {
                Ok(response) if response.status() == 401 && !home => {
                    return Err(Error::input(format!(
                        "{} asks for credentials at {url}, which the registry {} sent us to; \
                         credentials go only to the registry itself: refusing",
                        origin(url).unwrap_or_default(),
                        self.host
                    )));
                }
                Ok(response) if response.status() == 401 && !authenticated => {
                    let challenge = response
                        .headers()
                        .get("www-authenticate")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    self.authenticate(&challenge, scope)?;
                    authenticated = true;
                    continue;
                }
                Ok(response) if response.status().is_server_error() || response.status() == 429 => {
                    format!("answered {}", response.status())
                }
                Ok(response) => return Ok(response),
                Err(e) => match self
                    .http
                    .failure(&e, &format!("the registry {}", self.host), &what)
                {
                    Some(fatal) => return Err(fatal),
                    None => format!(
                        "cannot be reached: {}",
                        e.to_string().trim_start_matches("io: ")
                    ),
                },
            };
            match pauses.next() {
                Some(pause) => self.http.pause(*pause, &what)?,
                None => {
                    return Err(Error::input(format!(
                        "the registry {} {retry} ({} attempts); check that it is running and reachable",
                        self.host,
                        BACKOFF.len() + 1
                    )));
                }
            }
        }
    }

    /// Sends one request; the outer error is the deadline, the inner one the request's own.
    fn send(
        &self,
        method: &Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        authorization: Option<&str>,
        what: &str,
    ) -> Result<std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>> {
        macro_rules! with_headers {
            ($request:expr) => {{
                let mut request = $request;
                for (k, v) in headers {
                    request = request.header(*k, *v);
                }
                if let Some(a) = authorization {
                    request = request.header("Authorization", a);
                }
                request
            }};
        }
        let agent = &self.http.agent;
        let http = &self.http;
        let body = body.unwrap_or_default();
        Ok(match method {
            Method::Get => http.request(with_headers!(agent.get(url)), what)?.call(),
            Method::Head => http.request(with_headers!(agent.head(url)), what)?.call(),
            Method::Post => http
                .request(with_headers!(agent.post(url)), what)?
                .send(body),
            Method::Put => http
                .request(with_headers!(agent.put(url)), what)?
                .send(body),
            Method::Patch => http
                .request(with_headers!(agent.patch(url)), what)?
                .send(body),
        })
    }

    /// Answers a `WWW-Authenticate` challenge: basic credentials, or a bearer token from the
    /// realm.
    fn authenticate(&mut self, challenge: &str, scope: &str) -> Result<()> {
        let (scheme, params) = parse_challenge(challenge);
        let login_hint = format!("run `aether-chart registry login {}`", self.host);
        match scheme.as_str() {
            "basic" => {
                let Some(c) = &self.credentials else {
                    return Err(Error::input(format!(
                        "the registry {} needs credentials (401); {login_hint}",
                        self.host
                    )));
                };
                let header = format!(
                    "Basic {}",
                    STANDARD.encode(format!("{}:{}", c.username, c.password))
                );
                self.authorization = Some((header, scope.to_string()));
                Ok(())
            }
            "bearer" => {
                let realm = params.get("realm").cloned().ok_or_else(|| {
                    Error::input(format!(
                        "the registry {} asked for a bearer token without naming a realm",
                        self.host
                    ))
                })?;
                let mut query = Vec::new();
                if let Some(service) = params.get("service") {
                    query.push(format!("service={}", encode(service)));
                }
                if !scope.is_empty() {
                    query.push(format!("scope={}", encode(scope)));
                }
                let url = if query.is_empty() {
                    realm.clone()
                } else {
                    format!(
                        "{realm}{}{}",
                        if realm.contains('?') { '&' } else { '?' },
                        query.join("&")
                    )
                };
                let what = format!("the token request to {realm}");
                let mut request = self.http.request(self.http.agent.get(&url), &what)?;
                if let Some(c) = &self.credentials {
                    request = request.header(
                        "Authorization",
                        format!(
                            "Basic {}",
                            STANDARD.encode(format!("{}:{}", c.username, c.password))
                        ),
                    );
                }
                let mut response = request.call().map_err(|e| {
                    self.http
                        .failure(&e, &format!("the token service {realm}"), &what)
                        .unwrap_or_else(|| {
                            Error::input(format!("cannot reach the token service {realm}: {e}"))
                        })
                })?;
                match response.status().as_u16() {
                    200 => {}
                    401 | 403 => {
                        return Err(Error::input(format!(
                            "the token service of {} refused the credentials ({}); {login_hint}",
                            self.host,
                            response.status()
                        )));
                    }
                    other => {
                        return Err(Error::input(format!(
                            "the token service {realm} answered {other}"
                        )));
                    }
                }
                let token: serde_json::Value = response
                    .body_mut()
                    .with_config()
                    .limit(1024 * 1024)
                    .read_to_vec()
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .ok_or_else(|| {
                        Error::input(format!("the token service {realm} sent no JSON token"))
                    })?;
                let token = token
                    .get("token")
                    .or_else(|| token.get("access_token"))
                    .and_then(|t| t.as_str())
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        Error::input(format!("the token service {realm} sent no token"))
                    })?;
                self.authorization = Some((format!("Bearer {token}"), scope.to_string()));
                Ok(())
            }
            _ => Err(Error::input(format!(
                "the registry {} needs authentication this client does not speak (`{challenge}`)",
                self.host
            ))),
        }
    }

    /// Fails with a message naming the registry and what to do for an unexpected answer.
    fn check(&self, response: &ureq::http::Response<ureq::Body>, what: &str) -> Result<()> {
        let status = response.status().as_u16();
        let message = match status {
            200..=299 => return Ok(()),
            401 => format!(
                "the registry {} refused the credentials for {what} (401); run `aether-chart registry login {}`",
                self.host, self.host
            ),
            403 => format!(
                "the registry {} denies {what} (403): the account lacks permission",
                self.host
            ),
            404 => format!("{what}: not found in the registry {} (404)", self.host),
            other => format!("the registry {} answered {other} to {what}", self.host),
        };
        Err(Error::input(message))
    }

    /// Checks the registry and the credentials (`GET /v2/`).
    pub fn ping(&mut self) -> Result<()> {
        let url = format!("{}/v2/", self.base);
        let response = self.call(Method::Get, &url, &[], None, "")?;
        self.check(&response, "logging in")
    }

    /// Uploads a blob unless the registry has it already.
    pub fn push_blob(&mut self, repository: &str, bytes: &[u8], digest: &str) -> Result<()> {
        let scope = format!("repository:{repository}:pull,push");
        let url = format!("{}/v2/{repository}/blobs/{digest}", self.base);
        let response = self.call(Method::Head, &url, &[], None, &scope)?;
        if response.status() == 200 {
            return Ok(());
        }
        // Each request of the upload is retried on its own (see `call`): a piece sent again to
        // the same session location replaces what a dropped connection may have left.
        self.upload(repository, bytes, digest, &scope)
    }

    fn upload(&mut self, repository: &str, bytes: &[u8], digest: &str, scope: &str) -> Result<()> {
        let what = format!("uploading {digest} to {repository}");
        let start = format!("{}/v2/{repository}/blobs/uploads/", self.base);
        let response = self.call(
            Method::Post,
            &start,
            &[("Content-Length", "0")],
            Some(&[]),
            scope,
        )?;
        self.check(&response, &what)?;
        let mut location = self.location(&response, &what)?;
        let began = Instant::now();
        let mut sent = 0;
        // Large blobs go up in pieces (progress shows between them); the last piece, or a small
        // blob whole, goes with the closing PUT.
        while bytes.len() - sent > CHUNK {
            let piece = &bytes[sent..sent + CHUNK];
            let range = format!("{}-{}", sent, sent + piece.len() - 1);
            let response = self.call(
                Method::Patch,
                &location,
                &[
                    ("Content-Type", "application/octet-stream"),
                    ("Content-Range", &range),
                ],
                Some(piece),
                scope,
            )?;
            self.check(&response, &what)?;
            location = self.location(&response, &what)?;
            sent += piece.len();
            self.report("Pushing", sent as u64, bytes.len() as u64, began);
        }
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={}", encode(digest));
        let response = self.call(
            Method::Put,
            &url,
            &[("Content-Type", "application/octet-stream")],
            Some(&bytes[sent..]),
            scope,
        )?;
        self.check(&response, &what)?;
        self.report("Pushed", bytes.len() as u64, bytes.len() as u64, began);
        Ok(())
    }

    /// The absolute upload URL a response points to.
    fn location(&self, response: &ureq::http::Response<ureq::Body>, what: &str) -> Result<String> {
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Error::input(format!(
                    "the registry {} gave no upload location for {what}",
                    self.host
                ))
            })?;
        if location.starts_with("http://") || location.starts_with("https://") {
            Ok(location.to_string())
        } else if location.starts_with('/') && !location.starts_with("//") {
            Ok(format!("{}{}", self.base, location))
        } else {
            Err(Error::input(format!(
                "the registry {} gave the upload location `{}` for {what}, which is neither a \
                 URL nor a path: refusing it",
                self.host,
                crate::error::shorten(location, 200)
            )))
        }
    }

    /// Stores a manifest under `tag`; returns its digest.
    pub fn push_manifest(&mut self, repository: &str, tag: &str, manifest: &[u8]) -> Result<()> {
        let scope = format!("repository:{repository}:pull,push");
        let url = format!("{}/v2/{repository}/manifests/{tag}", self.base);
        let response = self.call(
            Method::Put,
            &url,
            &[("Content-Type", MANIFEST_MEDIA_TYPE)],
            Some(manifest),
            &scope,
        )?;
        self.check(&response, &format!("{repository}:{tag}"))
    }

    /// The manifest at `reference` (a tag or digest) and its digest, checked against the
    /// digest asked for and the one the registry states.
    pub fn manifest(&mut self, repository: &str, reference: &str) -> Result<(Vec<u8>, String)> {
        let scope = format!("repository:{repository}:pull");
        let url = format!("{}/v2/{repository}/manifests/{reference}", self.base);
        let mut response = self.call(
            Method::Get,
            &url,
            &[("Accept", MANIFEST_MEDIA_TYPE)],
            None,
            &scope,
        )?;
        let what = format!("{}/{repository}:{reference}", self.host);
        self.check(&response, &what)?;
        let stated = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = self.read_body(
            &mut response,
            MAX_MANIFEST_BYTES,
            &format!("the manifest of {what}"),
        )?;
        let actual = super::digest(&bytes);
        for expected in [
            stated,
            reference
                .starts_with("sha256:")
                .then(|| reference.to_string()),
        ]
        .into_iter()
        .flatten()
        {
            if expected != actual {
                return Err(Error::input(format!(
                    "the manifest of {what} has digest {actual}, not {expected}: refusing it"
                )));
            }
        }
        Ok((bytes, actual))
    }

    /// A blob, read under `limit` bytes and checked against its descriptor's size and digest.
    pub fn blob(
        &mut self,
        repository: &str,
        descriptor: &Descriptor,
        limit: u64,
    ) -> Result<Vec<u8>> {
        check_digest(&descriptor.digest, &format!("a layer of {repository}"))?;
        if descriptor.size > limit {
            return Err(Error::input(format!(
                "{repository}: the blob {} is {} bytes, more than the limit of {limit}",
                descriptor.digest, descriptor.size
            )));
        }
        let mut pauses = BACKOFF.iter();
        loop {
            match self.fetch_blob(repository, descriptor) {
                Ok(bytes) => return Ok(bytes),
                // A dropped connection mid-download: fetch it again, a few times.
                Err(Fetch::Interrupted(e)) => match pauses.next() {
                    Some(pause) => self.http.pause(*pause, "the download")?,
                    None => return Err(e),
                },
                Err(Fetch::Fatal(e)) => return Err(e),
            }
        }
    }

    fn fetch_blob(
        &mut self,
        repository: &str,
        descriptor: &Descriptor,
    ) -> std::result::Result<Vec<u8>, Fetch> {
        let scope = format!("repository:{repository}:pull");
        let url = format!("{}/v2/{repository}/blobs/{}", self.base, descriptor.digest);
        let what = format!("{}/{repository}@{}", self.host, descriptor.digest);
        let response = self
            .call(Method::Get, &url, &[], None, &scope)
            .map_err(Fetch::Fatal)?;
        self.check(&response, &what).map_err(Fetch::Fatal)?;
        let mut reader = response
            .into_body()
            .into_with_config()
            .limit(descriptor.size + 1)
            .reader();
        let mut bytes = Vec::with_capacity(descriptor.size.min(64 << 20) as usize);
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; 256 * 1024];
        let began = Instant::now();
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let e = ureq::Error::from(e);
                    if let Some(fatal) = self.http.failure(
                        &e,
                        &format!("the registry {}", self.host),
                        &format!("the download of {what}"),
                    ) {
                        return Err(Fetch::Fatal(fatal));
                    }
                    return Err(Fetch::Interrupted(Error::input(format!(
                        "the download of {what} broke off after {} of {} bytes: {e}",
                        bytes.len(),
                        descriptor.size
                    ))));
                }
            };
            if bytes.len() + n > descriptor.size as usize {
                return Err(Fetch::Fatal(Error::input(format!(
                    "{what} is longer than the {} bytes its manifest states: refusing it",
                    descriptor.size
                ))));
            }
            hasher.update(&buffer[..n]);
            bytes.extend_from_slice(&buffer[..n]);
            self.report("Pulling", bytes.len() as u64, descriptor.size, began);
        }
        if bytes.len() as u64 != descriptor.size {
            return Err(Fetch::Interrupted(Error::input(format!(
                "the download of {what} ended after {} of {} bytes",
                bytes.len(),
                descriptor.size
            ))));
        }
        let actual = format!("sha256:{}", hex(&hasher.finalize()));
        if actual != descriptor.digest {
            return Err(Fetch::Fatal(Error::input(format!(
                "{what} has digest {actual}, not the {} its manifest states: refusing it",
                descriptor.digest
            ))));
        }
        Ok(bytes)
    }

    /// Every tag of a repository (following the registry's pages, within a size cap).
    pub fn tags(&mut self, repository: &str) -> Result<Vec<String>> {
        let scope = format!("repository:{repository}:pull");
        let mut url = format!("{}/v2/{repository}/tags/list?n=1000", self.base);
        let what = format!("the tag list of {}/{repository}", self.host);
        let mut tags = Vec::new();
        let mut read = 0u64;
        for _ in 0..MAX_TAG_PAGES {
            let mut response = self.call(Method::Get, &url, &[], None, &scope)?;
            self.check(&response, &format!("{}/{repository}", self.host))?;
            let next = response
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(|l| {
                    l.split_once('<')?
                        .1
                        .split_once('>')
                        .map(|(u, _)| u.to_string())
                });
            let left = MAX_TAG_LIST_BYTES - read;
            let body = self.read_body(&mut response, left, &what).map_err(|e| {
                if read > 0 {
                    Error::input(format!(
                        "{what} is larger than {MAX_TAG_LIST_BYTES} bytes ({} tags read); \
                         name an exact version instead of a range",
                        tags.len()
                    ))
                } else {
                    e
                }
            })?;
            read += body.len() as u64;
            let page: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|_| Error::input(format!("{what} is not JSON")))?;
            // A tag goes into a URL later: anything outside the tag grammar is not kept.
            tags.extend(
                page.get("tags")
                    .and_then(|t| t.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str())
                    .filter(|t| super::reference::valid_tag(t))
                    .map(str::to_string),
            );
            match next {
                Some(next) if next.starts_with('/') => url = format!("{}{next}", self.base),
                _ => return Ok(tags),
            }
        }
        Ok(tags)
    }

    /// The body of `response` (about `what`), at most `limit` bytes, read within the deadline.
    fn read_body(
        &self,
        response: &mut ureq::http::Response<ureq::Body>,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>> {
        response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| {
                self.http
                    .failure(&e, &format!("the registry {}", self.host), what)
                    .unwrap_or_else(|| Error::input(format!("cannot read {what}: {e}")))
            })
    }

    /// Progress on a terminal, for transfers that take longer than a second.
    fn report(&self, verb: &str, done: u64, total: u64, began: Instant) {
        if self.progress && began.elapsed() > Duration::from_secs(1) {
            let mb = |b: u64| b as f64 / 1e6;
            eprint!("\r{verb} {:.1} / {:.1} MB", mb(done), mb(total));
            if done == total {
                eprintln!();
            }
        }
    }
}

enum Fetch {
    Interrupted(Error),
    Fatal(Error),
}

/// Refuses a digest that is not `sha256:` and 64 lower-case hex digits before it goes into a
/// URL (`sha256:../../x` or `sha256:abc?x=1` would steer the request elsewhere).
pub fn check_digest(digest: &str, what: &str) -> Result<()> {
    let hex = digest.strip_prefix("sha256:").unwrap_or_default();
    if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(Error::input(format!(
            "{what} has the digest `{}`, which is not sha256:<64 hex digits>: refusing it",
            crate::error::shorten(digest, 80)
        )));
    }
    Ok(())
}

/// The path and query of a URL, for messages.
fn path_of(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    }
}

/// `Bearer realm="...",service="..."` as the scheme (lower case) and its parameters.
fn parse_challenge(header: &str) -> (String, std::collections::BTreeMap<String, String>) {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let mut params = std::collections::BTreeMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            after.split_once(',').unwrap_or((after, ""))
        };
        params.insert(key, value.to_string());
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    (scheme.to_ascii_lowercase(), params)
}

/// Percent-encoding for a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{encode, parse_challenge};

    #[test]
    fn challenges() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="http://127.0.0.1:1/token",service="registry",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(scheme, "bearer");
        assert_eq!(params["realm"], "http://127.0.0.1:1/token");
        assert_eq!(params["scope"], "repository:a/b:pull,push");
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#).0,
            "basic"
        );
        assert_eq!(
            encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }
}
