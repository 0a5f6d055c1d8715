//! `aether-chart package`: a reproducible `<name>-<version>.tgz` of a chart directory.

use std::path::PathBuf;

use crate::chart::Limits;
use crate::chart::package::{Overrides, mtime_from_env, package};
use crate::chart::provenance::{self, Keyring};
use crate::error::{Error, Result};

/// Arguments of `package`.
#[derive(Debug, Clone, clap::Args)]
pub struct PackageArgs {
    /// The chart directory (default `.`).
    #[arg(value_name = "CHART", default_value = ".")]
    pub chart: PathBuf,
    /// Where to write the archive (default: the current directory).
    #[arg(
        short = 'd',
        long = "destination",
        value_name = "DIR",
        default_value = "."
    )]
    pub destination: PathBuf,
    /// Package under this version instead of Chart.yaml's (SemVer 2).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Package with this appVersion instead of Chart.yaml's.
    #[arg(long, value_name = "VERSION")]
    pub app_version: Option<String>,
    /// Run `dependency update` first.
    #[arg(short = 'u', long)]
    pub dependency_update: bool,
    #[command(flatten)]
    pub signing: SignArgs,
    #[command(flatten)]
    pub tls: crate::cli::RemoteArgs,
}

/// Signing a package (Helm's flags): a `.prov` provenance file next to the archive.
#[derive(Debug, Clone, clap::Args)]
pub struct SignArgs {
    /// Sign the archive: write <archive>.prov beside it, Helm's provenance file.
    #[arg(long, requires = "key")]
    pub sign: bool,
    /// The signing key: its user ID, or a part of it only one key's user ID contains.
    #[arg(long, value_name = "NAME", requires = "sign")]
    pub key: Option<String>,
    /// The keyring holding the secret key (`gpg --export-secret-keys > FILE`); default
    /// $GNUPGHOME/pubring.gpg, as Helm.
    #[arg(long, value_name = "FILE")]
    pub keyring: Option<PathBuf>,
    /// Read the key's passphrase from the first line of FILE (`-`: standard input); without
    /// it a locked key asks on the terminal.
    #[arg(long, value_name = "FILE", requires = "sign")]
    pub passphrase_file: Option<PathBuf>,
}

/// Runs `package`.
pub fn run(args: &PackageArgs) -> Result<u8> {
    if args.dependency_update {
        let options = crate::chart::lock::Options {
            tls: &args.tls.connection(),
            limits: Limits::default(),
        };
        crate::chart::lock::update(&args.chart, &options)?;
    }
    let overrides = Overrides {
        version: args.version.clone(),
        app_version: args.app_version.clone(),
    };
    let packaged = package(
        &args.chart,
        &overrides,
        Limits::default(),
        mtime_from_env()?,
    )?;
    let prov = match (&args.signing.sign, &args.signing.key) {
        (true, Some(key)) => Some(sign(&args.signing, key, &packaged)?),
        _ => None,
    };
    let path = crate::fs::write_into(
        &args.destination,
        &packaged.file_name(),
        &packaged.bytes,
        crate::fs::SHARED,
    )?;
    if let Some(prov) = prov {
        crate::fs::write_into(
            &args.destination,
            &format!("{}.prov", packaged.file_name()),
            prov.as_bytes(),
            crate::fs::SHARED,
        )?;
    }
    crate::outln!(
        "Successfully packaged chart and saved it to: {}",
        path.display()
    );
    Ok(0)
}

/// The provenance file of `packaged`, signed with `key` from the keyring the flags name.
fn sign(args: &SignArgs, key: &str, packaged: &crate::chart::package::Package) -> Result<String> {
    let keyring_path = args
        .keyring
        .clone()
        .unwrap_or_else(provenance::default_keyring);
    let keyring = Keyring::load(&keyring_path)?;
    let signer = keyring.signer(key)?;
    provenance::check_signer(&keyring, signer)?;
    let passphrase = if provenance::is_locked(signer) {
        passphrase(
            args.passphrase_file.as_deref(),
            &provenance::name_of(signer),
        )?
    } else {
        Vec::new()
    };
    provenance::sign(
        signer,
        &passphrase,
        &provenance::metadata_yaml(&packaged.chart_yaml)?,
        &packaged.file_name(),
        &packaged.bytes,
    )
}

/// The passphrase of the key `name`: the first line of `file` (`-`: standard input), else
/// asked on the terminal.
fn passphrase(file: Option<&std::path::Path>, name: &str) -> Result<Vec<u8>> {
    use std::io::IsTerminal as _;
    let text = match file {
        Some(path) if path.as_os_str() == "-" => {
            crate::fs::read_bounded(std::io::stdin(), "<stdin>", 64 * 1024)?
        }
        Some(path) => crate::fs::read_user_file(path, "the passphrase file", 64 * 1024)?,
        None if std::io::stdin().is_terminal() => {
            return rpassword::prompt_password(format!("Password for key \"{name}\" >  "))
                .map(String::into_bytes)
                .map_err(|e| Error::usage(format!("cannot read the passphrase: {e}")));
        }
        None => {
            return Err(Error::usage(format!(
                "the key `{name}` is protected by a passphrase; give it with --passphrase-file FILE (or - for standard input)"
            )));
        }
    };
    let line = text.split(|&b| b == b'\n').next().unwrap_or_default();
    Ok(line.strip_suffix(b"\r").unwrap_or(line).to_vec())
}
