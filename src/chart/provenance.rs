//! Provenance files: Helm's `<chart>.tgz.prov`, an OpenPGP clear-signed document that ties a
//! chart archive to a key.
//!
//! The signed text is the chart's metadata as YAML, the YAML end-of-document marker `...` on a
//! line of its own, then `files:` mapping the archive's file name to `sha256:<hex>` of its
//! bytes. Helm writes exactly this (a `---` start marker is not allowed inside a clear-signed
//! block, hence `...`) and `helm verify` reads only the `files:` part, so a `.prov` made here is
//! one Helm verifies and the other way round.
//!
//! Keys come from keyring files as GnuPG exports them (`gpg --export`, `gpg
//! --export-secret-keys`), binary or ASCII-armored, public and secret keys mixed. GnuPG 2.1 and
//! later keep their own keys in a keybox (`pubring.kbx`), which is not such a file. The OpenPGP
//! work is rPGP's; this module decides which key signs, which keys may have signed, and what
//! the signed text says.

use std::path::Path;

use pgp::composed::{CleartextSignedMessage, PublicOrSecret, SignedPublicKey, SignedSecretKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::types::{KeyDetails, Password, SecretParams, Timestamp};

use super::repo::hex;
use crate::error::{Error, Result};

/// The largest keyring file read.
const MAX_KEYRING_BYTES: u64 = 16 * 1024 * 1024;
/// The largest provenance file read (Helm's are a few kilobytes).
pub const MAX_PROV_BYTES: u64 = 1024 * 1024;

/// The keys of one keyring file.
pub struct Keyring {
    /// Where the keys came from, for messages.
    shown: String,
    keys: Vec<PublicOrSecret>,
}

/// What a successful verification established.
#[derive(Debug)]
pub struct Verification {
    /// The signing key's user IDs (`Name <email>`).
    pub signed_by: Vec<String>,
    /// The signing key's primary fingerprint, upper-case hex as `helm verify` prints it.
    pub fingerprint: String,
    /// `sha256:<hex>` of the archive, as signed.
    pub file_hash: String,
}

/// `CHART.tgz.prov` beside the archive `archive`, where Helm keeps a chart's provenance.
pub fn prov_path(archive: &Path) -> std::path::PathBuf {
    let mut name = archive.file_name().unwrap_or_default().to_os_string();
    name.push(".prov");
    archive.with_file_name(name)
}

/// Helm's default keyring: `$GNUPGHOME/pubring.gpg`, else `~/.gnupg/pubring.gpg`.
pub fn default_keyring() -> std::path::PathBuf {
    let home = std::env::var_os("GNUPGHOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".gnupg")))
        .unwrap_or_else(|| ".gnupg".into());
    home.join("pubring.gpg")
}

impl Keyring {
    /// Reads every key in the keyring file `path`.
    pub fn load(path: &Path) -> Result<Keyring> {
        let bytes = crate::fs::read_user_file(path, "the keyring", MAX_KEYRING_BYTES)?;
        Keyring::parse(bytes, &path.display().to_string())
    }

    /// Reads every key in `bytes` (a keyring file's contents, named `shown` in messages).
    pub fn parse(bytes: Vec<u8>, shown: &str) -> Result<Keyring> {
        let shown = shown.to_string();
        let not_a_keyring = |why: String| {
            Error::input(format!(
                "`{shown}` is not an OpenPGP keyring ({why}); GnuPG 2.1 and later keep keys in a \
                 keybox: export them with `gpg --export > pubring.gpg` (public keys, to verify) or \
                 `gpg --export-secret-keys > secring.gpg` (to sign)"
            ))
        };
        if bytes.starts_with(b"\0\0\0\x20\x01\x01") || bytes.get(8..12) == Some(b"KBXf") {
            return Err(not_a_keyring("it is a GnuPG keybox".into()));
        }
        let (keys, _) = PublicOrSecret::from_reader_many(std::io::Cursor::new(bytes))
            .map_err(|e| not_a_keyring(e.to_string()))?;
        let keys = keys
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| not_a_keyring(e.to_string()))?;
        if keys.is_empty() {
            return Err(not_a_keyring("it holds no key".into()));
        }
        Ok(Keyring { shown, keys })
    }

    /// The secret key whose user ID is `id`, or the only one whose user ID contains it (Helm's
    /// rule, after GnuPG's).
    pub fn signer(&self, id: &str) -> Result<&SignedSecretKey> {
        let mut candidates = Vec::new();
        let mut public_only = false;
        for key in &self.keys {
            let ids = user_ids(&key_details(key).users);
            if ids.iter().any(|u| u == id) {
                return match key {
                    PublicOrSecret::Secret(secret) => Ok(secret),
                    PublicOrSecret::Public(_) => Err(self.public_only(id)),
                };
            }
            if ids.iter().any(|u| u.contains(id)) {
                match key {
                    PublicOrSecret::Secret(secret) => candidates.push((secret, ids)),
                    PublicOrSecret::Public(_) => public_only = true,
                }
            }
        }
        match candidates.as_slice() {
            [(only, _)] => Ok(only),
            [] if public_only => Err(self.public_only(id)),
            [] => Err(Error::usage(format!(
                "no key in `{}` has a user ID containing `{id}`; list them with `gpg --list-secret-keys`",
                self.shown
            ))),
            many => Err(Error::usage(format!(
                "more than one key in `{}` has a user ID containing `{id}` ({}); give a longer --key",
                self.shown,
                many.iter()
                    .map(|(_, ids)| ids.join(", "))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
        }
    }

    fn public_only(&self, id: &str) -> Error {
        Error::usage(format!(
            "the key `{id}` in `{}` is a public key only; signing needs its secret key: export it \
             with `gpg --export-secret-keys > secring.gpg` and pass that as --keyring",
            self.shown
        ))
    }

    /// The public half of every key in the ring.
    fn public_keys(&self) -> impl Iterator<Item = SignedPublicKey> + '_ {
        self.keys.iter().map(|key| match key {
            PublicOrSecret::Public(public) => public.clone(),
            PublicOrSecret::Secret(secret) => secret.to_public_key(),
        })
    }
}

fn key_details(key: &PublicOrSecret) -> &pgp::composed::SignedKeyDetails {
    match key {
        PublicOrSecret::Public(public) => &public.details,
        PublicOrSecret::Secret(secret) => &secret.details,
    }
}

fn user_ids(users: &[pgp::types::SignedUser]) -> Vec<String> {
    users
        .iter()
        .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
        .collect()
}

/// Refuses to sign with a key that is revoked or expired: no one could verify the result.
pub fn check_signer(keyring: &Keyring, key: &SignedSecretKey) -> Result<()> {
    match unusable(&key.to_public_key()) {
        Some(why) => Err(Error::usage(format!(
            "the signing key `{}` in `{}` {why}; no one would trust what it signs",
            name_of(key),
            keyring.shown
        ))),
        None => Ok(()),
    }
}

/// Whether the secret key needs a passphrase to sign.
pub fn is_locked(key: &SignedSecretKey) -> bool {
    matches!(key.primary_key.secret_params(), SecretParams::Encrypted(_))
}

/// The first user ID of `key`, for prompts and messages.
pub fn name_of(key: &SignedSecretKey) -> String {
    user_ids(&key.details.users)
        .into_iter()
        .next()
        .unwrap_or_else(|| "Unknown".into())
}

/// The text Helm signs: `metadata` (YAML), `...`, then the archive's digest under `files:`.
pub fn message(metadata_yaml: &str, file_name: &str, archive: &[u8]) -> String {
    let mut text = metadata_yaml.trim_end_matches('\n').to_string();
    text.push_str("\n\n...\nfiles:\n  ");
    text.push_str(&yaml_key(file_name));
    text.push_str(": ");
    text.push_str(&crate::oci::digest(archive));
    text.push('\n');
    text
}

/// A file name as a YAML key: plain when it reads back as the same string, else quoted.
fn yaml_key(name: &str) -> String {
    let plain: std::result::Result<serde_yaml::Value, _> = serde_yaml::from_str(name);
    match plain {
        Ok(serde_yaml::Value::String(s)) if s == name && !name.contains(": ") => name.to_string(),
        _ => serde_json::Value::String(name.to_string()).to_string(),
    }
}

/// Clear-signs the provenance of `archive` (named `file_name`) with `key`, as Helm does:
/// SHA-512, a text signature with the creation time and the issuer's fingerprint and key ID.
pub fn sign(
    key: &SignedSecretKey,
    passphrase: &[u8],
    metadata_yaml: &str,
    file_name: &str,
    archive: &[u8],
) -> Result<String> {
    let text = message(metadata_yaml, file_name, archive);
    let primary = &key.primary_key;
    let failed = |e: pgp::errors::Error| {
        Error::input(format!("cannot sign with the key `{}`: {e}", name_of(key)))
    };
    if is_locked(key) {
        let unlocked = primary.unlock(&Password::from(passphrase), |_, _| Ok(()));
        if !matches!(unlocked, Ok(Ok(()))) {
            return Err(Error::usage(format!(
                "the passphrase does not unlock the key `{}`",
                name_of(key)
            )));
        }
    }
    let mut config = SignatureConfig::from_key(rand::thread_rng(), primary, SignatureType::Text)
        .map_err(failed)?;
    config.hash_alg = HashAlgorithm::Sha512;
    config.hashed_subpackets = vec![
        Subpacket::regular(SubpacketData::SignatureCreationTime(Timestamp::now()))
            .map_err(failed)?,
        Subpacket::regular(SubpacketData::IssuerFingerprint(primary.fingerprint()))
            .map_err(failed)?,
    ];
    config.unhashed_subpackets = vec![
        Subpacket::regular(SubpacketData::IssuerKeyId(primary.legacy_key_id())).map_err(failed)?,
    ];
    let signed = CleartextSignedMessage::new(&text, config, primary, &Password::from(passphrase))
        .map_err(failed)?;
    signed.to_armored_string(Default::default()).map_err(failed)
}

/// Checks `prov` (read from `prov_shown`) against `archive` (named `file_name`): the signature
/// must be good and made by a key of `keyring` that is neither revoked nor expired, and the
/// digest it signs for `file_name` must be the archive's. Failures are findings (exit 1).
pub fn verify(
    keyring: &Keyring,
    prov: &[u8],
    prov_shown: &str,
    file_name: &str,
    archive: &[u8],
) -> Result<Verification> {
    let text = std::str::from_utf8(prov).map_err(|_| {
        Error::validation(format!(
            "`{prov_shown}` is not a provenance file (not text)"
        ))
    })?;
    let (signed, _) = CleartextSignedMessage::from_string(text.trim_start()).map_err(|e| {
        Error::validation(format!(
            "`{prov_shown}` is not a clear-signed provenance file ({e})"
        ))
    })?;
    let signer = signing_key(keyring, &signed, prov_shown)?;
    let plain = signed.signed_text().replace("\r\n", "\n");
    let sums = signed_sums(&plain, prov_shown)?;
    let actual = crate::oci::digest(archive);
    let Some(signed_sum) = sums.get(file_name) else {
        return Err(Error::validation(format!(
            "`{prov_shown}` signs no file named `{file_name}` (it names {}); a provenance file \
             belongs to the archive it was made for, under that archive's file name",
            sums.keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    if *signed_sum != actual {
        return Err(Error::validation(format!(
            "`{file_name}` is not the archive that was signed: `{prov_shown}` signs {signed_sum}, \
             the archive is {actual}; it changed after signing, so do not use it"
        )));
    }
    Ok(Verification {
        signed_by: user_ids(&signer.details.users),
        fingerprint: hex(signer.primary_key.fingerprint().as_bytes()).to_uppercase(),
        file_hash: actual,
    })
}

/// The key of `keyring` whose primary key or signing subkey made a good signature in `signed`.
fn signing_key(
    keyring: &Keyring,
    signed: &CleartextSignedMessage,
    prov_shown: &str,
) -> Result<SignedPublicKey> {
    for key in keyring.public_keys() {
        let good = signed.verify(&key.primary_key).is_ok()
            || key
                .public_subkeys
                .iter()
                .filter(|sub| sub.signatures.iter().any(|s| s.key_flags().sign()))
                .any(|sub| signed.verify(&sub.key).is_ok());
        if good {
            if let Some(why) = unusable(&key) {
                return Err(Error::validation(format!(
                    "the signing key `{}` in `{}` {why}; its signature in `{prov_shown}` is not trusted",
                    user_ids(&key.details.users).join(", "),
                    keyring.shown
                )));
            }
            return Ok(key);
        }
    }
    let issuers: Vec<String> = signed
        .signatures()
        .iter()
        .flat_map(|s| {
            let mut ids: Vec<String> = s
                .issuer_fingerprint()
                .iter()
                .map(|f| hex(f.as_bytes()).to_uppercase())
                .collect();
            if ids.is_empty() {
                ids = s
                    .issuer_key_id()
                    .iter()
                    .map(|k| hex(k.as_ref()).to_uppercase())
                    .collect();
            }
            ids
        })
        .collect();
    let known = keyring.public_keys().find(|key| {
        let mut prints = vec![hex(key.primary_key.fingerprint().as_bytes()).to_uppercase()];
        prints.extend(
            key.public_subkeys
                .iter()
                .map(|sub| hex(sub.key.fingerprint().as_bytes()).to_uppercase()),
        );
        issuers
            .iter()
            .any(|issuer| prints.iter().any(|p| p.ends_with(issuer.as_str())))
    });
    if let Some(key) = known {
        return Err(Error::validation(format!(
            "the signature in `{prov_shown}` does not match the text it signs: the provenance \
             file was changed after `{}` signed it, so do not use the chart",
            user_ids(&key.details.users).join(", ")
        )));
    }
    Err(Error::validation(format!(
        "the signature in `{prov_shown}` was not made by any key in `{}` (signed by {}): the \
         chart was signed by a key you do not trust; import its public key into the keyring \
         if you trust its owner",
        keyring.shown,
        if issuers.is_empty() {
            "an unnamed key".to_string()
        } else {
            issuers.join(", ")
        }
    )))
}

/// Why `key` cannot stand behind a signature (`has been revoked`, `expired on …`): it revoked
/// itself, or its newest self-signature says it has expired. `None` when it is usable.
fn unusable(key: &SignedPublicKey) -> Option<String> {
    let primary = &key.primary_key;
    if key
        .details
        .revocation_signatures
        .iter()
        .any(|sig| sig.verify_key(primary).is_ok())
    {
        return Some("has been revoked".into());
    }
    let newest = key
        .details
        .users
        .iter()
        .flat_map(|u| u.signatures.iter())
        .max_by_key(|s| s.created().map(|t| t.as_secs()))?;
    let lifetime = newest
        .key_expiration_time()
        .map(|d| d.as_secs() as u64)
        .filter(|&secs| secs > 0)?;
    let expires = u64::from(primary.created_at().as_secs()) + lifetime;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (expires < now).then(|| {
        format!(
            "expired on {} (its owner can extend it: `gpg --quick-set-expire`)",
            super::repo::rfc3339(expires)
        )
    })
}

/// The `files:` map of a provenance message (after the `...` line).
fn signed_sums(
    plain: &str,
    prov_shown: &str,
) -> Result<std::collections::BTreeMap<String, String>> {
    #[derive(serde::Deserialize)]
    struct Sums {
        #[serde(default)]
        files: std::collections::BTreeMap<String, String>,
    }
    let Some((_, sums)) = plain.split_once("\n...\n") else {
        return Err(Error::validation(format!(
            "`{prov_shown}` has no `...` line between the chart's metadata and its digests; it \
             is not a Helm provenance file"
        )));
    };
    let sums: Sums = serde_yaml::from_str(sums).map_err(|e| {
        Error::validation(format!(
            "`{prov_shown}`: the signed digests do not read: {e}"
        ))
    })?;
    Ok(sums.files)
}

/// Chart.yaml's metadata as Helm writes it into a provenance file: Helm's metadata JSON with
/// its keys sorted, as YAML.
pub fn metadata_yaml(chart_yaml: &serde_yaml::Mapping) -> Result<String> {
    let json = super::helm_json::metadata(chart_yaml);
    let value: serde_json::Value = serde_json::from_str(&json)
        .map_err(|e| Error::input(format!("cannot write the chart's metadata: {e}")))?;
    serde_yaml::to_string(&value)
        .map_err(|e| Error::input(format!("cannot write the chart's metadata: {e}")))
}

#[cfg(test)]
mod tests {
    use super::{message, yaml_key};

    #[test]
    fn message_is_helms_layout() {
        let text = message(
            "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
            "demo-0.1.0.tgz",
            b"",
        );
        assert_eq!(
            text,
            "apiVersion: v2\nname: demo\nversion: 0.1.0\n\n...\nfiles:\n  demo-0.1.0.tgz: \
             sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        );
    }

    #[test]
    fn odd_file_names_are_quoted() {
        assert_eq!(yaml_key("demo-1.0.0+b.tgz"), "demo-1.0.0+b.tgz");
        assert_eq!(yaml_key("true"), "\"true\"");
        assert_eq!(yaml_key("a: b.tgz"), "\"a: b.tgz\"");
    }
}
