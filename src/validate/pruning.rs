//! How the API server treats nulls. In a custom resource, a field set to null whose schema
//! does not say `nullable: true` is pruned (dropped) before validation, and one whose schema
//! does is valid as it is. In a built-in kind, the API server decodes the JSON into its Go
//! types, where a null in a known field is no value at all: `port: null` in a NetworkPolicy
//! port is a port left unset. Either way a null in a field the schema describes (its
//! `properties`, or `additionalProperties` for maps) is no error, so such nulls are dropped
//! before the schema check (JSON schema knows no `nullable`); a required field set to null is
//! then missing, as it is to the API server. Nulls in unknown fields and list items are kept,
//! and fail as they fail on the API server.

use std::sync::Arc;

use serde_json::Value;

/// A definition of the schemas' `$defs` by name, for `$ref`s (parsed once, shared).
pub(crate) type Definitions<'d> = &'d dyn Fn(&str) -> Option<Arc<Value>>;

/// Drops from `doc` the null fields that `schema` (the resource's structural schema)
/// describes, below any depth; whether any was dropped.
pub(crate) fn prune_nulls(doc: &mut Value, schema: &Value) -> bool {
    prune_nulls_in(doc, schema, &|_| None)
}

/// Like [`prune_nulls`] for a schema whose `$ref`s (`...#/$defs/NAME`) name definitions.
pub(crate) fn prune_nulls_in(
    doc: &mut Value,
    schema: &Value,
    definitions: Definitions<'_>,
) -> bool {
    let resolved = resolve(schema, definitions);
    let schema = resolved.as_deref().unwrap_or(schema);
    match doc {
        Value::Object(members) => {
            let field = |name: &str| {
                schema
                    .get("properties")
                    .and_then(|p| p.get(name))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
            };
            let before = members.len();
            members.retain(|name, value| !value.is_null() || field(name).is_none());
            let mut pruned = members.len() != before;
            for (name, value) in members.iter_mut() {
                if let Some(field) = field(name) {
                    pruned |= prune_nulls_in(value, field, definitions);
                }
            }
            pruned
        }
        Value::Array(items) => match schema.get("items") {
            Some(item) => items.iter_mut().fold(false, |pruned, value| {
                prune_nulls_in(value, item, definitions) | pruned
            }),
            None => false,
        },
        _ => false,
    }
}

/// The schema a `$ref` (or an `allOf` of one `$ref`) points to, if it names a definition.
fn resolve(schema: &Value, definitions: Definitions<'_>) -> Option<Arc<Value>> {
    let reference = schema.get("$ref").or_else(|| {
        let all = schema.get("allOf")?.as_array()?;
        (all.len() == 1).then(|| all[0].get("$ref"))?
    });
    let name = reference
        .and_then(Value::as_str)
        .and_then(|r| r.split_once("#/$defs/"))
        .map(|(_, name)| name);
    name.and_then(definitions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nulls_go_where_the_schema_describes_the_field() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "a": {"type": "string"},
                "b": {"type": "string", "nullable": true},
                "list": {"type": "array", "items": {"type": "object", "properties": {
                    "x": {"type": "integer"}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}}
            }}
        }});
        let mut doc = json!({"spec": {"a": null, "b": null, "unknown": null,
            "list": [{"x": null}, null], "labels": {"k": null, "v": "1"}}});
        assert!(prune_nulls(&mut doc, &schema));
        assert_eq!(
            doc,
            json!({"spec": {"unknown": null, "list": [{}, null], "labels": {"v": "1"}}})
        );
        let mut clean = json!({"spec": {"a": "x"}});
        assert!(!prune_nulls(&mut clean, &schema));
    }

    #[test]
    fn references_are_followed_to_their_definitions() {
        let port = json!({"type": "object", "properties": {
            "port": {"$ref": "defs.json#/$defs/IntOrString"}, "protocol": {"type": "string"}}});
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"ports": {"type": "array",
                "items": {"allOf": [{"$ref": "defs.json#/$defs/NetworkPolicyPort"}]}}}}}});
        let port = Arc::new(port);
        let definitions = |name: &str| (name == "NetworkPolicyPort").then(|| port.clone());
        let mut doc = json!({"spec": {"ports": [{"port": null}, {"port": 80, "bogus": null}]}});
        assert!(prune_nulls_in(&mut doc, &schema, &definitions));
        assert_eq!(
            doc,
            json!({"spec": {"ports": [{}, {"port": 80, "bogus": null}]}})
        );
    }
}
