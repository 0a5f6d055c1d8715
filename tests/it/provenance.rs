//! Signed charts: `package --sign`, `verify` and Helm 4 on the other side. Keys are made here
//! with GnuPG and exported as Helm's docs say (`gpg --export`, `gpg --export-secret-keys`); what
//! one tool signs the other verifies, and a changed archive, a changed provenance file or an
//! untrusted key fails in both.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Run, bin, demo_chart, failed, ok, run_program_with_env, tool};

/// A GnuPG home with keys made for one test, and their exported keyrings.
pub struct Keys {
    pub dir: tempfile::TempDir,
}

/// The user IDs of the keys every [`Keys`] holds.
pub const ED: &str = "Ed Signer <ed@example.com>";
pub const RSA: &str = "Rsa Signer <rsa@example.com>";
pub const LOCKED: &str = "Locked Signer <locked@example.com>";
pub const STRANGER: &str = "Stranger <stranger@example.com>";
pub const PASSPHRASE: &str = "correct horse";

impl Keys {
    /// Makes an Ed25519 key, an RSA key, a passphrase-locked key and a stranger's key, and
    /// writes `secring.gpg` (all secret keys but the stranger's), `pubring.gpg` (their public
    /// keys) and `stranger.gpg` (the stranger's public key only).
    pub fn new() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys { dir };
        std::fs::create_dir(keys.home()).unwrap();
        for (id, algo, pass) in [
            (ED, "ed25519", ""),
            (RSA, "rsa2048", ""),
            (LOCKED, "ed25519", PASSPHRASE),
            (STRANGER, "ed25519", ""),
        ] {
            keys.gpg(&[
                "--passphrase",
                pass,
                "--quick-gen-key",
                id,
                algo,
                "sign",
                "never",
            ]);
        }
        let export = |args: &[&str], file: &str| {
            let mut all = vec!["--passphrase", PASSPHRASE];
            all.extend(args);
            let out = keys.gpg(&all);
            std::fs::write(keys.path(file), out).unwrap();
        };
        export(&["--export-secret-keys", ED, RSA, LOCKED], "secring.gpg");
        export(&["--export", ED, RSA, LOCKED], "pubring.gpg");
        export(&["--export", STRANGER], "stranger.gpg");
        keys
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("gnupg")
    }

    /// A file in the keys' folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The path of a file in the keys' folder, as a string.
    pub fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// Runs gpg in batch mode on this home and returns its stdout.
    pub fn gpg(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new("gpg")
            .arg("--homedir")
            .arg(self.home())
            .args(["--batch", "--yes", "--pinentry-mode", "loopback"])
            .args(args)
            .output()
            .expect("gpg is needed: run `bash scripts/test.sh` (it installs GnuPG)");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.home())
            .args(["--kill", "all"])
            .output();
    }
}

/// Runs `program` in `dir` with Helm's homes inside `dir`.
fn run(program: &Path, dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let homes: Vec<(&str, PathBuf)> = ["HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"]
        .iter()
        .map(|k| (*k, dir.join(".helm").join(k)))
        .collect();
    run_program_with_env(program, dir, &args, stdin, &homes)
}

fn ours(dir: &Path, args: &[&str]) -> Run {
    run(&bin(), dir, args, None)
}

fn helm(dir: &Path, args: &[&str]) -> Run {
    run(&tool("AETHER_HELM", "bin/helm"), dir, args, None)
}

/// A folder with the demo chart in `demo/`.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    demo_chart(&dir.path().join("demo"));
    dir
}

