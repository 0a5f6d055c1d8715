//! The rendered documents as the rules see them: parsed JSON plus where each came from, with
//! accessors for the parts rules keep asking for (pod spec, containers, labels, component).

use crate::render::manifest::Manifest;
use crate::yaml::tree::{Map, Value};

/// Looking up a path of keys (and list indexes) in a JSON value without building a JSON pointer.
pub trait At {
    /// The node at `path`, e.g. `&["spec", "template", "spec"]`.
    fn at(&self, path: &[&str]) -> Option<&Self>;
}

impl At for serde_json::Value {
    fn at(&self, path: &[&str]) -> Option<&Self> {
        path.iter().try_fold(self, |node, key| match node {
            serde_json::Value::Array(items) => items.get(key.parse::<usize>().ok()?),
            _ => node.get(*key),
        })
    }
}

impl At for Value<'_> {
    fn at(&self, path: &[&str]) -> Option<&Self> {
        path.iter().try_fold(self, |node, key| child(node, key))
    }
}

/// The member `key` of an object, or the item at index `key` of a list, borrowed for as long
/// as the tree's arena.
fn child<'a>(node: &Value<'a>, key: &str) -> Option<&'a Value<'a>> {
    match node {
        Value::Array(items) => items.as_slice().get(key.parse::<usize>().ok()?),
        _ => node.get(key),
    }
}

/// One rendered Kubernetes object.
#[derive(Debug)]
pub struct Doc<'a> {
    /// The parsed manifest: its source, apiVersion, kind, name and object (read through it).
    manifest: &'a Manifest<'a>,
    /// `metadata.namespace`, or the release namespace it will be applied to when unset.
    pub namespace: Option<&'a str>,
    /// The pod template of a workload, found once for the many rules that read it.
    pod_template: Option<&'a Value<'a>>,
    /// Whether the object runs pods.
    workload: bool,
    /// Every init container and container of a workload, found once.
    containers: Vec<&'a Value<'a>>,
}

/// A document reads as its manifest: `doc.kind`, `doc.json`...
impl<'a> std::ops::Deref for Doc<'a> {
    type Target = Manifest<'a>;

    fn deref(&self) -> &Manifest<'a> {
        self.manifest
    }
}

/// Kinds whose objects run pods, and where their pod template lives.
const WORKLOADS: [(&str, &[&str]); 6] = [
    ("Deployment", &["spec", "template"]),
    ("StatefulSet", &["spec", "template"]),
    ("DaemonSet", &["spec", "template"]),
    ("ReplicaSet", &["spec", "template"]),
    ("Job", &["spec", "template"]),
    ("CronJob", &["spec", "jobTemplate", "spec", "template"]),
];

impl<'a> Doc<'a> {
    /// The rules' view of a parsed manifest; `namespace` is the release namespace, where
    /// objects that state none are applied.
    pub fn new(manifest: &'a Manifest<'a>, namespace: &'a str) -> Doc<'a> {
        let workload = WORKLOADS.iter().find(|(k, _)| *k == manifest.kind);
        let pod_template = workload.and_then(|(_, path)| manifest.json.at(path));
        let spec = pod_template.and_then(|t| t.get("spec"));
        let containers = ["initContainers", "containers"]
            .into_iter()
            .filter_map(|k| spec?.get(k)?.as_array())
            .flatten()
            .collect();
        Doc {
            manifest,
            namespace: Some(manifest.namespace.unwrap_or(namespace)),
            pod_template,
            workload: workload.is_some(),
            containers,
        }
    }

    /// `Kind/name`, how findings name an object.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// The text at a `/`-separated path.
    pub fn str_at(&self, path: &str) -> Option<&str> {
        self.at_path(path).and_then(Value::as_str)
    }

    /// The integer at a `/`-separated path.
    pub fn int_at(&self, path: &str) -> Option<i64> {
        self.at_path(path).and_then(Value::as_i64)
    }

    /// The node at a `/`-separated path.
    fn at_path(&self, path: &str) -> Option<&Value<'a>> {
        path.split('/')
            .filter(|k| !k.is_empty())
            .try_fold(&self.json, |node, key| child(node, key))
    }

    /// A label of the object.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.json
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
    }

    /// An annotation of the object.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.json
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
    }

    /// `app.kubernetes.io/component`, by which rules find roles.
    pub fn component(&self) -> Option<&str> {
        self.label("app.kubernetes.io/component")
    }

    /// The pod template of a workload.
    pub fn pod_template(&self) -> Option<&Value<'a>> {
        self.pod_template
    }

    /// The pod spec of a workload.
    pub fn pod_spec(&self) -> Option<&Value<'a>> {
        self.pod_template().and_then(|t| t.get("spec"))
    }

    /// The labels of a workload's pods.
    pub fn pod_labels(&self) -> Option<&Map<'a>> {
        self.pod_template()?
            .at(&["metadata", "labels"])
            .and_then(Value::as_object)
    }

    /// Every init container and container of a workload.
    pub fn containers(&self) -> impl Iterator<Item = &Value<'a>> {
        self.containers.iter().map(|c| -> &Value<'a> { c })
    }

    /// `spec.selector.matchLabels` (or a Service's `spec.selector`).
    pub fn selector(&self) -> Option<&Map<'a>> {
        let path: &[&str] = if self.kind == "Service" {
            &["spec", "selector"]
        } else {
            &["spec", "selector", "matchLabels"]
        };
        self.json.at(path).and_then(Value::as_object)
    }

    /// Whether this object runs pods.
    pub fn is_workload(&self) -> bool {
        self.workload
    }
}

/// Whether `labels` carry every entry of `selector` (an empty selector matches nothing here).
pub fn selects(selector: &Map, labels: &Map) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}
