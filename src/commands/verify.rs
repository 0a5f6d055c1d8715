//! `aether-chart verify`: a chart archive checked against its provenance file, as `helm
//! verify` checks it.

use std::path::PathBuf;

use crate::chart::provenance::{self, Keyring, Verification};
use crate::error::{Error, Result};

/// Arguments of `verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The chart archive; its provenance file is CHART.tgz.prov beside it.
    #[arg(value_name = "CHART.tgz")]
    pub chart: PathBuf,
    #[command(flatten)]
    pub keyring: KeyringArg,
}

/// The keyring of the commands that verify.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyringArg {
    /// The public keys to trust (`gpg --export > FILE`); default $GNUPGHOME/pubring.gpg, as Helm.
    #[arg(long, value_name = "FILE")]
    pub keyring: Option<PathBuf>,
}

impl KeyringArg {
    /// The keyring these flags name, read.
    pub fn load(&self) -> Result<Keyring> {
        Keyring::load(
            &self
                .keyring
                .clone()
                .unwrap_or_else(provenance::default_keyring),
        )
    }
}

/// Runs `verify`: exit 0 when the signature and the archive's digest check out, 1 when they do
/// not, 2 when a file cannot be read.
pub fn run(args: &VerifyArgs) -> Result<u8> {
    let path = &args.chart;
    if path.is_dir() {
        return Err(Error::usage(format!(
            "`{}` is a directory; unpacked charts cannot be verified, give the .tgz archive",
            path.display()
        )));
    }
    let archive = crate::fs::read_user_file(
        path,
        "the chart",
        crate::chart::loader::archive_limit(crate::chart::Limits::default()),
    )?;
    let prov_path = provenance::prov_path(path);
    let prov = crate::fs::read_user_file(
        &prov_path,
        "the provenance file",
        provenance::MAX_PROV_BYTES,
    )
    .map_err(|e| {
        e.context(format!(
            "`{}` has no provenance file beside it (sign with `package --sign`, or pull with --prov)",
            path.display()
        ))
    })?;
    let keyring = args.keyring.load()?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let verified = provenance::verify(
        &keyring,
        &prov,
        &prov_path.display().to_string(),
        &file_name,
        &archive,
    )?;
    print(&verified);
    Ok(0)
}

/// What `helm verify` prints of a verification.
pub fn print(verified: &Verification) {
    for name in &verified.signed_by {
        crate::outln!("Signed by: {name}");
    }
    crate::outln!("Using Key With Fingerprint: {}", verified.fingerprint);
    crate::outln!("Chart Hash Verified: {}", verified.file_hash);
}
