//! JSON schemas of custom resources from the CustomResourceDefinitions a chart ships: each
//! version's `openAPIV3Schema`, read the way the API server reads it (`nullable`,
//! `x-kubernetes-int-or-string`, `x-kubernetes-preserve-unknown-fields`), and as strict as the
//! bundled schemas: an object that lists its properties admits no others.

use serde_json::{Map, Value, json};

/// `(key, schema)` for every served version of `crd` with a schema; the key is
/// `group/version/kind` in lower case, as the bundled schemas are keyed.
pub fn from_crd(crd: &Value) -> Vec<(String, Value)> {
    if crd.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
        return Vec::new();
    }
    let spec = crd.get("spec");
    let group = spec.and_then(|s| s.get("group")).and_then(Value::as_str);
    let kind = spec
        .and_then(|s| s.pointer("/names/kind"))
        .and_then(Value::as_str);
    let (Some(group), Some(kind)) = (group, kind) else {
        return Vec::new();
    };
    let versions = spec
        .and_then(|s| s.get("versions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    versions
        .filter_map(|version| {
            let name = version.get("name").and_then(Value::as_str)?;
            let schema = version.pointer("/schema/openAPIV3Schema")?;
            let mut converted = convert(schema);
            // Every object has these, whether or not the CRD lists them.
            if let Some(properties) = converted
                .as_object_mut()
                .map(|o| o.entry("properties").or_insert_with(|| json!({})))
                .and_then(Value::as_object_mut)
            {
                for (field, kind) in [
                    ("apiVersion", "string"),
                    ("kind", "string"),
                    ("metadata", "object"),
                ] {
                    properties
                        .entry(field)
                        .or_insert_with(|| json!({ "type": kind }));
                }
            }
            Some((format!("{group}/{name}/{kind}").to_lowercase(), converted))
        })
        .collect()
}

/// The schemas of every CRD in the `crds/` folders of `chart` and its subcharts. A file that is
/// not YAML contributes none here (`template --include-crds` reports it).
pub fn from_chart(chart: &crate::chart::Chart) -> Vec<(String, Value)> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for (_, file) in crate::chart::crds::files(chart) {
        let Ok(text) = std::str::from_utf8(&file.data) else {
            continue;
        };
        if crate::yaml::guard::check_flow_nesting(text).is_err() {
            continue;
        }
        for document in serde_yaml::Deserializer::from_str(text) {
            if let Ok(value) = Value::deserialize(document) {
                out.extend(from_crd(&value));
            }
        }
    }
    out
}

/// One node of an OpenAPI v3 structural schema as JSON Schema.
fn convert(node: &Value) -> Value {
    let Some(object) = node.as_object() else {
        return node.clone();
    };
    let mut out = Map::new();
    for (key, value) in object {
        let converted = match key.as_str() {
            "properties" | "patternProperties" | "definitions" => Value::Object(
                value
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), convert(v))).collect())
                    .unwrap_or_default(),
            ),
            "items" | "additionalProperties" | "not" => convert(value),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .map(|a| a.iter().map(convert).collect())
                    .unwrap_or_default(),
            ),
            // OpenAPI's own keywords that JSON Schema reads otherwise, and Kubernetes' extensions.
            "nullable" | "x-kubernetes-int-or-string" => continue,
            key if key.starts_with("x-kubernetes-") => continue,
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    let flag = |name: &str| object.get(name).and_then(Value::as_bool) == Some(true);
    if flag("x-kubernetes-int-or-string") {
        out.remove("type");
        out.insert(
            "anyOf".into(),
            json!([{ "type": "integer" }, { "type": "string" }]),
        );
    }
    if flag("nullable") {
        match out.get("type").cloned() {
            Some(Value::String(t)) => {
                out.insert("type".into(), json!([t, "null"]));
            }
            _ => {
                if let Some(any) = out.get_mut("anyOf").and_then(Value::as_array_mut) {
                    any.push(json!({ "type": "null" }));
                }
            }
        }
    }
    let open =
        flag("x-kubernetes-preserve-unknown-fields") || flag("x-kubernetes-embedded-resource");
    if out.contains_key("properties") && !out.contains_key("additionalProperties") && !open {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structural_schemas_become_json_schemas() {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "spec": {"group": "example.com", "names": {"kind": "Widget"}, "versions": [
                {"name": "v1", "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "size": {"type": "integer", "nullable": true},
                        "port": {"x-kubernetes-int-or-string": true},
                        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                                  "properties": {"a": {"type": "string"}}}}}}}}},
                {"name": "v2"}]}
        });
        let schemas = from_crd(&crd);
        assert_eq!(schemas.len(), 1, "v2 has no schema");
        let (key, schema) = &schemas[0];
        assert_eq!(key, "example.com/v1/widget");
        let spec = &schema["properties"]["spec"];
        assert_eq!(spec["additionalProperties"], json!(false));
        assert_eq!(
            spec["properties"]["size"]["type"],
            json!(["integer", "null"])
        );
        assert_eq!(
            spec["properties"]["port"]["anyOf"],
            json!([{"type": "integer"}, {"type": "string"}])
        );
        assert!(
            spec["properties"]["extra"]
                .get("additionalProperties")
                .is_none()
        );
        assert_eq!(schema["properties"]["metadata"], json!({"type": "object"}));
        assert!(from_crd(&json!({"kind": "ConfigMap"})).is_empty());
    }
}