#[test]
fn what_one_tool_signs_the_other_verifies() {
    let keys = Keys::new();
    let work = workspace();
    let dir = work.path();
    let (secring, pubring) = (keys.arg("secring.gpg"), keys.arg("pubring.gpg"));

    // Ours signs with an Ed25519 key; Helm verifies and says what we say.
    let packaged = ok(ours(
        dir,
        &[
            "package",
            "demo",
            "--sign",
            "--key",
            "Ed Signer",
            "--keyring",
            &secring,
        ],
    ));
    assert_eq!(
        packaged.stdout,
        "Successfully packaged chart and saved it to: ./demo-0.1.0.tgz\n"
    );
    let prov = std::fs::read_to_string(dir.join("demo-0.1.0.tgz.prov")).unwrap();
    assert!(
        prov.starts_with("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\napiVersion: v2\nname: demo\nversion: 0.1.0\n\n...\nfiles:\n  demo-0.1.0.tgz: sha256:"),
        "{prov}"
    );
    let theirs = ok(helm(
        dir,
        &["verify", "demo-0.1.0.tgz", "--keyring", &pubring],
    ));
    let mine = ok(ours(
        dir,
        &["verify", "demo-0.1.0.tgz", "--keyring", &pubring],
    ));
    assert_eq!(mine.stdout, theirs.stdout);
    assert!(
        mine.stdout.starts_with(&format!("Signed by: {ED}\n")),
        "{}",
        mine.stdout
    );
    // GnuPG itself agrees the clear-signed text is intact.
    keys.gpg(&[
        "--verify",
        &dir.join("demo-0.1.0.tgz.prov").display().to_string(),
    ]);

    // Helm signs with an RSA key; ours verifies and says what Helm says.
    std::fs::remove_file(dir.join("demo-0.1.0.tgz")).unwrap();
    std::fs::remove_file(dir.join("demo-0.1.0.tgz.prov")).unwrap();
    ok(helm(
        dir,
        &[
            "package",
            "demo",
            "--sign",
            "--key",
            "Rsa Signer",
            "--keyring",
            &secring,
        ],
    ));
    let theirs = ok(helm(
        dir,
        &["verify", "demo-0.1.0.tgz", "--keyring", &pubring],
    ));
    let mine = ok(ours(
        dir,
        &["verify", "demo-0.1.0.tgz", "--keyring", &pubring],
    ));
    assert_eq!(mine.stdout, theirs.stdout);
    assert!(
        mine.stdout.starts_with(&format!("Signed by: {RSA}\n")),
        "{}",
        mine.stdout
    );
    // An armored keyring reads as well as a binary one (Helm reads binary ones only).
    let armored = keys.gpg(&["--armor", "--export", RSA]);
    std::fs::write(keys.path("rsa.asc"), armored).unwrap();
    ok(ours(
        dir,
        &[
            "verify",
            "demo-0.1.0.tgz",
            "--keyring",
            &keys.arg("rsa.asc"),
        ],
    ));
}

#[test]
fn a_changed_archive_or_provenance_or_an_untrusted_key_fails_in_both() {
    let keys = Keys::new();
    let work = workspace();
    let dir = work.path();
    let (secring, pubring) = (keys.arg("secring.gpg"), keys.arg("pubring.gpg"));
    ok(ours(
        dir,
        &[
            "package",
            "demo",
            "--sign",
            "--key",
            ED,
            "--keyring",
            &secring,
        ],
    ));
    let archive = std::fs::read(dir.join("demo-0.1.0.tgz")).unwrap();
    let prov = std::fs::read_to_string(dir.join("demo-0.1.0.tgz.prov")).unwrap();
    let both_refuse = |ours_says: &str, helm_says: &str, keyring: &str| {
        let mine = ours(dir, &["verify", "demo-0.1.0.tgz", "--keyring", keyring]);
        assert_eq!(mine.code, 1, "{}", mine.snapshot());
        assert!(mine.stdout.is_empty(), "{}", mine.stdout);
        assert!(mine.stderr.contains(ours_says), "{}", mine.stderr);
        let theirs = helm(dir, &["verify", "demo-0.1.0.tgz", "--keyring", keyring]);
        assert_ne!(theirs.code, 0, "{}", theirs.snapshot());
        assert!(theirs.stderr.contains(helm_says), "{}", theirs.stderr);
    };

    // One byte appended to the archive.
    let mut changed = archive.clone();
    changed.push(0);
    std::fs::write(dir.join("demo-0.1.0.tgz"), &changed).unwrap();
    both_refuse(
        "`demo-0.1.0.tgz` is not the archive that was signed",
        "sha256 sum does not match",
        &pubring,
    );
    std::fs::write(dir.join("demo-0.1.0.tgz"), &archive).unwrap();

    // The signed digest edited to match another archive.
    let edited = prov.replacen("version: 0.1.0", "version: 0.1.1", 1);
    std::fs::write(dir.join("demo-0.1.0.tgz.prov"), edited).unwrap();
    both_refuse(
        &format!("the provenance file was changed after `{ED}` signed it"),
        "invalid signature",
        &pubring,
    );
    std::fs::write(dir.join("demo-0.1.0.tgz.prov"), &prov).unwrap();

    // A keyring without the signer's key.
    both_refuse(
        "was not made by any key in",
        "signature made by unknown entity",
        &keys.arg("stranger.gpg"),
    );

    // And the intact pair still verifies.
    ok(ours(
        dir,
        &["verify", "demo-0.1.0.tgz", "--keyring", &pubring],
    ));
}

