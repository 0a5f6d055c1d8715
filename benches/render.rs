//! Render benchmark: aether-chart against Helm 4 in the same run.
//!
//! Renders the world-server benchmark chart (N shards x 3 regions; a StatefulSet, a Service and a
//! ConfigMap each, plus one NetworkPolicy, using toyaml/nindent/quote/sha256/dictsort) at about
//! 1,800 and 18,000 documents with aether-chart (benches/fixtures/world-jinja), once without and
//! once with validation (strict Kubernetes schemas and every rule), and with `helm template` on
//! the equivalent Go-template chart (benches/fixtures/world-go); checks that both produce the
//! same bytes, and prints medians, the ratio (Helm against validated aether-chart), peak memory
//! (in MB of 10^6 bytes, and as a multiple of the output) and how many documents per second the
//! validation adds up to. Run with `cargo bench` after
//! `bash scripts/install-test-tools.sh` (or point AETHER_HELM at a Helm 4 binary). With
//! AETHER_BASELINE naming another aether-chart binary (the previous main, say), its validated
//! render is timed in the same run too.
//!
//! Then the fixed costs: a one-Deployment chart (benches/fixtures/one-deployment) rendered
//! with and without validation, and `lint` of the Aether chart with its production overlay;
//! medians of many runs, and the baseline's beside them when there is one.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{median, output, run};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_aether-chart"));
    let helm = std::env::var_os("AETHER_HELM")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".tools/bin/helm"));
    if !helm.exists() {
        eprintln!(
            "Helm 4 not found at {}; run `bash scripts/install-test-tools.sh` first",
            helm.display()
        );
        std::process::exit(2);
    }
    let baseline = std::env::var_os("AETHER_BASELINE").map(PathBuf::from);
    let jinja = root.join("benches/fixtures/world-jinja");
    let go = root.join("benches/fixtures/world-go");
    println!(
        "{:>9} {:>10} {:>12} {:>12} {:>12} {:>7} {:>10} {:>10} {:>8} {:>12}",
        "documents",
        "output",
        "aether-chart",
        "+validation",
        "helm",
        "ratio",
        "rss ours",
        "rss helm",
        "rss/out",
        "validated/s"
    );
    if let Some(path) = &baseline {
        println!("baseline: {} (validated, same run)", path.display());
    }
    for (shards, runs) in [(200usize, 21usize), (2000, 7)] {
        let set = format!("shards={shards}");
        let args = |chart: &Path, extra: &[&str]| -> Vec<String> {
            ["template", "world", chart.to_str().unwrap(), "--set", &set]
                .iter()
                .chain(extra)
                .map(|s| s.to_string())
                .collect()
        };
        let plain_args = args(&jinja, &["--skip-validation"]);
        let checked_args = args(&jinja, &[]);
        let helm_args = args(&go, &[]);
        let (a, b) = (output(&ours, &checked_args), output(&helm, &helm_args));
        assert!(a == b, "aether-chart and helm must render the same bytes");
        let documents = a.windows(4).filter(|w| w == b"\n---").count() + 1;
        let (mut plain, mut checked, mut helm_times, mut ours_rss, mut helm_rss) =
            (vec![], vec![], vec![], 0, 0);
        let (mut base_times, mut base_rss) = (vec![], 0);
        for _ in 0..runs {
            if let Some(path) = &baseline {
                let s = run(path, &checked_args, Stdio::null());
                base_times.push(s.wall);
                base_rss = base_rss.max(s.max_rss_kib);
            }
            plain.push(run(&ours, &plain_args, Stdio::null()).wall);
            let s = run(&ours, &checked_args, Stdio::null());
            checked.push(s.wall);
            ours_rss = ours_rss.max(s.max_rss_kib);
            let s = run(&helm, &helm_args, Stdio::null());
            helm_times.push(s.wall);
            helm_rss = helm_rss.max(s.max_rss_kib);
        }
        let (plain, checked, helm_median) = (median(plain), median(checked), median(helm_times));
        let validation = checked.saturating_sub(plain).as_secs_f64();
        let rss_per_output = ours_rss as f64 * 1024.0 / a.len() as f64;
        println!(
            "{:>9} {:>8.2}MB {:>10.1}ms {:>10.1}ms {:>10.1}ms {:>6.1}x {:>8.1}MB {:>8.1}MB {:>7.2}x {:>12.0}",
            documents,
            a.len() as f64 / 1e6,
            plain.as_secs_f64() * 1e3,
            checked.as_secs_f64() * 1e3,
            helm_median.as_secs_f64() * 1e3,
            helm_median.as_secs_f64() / checked.as_secs_f64(),
            // Megabytes of 10^6 bytes, as the output's size is given.
            ours_rss as f64 * 1024.0 / 1e6,
            helm_rss as f64 * 1024.0 / 1e6,
            rss_per_output,
            documents as f64 / validation.max(1e-9),
        );
        if !base_times.is_empty() {
            let base = median(base_times);
            println!(
                "{:>9} baseline validated {:>8.1}ms ({:.2}x this build's), rss {:.1}MB ({:.2}x the output)",
                documents,
                base.as_secs_f64() * 1e3,
                base.as_secs_f64() / checked.as_secs_f64(),
                base_rss as f64 * 1024.0 / 1e6,
                base_rss as f64 * 1024.0 / a.len() as f64,
            );
        }
    }
    small_charts(&root, &ours, baseline.as_deref());
}

/// The fixed costs: one small chart validated and not, and `lint` of the Aether chart.
fn small_charts(root: &Path, ours: &Path, baseline: Option<&Path>) {
    let one = root.join("benches/fixtures/one-deployment");
    let one = one.to_str().unwrap();
    let prod = root.join("values/prod.yaml");
    let aether = root.to_str().unwrap();
    let documents = output(
        ours,
        &owned(&["template", aether, "-f", prod.to_str().unwrap()]),
    )
    .windows(5)
    .filter(|w| w == b"\n---\n")
    .count()
        + 1;
    let lint_name = format!("lint, Aether chart ({documents} documents)");
    let cases: [(&str, Vec<String>); 3] = [
        (
            "one Deployment, validated",
            owned(&["template", "web", one]),
        ),
        (
            "one Deployment, --skip-validation",
            owned(&["template", "web", one, "--skip-validation"]),
        ),
        (
            &lint_name,
            owned(&["lint", aether, "-f", prod.to_str().unwrap()]),
        ),
    ];
    println!();
    println!(
        "{:<40} {:>10} {:>10}",
        "fixed costs (median of 41)", "this", "baseline"
    );
    for (name, args) in &cases {
        // Interleaved, so a drift in the machine's speed falls on both alike.
        let (mut this, mut base) = (vec![], vec![]);
        for _ in 0..41 {
            this.push(run(ours, args, Stdio::null()).wall);
            if let Some(b) = baseline {
                base.push(run(b, args, Stdio::null()).wall);
            }
        }
        let base = match baseline {
            Some(_) => format!("{:.2}ms", median(base).as_secs_f64() * 1e3),
            None => String::new(),
        };
        println!(
            "{:<40} {:>8.2}ms {:>10}",
            name,
            median(this).as_secs_f64() * 1e3,
            base
        );
    }
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}
