//! JSON as Helm writes it (Go's encoder over Helm's structs): fields in struct order, empty
//! ones left out, `<`, `>` and `&` escaped. Digests that Helm computes over such JSON (the OCI
//! config blob, Chart.lock's digest) come out the same only if the bytes do.

/// A YAML scalar as text.
pub fn scalar(value: Option<&serde_yaml::Value>) -> Option<String> {
    match value? {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A JSON string as Go's encoder writes it (`<`, `>`, `&`, U+2028 and U+2029 escaped).
pub fn go_json(text: &str) -> String {
    serde_json::Value::String(text.to_string())
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// How a field of Helm's metadata is written.
#[derive(Clone, Copy)]
enum Field {
    /// A string, left out when empty.
    Text,
    /// A string, always written.
    TextAlways,
    /// A list of strings, left out when empty.
    Texts,
    /// A boolean, left out when false.
    Flag,
    /// A map of strings, left out when empty (keys sorted).
    Map,
    /// A list of objects with these fields, left out when empty.
    Objects(&'static [(&'static str, Field)]),
    /// Any YAML as JSON, left out when empty.
    Any,
}

const MAINTAINER_FIELDS: &[(&str, Field)] = &[
    ("name", Field::Text),
    ("email", Field::Text),
    ("url", Field::Text),
];

const DEPENDENCY_FIELDS: &[(&str, Field)] = &[
    ("name", Field::TextAlways),
    ("version", Field::Text),
    ("repository", Field::TextAlways),
    ("condition", Field::Text),
    ("tags", Field::Texts),
    ("enabled", Field::Flag),
    ("import-values", Field::Any),
    ("alias", Field::Text),
];

const METADATA_FIELDS: &[(&str, Field)] = &[
    ("name", Field::Text),
    ("home", Field::Text),
    ("sources", Field::Texts),
    ("version", Field::Text),
    ("description", Field::Text),
    ("keywords", Field::Texts),
    ("maintainers", Field::Objects(MAINTAINER_FIELDS)),
    ("icon", Field::Text),
    ("apiVersion", Field::Text),
    ("condition", Field::Text),
    ("tags", Field::Text),
    ("appVersion", Field::Text),
    ("deprecated", Field::Flag),
    ("annotations", Field::Map),
    ("kubeVersion", Field::Text),
    ("dependencies", Field::Objects(DEPENDENCY_FIELDS)),
    ("type", Field::Text),
];

fn object(doc: &serde_yaml::Mapping, fields: &[(&str, Field)]) -> String {
    let mut parts = Vec::new();
    for (key, field) in fields {
        let value = doc.get(*key);
        let written = match field {
            Field::Text => scalar(value).filter(|s| !s.is_empty()).map(|s| go_json(&s)),
            Field::TextAlways => Some(go_json(&scalar(value).unwrap_or_default())),
            Field::Texts => match value {
                Some(serde_yaml::Value::Sequence(items)) if !items.is_empty() => Some(format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|i| go_json(&scalar(Some(i)).unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                )),
                _ => None,
            },
            Field::Flag => (value.and_then(serde_yaml::Value::as_bool) == Some(true))
                .then(|| "true".to_string()),
            Field::Map => match value {
                Some(serde_yaml::Value::Mapping(map)) if !map.is_empty() => {
                    let sorted: std::collections::BTreeMap<String, String> = map
                        .iter()
                        .filter_map(|(k, v)| Some((scalar(Some(k))?, scalar(Some(v))?)))
                        .collect();
                    Some(format!(
                        "{{{}}}",
                        sorted
                            .iter()
                            .map(|(k, v)| format!("{}:{}", go_json(k), go_json(v)))
                            .collect::<Vec<_>>()
                            .join(",")
                    ))
                }
                _ => None,
            },
            Field::Objects(inner) => match value {
                Some(serde_yaml::Value::Sequence(items)) if !items.is_empty() => Some(format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|i| match i {
                            serde_yaml::Value::Mapping(m) => object(m, inner),
                            _ => "null".to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                )),
                _ => None,
            },
            Field::Any => match value {
                Some(serde_yaml::Value::Sequence(items)) if !items.is_empty() => {
                    serde_json::to_string(items).ok().map(|s| {
                        s.replace('<', "\\u003c")
                            .replace('>', "\\u003e")
                            .replace('&', "\\u0026")
                    })
                }
                _ => None,
            },
        };
        if let Some(written) = written {
            parts.push(format!("{}:{written}", go_json(key)));
        }
    }
    format!("{{{}}}", parts.join(","))
}

/// Chart metadata (Chart.yaml) as Helm marshals it.
pub fn metadata(chart_yaml: &serde_yaml::Mapping) -> String {
    object(chart_yaml, METADATA_FIELDS)
}

/// A list of dependencies as Helm marshals it (`null` when empty, as Go writes a nil slice).
pub fn dependencies(list: &[serde_yaml::Mapping]) -> String {
    if list.is_empty() {
        return "null".into();
    }
    format!(
        "[{}]",
        list.iter()
            .map(|d| object(d, DEPENDENCY_FIELDS))
            .collect::<Vec<_>>()
            .join(",")
    )
}
