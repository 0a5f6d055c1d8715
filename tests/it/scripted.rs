//! A scripted loopback HTTP server: each request is answered by a closure, so tests can play
//! a registry or repository that fails the way real ones rarely do on demand (5xx, cut-off
//! downloads, bodies that trickle or never end, servers that never answer, answers that send
//! the client elsewhere).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// One scripted answer of the fake registry.
pub enum Answer {
    /// Status, headers and body.
    Full(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// A 200 that promises `Content-Length` bytes and hangs up after the first half.
    CutShort(Vec<u8>),
    /// No answer at all: the connection is closed.
    HangUp,
    /// Status, headers and a body sent one byte every `Duration`.
    Trickle(u16, Vec<(&'static str, String)>, Vec<u8>, Duration),
    /// A 200 with a chunked body that never ends.
    Endless,
    /// The request is read and never answered; the connection stays open.
    Silent,
}

/// A loopback server that answers each request with `script(method, path)`; it counts the
/// requests it saw.
pub fn scripted(
    script: impl Fn(&str, &str) -> Answer + Send + Sync + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    scripted_with_headers(move |method, path, _| script(method, path))
}

/// Like [`scripted`], with the request's `Authorization` header.
pub fn scripted_with_headers(
    script: impl Fn(&str, &str, Option<String>) -> Answer + Send + Sync + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    let script = std::sync::Arc::new(script);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let script = script.clone();
            let seen = seen.clone();
            std::thread::spawn(move || answer(stream, &*script, &seen));
        }
    });
    (host, count)
}

fn answer(
    mut stream: TcpStream,
    script: &dyn Fn(&str, &str, Option<String>) -> Answer,
    seen: &std::sync::atomic::AtomicUsize,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        let mut authorization = None;
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if line.to_ascii_lowercase().starts_with("authorization:") {
                authorization = Some(line["authorization:".len()..].trim().to_string());
            }
            line.clear();
        }
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut parts = request.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        match script(method, path, authorization) {
            Answer::Full(status, headers, body) => {
                let mut out = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                let mut out = out.into_bytes();
                if method != "HEAD" {
                    out.extend(body);
                }
                if stream.write_all(&out).is_err() {
                    return;
                }
            }
            Answer::HangUp => {
                let _ = stream.shutdown(std::net::Shutdown::Both);
                return;
            }
            Answer::Trickle(status, headers, body, pause) => {
                let mut out = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                if stream.write_all(out.as_bytes()).is_err() {
                    return;
                }
                for byte in body {
                    std::thread::sleep(pause);
                    if stream.write_all(&[byte]).is_err() {
                        return;
                    }
                }
            }
            Answer::Endless => {
                let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "a".repeat(64 * 1024));
                while stream.write_all(chunk.as_bytes()).is_ok() {}
                return;
            }
            Answer::Silent => {
                // Hold the connection until the client gives up.
                let _ = reader.read_to_end(&mut Vec::new());
                return;
            }
            Answer::CutShort(body) => {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body[..body.len() / 2]);
                let _ = stream.shutdown(std::net::Shutdown::Both);
                return;
            }
        }
    }
}

/// A manifest naming `layer` as a chart of `size` bytes (the config is never fetched).
pub fn manifest_for(layer: &[u8], size: u64) -> Vec<u8> {
    format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"{}","size":2}},"layers":[{{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"{}","size":{size}}}]}}"#,
        sha256(b"{}"),
        sha256(layer)
    )
    .into_bytes()
}

pub fn serve_chart(layer: Vec<u8>, declared: u64, cut: bool) -> String {
    let manifest = manifest_for(&layer, declared);
    scripted(move |_, path| {
        if path.contains("/manifests/") {
            Answer::Full(
                200,
                vec![(
                    "Content-Type",
                    "application/vnd.oci.image.manifest.v1+json".into(),
                )],
                manifest.clone(),
            )
        } else if path.contains("/blobs/") && cut {
            Answer::CutShort(layer.clone())
        } else if path.contains("/blobs/") {
            Answer::Full(200, vec![], layer.clone())
        } else {
            Answer::Full(404, vec![], Vec::new())
        }
    })
    .0
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    let hex: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}
