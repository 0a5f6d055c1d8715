//! `push`, `pull` and `registry login|logout` against a real registry (Debian's
//! docker-registry, CNCF Distribution 2.8) on 127.0.0.1, and Helm 4 on the other side: what one
//! pushes the other pulls, byte for byte and digest for digest. Faults a real registry will not
//! produce on demand (5xx, a connection dropped mid-download) come from a scripted loopback
//! server.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::scripted::{Answer, manifest_for, scripted, scripted_with_headers, serve_chart, sha256};
use crate::support::{
    Run, archive_with_entry, bin, failed, ok, repo_root, run_program_with_env, tool,
};

/// How a test registry authenticates.
enum Auth {
    None,
    /// Basic auth for one user and password.
    Htpasswd(&'static str, &'static str),
    /// Bearer tokens from `realm`, signed by the key of this certificate.
    Token {
        realm: String,
        cert_pem: String,
    },
    /// HTTPS with this server certificate and key (PEM), and client certificates signed by
    /// this CA required.
    MutualTls {
        cert_pem: String,
        key_pem: String,
        ca_pem: String,
    },
}

const TOKEN_SERVICE: &str = "test-registry";
const TOKEN_ISSUER: &str = "test-issuer";

/// A docker-registry process with its own storage, stopped on drop.
struct Registry {
    child: Child,
    host: String,
    storage: PathBuf,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry; with `htpasswd`, basic auth for that user and password.
    fn start(auth: Auth) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("storage");
        let port = free_port();
        let mut tls = String::new();
        let auth = match auth {
            Auth::None => String::new(),
            Auth::MutualTls {
                cert_pem,
                key_pem,
                ca_pem,
            } => {
                for (name, pem) in [
                    ("server.pem", cert_pem),
                    ("server.key", key_pem),
                    ("ca.pem", ca_pem),
                ] {
                    std::fs::write(dir.path().join(name), pem).unwrap();
                }
                let at = |name: &str| dir.path().join(name).display().to_string();
                tls = format!(
                    "  tls:\n    certificate: {}\n    key: {}\n    clientcas:\n      - {}\n",
                    at("server.pem"),
                    at("server.key"),
                    at("ca.pem")
                );
                String::new()
            }
            Auth::Token { realm, cert_pem } => {
                std::fs::write(dir.path().join("issuer.pem"), cert_pem).unwrap();
                format!(
                    "auth:\n  token:\n    realm: {realm}\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
                    dir.path().join("issuer.pem").display()
                )
            }
            Auth::Htpasswd(user, password) => {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .expect("htpasswd (apache2-utils) is needed: run `bash scripts/test.sh`");
                assert!(out.status.success());
                std::fs::write(dir.path().join("htpasswd"), out.stdout).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                    dir.path().join("htpasswd").display()
                )
            }
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n{tls}{auth}",
            storage.display()
        );
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let program =
            std::env::var_os("AETHER_DOCKER_REGISTRY").unwrap_or("docker-registry".into());
        let child = Command::new(&program)
            .args(["serve", dir.path().join("config.yml").to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry is needed: run `bash scripts/test.sh` (it installs it)");
        // Owned before waiting, so that a failed start still stops the process.
        let registry = Registry {
            child,
            host: format!("127.0.0.1:{port}"),
            storage,
            _dir: dir,
        };
        for _ in 0..100 {
            if TcpStream::connect(&registry.host).is_ok() {
                return registry;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("docker-registry did not start on {}", registry.host);
    }

    fn url(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.host)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Helm and aether-chart share one credentials file and Helm's homes.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn vars(&self) -> Vec<(&'static str, PathBuf)> {
        ["HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"]
            .iter()
            .map(|k| (*k, self.dir.path().join(k)))
            .chain([(
                "HELM_REGISTRY_CONFIG",
                self.dir.path().join("registry.json"),
            )])
            .collect()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn ours(&self, args: &[&str]) -> Run {
        self.ours_with_stdin(args, None)
    }

    fn ours_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        run_program_with_env(&bin(), self.dir.path(), &args, stdin, &self.vars())
    }

    fn helm(&self, args: &[&str]) -> Run {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        run_program_with_env(
            &tool("AETHER_HELM", "bin/helm"),
            self.dir.path(),
            &args,
            None,
            &self.vars(),
        )
    }
}

/// Helm pulls aether 0.1.0 from the registry (with `flags`) and gets exactly `archive`.
fn helm_pulls_the_same(env: &Env, registry: &Registry, archive: &Path, flags: &[&str]) {
    let dir = env.path("helm-pulled");
    std::fs::create_dir_all(&dir).unwrap();
    let source = registry.url("charts/aether");
    let mut args = vec![
        "pull",
        source.as_str(),
        "--version",
        "0.1.0",
        "-d",
        dir.to_str().unwrap(),
    ];
    args.extend(flags);
    ok(env.helm(&args));
    assert!(
        std::fs::read(dir.join("aether-0.1.0.tgz")).unwrap() == std::fs::read(archive).unwrap()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `Digest: sha256:...` from push or pull output (Helm prints it on stderr).
fn digest_of(run: &Run) -> String {
    run.stdout
        .lines()
        .chain(run.stderr.lines())
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap_or_else(|| panic!("no digest in {}", run.stdout))
        .to_string()
}

/// Packages the root chart as `version` into `dir`, with its file time set to the packaging
/// time (what Helm takes `created` from), so both tools describe it alike.
fn packaged(env: &Env, version: &str) -> PathBuf {
    let dir = env.path("archives");
    let run = crate::support::aether(
        &repo_root(),
        &[
            "package",
            ".",
            "-d",
            dir.to_str().unwrap(),
            "--version",
            version,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let path = dir.join(format!("aether-{version}.tgz"));
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(315_532_800);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(when)
        .unwrap();
    path
}

#[test]
fn charts_travel_between_helm_and_aether_chart() {
    let registry = Registry::start(Auth::None);
    let env = Env::new();
    let ours = packaged(&env, "0.1.0");
    let theirs = packaged(&env, "1.2.3+build.5");

    // Ours up, Helm down: the same bytes.
    let pushed = ok(env.ours(&[
        "push",
        ours.to_str().unwrap(),
        &registry.url("charts"),
        "--plain-http",
    ]));
    assert!(
        pushed
            .stdout
            .starts_with(&format!("Pushed: {}/charts/aether:0.1.0\n", registry.host))
    );
    helm_pulls_the_same(&env, &registry, &ours, &["--plain-http"]);

    // Helm up, ours down: the same bytes, and the digest Helm printed.
    let helm_pushed = ok(env.helm(&[
        "push",
        theirs.to_str().unwrap(),
        &registry.url("charts"),
        "--plain-http",
    ]));
    let our_dir = env.path("pulled");
    let pulled = ok(env.ours(&[
        "pull",
        &registry.url("charts/aether"),
        "--version",
        "^1.2",
        "--plain-http",
        "-d",
        our_dir.to_str().unwrap(),
    ]));
    assert_eq!(digest_of(&pulled), digest_of(&helm_pushed));
    assert!(
        pulled.stdout.starts_with(&format!(
            "Pulled: {}/charts/aether:1.2.3_build.5\n",
            registry.host
        )),
        "{}",
        pulled.stdout
    );
    assert!(
        std::fs::read(our_dir.join("aether-1.2.3+build.5.tgz")).unwrap()
            == std::fs::read(&theirs).unwrap()
    );

    // Both tools push the same archive to the same manifest digest.
    let helm_again = ok(env.helm(&[
        "push",
        ours.to_str().unwrap(),
        &registry.url("helm-side"),
        "--plain-http",
    ]));
    assert_eq!(digest_of(&helm_again), digest_of(&pushed));

    // The newest version without --version; unpacked with --untar.
    let untar_dir = env.path("untarred");
    ok(env.ours(&[
        "pull",
        &registry.url("charts/aether"),
        "--plain-http",
        "--untar",
        "-d",
        untar_dir.to_str().unwrap(),
    ]));
    let chart_yaml = std::fs::read_to_string(untar_dir.join("aether/Chart.yaml")).unwrap();
    assert!(
        chart_yaml.contains("version: 1.2.3+build.5"),
        "{chart_yaml}"
    );
    let again = env.ours(&[
        "pull",
        &registry.url("charts/aether"),
        "--plain-http",
        "--untar",
        "-d",
        untar_dir.to_str().unwrap(),
    ]);
    failed(&again, "exists already");

    // By digest, and what is not there.
    let by_digest = format!("{}@{}", registry.url("charts/aether"), digest_of(&pushed));
    ok(env.ours(&[
        "pull",
        &by_digest,
        "--plain-http",
        "-d",
        env.path("by-digest").to_str().unwrap(),
    ]));
    failed(
        &env.ours(&[
            "pull",
            &registry.url("charts/aether"),
            "--version",
            "9.9.9",
            "--plain-http",
        ]),
        "not found in the registry",
    );
    failed(
        &env.ours(&[
            "pull",
            &registry.url("charts/aether"),
            "--version",
            ">=5",
            "--plain-http",
        ]),
        "no version of charts/aether satisfies `>=5`",
    );
    failed(
        &env.ours(&["pull", &registry.url("charts/nothing"), "--plain-http"]),
        "not found in the registry",
    );

    // A stored blob that no longer matches its digest is refused, and nothing is written.
    let layer = sha256(&std::fs::read(&ours).unwrap());
    let hex = layer.trim_start_matches("sha256:");
    let data = registry.storage.join(format!(
        "docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ));
    let mut bytes = std::fs::read(&data).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();
    let tampered_dir = env.path("tampered");
    let run = env.ours(&[
        "pull",
        &registry.url("charts/aether"),
        "--version",
        "0.1.0",
        "--plain-http",
        "-d",
        tampered_dir.to_str().unwrap(),
    ]);
    failed(&run, "refusing it");
    assert!(!tampered_dir.exists() || std::fs::read_dir(&tampered_dir).unwrap().next().is_none());
}

#[test]
fn basic_auth_logins_are_shared_with_helm() {
    let registry = Registry::start(Auth::Htpasswd("ops", "s3cret"));
    let env = Env::new();
    let chart = packaged(&env, "0.1.0");
    let push = |env: &Env| {
        env.ours(&[
            "push",
            chart.to_str().unwrap(),
            &registry.url("charts"),
            "--plain-http",
        ])
    };
    failed(
        &push(&env),
        &format!(
            "needs credentials (401); run `aether-chart registry login {}`",
            registry.host
        ),
    );
    let wrong = env.ours_with_stdin(
        &[
            "registry",
            "login",
            &registry.host,
            "-u",
            "ops",
            "--password-stdin",
            "--plain-http",
        ],
        Some(b"wrong\n"),
    );
    failed(&wrong, "refused the credentials");
    assert!(
        !env.path("registry.json").exists(),
        "a failed login stores nothing"
    );
    let login = env.ours_with_stdin(
        &[
            "registry",
            "login",
            &registry.host,
            "-u",
            "ops",
            "--password-stdin",
            "--plain-http",
        ],
        Some(b"s3cret\n"),
    );
    assert_eq!(ok(login).stdout, "Login Succeeded\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.path("registry.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "credentials are for the owner only");
    }
    ok(push(&env));
    // Helm reads the login aether-chart stored.
    helm_pulls_the_same(&env, &registry, &chart, &["--plain-http"]);
    ok(env.ours(&["registry", "logout", &registry.host]));
    failed(
        &env.ours(&[
            "pull",
            &registry.url("charts/aether"),
            "--version",
            "0.1.0",
            "--plain-http",
        ]),
        "needs credentials",
    );
    failed(
        &env.ours(&["registry", "logout", &registry.host]),
        "not logged in",
    );
}

#[test]
fn faults_are_clear_errors_that_leave_nothing_behind() {
    let env = Env::new();
    let dest = env.path("out");
    let pull = |host: &str| {
        env.ours(&[
            "pull",
            &format!("oci://{host}/charts/evil"),
            "--version",
            "1.0.0",
            "--plain-http",
            "-d",
            dest.to_str().unwrap(),
        ])
    };
    let empty = |dest: &Path| !dest.exists() || std::fs::read_dir(dest).unwrap().next().is_none();

    // Nothing listening.
    let down = format!("127.0.0.1:{}", free_port());
    failed(&pull(&down), &format!("the registry {down}"));

    // 5xx answers are retried, then reported.
    let (host, count) = scripted(|_, _| Answer::Full(503, vec![], Vec::new()));
    failed(&pull(&host), "answered 503");
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        4,
        "one try and three retries"
    );

    // 403.
    let (host, _) = scripted(|_, _| Answer::Full(403, vec![], Vec::new()));
    failed(&pull(&host), "(403): the account lacks permission");

    // A bearer challenge whose token service refuses.
    let (token_host, _) = scripted(|_, _| Answer::Full(401, vec![], Vec::new()));
    let realm = format!("http://{token_host}/token");
    let (host, _) = scripted(move |_, _| {
        Answer::Full(
            401,
            vec![(
                "WWW-Authenticate",
                format!(r#"Bearer realm="{realm}",service="test""#),
            )],
            Vec::new(),
        )
    });
    failed(&pull(&host), "token service");

    // The connection drops mid-download, every time.
    let good = std::fs::read(packaged(&env, "1.0.0")).unwrap();
    failed(
        &pull(&serve_chart(good.clone(), good.len() as u64, true)),
        "broke off",
    );
    assert!(empty(&dest));

    // Larger than its manifest says; larger than the limits.
    failed(
        &pull(&serve_chart(good.clone(), good.len() as u64 - 10, false)),
        "longer than the",
    );
    failed(
        &pull(&serve_chart(good.clone(), 200 << 20, false)),
        "more than the limit",
    );

    // Archives that climb out, are absolute, or hold links.
    for (name, expect) in [
        ("evil/../../x.yaml", "reaches outside the chart folder"),
        ("/etc/evil.yaml", "absolute path"),
    ] {
        let archive = archive_with_entry(name);
        failed(
            &pull(&serve_chart(archive.clone(), archive.len() as u64, false)),
            expect,
        );
    }
    let mut linked = Vec::new();
    {
        let gz = flate2::write::GzEncoder::new(&mut linked, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        tar.append_link(&mut header, "evil/Chart.yaml", "/etc/passwd")
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    failed(
        &pull(&serve_chart(linked.clone(), linked.len() as u64, false)),
        "symbolic link",
    );

    // A manifest whose bytes do not match the digest the registry states for them.
    let (host, _) = scripted(|_, path| {
        if path.contains("/manifests/") {
            let wrong = format!("sha256:{}", "0".repeat(64));
            Answer::Full(
                200,
                vec![("Docker-Content-Digest", wrong)],
                manifest_for(b"x", 1),
            )
        } else {
            Answer::Full(404, vec![], Vec::new())
        }
    });
    failed(&pull(&host), "refusing it");

    // A file past the 5 MiB per-file limit (it compresses to almost nothing).
    let mut big = Vec::new();
    {
        let gz = flate2::write::GzEncoder::new(&mut big, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let zeros = vec![0u8; 6 << 20];
        let mut header = tar::Header::new_gnu();
        header.set_size(zeros.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, "evil/big.bin", zeros.as_slice())
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    failed(
        &pull(&serve_chart(big.clone(), big.len() as u64, false)),
        "more than the limit of 5242880 per file",
    );
    assert!(empty(&dest), "no fault leaves a file behind");

    // The connection drops during every upload.
    let (host, _) = scripted(|method, path| match method {
        "HEAD" => Answer::Full(404, vec![], Vec::new()),
        "POST" => Answer::Full(
            202,
            vec![("Location", "/v2/charts/aether/blobs/uploads/u1".into())],
            Vec::new(),
        ),
        _ if path.contains("/uploads/") => Answer::HangUp,
        _ => Answer::Full(404, vec![], Vec::new()),
    });
    let archive = packaged(&env, "1.0.1");
    failed(
        &env.ours(&[
            "push",
            archive.to_str().unwrap(),
            &format!("oci://{host}/charts"),
            "--plain-http",
        ]),
        &format!("the registry {host} cannot be reached"),
    );
}

/// A loopback token issuer for docker-registry's token auth: it checks basic credentials
/// (`ops`/`s3cret`) and answers with an ES256 JWT granting the scope asked for, signed with a
/// fresh key whose self-signed certificate the registry trusts. Returns the realm URL and the
/// certificate (PEM).
fn token_issuer() -> (String, String) {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["token-issuer".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let rng = ring::rand::SystemRandom::new();
    let signer = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &key.serialize_der(),
        &rng,
    )
    .unwrap();
    let header = URL_SAFE_NO_PAD.encode(
        serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(cert.der())]})
            .to_string(),
    );
    let expected = format!("Basic {}", STANDARD.encode("ops:s3cret"));
    let (host, _) = scripted_with_headers(move |_, path, authorization| {
        if authorization.as_deref() != Some(expected.as_str()) {
            return Answer::Full(401, vec![], Vec::new());
        }
        let query = path.split_once('?').map(|q| q.1).unwrap_or_default();
        let access: Vec<serde_json::Value> = query
            .split('&')
            .filter_map(|kv| kv.strip_prefix("scope="))
            .map(|scope| {
                let scope = percent_decode(scope);
                let mut parts = scope.splitn(3, ':');
                let (kind, name, actions) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                serde_json::json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()})
            })
            .collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = URL_SAFE_NO_PAD.encode(
            serde_json::json!({
                "iss": TOKEN_ISSUER, "sub": "ops", "aud": TOKEN_SERVICE,
                "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("t{now}"),
                "access": access,
            })
            .to_string(),
        );
        let signing_input = format!("{header}.{claims}");
        let signature = signer
            .sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes())
            .unwrap();
        let token = format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        );
        let body = serde_json::json!({"token": token, "access_token": token, "expires_in": 300})
            .to_string();
        Answer::Full(
            200,
            vec![("Content-Type", "application/json".into())],
            body.into_bytes(),
        )
    });
    (format!("http://{host}/token"), cert.pem())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn bearer_tokens_from_the_registrys_token_service() {
    let (realm, cert_pem) = token_issuer();
    let registry = Registry::start(Auth::Token { realm, cert_pem });
    let env = Env::new();
    let chart = packaged(&env, "0.1.0");
    let push = |env: &Env| {
        env.ours(&[
            "push",
            chart.to_str().unwrap(),
            &registry.url("charts"),
            "--plain-http",
        ])
    };
    failed(&push(&env), "the token service");
    let login = env.ours_with_stdin(
        &[
            "registry",
            "login",
            &registry.host,
            "-u",
            "ops",
            "--password-stdin",
            "--plain-http",
        ],
        Some(b"s3cret\n"),
    );
    ok(login);
    let pushed = ok(push(&env));
    // Helm pulls with the stored login through the same token service; so do we.
    helm_pulls_the_same(&env, &registry, &chart, &["--plain-http"]);
    let pulled = ok(env.ours(&[
        "pull",
        &registry.url("charts/aether"),
        "--version",
        "~0.1",
        "--plain-http",
        "-d",
        env.path("ours").to_str().unwrap(),
    ]));
    assert_eq!(digest_of(&pulled), digest_of(&pushed));
}

#[test]
fn oci_dependencies_resolve_ranges_like_helm() {
    let registry = Registry::start(Auth::None);
    let env = Env::new();
    let src = env.path("src");
    std::fs::create_dir_all(src.join("templates")).unwrap();
    for version in ["1.0.0", "1.3.0"] {
        std::fs::write(
            src.join("Chart.yaml"),
            format!("apiVersion: v2\nname: sub\nversion: {version}\n"),
        )
        .unwrap();
        let dest = env.path("archives");
        ok(env.ours(&[
            "package",
            src.to_str().unwrap(),
            "-d",
            dest.to_str().unwrap(),
        ]));
        let archive = dest.join(format!("sub-{version}.tgz"));
        ok(env.ours(&[
            "push",
            archive.to_str().unwrap(),
            &registry.url("charts"),
            "--plain-http",
        ]));
    }
    let parent = format!(
        "apiVersion: v2\nname: parent\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: \">=1.0.0 <1.3.0\"\n  repository: {}\n",
        registry.url("charts")
    );
    for dir in ["ours", "theirs"] {
        std::fs::create_dir_all(env.path(dir).join("templates")).unwrap();
        std::fs::write(env.path(dir).join("Chart.yaml"), &parent).unwrap();
    }
    ok(env.ours(&["dependency", "update", "ours", "--plain-http"]));
    ok(env.helm(&["dependency", "update", "theirs", "--plain-http"]));
    let read = |dir: &str| std::fs::read_to_string(env.path(dir).join("Chart.lock")).unwrap();
    let digest = |lock: String| {
        lock.lines()
            .find(|l| l.starts_with("digest:"))
            .unwrap()
            .to_string()
    };
    assert!(read("ours").contains("version: 1.0.0"), "{}", read("ours"));
    assert_eq!(digest(read("ours")), digest(read("theirs")));
    assert!(
        std::fs::read(env.path("ours/charts/sub-1.0.0.tgz")).unwrap()
            == std::fs::read(env.path("archives/sub-1.0.0.tgz")).unwrap()
    );
    std::fs::write(
        env.path("ours/Chart.yaml"),
        parent.replace("<1.3.0", "<1.0.0"),
    )
    .unwrap();
    failed(
        &env.ours(&["dependency", "update", "ours", "--plain-http"]),
        "(available: 1.0.0, 1.3.0)",
    );
}

#[test]
fn tls_with_a_private_ca_and_client_certificates() {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::CrlSign,
    ];
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "aether test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |usage: ExtendedKeyUsagePurpose, names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        params.extended_key_usages = vec![usage];
        params
            .distinguished_name
            .push(DnType::CommonName, "aether test");
        (
            params.signed_by(&key, &ca).unwrap().pem(),
            key.serialize_pem(),
        )
    };
    let (server_cert, server_key) = leaf(
        ExtendedKeyUsagePurpose::ServerAuth,
        vec!["127.0.0.1".into()],
    );
    let (client_cert, client_key) =
        leaf(ExtendedKeyUsagePurpose::ClientAuth, vec!["client".into()]);
    let registry = Registry::start(Auth::MutualTls {
        cert_pem: server_cert,
        key_pem: server_key,
        ca_pem: ca.pem(),
    });
    let env = Env::new();
    for (name, pem) in [
        ("ca.pem", ca.pem()),
        ("client.pem", client_cert),
        ("client.key", client_key),
    ] {
        std::fs::write(env.path(name), pem).unwrap();
    }
    let (ca_file, cert_file, key_file) = (
        env.path("ca.pem"),
        env.path("client.pem"),
        env.path("client.key"),
    );
    let tls: Vec<&str> = vec![
        "--ca-file",
        ca_file.to_str().unwrap(),
        "--cert-file",
        cert_file.to_str().unwrap(),
        "--key-file",
        key_file.to_str().unwrap(),
    ];
    let chart = packaged(&env, "0.1.0");
    let target = registry.url("charts");

    // The server's certificate is unknown without the CA; without a client certificate the
    // registry ends the handshake.
    failed(
        &env.ours(&["push", chart.to_str().unwrap(), &target]),
        &format!("the registry {}", registry.host),
    );
    failed(
        &env.ours(&[
            "push",
            chart.to_str().unwrap(),
            &target,
            "--insecure-skip-tls-verify",
        ]),
        &format!("the registry {}", registry.host),
    );

    let mut push = vec!["push", chart.to_str().unwrap(), target.as_str()];
    push.extend(&tls);
    ok(env.ours(&push));
    helm_pulls_the_same(&env, &registry, &chart, &tls);
    let source = registry.url("charts/aether");
    let shown = {
        let mut args = vec!["show", "chart", source.as_str(), "--version", "0.1.0"];
        args.extend(&tls);
        ok(env.ours(&args))
    };
    assert!(shown.stdout.contains("name: aether"), "{}", shown.stdout);
}

/// `template` (and `lint` and `values`) take charts straight from a registry, a repository or a URL, every
/// digest checked, nothing left on disk; `--version` takes ranges, and without it the newest
/// release wins.
#[test]
fn charts_render_straight_from_where_they_live() {
    let registry = Registry::start(Auth::None);
    let env = Env::new();
    let repo = env.path("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for version in ["1.0.0", "1.1.0", "2.0.0-rc.1"] {
        let src = env.path("src");
        let _ = std::fs::remove_dir_all(&src);
        std::fs::create_dir_all(src.join("templates")).unwrap();
        std::fs::write(
            src.join("Chart.yaml"),
            format!("apiVersion: v2\nname: demo\nversion: {version}\n"),
        )
        .unwrap();
        std::fs::write(
            src.join("templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  version: {{ chart.version | quote }}\n",
        )
        .unwrap();
        ok(env.ours(&["package", "src", "-d", repo.to_str().unwrap()]));
        let archive = repo.join(format!("demo-{version}.tgz"));
        ok(env.ours(&[
            "push",
            archive.to_str().unwrap(),
            &registry.url("charts"),
            "--plain-http",
        ]));
    }
    let server = crate::support::FileServer::start(&repo);
    ok(env.ours(&[
        "repo",
        "index",
        repo.to_str().unwrap(),
        "--url",
        &server.url,
    ]));
    let before: Vec<_> = std::fs::read_dir(env.dir.path()).unwrap().collect();
    let rendered = |args: &[&str]| -> String {
        let run = ok(env.ours(args));
        run.stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("version: "))
            .unwrap_or_default()
            .to_string()
    };
    let oci = registry.url("charts/demo");
    assert_eq!(rendered(&["template", &oci, "--plain-http"]), "\"1.1.0\"");
    assert_eq!(
        rendered(&["template", &oci, "--version", "~1.0", "--plain-http"]),
        "\"1.0.0\""
    );
    assert_eq!(
        rendered(&["template", &oci, "--version", "2.0.0-rc.1", "--plain-http"]),
        "\"2.0.0-rc.1\""
    );
    assert_eq!(
        rendered(&["template", "demo", "--repo", &server.url, "--version", "^1"]),
        "\"1.1.0\""
    );
    let url = format!("{}/demo-1.0.0.tgz", server.url);
    assert_eq!(rendered(&["template", &url]), "\"1.0.0\"");
    let values = env.ours(&[
        "values",
        &oci,
        "--version",
        "1.0.0",
        "--plain-http",
        "--set",
        "x=1",
    ]);
    assert_eq!(values.code, 0, "{}", values.snapshot());
    assert!(values.stdout.contains("x: 1"), "{}", values.stdout);
    let lint = env.ours(&["lint", &oci, "--version", "1.0.0", "--plain-http"]);
    assert!(lint.code <= 1, "{}", lint.snapshot());
    // Nothing was written where the commands ran.
    let after: Vec<_> = std::fs::read_dir(env.dir.path()).unwrap().collect();
    assert_eq!(before.len(), after.len());
    // What cannot be had is said.
    let missing = env.ours(&["template", &oci, "--version", "^3", "--plain-http"]);
    assert_eq!(missing.code, 2, "{}", missing.snapshot());
    assert!(
        missing.stderr.contains("no version satisfies"),
        "{}",
        missing.stderr
    );
    let tampered = {
        // Every entry's digest is wrong now.
        let index = std::fs::read_to_string(repo.join("index.yaml")).unwrap();
        let tampered: String = index
            .lines()
            .map(|l| match l.split_once("digest: ") {
                Some((indent, _)) => format!("{indent}digest: {}\n", "0".repeat(64)),
                None => format!("{l}\n"),
            })
            .collect();
        std::fs::write(repo.join("index.yaml"), tampered).unwrap();
        env.ours(&[
            "template",
            "demo",
            "--repo",
            &server.url,
            "--version",
            "1.0.0",
        ])
    };
    assert_eq!(tampered.code, 2, "{}", tampered.snapshot());
    assert!(
        tampered.stderr.contains("not the sha256:"),
        "{}",
        tampered.stderr
    );
    let local = env.ours(&["template", ".", "--version", "1.0.0"]);
    assert_eq!(local.code, 2);
    assert!(
        local
            .stderr
            .contains("--version applies to oci:// charts and --repo")
    );
}

#[test]
fn signed_charts_carry_their_provenance_through_the_registry() {
    use crate::provenance::{ED, Keys, RSA};
    let registry = Registry::start(Auth::None);
    let env = Env::new();
    let keys = Keys::new();
    let (secring, pubring) = (keys.arg("secring.gpg"), keys.arg("pubring.gpg"));
    let chart = env.path("demo");
    crate::support::demo_chart(&chart);
    let archives = env.path("archives");
    let archives_arg = archives.to_str().unwrap();
    let remote = registry.url("signed");
    let demo = registry.url("signed/demo");

    // Ours signs and pushes; Helm pulls with --verify and keeps the same provenance file.
    ok(env.ours(&[
        "package",
        "demo",
        "-d",
        archives_arg,
        "--sign",
        "--key",
        ED,
        "--keyring",
        &secring,
    ]));
    ok(env.ours(&[
        "push",
        &format!("{archives_arg}/demo-0.1.0.tgz"),
        &remote,
        "--plain-http",
    ]));
    let helm_dir = env.path("helm-pulled");
    std::fs::create_dir_all(&helm_dir).unwrap();
    let theirs = ok(env.helm(&[
        "pull",
        &demo,
        "--version",
        "0.1.0",
        "--plain-http",
        "--verify",
        "--keyring",
        &pubring,
        "-d",
        helm_dir.to_str().unwrap(),
    ]));
    assert!(
        std::fs::read(helm_dir.join("demo-0.1.0.tgz.prov")).unwrap()
            == std::fs::read(archives.join("demo-0.1.0.tgz.prov")).unwrap()
    );

    // Ours pulls with --verify: Helm's report, the archive and its provenance file.
    let ours_dir = env.path("ours-pulled");
    let mine = ok(env.ours(&[
        "pull",
        &demo,
        "--version",
        "0.1.0",
        "--plain-http",
        "--verify",
        "--keyring",
        &pubring,
        "-d",
        ours_dir.to_str().unwrap(),
    ]));
    assert!(
        mine.stdout.contains(&format!("Signed by: {ED}\n")),
        "{}",
        mine.stdout
    );
    let helm_report: Vec<&str> = theirs
        .stdout
        .lines()
        .chain(theirs.stderr.lines())
        .filter(|l| {
            l.starts_with("Signed by") || l.starts_with("Using Key") || l.starts_with("Chart Hash")
        })
        .collect();
    let our_report: Vec<&str> = mine
        .stdout
        .lines()
        .filter(|l| {
            l.starts_with("Signed by") || l.starts_with("Using Key") || l.starts_with("Chart Hash")
        })
        .collect();
    assert_eq!(our_report, helm_report, "helm said: {}", theirs.stdout);
    ok(env.ours(&[
        "verify",
        ours_dir.join("demo-0.1.0.tgz").to_str().unwrap(),
        "--keyring",
        &pubring,
    ]));

    // Helm signs and pushes (it picks up the .prov beside the archive); ours verifies it.
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: demo\nversion: 0.2.0\n",
    )
    .unwrap();
    ok(env.helm(&[
        "package",
        "demo",
        "-d",
        archives_arg,
        "--sign",
        "--key",
        RSA,
        "--keyring",
        &secring,
    ]));
    ok(env.helm(&[
        "push",
        &format!("{archives_arg}/demo-0.2.0.tgz"),
        &remote,
        "--plain-http",
    ]));
    let verified = ok(env.ours(&[
        "pull",
        &demo,
        "--version",
        "0.2.0",
        "--plain-http",
        "--verify",
        "--keyring",
        &pubring,
        "-d",
        ours_dir.to_str().unwrap(),
    ]));
    assert!(
        verified.stdout.contains(&format!("Signed by: {RSA}\n")),
        "{}",
        verified.stdout
    );

    // A key outside the keyring, or no provenance at all: exit 1, nothing written.
    let refused_dir = env.path("refused");
    let refused = env.ours(&[
        "pull",
        &demo,
        "--version",
        "0.2.0",
        "--plain-http",
        "--verify",
        "--keyring",
        &keys.arg("stranger.gpg"),
        "-d",
        refused_dir.to_str().unwrap(),
    ]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(
        refused.stderr.contains("was not made by any key in"),
        "{}",
        refused.stderr
    );
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: demo\nversion: 0.3.0\n",
    )
    .unwrap();
    ok(env.ours(&["package", "demo", "-d", archives_arg]));
    ok(env.ours(&[
        "push",
        &format!("{archives_arg}/demo-0.3.0.tgz"),
        &remote,
        "--plain-http",
    ]));
    let unsigned = env.ours(&[
        "pull",
        &demo,
        "--version",
        "0.3.0",
        "--plain-http",
        "--verify",
        "--keyring",
        &pubring,
        "-d",
        refused_dir.to_str().unwrap(),
    ]);
    assert_eq!(unsigned.code, 1, "{}", unsigned.snapshot());
    assert!(
        unsigned.stderr.contains("has no provenance layer"),
        "{}",
        unsigned.stderr
    );
    assert!(!refused_dir.exists(), "a refused pull wrote files");

    // --prov keeps the provenance file without checking it.
    let prov_dir = env.path("prov-only");
    ok(env.ours(&[
        "pull",
        &demo,
        "--version",
        "0.2.0",
        "--plain-http",
        "--prov",
        "-d",
        prov_dir.to_str().unwrap(),
    ]));
    assert!(
        std::fs::read(prov_dir.join("demo-0.2.0.tgz.prov")).unwrap()
            == std::fs::read(archives.join("demo-0.2.0.tgz.prov")).unwrap()
    );
}
