//! `aether-chart argocd generate`: the `generate` step of the Argo CD Config Management Plugin
//! (deploy/argocd/plugin.yaml). Argo CD's cmp-server runs it in the application's source folder
//! with the application's settings in the environment; it renders that folder's chart as
//! `template` does and prints the manifests for Argo CD to apply.
//!
//! What it reads (all optional but the name):
//! - `ARGOCD_APP_NAME` (the release name) and `ARGOCD_APP_NAMESPACE` (`-n`);
//! - `KUBE_VERSION` (`--kube-version`) and `KUBE_API_VERSIONS` (comma-separated, `-a` each);
//! - `ARGOCD_APP_PARAMETERS`, the plugin parameters as JSON: `values-files` (array: `-f` each,
//!   in order), `set` and `set-string` (maps: `--set` / `--set-string` each, by key),
//!   `release-name`, `kube-version` (strings, over the variables above);
//! - `ARGOCD_ENV_VALUES_FILES`, from the Application's plugin `env`: more `-f` files,
//!   separated by commas or spaces, after those of the parameters.

use serde_json::Value;

use crate::error::{Error, Result};

/// Arguments of `argocd`.
#[derive(Debug, Clone, clap::Args)]
pub struct ArgocdArgs {
    /// The plugin step to run.
    #[command(subcommand)]
    pub step: Step,
}

/// The plugin steps.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Step {
    /// Render the chart in the working directory from Argo CD's environment.
    Generate,
    /// Print the `template` command line `generate` runs (for debugging a plugin setup).
    Explain,
}

/// Runs an `argocd` step.
pub fn run(args: &ArgocdArgs) -> Result<u8> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let argv = template_argv(&env)?;
    match args.step {
        Step::Explain => {
            crate::outln!("aether-chart {}", shell_words(&argv));
            Ok(0)
        }
        Step::Generate => {
            let mut full = vec!["aether-chart".to_string()];
            full.extend(argv);
            let cli = <crate::cli::Cli as clap::Parser>::try_parse_from(&full).map_err(|e| {
                Error::usage(format!("the Argo CD settings make a bad command line: {e}"))
            })?;
            crate::run(cli)
        }
    }
}

/// The `template` arguments Argo CD's environment asks for.
pub fn template_argv(env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>> {
    let parameters: Vec<Value> = match env("ARGOCD_APP_PARAMETERS") {
        None => Vec::new(),
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            Error::usage(format!(
                "ARGOCD_APP_PARAMETERS is not the JSON list of parameters Argo CD sends: {e}"
            ))
        })?,
    };
    let find = |name: &str| {
        parameters
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
    };
    let string = |name: &str| {
        find(name)
            .and_then(|p| p.get("string"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let release = string("release-name")
        .or_else(|| env("ARGOCD_APP_NAME"))
        .ok_or_else(|| Error::usage("ARGOCD_APP_NAME is not set; run this as Argo CD's plugin"))?;
    let mut argv = vec!["template".to_string(), release, ".".to_string()];
    if let Some(namespace) = env("ARGOCD_APP_NAMESPACE") {
        argv.extend(["-n".to_string(), namespace]);
    }
    if let Some(version) = string("kube-version").or_else(|| env("KUBE_VERSION")) {
        argv.extend(["--kube-version".to_string(), version]);
    }
    for api in env("KUBE_API_VERSIONS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        argv.extend(["-a".to_string(), api.to_string()]);
    }
    let mut files: Vec<String> = find("values-files")
        .and_then(|p| p.get("array"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    files.extend(
        env("ARGOCD_ENV_VALUES_FILES")
            .unwrap_or_default()
            .split([',', ' '])
            .filter(|f| !f.is_empty())
            .map(str::to_string),
    );
    for file in files {
        argv.extend(["-f".to_string(), file]);
    }
    for (parameter, flag) in [("set", "--set"), ("set-string", "--set-string")] {
        let Some(map) = find(parameter)
            .and_then(|p| p.get("map"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        for (key, value) in entries {
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            argv.extend([flag.to_string(), format!("{key}={value}")]);
        }
    }
    Ok(argv)
}

/// Arguments quoted for a POSIX shell where they need it.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=,:".contains(&b))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argo_cd_settings_become_template_flags() {
        let vars = [
            ("ARGOCD_APP_NAME", "shop"),
            ("ARGOCD_APP_NAMESPACE", "prod"),
            ("KUBE_VERSION", "1.33.4"),
            ("KUBE_API_VERSIONS", "v1, monitoring.coreos.com/v1"),
            ("ARGOCD_ENV_VALUES_FILES", "values/regions/eu.yaml"),
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"values-files","array":["values/prod.yaml"]},{"name":"set","map":{"b":"2","a.x":"1"}},{"name":"set-string","map":{"tag":"007"}}]"#,
            ),
        ];
        let env = |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        };
        let argv = template_argv(&env).unwrap();
        assert_eq!(
            argv.join(" "),
            "template shop . -n prod --kube-version 1.33.4 -a v1 -a monitoring.coreos.com/v1 -f values/prod.yaml -f values/regions/eu.yaml --set a.x=1 --set b=2 --set-string tag=007"
        );
        let none = |_: &str| None;
        assert!(template_argv(&none).is_err());
        let bad = |name: &str| (name == "ARGOCD_APP_PARAMETERS").then(|| "{".to_string());
        assert!(template_argv(&bad).is_err());
    }
}
