//! The Argo CD Config Management Plugin (deploy/argocd/plugin.yaml), run the way Argo CD's
//! cmp-server runs it: its `init` and `generate` commands from the plugin file, in the
//! application's source folder, with the application's settings in the environment and the
//! parameters as JSON.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{aether, bin, chart_with, repo_root};

/// A command of the plugin file (`init` or `generate`): its command and args.
fn step(plugin: &serde_yaml::Value, name: &str) -> Vec<String> {
    let step = &plugin["spec"][name];
    let mut argv: Vec<String> = step["command"]
        .as_sequence()
        .unwrap_or_else(|| panic!("plugin.yaml has no {name} command"))
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    if let Some(args) = step["args"].as_sequence() {
        argv.extend(args.iter().map(|a| a.as_str().unwrap().to_string()));
    }
    argv
}

/// Runs a plugin step as the cmp-server does: in `dir`, with `aether-chart` on PATH and `env`.
fn run_step(argv: &[String], dir: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let bin_dir = bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .current_dir(dir)
        .env_clear()
        .env("PATH", path);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn plugin() -> serde_yaml::Value {
    let text = std::fs::read_to_string(repo_root().join("deploy/argocd/plugin.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

#[test]
fn the_plugin_renders_what_template_renders() {
    let plugin = plugin();
    assert_eq!(plugin["kind"].as_str(), Some("ConfigManagementPlugin"));
    let root = repo_root();
    let parameters = r#"[{"name":"values-files","array":["values/prod.yaml"]},{"name":"set","map":{"api.replicas":"4"}},{"name":"set-string","map":{"global.imageRegistry":"mirror.internal"}}]"#;
    let env = [
        ("ARGOCD_APP_NAME", "aether"),
        ("ARGOCD_APP_NAMESPACE", "aether"),
        ("ARGOCD_APP_SOURCE_PATH", "."),
        ("KUBE_VERSION", "1.33.4"),
        ("KUBE_API_VERSIONS", "v1,apps/v1,monitoring.coreos.com/v1"),
        ("ARGOCD_APP_PARAMETERS", parameters),
        ("ARGOCD_ENV_VALUES_FILES", "values/regions/eu-west-1.yaml"),
    ];
    let init = run_step(&step(&plugin, "init"), &root, &env);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let generated = run_step(&step(&plugin, "generate"), &root, &env);
    let stderr = String::from_utf8_lossy(&generated.stderr);
    assert!(generated.status.success(), "{stderr}");
    let expected = aether(
        &root,
        &[
            "template",
            "aether",
            ".",
            "-n",
            "aether",
            "--kube-version",
            "1.33.4",
            "-a",
            "v1",
            "-a",
            "apps/v1",
            "-a",
            "monitoring.coreos.com/v1",
            "-f",
            "values/prod.yaml",
            "-f",
            "values/regions/eu-west-1.yaml",
            "--set",
            "api.replicas=4",
            "--set-string",
            "global.imageRegistry=mirror.internal",
        ],
    );
    assert_eq!(expected.code, 0, "{}", expected.stderr);
    let stdout = String::from_utf8_lossy(&generated.stdout);
    assert_eq!(stdout, expected.stdout);
    assert!(
        stdout.contains("image: \"mirror.internal/"),
        "the parameters reached the render"
    );
    // Without the application's name, it says what is wrong (exit 2).
    let bare = run_step(&step(&plugin, "generate"), &root, &[]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bare.stderr).contains("ARGOCD_APP_NAME is not set"));
}

#[test]
fn init_builds_locked_dependencies() {
    let plugin = plugin();
    let work = tempfile::tempdir().unwrap();
    let lib: PathBuf = work.path().join("lib");
    std::fs::create_dir_all(lib.join("templates")).unwrap();
    std::fs::write(
        lib.join("Chart.yaml"),
        "apiVersion: v2\nname: lib\nversion: 0.2.0\n",
    )
    .unwrap();
    std::fs::write(
        lib.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-lib\n",
    )
    .unwrap();
    let app = chart_with(&[(
        "Chart.yaml",
        &format!(
            "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: lib\n    version: ~0.2\n    repository: file://{}\n",
            lib.display()
        ),
    )]);
    let locked = aether(app.path(), &["dependency", "update", "."]);
    assert_eq!(locked.code, 0, "{}", locked.stderr);
    std::fs::remove_dir_all(app.path().join("charts")).unwrap();
    let env = [("ARGOCD_APP_NAME", "app")];
    let init = run_step(&step(&plugin, "init"), app.path(), &env);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let generated = run_step(&step(&plugin, "generate"), app.path(), &env);
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    assert!(String::from_utf8_lossy(&generated.stdout).contains("name: from-lib"));
}
