//! `Chart.yaml`: the chart's metadata, with Helm's validation rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result, utf8};
use crate::version::Constraint;
use crate::yaml::parse::yaml_error;

/// The fields of `Chart.yaml` (apiVersion v2).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// `v2` (or `v1` for old charts).
    #[serde(default)]
    pub api_version: String,
    /// The chart's name.
    #[serde(default)]
    pub name: String,
    /// The chart's SemVer 2 version.
    #[serde(default, deserialize_with = "string_like")]
    pub version: String,
    /// The version of the application the chart deploys.
    #[serde(default, deserialize_with = "string_like")]
    pub app_version: String,
    /// A one-line description.
    #[serde(default)]
    pub description: String,
    /// `application` (default) or `library`.
    #[serde(default, rename = "type")]
    pub chart_type: String,
    /// The Kubernetes versions the chart supports, as a constraint.
    #[serde(default)]
    pub kube_version: String,
    /// Free-form annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Subcharts the chart depends on.
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    /// Search keywords.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The project's home page.
    #[serde(default)]
    pub home: String,
    /// Whether the chart is deprecated.
    #[serde(default)]
    pub deprecated: bool,
}

/// One entry of `dependencies:` in `Chart.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependency {
    /// The subchart's name.
    pub name: String,
    /// A version range the subchart must satisfy.
    #[serde(default, deserialize_with = "string_like")]
    pub version: String,
    /// Where the subchart comes from (a repository URL, `oci://`, `file://`).
    #[serde(default)]
    pub repository: String,
    /// Comma-separated values paths; the first boolean found enables or disables the subchart.
    #[serde(default)]
    pub condition: String,
    /// Tags that enable or disable the subchart through `tags:` in the values.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Another name for the subchart (its values scope and template prefix).
    #[serde(default)]
    pub alias: String,
    /// Values imported from the subchart into the parent.
    #[serde(default, rename = "import-values")]
    pub import_values: Vec<serde_yaml::Value>,
}

/// Accepts a string or a number (`version: 1.0` is common) as a string.
fn string_like<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(match serde_yaml::Value::deserialize(d)? {
        serde_yaml::Value::String(s) => s,
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Null => String::new(),
        other => {
            return Err(serde::de::Error::custom(format!(
                "expected a string, found {other:?}"
            )));
        }
    })
}

impl Metadata {
    /// Parses and validates `Chart.yaml`; `name` is its path, for messages.
    pub fn parse(bytes: &[u8], name: &str) -> Result<Metadata> {
        let text = utf8(bytes, name)?;
        if text.trim().is_empty() {
            return Err(Error::input(format!(
                "`{name}` is empty; it needs at least apiVersion: v2, name and version"
            )));
        }
        crate::yaml::guard::check_flow_nesting(text)
            .map_err(|line| Error::input(format!("`{name}:{line}`: brackets nest too deeply")))?;
        let metadata: Metadata = serde_yaml::from_str(text).map_err(|e| yaml_error(&e, name))?;
        metadata.validate(name)?;
        Ok(metadata)
    }

    fn validate(&self, file: &str) -> Result<()> {
        let fail = |message: String| Err(Error::input(format!("`{file}`: {message}")));
        match self.api_version.as_str() {
            "v2" | "v1" => {}
            "" => return fail("apiVersion is missing; set `apiVersion: v2`".into()),
            other => return fail(format!("apiVersion `{other}` is not supported; use v2")),
        }
        check_name(&self.name).or_else(|e| fail(format!("name {e}")))?;
        if self.version.is_empty() {
            return fail("version is missing; set a SemVer 2 version such as 0.1.0".into());
        }
        if semver::Version::parse(&self.version).is_err() {
            return fail(format!(
                "version `{}` is not SemVer 2 (MAJOR.MINOR.PATCH such as 1.2.3, optionally -pre and +build)",
                self.version
            ));
        }
        match self.chart_type.as_str() {
            "" | "application" | "library" => {}
            other => {
                return fail(format!(
                    "type `{other}` is invalid; use application or library"
                ));
            }
        }
        if !self.kube_version.is_empty()
            && let Err(e) = Constraint::parse(&self.kube_version)
        {
            return fail(format!("kubeVersion: {e}"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for dep in &self.dependencies {
            check_name(&dep.name).or_else(|e| fail(format!("dependency name {e}")))?;
            if !dep.alias.is_empty()
                && !dep
                    .alias
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return fail(format!(
                    "dependency alias `{}` may only contain letters, digits, - and _",
                    dep.alias
                ));
            }
            let scope = if dep.alias.is_empty() {
                &dep.name
            } else {
                &dep.alias
            };
            if !seen.insert(scope.clone()) {
                return fail(format!(
                    "dependency `{scope}` is listed twice; give one an alias"
                ));
            }
        }
        Ok(())
    }

    /// Whether this is a library chart (no manifests of its own).
    pub fn is_library(&self) -> bool {
        self.chart_type == "library"
    }
}

/// A chart name must be a plain file name: no path separators, not `.` or `..`.
pub fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("is missing".into());
    }
    if name == "."
        || name == ".."
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
    {
        return Err(format!(
            "`{name}` is not a safe chart name: no path separators, not `.` or `..`"
        ));
    }
    Ok(())
}
