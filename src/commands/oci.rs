//! `aether-chart push`, `pull` and `registry login|logout`: charts in OCI registries.

use std::path::PathBuf;

use crate::chart::Limits;
use crate::cli::RemoteArgs;
use crate::error::{Error, Result};
use crate::oci::credentials::{self, Credentials};
use crate::oci::{self, Client, Connection, PushedChart, Reference};

/// Arguments of `push`.
#[derive(Debug, Clone, clap::Args)]
pub struct PushArgs {
    /// The chart archive (made by `aether-chart package` or `helm package`).
    #[arg(value_name = "CHART.tgz")]
    pub chart: PathBuf,
    /// Where to push: oci://HOST[:PORT]/PATH; the chart goes to PATH/<name>:<version>.
    #[arg(value_name = "REMOTE")]
    pub remote: String,
    #[command(flatten)]
    pub tls: RemoteArgs,
}

/// Arguments of `pull`.
#[derive(Debug, Clone, clap::Args)]
pub struct PullArgs {
    /// The chart: oci://HOST[:PORT]/PATH/NAME (a :TAG or @DIGEST may follow).
    #[arg(value_name = "CHART")]
    pub chart: String,
    /// The version: exact, or a range such as ^1.2 or >=1.0 <2 (default: the newest).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Where to write the archive (or, with --untar, the chart folder).
    #[arg(
        short = 'd',
        long = "destination",
        value_name = "DIR",
        default_value = "."
    )]
    pub destination: PathBuf,
    /// Unpack the chart into DIR/<name> instead of keeping the archive.
    #[arg(long)]
    pub untar: bool,
    /// Check the chart against its provenance layer before writing anything (exit 1 when it
    /// does not verify); the provenance file is kept beside the archive.
    #[arg(long)]
    pub verify: bool,
    /// Keep the chart's provenance file (CHART.tgz.prov) beside the archive.
    #[arg(long)]
    pub prov: bool,
    #[command(flatten)]
    pub keyring: crate::commands::verify::KeyringArg,
    #[command(flatten)]
    pub tls: RemoteArgs,
}

/// Arguments of `registry`.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub command: RegistryCommand,
}

/// The `registry` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RegistryCommand {
    /// Check credentials against a registry and store them.
    Login(LoginArgs),
    /// Forget the stored credentials of a registry.
    Logout(LogoutArgs),
}

/// Arguments of `registry login`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoginArgs {
    /// The registry: HOST[:PORT].
    #[arg(value_name = "HOST")]
    pub host: String,
    #[arg(short, long)]
    pub username: String,
    /// The password (prefer --password-stdin: arguments show in process lists).
    #[arg(short, long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub tls: RemoteArgs,
}

/// Arguments of `registry logout`.
#[derive(Debug, Clone, clap::Args)]
pub struct LogoutArgs {
    /// The registry: HOST[:PORT].
    #[arg(value_name = "HOST")]
    pub host: String,
    /// The registry credentials file (default: Helm's registry/config.json).
    #[arg(long, value_name = "FILE")]
    pub registry_config: Option<PathBuf>,
}

fn client(host: &str, tls: &Connection) -> Result<Client> {
    let path = credentials::config_path(tls.registry_config.as_deref());
    Client::new(host, tls, credentials::load(&path, host)?)
}

/// Runs `push`.
pub fn push(args: &PushArgs) -> Result<u8> {
    let target = Reference::parse(&args.remote, "the push target")?;
    if target.tag.is_some() || target.digest.is_some() {
        return Err(Error::usage(format!(
            "the push target `{}` names a tag; push to oci://HOST/PATH and the chart's name and version are added",
            args.remote
        )));
    }
    let chart = PushedChart::read(&args.chart, Limits::default())?;
    let reference = target.child(&chart.name)?;
    let tag = oci::tag_of(&chart.version);
    let manifest = chart.manifest(&chart.annotations());
    let mut client = client(&reference.host, &args.tls.connection())?;
    let repository = &reference.repository;
    client.push_blob(repository, &chart.archive, &oci::digest(&chart.archive))?;
    if let Some(prov) = &chart.prov {
        client.push_blob(repository, prov, &oci::digest(prov))?;
    }
    client.push_blob(repository, &chart.config, &oci::digest(&chart.config))?;
    client.push_manifest(repository, &tag, &manifest)?;
    crate::outln!("Pushed: {}/{}:{tag}", reference.host, repository);
    crate::outln!("Digest: {}", oci::digest(&manifest));
    Ok(0)
}

