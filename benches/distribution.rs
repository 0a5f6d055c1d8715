//! Packaging and registry benchmark, side by side with the peers in the same run.
//!
//! Generates a 50 MB chart (text files of 2 MB under files/, so each stays under Helm's 5 MiB
//! per-file limit), then times:
//! - `aether-chart package` against `tar czf` of the same tree (gzip's own speed) and
//!   `helm package`;
//! - `aether-chart push` and `pull` against `helm push` and `pull` of the same archive, with a
//!   docker-registry on 127.0.0.1 (each push goes to a new repository, so every byte travels).
//!
//! Run with `cargo bench --bench distribution` after `bash scripts/install-test-tools.sh`. With
//! AETHER_BASELINE naming another aether-chart binary (the previous main, say), it is timed on
//! the same steps in the same run.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{median, run};

const FILES: usize = 25;
const FILE_BYTES: usize = 2_000_000;
const RUNS: usize = 7;

/// Text that compresses about as well as manifests and configuration do.
fn text(seed: u64, len: usize) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "replicas", "image", "aether", "world", "server", "region", "memory", "cpu", "probe",
        "port", "name", "labels", "value", "config", "shard", "route",
    ];
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 32);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(WORDS[(state % 16) as usize].as_bytes());
        out.push(if state.is_multiple_of(7) { b'\n' } else { b' ' });
        out.extend_from_slice(format!("{}", state % 10_000).as_bytes());
    }
    out.truncate(len);
    out
}

fn make_chart(dir: &Path) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::create_dir_all(dir.join("files")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: big\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "replicas: 1\n").unwrap();
    for i in 0..FILES {
        std::fs::write(
            dir.join(format!("files/data-{i:02}.txt")),
            text(i as u64 + 1, FILE_BYTES),
        )
        .unwrap();
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Median wall time of `RUNS` runs of `program args` (after `before` each time).
fn time(
    program: &Path,
    make_args: impl Fn(usize) -> Vec<String>,
    before: impl Fn(usize),
) -> Duration {
    median(
        (0..RUNS)
            .map(|i| {
                before(i);
                run(program, &make_args(i), Stdio::null()).wall
            })
            .collect(),
    )
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_aether-chart"));
    let baseline = std::env::var_os("AETHER_BASELINE").map(PathBuf::from);
    let helm = root.join(".tools/bin/helm");
    let tar = PathBuf::from("/usr/bin/tar");
    if !helm.exists() {
        eprintln!("Helm 4 not found; run `bash scripts/install-test-tools.sh` first");
        std::process::exit(2);
    }
    let work = std::env::temp_dir().join(format!("aether-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let chart = work.join("big");
    make_chart(&chart);
    let out = work.join("out");
    let size_mb = (FILES * FILE_BYTES) as f64 / 1e6;

    let package_args = |dir: &Path| {
        let dir = dir.to_path_buf();
        let chart = chart.clone();
        move |_: usize| {
            args(&[
                "package",
                chart.to_str().unwrap(),
                "-d",
                dir.to_str().unwrap(),
            ])
        }
    };
    let ours_package = time(&ours, package_args(&out), |_| {});
    let base_package = baseline
        .as_ref()
        .map(|b| time(b, package_args(&work.join("base-out")), |_| {}));
    let tar_czf = time(
        &tar,
        |_| {
            args(&[
                "czf",
                work.join("big.tar.gz").to_str().unwrap(),
                "-C",
                work.to_str().unwrap(),
                "big",
            ])
        },
        |_| {},
    );
    let helm_dir = work.join("helm-out");
    std::fs::create_dir_all(&helm_dir).unwrap();
    let helm_package = time(
        &helm,
        |_| {
            args(&[
                "package",
                chart.to_str().unwrap(),
                "-d",
                helm_dir.to_str().unwrap(),
            ])
        },
        |_| {},
    );
    let archive = out.join("big-1.0.0.tgz");
    let archive_mb = std::fs::metadata(&archive).unwrap().len() as f64 / 1e6;
    println!("packaging a {size_mb:.0} MB chart ({archive_mb:.1} MB archive), medians of {RUNS}:");
    let mut rows = vec![
        ("aether-chart package", ours_package),
        ("tar czf", tar_czf),
        ("helm package", helm_package),
    ];
    rows.extend(base_package.map(|t| ("baseline package", t)));
    for (name, t) in rows {
        println!(
            "  {name:<22} {:>8.1} ms  {:>6.1} MB/s  {:.2}x tar czf",
            t.as_secs_f64() * 1e3,
            size_mb / t.as_secs_f64(),
            t.as_secs_f64() / tar_czf.as_secs_f64()
        );
    }

    // A registry of our own on a free loopback port.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = work.join("registry.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            work.join("storage").display()
        ),
    )
    .unwrap();
    let mut registry = Command::new("docker-registry")
        .args(["serve", config.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry (run scripts/install-test-tools.sh)");
    let host = format!("127.0.0.1:{port}");
    while std::net::TcpStream::connect(&host).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let helm_env = work.join("helm-home");
    // SAFETY: set before any thread of this process reads the environment.
    unsafe {
        std::env::set_var("HELM_CONFIG_HOME", helm_env.join("config"));
        std::env::set_var("HELM_CACHE_HOME", helm_env.join("cache"));
        std::env::set_var("HELM_DATA_HOME", helm_env.join("data"));
        std::env::set_var("HELM_REGISTRY_CONFIG", helm_env.join("registry.json"));
    }
    let target = |who: &str, i: usize| format!("oci://{host}/{who}{i}");
    let push_args = |who: &'static str| {
        let (archive, target) = (&archive, &target);
        move |i: usize| {
            args(&[
                "push",
                archive.to_str().unwrap(),
                &target(who, i),
                "--plain-http",
            ])
        }
    };
    let ours_push = time(&ours, push_args("ours"), |_| {});
    let base_push = baseline
        .as_ref()
        .map(|b| time(b, push_args("base"), |_| {}));
    let helm_push = time(&helm, push_args("helm"), |_| {});
    let pulled = work.join("pulled");
    let fresh = |_: usize| {
        let _ = std::fs::remove_dir_all(&pulled);
        std::fs::create_dir_all(&pulled).unwrap();
    };
    let source = format!("oci://{host}/ours0/big");
    let pull_args = |_: usize| {
        args(&[
            "pull",
            &source,
            "--version",
            "1.0.0",
            "--plain-http",
            "-d",
            pulled.to_str().unwrap(),
        ])
    };
    let ours_pull = time(&ours, pull_args, fresh);
    let base_pull = baseline.as_ref().map(|b| time(b, pull_args, fresh));
    let helm_pull = time(&helm, pull_args, fresh);
    let _ = registry.kill();
    let _ = registry.wait();
    println!(
        "registry transfers of the {archive_mb:.1} MB archive over loopback, medians of {RUNS}:"
    );
    let mut rows = vec![
        ("aether-chart push", ours_push, helm_push),
        ("helm push", helm_push, helm_push),
        ("aether-chart pull", ours_pull, helm_pull),
        ("helm pull", helm_pull, helm_pull),
    ];
    rows.extend(base_push.map(|t| ("baseline push", t, helm_push)));
    rows.extend(base_pull.map(|t| ("baseline pull", t, helm_pull)));
    for (name, t, peer) in rows {
        println!(
            "  {name:<22} {:>8.1} ms  {:>6.1} MB/s  {:.2}x helm",
            t.as_secs_f64() * 1e3,
            archive_mb / t.as_secs_f64(),
            t.as_secs_f64() / peer.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}
