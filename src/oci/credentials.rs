//! Registry credentials in the Docker/Helm `config.json` format:
//! `{"auths": {"HOST": {"auth": base64("user:password")}}}`, in Helm's file by default so that
//! `helm registry login` and `aether-chart registry login` share logins.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Error, Result};

/// The credentials file: `--registry-config`, else `$HELM_REGISTRY_CONFIG`, else Helm's
/// `$XDG_CONFIG_HOME/helm/registry/config.json` (`~/.config/...` without XDG_CONFIG_HOME).
pub fn config_path(flag: Option<&Path>) -> PathBuf {
    if let Some(path) = flag {
        return path.to_path_buf();
    }
    if let Some(path) = std::env::var_os("HELM_REGISTRY_CONFIG") {
        return PathBuf::from(path);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("helm/registry/config.json")
}

/// A user name and password.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

fn read(path: &Path) -> Result<serde_json::Value> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(serde_json::json!({}));
    }
    let bytes = crate::fs::read_user_file(path, "the registry credentials", 1024 * 1024)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::json!({}));
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::input(format!(
            "`{}:{}` is not valid JSON: {e}; fix or remove the credentials file",
            path.display(),
            e.line()
        ))
    })?;
    if !value.is_object() {
        return Err(Error::input(format!(
            "`{}` is not a JSON object",
            path.display()
        )));
    }
    Ok(value)
}

/// The stored credentials for `host`, if any.
pub fn load(path: &Path, host: &str) -> Result<Option<Credentials>> {
    let config = read(path)?;
    let Some(auth) = config
        .get("auths")
        .and_then(|a| a.get(host))
        .and_then(|h| h.get("auth"))
        .and_then(|a| a.as_str())
    else {
        return Ok(None);
    };
    let decoded = STANDARD
        .decode(auth)
        .ok()
        .and_then(|d| String::from_utf8(d).ok())
        .and_then(|d| d.split_once(':').map(|(u, p)| (u.to_string(), p.to_string())))
        .ok_or_else(|| {
            Error::input(format!(
                "the credentials for `{host}` in `{}` are not base64 of user:password; log in again",
                path.display()
            ))
        })?;
    Ok(Some(Credentials {
        username: decoded.0,
        password: decoded.1,
    }))
}

/// Stores credentials for `host` (other entries and fields are kept).
pub fn store(path: &Path, host: &str, credentials: &Credentials) -> Result<()> {
    let mut config = read(path)?;
    let auth = STANDARD.encode(format!("{}:{}", credentials.username, credentials.password));
    let auths = config
        .as_object_mut()
        .expect("checked to be an object")
        .entry("auths")
        .or_insert_with(|| serde_json::json!({}));
    if !auths.is_object() {
        *auths = serde_json::json!({});
    }
    auths[host] = serde_json::json!({ "auth": auth });
    write(path, &config)
}

/// Removes the credentials for `host`; false when there were none.
pub fn remove(path: &Path, host: &str) -> Result<bool> {
    let mut config = read(path)?;
    let removed = config
        .get_mut("auths")
        .and_then(|a| a.as_object_mut())
        .and_then(|a| a.remove(host))
        .is_some();
    if removed {
        write(path, &config)?;
    }
    Ok(removed)
}

/// Writes the file with owner-only permissions from the start, whole or not at all.
fn write(path: &Path, config: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(config).expect("JSON values serialize");
    crate::fs::write_path(path, text.as_bytes(), crate::fs::PRIVATE)?;
    Ok(())
}