#[test]
fn locked_keys_take_their_passphrase_and_nothing_is_written_without_it() {
    let keys = Keys::new();
    let work = workspace();
    let dir = work.path();
    let (secring, pubring) = (keys.arg("secring.gpg"), keys.arg("pubring.gpg"));
    std::fs::write(dir.join("pass.txt"), format!("{PASSPHRASE}\nsecond line\n")).unwrap();
    std::fs::write(dir.join("wrong.txt"), "not it\n").unwrap();
    let sign = |extra: &[&str], stdin: Option<&[u8]>| {
        let mut args = vec!["package", "demo", "--sign", "--key", "Locked", "--keyring"];
        args.push(&secring);
        args.extend(extra);
        run(&bin(), dir, &args, stdin)
    };

    let none = sign(&[], None);
    assert_eq!(none.code, 2, "{}", none.snapshot());
    assert!(
        none.stderr
            .contains("is protected by a passphrase; give it with --passphrase-file"),
        "{}",
        none.stderr
    );
    let wrong = sign(&["--passphrase-file", "wrong.txt"], None);
    assert_eq!(wrong.code, 2, "{}", wrong.snapshot());
    assert!(
        wrong.stderr.contains(&format!(
            "the passphrase does not unlock the key `{LOCKED}`"
        )),
        "{}",
        wrong.stderr
    );
    assert!(
        !dir.join("demo-0.1.0.tgz").exists(),
        "a refused signing wrote the archive"
    );
    assert!(!dir.join("demo-0.1.0.tgz.prov").exists());

    ok(sign(&["--passphrase-file", "pass.txt"], None));
    ok(helm(
        dir,
        &["verify", "demo-0.1.0.tgz", "--keyring", &pubring],
    ));
    std::fs::remove_file(dir.join("demo-0.1.0.tgz")).unwrap();
    std::fs::remove_file(dir.join("demo-0.1.0.tgz.prov")).unwrap();
    ok(sign(
        &["--passphrase-file", "-"],
        Some(format!("{PASSPHRASE}\n").as_bytes()),
    ));
    ok(ours(
        dir,
        &["verify", "demo-0.1.0.tgz", "--keyring", &pubring],
    ));

    // Helm signs with the locked key too (its --passphrase-file), and ours verifies that.
    std::fs::remove_file(dir.join("demo-0.1.0.tgz")).unwrap();
    std::fs::remove_file(dir.join("demo-0.1.0.tgz.prov")).unwrap();
    ok(helm(
        dir,
        &[
            "package",
            "demo",
            "--sign",
            "--key",
            "Locked",
            "--keyring",
            &secring,
            "--passphrase-file",
            "pass.txt",
        ],
    ));
    let verified = ok(ours(
        dir,
        &["verify", "demo-0.1.0.tgz", "--keyring", &pubring],
    ));
    assert!(
        verified
            .stdout
            .starts_with(&format!("Signed by: {LOCKED}\n"))
    );
}

#[test]
fn keys_are_picked_as_helm_picks_them() {
    let keys = Keys::new();
    let work = workspace();
    let dir = work.path();
    let secring = keys.arg("secring.gpg");
    let sign = |key: &str, keyring: &str| {
        ours(
            dir,
            &[
                "package",
                "demo",
                "--sign",
                "--key",
                key,
                "--keyring",
                keyring,
            ],
        )
    };
    // Both tools refuse a part of a user ID that two keys contain.
    let vague = sign("Signer", &secring);
    assert_eq!(vague.code, 2);
    assert!(
        vague.stderr.contains("more than one key in"),
        "{}",
        vague.stderr
    );
    let theirs = helm(
        dir,
        &[
            "package",
            "demo",
            "--sign",
            "--key",
            "Signer",
            "--keyring",
            &secring,
        ],
    );
    assert_ne!(theirs.code, 0);
    assert!(
        theirs.stderr.contains("more than one key contain the id"),
        "{}",
        theirs.stderr
    );
    std::fs::remove_file(dir.join("demo-0.1.0.tgz")).ok();

    failed(&sign("Nobody", &secring), "no key in");
    failed(
        &sign("Ed Signer", &keys.arg("pubring.gpg")),
        "is a public key only; signing needs its secret key",
    );
    // GnuPG's own keybox is not a keyring: the message says how to export one.
    let keybox = keys.home().join("pubring.kbx");
    failed(
        &sign("Ed Signer", &keybox.display().to_string()),
        "gpg --export-secret-keys > secring.gpg",
    );
    failed(
        &ours(dir, &["package", "demo", "--sign", "--keyring", &secring]),
        "--key",
    );
    assert!(!dir.join("demo-0.1.0.tgz").exists());

    // verify wants an archive with its provenance file beside it.
    ok(ours(dir, &["package", "demo"]));
    let unsigned = ours(dir, &["verify", "demo-0.1.0.tgz", "--keyring", &secring]);
    assert_eq!(unsigned.code, 2);
    assert!(
        unsigned.stderr.contains("has no provenance file beside it"),
        "{}",
        unsigned.stderr
    );
    failed(
        &ours(dir, &["verify", "demo", "--keyring", &secring]),
        "unpacked charts cannot be verified",
    );
}

