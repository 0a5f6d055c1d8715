//! The command line: commands and their arguments (doc comments are the `--help` text).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::commands::argocd::ArgocdArgs;
use crate::commands::completions::CompletionsArgs;
use crate::commands::create::CreateArgs;
use crate::commands::dependency::DependencyArgs;
use crate::commands::deploy::{RouteArgs, ScaleArgs};
use crate::commands::diff::DiffArgs;
use crate::commands::docs::DocsArgs;
use crate::commands::lint::LintArgs;
use crate::commands::oci::{PullArgs, PushArgs, RegistryArgs};
use crate::commands::package::PackageArgs;
use crate::commands::repo::RepoArgs;
use crate::commands::show::ShowArgs;
use crate::commands::template::TemplateArgs;
use crate::commands::validate::ValidateArgs;
use crate::commands::values::ValuesCommandArgs;
use crate::oci::Connection;
use crate::oci::http::{DEFAULT_TIMEOUT, parse_duration};
use crate::values::ValuesOptions;

/// A Helm-style chart templating engine: Jinja templates, layered values, safe by construction.
#[derive(Debug, Parser)]
#[command(name = "aether-chart", version, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The command line of this process, parsed; on a mistake, clap prints why and exits.
    ///
    /// `template` and `lint`, which run most often and most want a quick start, are first
    /// read against their own arguments alone: building every command's arguments takes
    /// longer than reading one command line. Anything that does not parse so (help, a typo,
    /// another command) is read again against the whole command line, so what clap prints is
    /// what it always prints.
    pub fn from_process() -> Cli {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        Cli::quick(&args).unwrap_or_else(|| Cli::parse_from(args))
    }

    /// `args` parsed against the one command they name, when it is `template` or `lint` and
    /// they parse.
    fn quick(args: &[std::ffi::OsString]) -> Option<Cli> {
        use clap::{Args, FromArgMatches};
        let command = match args.get(1)?.to_str()? {
            "template" => TemplateArgs::augment_args(clap::Command::new("template")),
            "lint" => LintArgs::augment_args(clap::Command::new("lint")),
            _ => return None,
        };
        let matches = clap::Command::new("aether-chart")
            .subcommand(command)
            .try_get_matches_from(args)
            .ok()?;
        Cli::from_arg_matches(&matches).ok()
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a new chart from a starter (like `helm create`): Jinja templates, values, overlays.
    Create(CreateArgs),
    /// Render a chart's manifests locally (like `helm template`), validated.
    Template(TemplateArgs),
    /// Render a chart and report the validator's findings (text, JSON or SARIF).
    Lint(LintArgs),
    /// Check any manifests (a file, a folder, `-` for stdin) against the Kubernetes schemas
    /// and the rules true of any workload, as `lint` does for a chart.
    Validate(ValidateArgs),
    /// Print a chart's layered values, or with --explain where a key was set.
    Values(ValuesCommandArgs),
    /// Package a chart directory into a reproducible <name>-<version>.tgz.
    Package(PackageArgs),
    /// Check a chart archive against its provenance file (CHART.tgz.prov), as `helm verify`.
    Verify(crate::commands::verify::VerifyArgs),
    /// Print a chart's Chart.yaml, values.yaml or README (directory or .tgz).
    Show(ShowArgs),
    /// Chart repositories: `repo index DIR` writes Helm's index.yaml.
    Repo(RepoArgs),
    /// Push a chart archive to an OCI registry (as `helm push` does).
    Push(PushArgs),
    /// Pull a chart from an OCI registry, every digest checked.
    Pull(PullArgs),
    /// Log in to or out of an OCI registry.
    Registry(RegistryArgs),
    /// A chart's dependencies: update (resolve and lock), build (from Chart.lock), list.
    Dependency(DependencyArgs),
    /// What the world-server autoscaler decides for a player count (or a CSV trace of them).
    Scale(ScaleArgs),
    /// Where the region router sends a player, with regions marked unhealthy.
    Route(RouteArgs),
    /// What changes between two renders (overlays), or a render and earlier output, by object.
    Diff(DiffArgs),
    /// Write docs/values.md: every value with its type, default, overlays and description.
    Docs(DocsArgs),
    /// The Argo CD Config Management Plugin's steps (`argocd generate`), run by its cmp-server.
    Argocd(ArgocdArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the man page of aether-chart and its commands (roff).
    Man,
}

/// The values flags of every rendering command, as typed (Helm's names and order).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ValuesArgs {
    /// A values file layered over the chart's values.yaml (repeatable; `-` reads stdin).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub files: Vec<String>,
    /// Set values as JSON: `a.b={"x":1}` or a whole JSON object (repeatable).
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Set values, typed as Helm does: `a.b=c,d[0]=1` (repeatable).
    #[arg(long = "set", value_name = "KEY=VAL")]
    pub set: Vec<String>,
    /// Set values that always stay strings (repeatable).
    #[arg(long = "set-string", value_name = "KEY=VAL")]
    pub set_string: Vec<String>,
    /// Set values from the contents of files: `key=path` (repeatable).
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// Set one value verbatim: everything after the first `=` (repeatable).
    #[arg(long = "set-literal", value_name = "KEY=VAL")]
    pub set_literal: Vec<String>,
}

