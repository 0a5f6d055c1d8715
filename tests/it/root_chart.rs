//! The repository root is the Aether chart: each overlay renders, and the renders are pinned.

use crate::support::{aether, repo_root};

#[test]
fn overlays_render() {
    for overlay in ["values/dev.yaml", "values/staging.yaml", "values/prod.yaml"] {
        let run = aether(&repo_root(), &["template", "-f", overlay]);
        assert_eq!(run.code, 0, "{overlay}: {}", run.stderr);
        insta::assert_snapshot!(
            format!(
                "root-{}",
                overlay
                    .trim_start_matches("values/")
                    .trim_end_matches(".yaml")
            ),
            run.stdout
        );
    }
}

#[test]
fn root_chart_leaves_the_crate_out() {
    // Rendering reads only chart files: files.glob over everything finds no Rust source.
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    crate::support::copy_dir(&repo_root().join("templates"), &chart.join("templates"));
    for file in ["Chart.yaml", "values.yaml", ".helmignore"] {
        std::fs::copy(repo_root().join(file), chart.join(file)).unwrap();
    }
    std::fs::create_dir_all(chart.join("src")).unwrap();
    std::fs::write(chart.join("src/lib.rs"), "fn main() {}").unwrap();
    std::fs::write(chart.join("Cargo.toml"), "[package]").unwrap();
    std::fs::write(
        chart.join("templates/files.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: files\ndata:\n  all: {{ files.glob(\"**\") | list | join(\",\") | quote }}\n",
    )
    .unwrap();
    let run = aether(&chart, &["template", "-s", "templates/files.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("all: \".helmignore\""),
        "{}",
        run.stdout
    );
}