/// Helm's own provenance test data, copied into a fresh folder.
fn helms_testdata() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = crate::support::repo_root().join("tests/fixtures/provenance");
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

const HELM_TEST_KEY: &str =
    "Helm Testing (This key should only be used for testing. DO NOT TRUST.) <helm-testing@helm.sh>";

#[test]
fn helms_own_provenance_test_data_agrees() {
    let data = helms_testdata();
    let dir = data.path();
    // Helm's signed fixture verifies with its test key, alone or in a mixed keyring, and both
    // tools report it alike.
    for keyring in ["helm-test-key.pub", "helm-mixed-keyring.pub"] {
        let args = ["verify", "hashtest-1.2.3.tgz", "--keyring", keyring];
        let mine = ok(ours(dir, &args));
        let theirs = ok(helm(dir, &args));
        assert_eq!(mine.stdout, theirs.stdout);
        assert!(
            mine.stdout
                .starts_with(&format!("Signed by: {HELM_TEST_KEY}\n")),
            "{}",
            mine.stdout
        );
        assert!(mine.stdout.ends_with(
            "Chart Hash Verified: sha256:c6841b3a895f1444a6738b5d04564a57e860ce42f8519c3be807fb6d9bee7888\n"
        ));
    }
    // The secret key file works as a keyring for verifying too.
    ok(ours(
        dir,
        &[
            "verify",
            "hashtest-1.2.3.tgz",
            "--keyring",
            "helm-test-key.secret",
        ],
    ));

    // Helm's tampered message block: both refuse it.
    std::fs::copy(
        dir.join("msgblock.yaml.tampered"),
        dir.join("hashtest-1.2.3.tgz.prov"),
    )
    .unwrap();
    let args = [
        "verify",
        "hashtest-1.2.3.tgz",
        "--keyring",
        "helm-test-key.pub",
    ];
    let mine = ours(dir, &args);
    assert_eq!(mine.code, 1, "{}", mine.snapshot());
    assert!(mine.stderr.contains("was changed after"), "{}", mine.stderr);
    let theirs = helm(dir, &args);
    assert_ne!(theirs.code, 0);
    assert!(
        theirs.stderr.contains("invalid signature"),
        "{}",
        theirs.stderr
    );

    // Ours signs with Helm's test key and Helm verifies it with the public half.
    demo_chart(&dir.join("demo"));
    ok(ours(
        dir,
        &[
            "package",
            "demo",
            "--sign",
            "--key",
            "helm-test",
            "--keyring",
            "helm-test-key.secret",
        ],
    ));
    let theirs = ok(helm(
        dir,
        &["verify", "demo-0.1.0.tgz", "--keyring", "helm-test-key.pub"],
    ));
    assert!(
        theirs
            .stdout
            .starts_with(&format!("Signed by: {HELM_TEST_KEY}\n"))
    );

    // Helm's locked key: `secret` unlocks it, anything else does not (TestDecryptKey).
    std::fs::write(dir.join("good"), "secret\n").unwrap();
    std::fs::write(dir.join("bad"), "secrets_and_lies\n").unwrap();
    for (file, code) in [("bad", 2), ("good", 0)] {
        let run = ours(
            dir,
            &[
                "package",
                "demo",
                "--sign",
                "--key",
                "password key",
                "--keyring",
                "helm-password-key.secret",
                "--passphrase-file",
                file,
            ],
        );
        assert_eq!(run.code, code, "{}", run.snapshot());
    }
    let signed = ok(ours(
        dir,
        &[
            "verify",
            "demo-0.1.0.tgz",
            "--keyring",
            "helm-password-key.secret",
        ],
    ));
    assert!(
        signed
            .stdout
            .starts_with("Signed by: password key (fake) <fake@helm.sh>\n")
    );
}