impl ValuesArgs {
    /// The values layers these flags ask for.
    pub fn options(&self) -> ValuesOptions {
        ValuesOptions {
            files: self.files.clone(),
            set_json: self.set_json.clone(),
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            set_file: self.set_file.clone(),
            set_literal: self.set_literal.clone(),
        }
    }
}

/// The flags of every command that talks to a registry or chart repository (Helm's names).
#[derive(Debug, Clone, clap::Args)]
pub struct RemoteArgs {
    /// Speak plain HTTP to the registry (a local or test registry).
    #[arg(long)]
    pub plain_http: bool,
    /// Accept any server certificate (do not use outside tests).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Trust the certificate authorities in this PEM file (instead of the built-in roots).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Present this client certificate (PEM); needs --key-file.
    #[arg(long, value_name = "FILE", requires = "key_file")]
    pub cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cert_file")]
    pub key_file: Option<PathBuf>,
    /// The registry credentials file (default: Helm's registry/config.json).
    #[arg(long, value_name = "FILE")]
    pub registry_config: Option<PathBuf>,
    /// How long all registry and repository transfers of this command may take together
    /// (Go's spelling: 5m0s, 90s, 1h); a read that waits 30 s for data fails before that.
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_TIMEOUT, value_parser = parse_duration)]
    pub timeout: Duration,
}

/// Where a chart that is not on disk comes from: a registry, a repository or a URL (the
/// commands that render or layer a chart).
#[derive(Debug, Clone, clap::Args)]
pub struct ChartSourceArgs {
    /// For a chart from a registry or a repository: the version or range (default: the newest
    /// release).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// A chart repository's URL: CHART is then a chart name in it (as `helm template --repo`).
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

impl ChartSourceArgs {
    /// The archive of `chart` and where it came from when it is remote; `None` for a local one.
    pub fn fetch(
        &self,
        chart: &str,
        limits: crate::chart::Limits,
    ) -> crate::Result<Option<(Vec<u8>, String)>> {
        crate::chart::remote::fetch(
            chart,
            self.version.as_deref(),
            self.repo.as_deref(),
            &self.remote.connection(),
            limits,
        )
    }
}

impl RemoteArgs {
    /// The connection these flags ask for.
    pub fn connection(&self) -> Connection {
        Connection {
            plain_http: self.plain_http,
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            ca_file: self.ca_file.clone(),
            cert_file: self.cert_file.clone(),
            key_file: self.key_file.clone(),
            registry_config: self.registry_config.clone(),
            timeout: self.timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::Parser;

    /// The quick reading of `template` and `lint` gives what the whole command line gives,
    /// and declines what it would refuse or answer with help.
    #[test]
    fn quick_parse_agrees_with_the_whole_command_line() {
        let argv = |line: &str| -> Vec<std::ffi::OsString> {
            std::iter::once("aether-chart")
                .chain(line.split_whitespace())
                .map(Into::into)
                .collect()
        };
        let agreed = [
            "template",
            "template .",
            "template web . -f a.yaml -f b.yaml --set a=1",
            "template . --skip-validation --show-only templates/a.yaml",
            "template . --kube-version 1.30.0 --api-versions x/v1",
            "template . --output-dir out --include-crds -n ns",
            "lint . -f values/prod.yaml",
            "lint . --strict --format sarif --set-string a=b",
            "lint --format json .",
        ];
        for line in agreed {
            let quick = Cli::quick(&argv(line)).expect("parses quickly");
            let whole = Cli::try_parse_from(argv(line)).expect("parses");
            assert_eq!(format!("{quick:?}"), format!("{whole:?}"), "{line}");
        }
        let declined = [
            "template --help",
            "lint -h",
            "lint . --no-such-flag",
            "lint . --format xml",
            "package .",
            "--version",
            "",
        ];
        for line in declined {
            assert!(Cli::quick(&argv(line)).is_none(), "{line}");
        }
    }
}
