//! Hostile registries and chart repositories on 127.0.0.1: credentials must stay with their
//! origin, every transfer must end (slow bodies, endless bodies, servers that never answer),
//! lists and digests from the server are capped and checked before use.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::scripted::{Answer, manifest_for, scripted, scripted_with_headers, sha256};
use crate::support::{Run, aether, aether_within, failed, ok};

const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// A small chart archive `demo` 0.1.0, packaged in `dir`.
fn demo_archive(dir: &std::path::Path) -> std::path::PathBuf {
    crate::support::demo_chart(&dir.join("demo"));
    ok(aether(dir, &["package", "demo", "-d", "archives"]));
    dir.join("archives/demo-0.1.0.tgz")
}

/// `pull oci://HOST/charts/demo` with `extra` flags, given `limit` to end.
fn pull(host: &str, extra: &[&str], limit: Duration) -> (Run, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("oci://{host}/charts/demo");
    let mut args = vec!["pull", reference.as_str(), "--plain-http", "-d", "out"];
    args.extend(extra);
    let run = aether_within(limit, dir.path(), &args, &[]);
    (run, dir)
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// A registry that wants basic credentials for everything and sends uploads to `elsewhere`.
fn home_registry(elsewhere: String) -> String {
    let expected = basic("ops", "s3cret");
    scripted_with_headers(move |method, path, authorization| {
        if authorization.as_deref() != Some(expected.as_str()) {
            return Answer::Full(
                401,
                vec![("WWW-Authenticate", r#"Basic realm="test""#.into())],
                Vec::new(),
            );
        }
        match method {
            "POST" => Answer::Full(
                202,
                vec![("Location", format!("http://{elsewhere}/upload/u1"))],
                Vec::new(),
            ),
            "PUT" if path.contains("/manifests/") => Answer::Full(201, vec![], Vec::new()),
            _ => Answer::Full(404, vec![], Vec::new()),
        }
    })
    .0
}

/// A registry credentials file holding `ops`/`s3cret` for `host`.
fn credentials_for(dir: &std::path::Path, host: &str) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode("ops:s3cret");
    let path = dir.join("registry.json");
    std::fs::write(
        &path,
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn credentials_stay_with_the_registrys_origin() {
    let dir = tempfile::tempdir().unwrap();
    let archive = demo_archive(dir.path());
    for refuses in [false, true] {
        let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
        let record = seen.clone();
        let (elsewhere, _) = scripted_with_headers(move |method, _, authorization| {
            record.lock().unwrap().push(authorization);
            match (refuses, method) {
                (true, _) => Answer::Full(
                    401,
                    vec![("WWW-Authenticate", r#"Basic realm="elsewhere""#.into())],
                    Vec::new(),
                ),
                (false, "PUT") => Answer::Full(201, vec![], Vec::new()),
                _ => Answer::Full(404, vec![], Vec::new()),
            }
        });
        let home = home_registry(elsewhere);
        let config = credentials_for(dir.path(), &home);
        let run = aether_within(
            Duration::from_secs(60),
            dir.path(),
            &[
                "push",
                archive.to_str().unwrap(),
                &format!("oci://{home}/charts"),
                "--plain-http",
                "--registry-config",
                &config,
            ],
            &[],
        );
        if refuses {
            failed(&run, "credentials go only to the registry itself");
        } else {
            ok(run);
        }
        let seen = seen.lock().unwrap();
        assert!(!seen.is_empty(), "the upload went to the other origin");
        assert!(
            seen.iter().all(Option::is_none),
            "credentials reached another origin: {seen:?}"
        );
    }
}

#[test]
fn slow_and_endless_transfers_end() {
    let limit = Duration::from_secs(40);
    let manifest = manifest_for(b"x", 1);
    // A manifest sent one byte every five seconds.
    let slow = manifest.clone();
    let (host, _) = scripted(move |_, path| {
        if path.contains("/manifests/") {
            let headers = vec![("Content-Type", MANIFEST_TYPE.to_string())];
            Answer::Trickle(200, headers, slow.clone(), Duration::from_secs(5))
        } else {
            Answer::Full(404, vec![], Vec::new())
        }
    });
    let began = Instant::now();
    let (run, _dir) = pull(&host, &["--version", "0.1.0", "--timeout", "3s"], limit);
    failed(&run, "did not finish within --timeout 3s");
    assert!(
        began.elapsed() < Duration::from_secs(15),
        "{:?}",
        began.elapsed()
    );

    // A manifest, then a tag list, whose body never ends.
    let (host, _) = scripted(|_, _| Answer::Endless);
    let (run, _dir) = pull(&host, &["--version", "0.1.0"], limit);
    failed(&run, "sent more than the 4194304 bytes allowed");
    let (run, _dir) = pull(&host, &["--version", "^0.1"], limit);
    failed(&run, "tag list");

    // A chart repository whose index.yaml trickles in.
    let index = b"apiVersion: v1\nentries: {}\n".to_vec();
    let (repo, _) =
        scripted(move |_, _| Answer::Trickle(200, vec![], index.clone(), Duration::from_secs(5)));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Chart.yaml"),
        format!(
            "apiVersion: v2\nname: demo\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: ^1\n  repository: http://{repo}\n"
        ),
    )
    .unwrap();
    let began = Instant::now();
    let run = aether_within(
        limit,
        dir.path(),
        &["dependency", "update", ".", "--timeout", "3s"],
        &[],
    );
    failed(&run, "did not finish within --timeout 3s");
    assert!(
        began.elapsed() < Duration::from_secs(15),
        "{:?}",
        began.elapsed()
    );
}

#[test]
fn a_server_that_never_answers_costs_thirty_seconds_once() {
    let (host, count) = scripted(|_, _| Answer::Silent);
    let began = Instant::now();
    let (run, _dir) = pull(&host, &["--version", "0.1.0"], Duration::from_secs(90));
    failed(&run, "sent nothing for 30 s");
    let took = began.elapsed();
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(60),
        "{took:?}"
    );
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "a stuck server is not asked again"
    );
}

#[test]
fn tag_lists_are_capped_and_listed_briefly() {
    // 300,000 tags a page, and always one more page.
    let page: Vec<u8> = {
        let tags: Vec<String> = (0..300_000).map(|i| format!("\"0.0.{i}\"")).collect();
        format!(r#"{{"name":"charts/demo","tags":[{}]}}"#, tags.join(",")).into_bytes()
    };
    let (host, _) = scripted(move |_, _| {
        Answer::Full(
            200,
            vec![(
                "Link",
                r#"</v2/charts/demo/tags/list?n=1000&last=x>; rel="next""#.into(),
            )],
            page.clone(),
        )
    });
    let (run, _dir) = pull(&host, &["--version", ">=9"], Duration::from_secs(60));
    failed(&run, "is larger than 16777216 bytes");
    assert!(
        run.stderr.len() < 2000,
        "a short message: {} bytes",
        run.stderr.len()
    );

    // Without a match, the message lists a few versions and counts the rest.
    let small: Vec<String> = (0..100).map(|i| format!("\"1.0.{i}\"")).collect();
    let body = format!(r#"{{"name":"charts/demo","tags":[{}]}}"#, small.join(",")).into_bytes();
    let (host, _) = scripted(move |_, _| Answer::Full(200, vec![], body.clone()));
    let (run, _dir) = pull(&host, &["--version", ">=2"], Duration::from_secs(60));
    failed(&run, "and 80 more");
}

#[test]
fn layer_digests_are_checked_before_they_reach_a_url() {
    for digest in ["sha256:../../../v2/other/blobs/x", "sha256:abc?x=1"] {
        let good = manifest_for(b"x", 1);
        let manifest = String::from_utf8(good)
            .unwrap()
            .replace(&sha256(b"x"), digest)
            .into_bytes();
        let blob_requests = Arc::new(Mutex::new(0usize));
        let counted = blob_requests.clone();
        let (host, _) = scripted(move |_, path| {
            if path.contains("/manifests/") {
                let headers = vec![("Content-Type", MANIFEST_TYPE.to_string())];
                Answer::Full(200, headers, manifest.clone())
            } else {
                *counted.lock().unwrap() += 1;
                Answer::Full(404, vec![], Vec::new())
            }
        });
        let (run, _dir) = pull(&host, &["--version", "0.1.0"], Duration::from_secs(30));
        failed(&run, "which is not sha256:<64 hex digits>");
        assert_eq!(*blob_requests.lock().unwrap(), 0, "{digest} reached a URL");
    }
}

#[test]
fn tls_to_a_plain_http_server_is_one_clear_error() {
    // A plain-HTTP server answers a TLS hello as it answers any bad request.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("oci://{host}/charts/demo");
    let run = aether_within(
        Duration::from_secs(30),
        dir.path(),
        &["pull", &reference, "--version", "0.1.0"],
        &[],
    );
    failed(&run, "does not speak TLS");
    assert!(run.stderr.contains("--plain-http"), "{}", run.stderr);
    assert!(
        count.load(std::sync::atomic::Ordering::SeqCst) <= 1,
        "waiting cannot fix a protocol mismatch: no retries"
    );
}

#[test]
fn a_redirect_to_another_origin_carries_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let archive = std::fs::read(demo_archive(dir.path())).unwrap();
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let record = seen.clone();
    let layer = archive.clone();
    let (elsewhere, _) = scripted_with_headers(move |_, _, authorization| {
        record.lock().unwrap().push(authorization);
        Answer::Full(200, vec![], layer.clone())
    });
    let expected = basic("ops", "s3cret");
    let manifest = manifest_for(&archive, archive.len() as u64);
    let (home, _) = scripted_with_headers(move |_, path, authorization| {
        if authorization.as_deref() != Some(expected.as_str()) {
            return Answer::Full(
                401,
                vec![("WWW-Authenticate", r#"Basic realm="test""#.into())],
                Vec::new(),
            );
        }
        if path.contains("/manifests/") {
            let headers = vec![("Content-Type", MANIFEST_TYPE.to_string())];
            Answer::Full(200, headers, manifest.clone())
        } else {
            // Blobs live in a store elsewhere, as registries backed by object storage do.
            let location = format!("http://{elsewhere}/store{path}");
            Answer::Full(307, vec![("Location", location)], Vec::new())
        }
    });
    let config = credentials_for(dir.path(), &home);
    let reference = format!("oci://{home}/charts/demo");
    ok(aether_within(
        Duration::from_secs(60),
        dir.path(),
        &[
            "pull",
            &reference,
            "--version",
            "0.1.0",
            "--plain-http",
            "--registry-config",
            &config,
            "-d",
            "out",
        ],
        &[],
    ));
    let seen = seen.lock().unwrap();
    assert!(!seen.is_empty(), "the blob came from the other origin");
    assert!(
        seen.iter().all(Option::is_none),
        "credentials followed the redirect: {seen:?}"
    );
}