#[test]
fn revoked_and_expired_keys_are_refused_by_both() {
    let keys = Keys::new();
    let work = workspace();
    let dir = work.path();
    // A key made in 2020 that expired a day later, and a signature GnuPG made while it was good.
    const OLD: &str = "Old Signer <old@example.com>";
    let then = "1600000000";
    keys.gpg(&[
        "--passphrase",
        "",
        "--faked-system-time",
        then,
        "--quick-gen-key",
        OLD,
        "ed25519",
        "sign",
        "1d",
    ]);
    ok(ours(dir, &["package", "demo"]));
    let sum = {
        use sha2::Digest as _;
        let bytes = std::fs::read(dir.join("demo-0.1.0.tgz")).unwrap();
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let text = format!(
        "apiVersion: v2\nname: demo\nversion: 0.1.0\n\n...\nfiles:\n  demo-0.1.0.tgz: sha256:{sum}\n"
    );
    std::fs::write(dir.join("message"), text).unwrap();
    let message = dir.join("message").display().to_string();
    let signed = keys.gpg(&[
        "--faked-system-time",
        "1600000100",
        "--digest-algo",
        "SHA512",
        "-u",
        OLD,
        "--clearsign",
        "-o",
        "-",
        &message,
    ]);
    std::fs::write(dir.join("demo-0.1.0.tgz.prov"), signed).unwrap();
    std::fs::write(keys.path("old.gpg"), keys.gpg(&["--export", OLD])).unwrap();
    let args = [
        "verify",
        "demo-0.1.0.tgz",
        "--keyring",
        &keys.arg("old.gpg"),
    ];
    let mine = ours(dir, &args);
    assert_eq!(mine.code, 1, "{}", mine.snapshot());
    assert!(
        mine.stderr.contains(&format!("the signing key `{OLD}`"))
            && mine.stderr.contains("expired on 2020-09-14"),
        "{}",
        mine.stderr
    );
    let theirs = helm(dir, &args);
    assert!(
        theirs.stderr.contains("key expired"),
        "{}",
        theirs.snapshot()
    );
    // Nor does ours sign with it.
    let secret = keys.gpg(&["--passphrase", "", "--export-secret-keys", OLD]);
    std::fs::write(keys.path("old-secret.gpg"), secret).unwrap();
    std::fs::remove_file(dir.join("demo-0.1.0.tgz")).unwrap();
    failed(
        &ours(
            dir,
            &[
                "package",
                "demo",
                "--sign",
                "--key",
                "Old",
                "--keyring",
                &keys.arg("old-secret.gpg"),
            ],
        ),
        "no one would trust what it signs",
    );
    assert!(!dir.join("demo-0.1.0.tgz").exists());

    // A good signature by a key revoked since.
    ok(ours(
        dir,
        &[
            "package",
            "demo",
            "--sign",
            "--key",
            ED,
            "--keyring",
            &keys.arg("secring.gpg"),
        ],
    ));
    let fingerprint = keys.gpg(&["--with-colons", "--list-keys", ED]);
    let fingerprint = String::from_utf8(fingerprint).unwrap();
    let fingerprint = fingerprint
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .map(|l| l.trim_matches(':').to_string())
        .unwrap();
    let cert = std::fs::read_to_string(
        keys.home()
            .join("openpgp-revocs.d")
            .join(format!("{fingerprint}.rev")),
    )
    .unwrap()
    .replace(":-----BEGIN", "-----BEGIN");
    std::fs::write(keys.path("revoke.asc"), cert).unwrap();
    keys.gpg(&["--import", &keys.arg("revoke.asc")]);
    std::fs::write(keys.path("revoked.gpg"), keys.gpg(&["--export", ED])).unwrap();
    let args = [
        "verify",
        "demo-0.1.0.tgz",
        "--keyring",
        &keys.arg("revoked.gpg"),
    ];
    let mine = ours(dir, &args);
    assert_eq!(mine.code, 1, "{}", mine.snapshot());
    assert!(mine.stderr.contains("has been revoked"), "{}", mine.stderr);
    let theirs = helm(dir, &args);
    assert!(
        theirs.stderr.contains("revoked key"),
        "{}",
        theirs.snapshot()
    );
    // The same signature verifies against the key as it was before.
    ok(ours(
        dir,
        &[
            "verify",
            "demo-0.1.0.tgz",
            "--keyring",
            &keys.arg("pubring.gpg"),
        ],
    ));
}