/// Runs `pull`.
pub fn pull(args: &PullArgs) -> Result<u8> {
    let reference = Reference::parse(&args.chart, "the chart")?;
    if reference.repository.is_empty() {
        return Err(Error::usage(format!(
            "`{}` names no chart; write oci://HOST/PATH/NAME",
            args.chart
        )));
    }
    let mut client = client(&reference.host, &args.tls.connection())?;
    if reference.tag.is_some() && args.version.is_some() {
        return Err(Error::usage(format!(
            "`{}` names a tag and --version names a version; give one",
            args.chart
        )));
    }
    let keyring = args.verify.then(|| args.keyring.load()).transpose()?;
    let pulled = oci::pull(
        &mut client,
        &reference,
        args.version.as_deref(),
        args.verify || args.prov,
    )?;
    let (archive, files, metadata, manifest_digest) = (
        &pulled.archive,
        &pulled.files,
        &pulled.metadata,
        &pulled.manifest_digest,
    );
    let file_name = format!("{}-{}.tgz", metadata.name, metadata.version);
    let verified = match &keyring {
        Some(keyring) => {
            let prov = pulled.prov.as_deref().ok_or_else(|| {
                Error::validation(format!(
                    "{}:{} has no provenance layer, so it cannot be verified; it was pushed                      without a .prov file (sign it with `package --sign` and push again)",
                    reference.display(),
                    oci::tag_of(&metadata.version)
                ))
            })?;
            let shown = format!("the provenance layer of {}", reference.display());
            Some(crate::chart::provenance::verify(
                keyring, prov, &shown, &file_name, archive,
            )?)
        }
        None => None,
    };
    if args.untar {
        untar(&args.destination, &metadata.name, files)?;
    } else {
        crate::fs::write_into(&args.destination, &file_name, archive, crate::fs::SHARED)?;
        if let Some(prov) = &pulled.prov {
            crate::fs::write_into(
                &args.destination,
                &format!("{file_name}.prov"),
                prov,
                crate::fs::SHARED,
            )?;
        }
    }
    if let Some(verified) = &verified {
        crate::commands::verify::print(verified);
    }
    crate::outln!(
        "Pulled: {}:{}",
        reference.display(),
        oci::tag_of(&metadata.version)
    );
    crate::outln!("Digest: {manifest_digest}");
    Ok(0)
}

/// Writes the chart's files as the new folder `dir/name`, through a private temporary folder
/// moved into place at the end.
fn untar(dir: &std::path::Path, name: &str, files: &[crate::chart::File]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create the folder", dir, e))?;
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|f| (f.name.as_str(), f.data.as_slice()))
        .collect();
    crate::fs::write_tree(dir, name, &files)?;
    Ok(())
}

/// Runs `registry`.
pub fn registry(args: &RegistryArgs) -> Result<u8> {
    match &args.command {
        RegistryCommand::Login(login) => {
            let password = match (&login.password, login.password_stdin) {
                (Some(p), _) => p.clone(),
                (None, true) => {
                    let bytes = crate::fs::read_bounded(std::io::stdin(), "<stdin>", 64 * 1024)?;
                    let text = String::from_utf8(bytes)
                        .map_err(|_| Error::input("the password on stdin is not UTF-8 text"))?;
                    text.trim_end_matches(['\n', '\r']).to_string()
                }
                (None, false) => {
                    return Err(Error::usage(
                        "give the password with --password-stdin (or --password)",
                    ));
                }
            };
            let credentials = Credentials {
                username: login.username.clone(),
                password,
            };
            let connection = login.tls.connection();
            let mut client = Client::new(&login.host, &connection, Some(credentials.clone()))?;
            client.ping()?;
            let path = credentials::config_path(login.tls.registry_config.as_deref());
            credentials::store(&path, &login.host, &credentials)?;
            crate::outln!("Login Succeeded");
            Ok(0)
        }
        RegistryCommand::Logout(logout) => {
            let path = credentials::config_path(logout.registry_config.as_deref());
            if !credentials::remove(&path, &logout.host)? {
                return Err(Error::input(format!(
                    "not logged in to {} (no credentials in `{}`)",
                    logout.host,
                    path.display()
                )));
            }
            crate::outln!("Removing login credentials for {}", logout.host);
            Ok(0)
        }
    }
}
