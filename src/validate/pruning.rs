//! How the API server treats nulls in a custom resource: a field set to null whose schema does
//! not say `nullable: true` is pruned (dropped) before validation, and one whose schema does
//! is valid as it is. Either way a null in a field the schema describes (its `properties`, or
//! `additionalProperties` for maps) is no error, so such nulls are dropped before the schema
//! check (JSON schema knows no `nullable`). Nulls in unknown fields and list items are kept,
//! and fail as they fail on the API server.

use serde_json::Value;

/// Drops from `doc` the null fields that `schema` (the resource's structural schema)
/// describes, below any depth; whether any was dropped.
pub(crate) fn prune_nulls(doc: &mut Value, schema: &Value) -> bool {
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
                    pruned |= prune_nulls(value, field);
                }
            }
            pruned
        }
        Value::Array(items) => match schema.get("items") {
            Some(item) => items
                .iter_mut()
                .fold(false, |pruned, value| prune_nulls(value, item) | pruned),
            None => false,
        },
        _ => false,
    }
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
}
