//! What templates see besides values: `release`, `chart`, `capabilities`.

use std::collections::BTreeMap;

use minijinja::{Value, context};

use crate::chart::Metadata;

/// The release a render is for.
#[derive(Debug, Clone)]
pub struct Release {
    /// The release name (default: the chart's name).
    pub name: String,
    /// The namespace (default: `default`).
    pub namespace: String,
    /// Render as an upgrade (`--is-upgrade`): `is_upgrade` true and `is_install` false.
    pub is_upgrade: bool,
}

/// The Kubernetes cluster a render targets.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// The Kubernetes version, e.g. 1.35.0.
    pub kube_version: semver::Version,
    /// API versions the cluster serves, beyond the built-in set (`-a/--api-versions`).
    pub extra_api_versions: Vec<String>,
}

/// API versions (and `group/version/Kind` entries) every supported cluster serves.
const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "apiextensions.k8s.io/v1",
    "apiregistration.k8s.io/v1",
    "apps/v1",
    "authentication.k8s.io/v1",
    "authorization.k8s.io/v1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "certificates.k8s.io/v1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "events.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1",
    "networking.k8s.io/v1",
    "node.k8s.io/v1",
    "policy/v1",
    "rbac.authorization.k8s.io/v1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1",
    "apps/v1/Deployment",
    "apps/v1/StatefulSet",
    "apps/v1/DaemonSet",
    "batch/v1/Job",
    "batch/v1/CronJob",
    "autoscaling/v2/HorizontalPodAutoscaler",
    "networking.k8s.io/v1/Ingress",
    "networking.k8s.io/v1/NetworkPolicy",
    "policy/v1/PodDisruptionBudget",
    "v1/ConfigMap",
    "v1/Secret",
    "v1/Service",
    "v1/ServiceAccount",
    "v1/Namespace",
    "v1/ResourceQuota",
    "v1/LimitRange",
    "v1/PersistentVolumeClaim",
];

impl Release {
    /// The `release` template value.
    pub fn value(&self) -> Value {
        context! {
            name => self.name.as_str(),
            namespace => self.namespace.as_str(),
            revision => 1,
            is_install => !self.is_upgrade,
            is_upgrade => self.is_upgrade,
            service => "aether-chart",
        }
    }
}

impl Capabilities {
    /// The `capabilities` template value.
    pub fn value(&self) -> Value {
        let v = &self.kube_version;
        let version = format!("v{v}");
        let mut api_versions: Vec<String> =
            DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect();
        api_versions.extend(self.extra_api_versions.iter().cloned());
        context! {
            kube_version => context! {
                version => version.as_str(),
                git_version => version.as_str(),
                major => v.major.to_string(),
                minor => v.minor.to_string(),
            },
            api_versions => api_versions,
        }
    }
}

/// The `chart` template value: Chart.yaml's fields in snake_case.
pub fn chart_value(m: &Metadata) -> Value {
    let chart_type = if m.chart_type.is_empty() {
        "application"
    } else {
        m.chart_type.as_str()
    };
    map_value([
        ("api_version", Value::from(m.api_version.as_str())),
        ("name", Value::from(m.name.as_str())),
        ("version", Value::from(m.version.as_str())),
        ("app_version", Value::from(m.app_version.as_str())),
        ("description", Value::from(m.description.as_str())),
        ("type", Value::from(chart_type)),
        ("kube_version", Value::from(m.kube_version.as_str())),
        ("annotations", Value::from(m.annotations.clone())),
        ("keywords", Value::from(m.keywords.clone())),
        ("home", Value::from(m.home.as_str())),
        ("deprecated", Value::from(m.deprecated)),
    ])
}

/// A template map from key/value pairs.
pub fn map_value<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
    Value::from(
        pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v))
            .collect::<BTreeMap<String, Value>>(),
    )
}
