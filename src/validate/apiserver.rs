//! The API server's field rules that no JSON schema carries: the names, label and annotation
//! keys, ports and references it refuses. Taken as facts from Kubernetes' validation
//! (apimachinery's `pkg/util/validation` and the core and apps API validation), tested with the
//! cases of its own tests. Each finding is an error: the API server would refuse the object.

use crate::yaml::tree::{Map, Value};

use super::doc::{At, Doc};
use super::{Context, Findings, Rule, Scope, Severity};

pub const FIELD_RULES: Rule = Rule {
    id: "AC204",
    name: "api-server-field-rules",
    severity: Severity::Error,
    counterparts: &[],
    scope: Scope::Any,
    rationale: "the API server refuses names, labels, annotations, ports and references its \
                validation rejects, which the JSON schemas do not check",
    check: field_rules,
};

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, of any length.
fn label_chars(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
}

/// A lowercase RFC 1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub(crate) fn dns1123_label(value: &str) -> Option<String> {
    let ok = value.len() <= 63 && label_chars(value);
    (!ok).then(|| {
        "must be a lowercase RFC 1123 label: at most 63 characters, lowercase letters, digits \
         and '-', starting and ending with a letter or digit"
            .into()
    })
}

/// A lowercase RFC 1123 subdomain: labels joined by dots, at most 253 characters in all (the
/// API server limits no single label of it).
pub(crate) fn dns1123_subdomain(value: &str) -> Option<String> {
    let ok = (1..=253).contains(&value.len()) && value.split('.').all(label_chars);
    (!ok).then(|| {
        "must be a lowercase RFC 1123 subdomain: at most 253 characters, lowercase letters, \
         digits, '-' and '.', starting and ending with a letter or digit"
            .into()
    })
}

/// An RFC 1035 label: an RFC 1123 label that starts with a letter.
pub(crate) fn dns1035_label(value: &str) -> Option<String> {
    let ok = dns1123_label(value).is_none() && value.starts_with(|c: char| c.is_ascii_lowercase());
    (!ok).then(|| {
        "must be an RFC 1035 label: at most 63 characters, lowercase letters, digits and '-', \
         starting with a letter and ending with a letter or digit"
            .into()
    })
}

/// An IANA service name (a named port): at most 15 characters of `[a-z0-9-]`, at least one
/// letter, no hyphen at either end or twice in a row.
pub(crate) fn port_name(value: &str) -> Option<String> {
    let ok = (1..=15).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && value.bytes().any(|b| b.is_ascii_lowercase())
        && !value.contains("--")
        && !value.starts_with('-')
        && !value.ends_with('-');
    (!ok).then(|| {
        "must be an IANA service name: at most 15 characters, lowercase letters, digits and '-', \
         at least one letter, no '-' at either end or twice in a row"
            .into()
    })
}

/// The name part of a qualified name: `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, at most 63.
fn qualified_part(value: &str) -> bool {
    (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A label or annotation key: an optional DNS subdomain prefix and `/`, then a name of at
/// most 63 characters.
pub(crate) fn qualified_name(value: &str) -> Option<String> {
    let ok = match value.split_once('/') {
        Some((prefix, name)) => dns1123_subdomain(prefix).is_none() && qualified_part(name),
        None => qualified_part(value),
    };
    (!ok).then(|| {
        "must be a qualified name: an optional DNS subdomain prefix and '/', then at most 63 \
         characters of letters, digits, '-', '_' and '.', starting and ending with a letter or \
         digit"
            .into()
    })
}

/// A label value: empty, or a name part of at most 63 characters.
pub(crate) fn label_value(value: &str) -> Option<String> {
    let ok = value.is_empty() || qualified_part(value);
    (!ok).then(|| {
        "must be empty or at most 63 characters of letters, digits, '-', '_' and '.', starting \
         and ending with a letter or digit"
            .into()
    })
}

/// A key of a ConfigMap's or Secret's data: `[-._a-zA-Z0-9]+`, at most 253, not `.`, `..` or
/// starting with `..`.
pub(crate) fn config_key(value: &str) -> Option<String> {
    let ok = (1..=253).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && value != "."
        && !value.starts_with("..");
    (!ok).then(|| {
        "must be a config key: at most 253 characters of letters, digits, '-', '_' and '.', and \
         not `.` or starting with `..`"
            .into()
    })
}

/// A name RBAC accepts (a path segment): not `.` or `..`, no `/` or `%`.
fn path_segment(value: &str) -> Option<String> {
    let ok = !value.is_empty() && value != "." && value != ".." && !value.contains(['/', '%']);
    (!ok).then(|| "must not be `.` or `..` or hold '/' or '%'".into())
}

/// The annotations of one object may hold at most this many bytes, keys and values together.
const ANNOTATIONS_BYTES: usize = 256 * 1024;

/// How the API server checks `metadata.name` of a built-in kind.
fn name_rule(doc: &Doc) -> Option<fn(&str) -> Option<String>> {
    let group = doc.api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let core = matches!(
        group,
        "" | "apps" | "batch" | "policy" | "autoscaling" | "networking.k8s.io"
    );
    let rbac = group == "rbac.authorization.k8s.io";
    match doc.kind {
        "Namespace" if core => Some(dns1123_label),
        "Service" if core => Some(dns1035_label),
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" if rbac => Some(path_segment),
        "ConfigMap"
        | "Secret"
        | "ServiceAccount"
        | "PersistentVolumeClaim"
        | "Pod"
        | "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "CronJob"
        | "Ingress"
        | "NetworkPolicy"
        | "PodDisruptionBudget"
        | "HorizontalPodAutoscaler"
            if core =>
        {
            Some(dns1123_subdomain)
        }
        _ => None,
    }
}

fn field_rules(ctx: &Context<'_>, out: &mut Findings) {
    for doc in ctx.docs {
        let mut problems = Vec::new();
        if let Some(rule) = name_rule(doc)
            && let Some(problem) = rule(doc.name)
        {
            problems.push(format!("metadata.name `{}` {problem}", doc.name));
        }
        // A CronJob's Jobs are named after it with 11 more characters.
        if doc.kind == "CronJob" && doc.name.len() > 52 {
            problems.push(format!(
                "metadata.name `{}` is {} characters; a CronJob's name may have at most 52",
                doc.name,
                doc.name.len()
            ));
        }
        meta(doc.json.get("metadata"), "metadata", &mut problems);
        if let Some(template) = doc.pod_template() {
            meta(
                template.get("metadata"),
                "pod template metadata",
                &mut problems,
            );
        }
        if let Some(selector) = doc.json.at(&["spec", "selector", "matchLabels"]) {
            labels(selector, "spec.selector", ".matchLabels", &mut problems);
        }
        if doc.kind == "CronJob"
            && let Some(schedule) = doc.json.at(&["spec", "schedule"]).and_then(Value::as_str)
            && let Some(problem) = cron_schedule(schedule)
        {
            problems.push(format!("spec.schedule `{schedule}` {problem}"));
        }
        if let Some(spec) = doc.pod_spec() {
            // A StatefulSet's claim templates are volumes of its pods too.
            let claims = doc
                .json
                .at(&["spec", "volumeClaimTemplates"])
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.at(&["metadata", "name"]).and_then(Value::as_str));
            pod(spec, claims.collect(), &mut problems);
        }
        match doc.kind {
            "Service" => service(&doc.json, &mut problems),
            "ConfigMap" | "Secret" => {
                for field in ["data", "binaryData", "stringData"] {
                    for key in doc
                        .json
                        .get(field)
                        .and_then(Value::as_object)
                        .into_iter()
                        .flat_map(|m| m.keys())
                    {
                        if let Some(problem) = config_key(key) {
                            problems.push(format!("{field} key `{key}` {problem}"));
                        }
                    }
                }
            }
            _ => {}
        }
        for problem in problems {
            // Each problem quotes the offending text first: the values leaf holding it, if any.
            let values = problem
                .split('`')
                .nth(1)
                .map(|offending| ctx.holding(offending))
                .unwrap_or_default();
            out.add(
                Some(doc),
                format!("the API server refuses it: {problem}"),
                values,
            );
        }
    }
}

/// Labels and annotations of an object's (or a pod template's) metadata.
fn meta(metadata: Option<&Value>, at: &str, problems: &mut Vec<String>) {
    let Some(metadata) = metadata else {
        return;
    };
    if let Some(l) = metadata.get("labels") {
        labels(l, at, ".labels", problems);
    }
    let Some(annotations) = metadata.get("annotations").and_then(Value::as_object) else {
        return;
    };
    let mut size = 0;
    for (key, value) in annotations.iter() {
        size += key.len() + value.as_str().map_or(0, str::len);
        if let Some(problem) = qualified_name(key) {
            problems.push(format!("{at}.annotations key `{key}` {problem}"));
        }
    }
    if size > ANNOTATIONS_BYTES {
        problems.push(format!(
            "{at}.annotations hold {size} bytes; the API server allows {ANNOTATIONS_BYTES}"
        ));
    }
}

/// The labels at `at` + `field` (two parts, joined only for a message).
fn labels(labels: &Value, at: &str, field: &str, problems: &mut Vec<String>) {
    for (key, value) in labels.as_object().into_iter().flat_map(Map::iter) {
        if let Some(problem) = qualified_name(key) {
            problems.push(format!("{at}{field} key `{key}` {problem}"));
        }
        if let Some(text) = value.as_str()
            && let Some(problem) = label_value(text)
        {
            problems.push(format!("{at}{field} value `{text}` (of `{key}`) {problem}"));
        }
    }
}

/// Containers, their ports and volume mounts, and the pod's volumes (`claims`: the volumes a
/// StatefulSet's claim templates add).
fn pod<'v>(spec: &'v Value, claims: Vec<&'v str>, problems: &mut Vec<String>) {
    let declared: Vec<&str> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect();
    let mut seen = Vec::new();
    for name in &declared {
        if let Some(problem) = dns1123_label(name) {
            problems.push(format!("volume name `{name}` {problem}"));
        }
        if seen.contains(name) {
            problems.push(format!("volume name `{name}` is used twice"));
        }
        seen.push(name);
    }
    let volumes: Vec<&str> = declared.iter().copied().chain(claims).collect();
    let mut containers = Vec::new();
    for field in ["initContainers", "containers", "ephemeralContainers"] {
        for container in spec
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = container
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(problem) = dns1123_label(name) {
                problems.push(format!("{field} name `{name}` {problem}"));
            }
            if containers.contains(&name) {
                problems.push(format!("container name `{name}` is used twice in the pod"));
            }
            containers.push(name);
            container_ports(container, name, problems);
            container_env(container, name, problems);
            container_resources(container, name, problems);
            for mount in container
                .get("volumeMounts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let volume = mount
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !volumes.contains(&volume) {
                    problems.push(format!(
                        "container `{name}` mounts volume `{volume}`, which the pod does not declare"
                    ));
                }
            }
        }
    }
}

/// A CronJob schedule as the API server parses it (the standard five fields, or a descriptor
/// such as `@daily` or `@every 1h`); `None` when it parses.
fn cron_schedule(schedule: &str) -> Option<String> {
    const DESCRIPTORS: [&str; 7] = [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    let text = schedule.trim();
    if DESCRIPTORS.contains(&text) {
        return None;
    }
    if let Some(every) = text.strip_prefix("@every ") {
        return go_duration(every.trim()).then_some(()).map_or(
            Some("has an @every that is not a duration such as 1h30m".into()),
            |_| None,
        );
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != 5 {
        return Some(format!(
            "has {} fields; a schedule has five (minute hour day-of-month month day-of-week) or is a descriptor such as @daily",
            fields.len()
        ));
    }
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let specs: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day of month", 1, 31, &[]),
        ("month", 1, 12, &MONTHS),
        ("day of week", 0, 6, &DAYS),
    ];
    for (field, (what, low, high, names)) in fields.iter().zip(specs) {
        let value = |part: &str| -> Option<u32> {
            let lower = part.to_ascii_lowercase();
            match names.iter().position(|n| *n == lower) {
                // Month names count from 1, day names from 0 (Sunday).
                Some(i) => Some(i as u32 + low),
                None => part.parse().ok(),
            }
        };
        for item in field.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((range, step)) => (range, Some(step)),
                None => (item, None),
            };
            if step.is_some_and(|s| s.parse::<u32>().map_or(true, |n| n == 0)) {
                return Some(format!("has a bad step in its {what} field `{field}`"));
            }
            if range == "*" || range == "?" {
                continue;
            }
            let (from, to) = range.split_once('-').unwrap_or((range, range));
            let (Some(from), Some(to)) = (value(from), value(to)) else {
                return Some(format!(
                    "has a {what} field `{field}` that is not a number, range or list"
                ));
            };
            if from < low || to > high || from > to {
                return Some(format!("has a {what} field `{field}` outside {low}-{high}"));
            }
        }
    }
    None
}

/// A Go duration (`1h30m`, `90s`, `1.5h`): numbers each followed by a unit.
fn go_duration(text: &str) -> bool {
    let mut rest = text;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ns", "us", "µs", "ms", "h", "m", "s"]
            .into_iter()
            .find(|u| rest.starts_with(u));
        let Some(unit) = unit else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

/// Environment variable names: printable ASCII other than `=` (the rule since Kubernetes 1.32;
/// older API servers also refuse names that start with a digit or hold other punctuation).
fn container_env(container: &Value, container_name: &str, problems: &mut Vec<String>) {
    for var in container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = var.get("name").and_then(Value::as_str) else {
            continue;
        };
        if name.is_empty() || !name.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'=') {
            problems.push(format!(
                "env name `{name}` of container `{container_name}` must be printable ASCII without `=`"
            ));
        }
    }
}

/// Resource requests and limits must be quantities (`500m`, `1Gi`, `2`).
fn container_resources(container: &Value, container_name: &str, problems: &mut Vec<String>) {
    for field in ["requests", "limits"] {
        for (resource, amount) in container
            .at(&["resources", field])
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let valid = match amount {
                Value::Number(_) => true,
                Value::String(text) => {
                    !text.starts_with(char::is_whitespace)
                        && !text.ends_with(char::is_whitespace)
                        && super::quantity::Quantity::parse(text).is_some()
                }
                // Other types are the schema's (AC201) to refuse.
                _ => true,
            };
            if !valid {
                problems.push(format!(
                    "resources.{field}.{resource} `{amount}` of container `{container_name}` is not a quantity such as 500m, 2 or 1Gi",
                    amount = amount.as_str().unwrap_or_default()
                ));
            }
        }
    }
}

fn container_ports(container: &Value, container_name: &str, problems: &mut Vec<String>) {
    let mut names = Vec::new();
    for port in container
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(number) = port.get("containerPort").and_then(Value::as_i64)
            && !(1..=65535).contains(&number)
        {
            problems.push(format!(
                "container `{container_name}` containerPort {number} is not between 1 and 65535"
            ));
        }
        if let Some(number) = port.get("hostPort").and_then(Value::as_i64)
            && !(0..=65535).contains(&number)
        {
            problems.push(format!(
                "container `{container_name}` hostPort {number} is not between 0 and 65535"
            ));
        }
        if let Some(name) = port.get("name").and_then(Value::as_str) {
            if let Some(problem) = port_name(name) {
                problems.push(format!(
                    "container `{container_name}` port name `{name}` {problem}"
                ));
            }
            if names.contains(&name) {
                problems.push(format!(
                    "container `{container_name}` names two ports `{name}`"
                ));
            }
            names.push(name);
        }
    }
}

/// A Service's ports: numbers in range, names given (when more than one), unique and valid.
fn service(json: &Value, problems: &mut Vec<String>) {
    let ports: Vec<&Value> = json
        .at(&["spec", "ports"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let mut names = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        if let Some(number) = port.get("port").and_then(Value::as_i64)
            && !(1..=65535).contains(&number)
        {
            problems.push(format!(
                "spec.ports[{i}].port {number} is not between 1 and 65535"
            ));
        }
        match port.get("targetPort") {
            Some(Value::Number(_)) => {
                if let Some(number) = port.get("targetPort").and_then(Value::as_i64)
                    && !(1..=65535).contains(&number)
                {
                    problems.push(format!(
                        "spec.ports[{i}].targetPort {number} is not between 1 and 65535"
                    ));
                }
            }
            Some(Value::String(name)) => {
                if let Some(problem) = port_name(name) {
                    problems.push(format!("spec.ports[{i}].targetPort `{name}` {problem}"));
                }
            }
            _ => {}
        }
        match port
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            Some(name) => {
                if let Some(problem) = dns1123_label(name) {
                    problems.push(format!("spec.ports[{i}].name `{name}` {problem}"));
                }
                if names.contains(&name) {
                    problems.push(format!("spec.ports[{i}].name `{name}` is used twice"));
                }
                names.push(name);
            }
            None if ports.len() > 1 => problems.push(format!(
                "spec.ports[{i}] has no name; a Service with several ports must name each"
            )),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kubernetes' own cases (apimachinery's validation tests): good values pass, bad fail.
    fn check(rule: fn(&str) -> Option<String>, good: &[&str], bad: &[&str]) {
        for value in good {
            assert!(rule(value).is_none(), "{value:?} should pass");
        }
        for value in bad {
            assert!(rule(value).is_some(), "{value:?} should fail");
        }
    }

    #[test]
    fn cron_schedules() {
        for good in [
            "* * * * *",
            "0 0 1 1 0",
            "*/5 * * * *",
            "0 9-17 * * 1-5",
            "0 0 * * SUN",
            "15 3 1,15 * ?",
            "@hourly",
            "@yearly",
            "@every 90s",
            "59 23 31 12 6",
            "0 0 * dec sat",
        ] {
            assert!(cron_schedule(good).is_none(), "{good:?} should parse");
        }
        for bad in [
            "",
            "* * * *",
            "* * * * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 7",
            "*/0 * * * *",
            "5-1 * * * *",
            "a * * * *",
            "@every",
            "@every 5",
            "@fortnightly",
        ] {
            assert!(cron_schedule(bad).is_some(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn dns1123_labels() {
        let long = "a".repeat(63);
        let longer = "a".repeat(64);
        check(
            dns1123_label,
            &[
                "a",
                "ab",
                "abc",
                "a1",
                "a-1",
                "a--1--2--b",
                "0",
                "01",
                "012",
                "1a",
                "1-a",
                "1--a--b--2",
                &long,
            ],
            &[
                "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_",
                "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a.b", "1.", ".1", "1.2", " ",
                "a ", " a", "a b", "1 ", " 1", "1 2", &longer,
            ],
        );
    }

    #[test]
    fn dns1123_subdomains() {
        let long = "a".repeat(253);
        let longer = "a".repeat(254);
        check(
            dns1123_subdomain,
            &[
                "a",
                "ab",
                "abc",
                "a1",
                "a-1",
                "a--1--2--b",
                "0",
                "01",
                "012",
                "1a",
                "1-a",
                "1--a--b--2",
                "a.a",
                "ab.a",
                "abc.a",
                "a1.a",
                "a-1.a",
                "a--1--2--b.a",
                "a.1",
                "ab.1",
                "abc.1",
                "a1.1",
                "a-1.1",
                "a--1--2--b.1",
                "0.a",
                "01.a",
                "012.a",
                "1a.a",
                "1-a.a",
                "0.1",
                "01.1",
                "012.1",
                "1a.1",
                "1-a.1",
                "1--a--b--2.1",
                "a.b.c.d.e",
                "aa.bb.cc.dd.ee",
                "1.2.3.4.5",
                "11.22.33.44.55",
                &long,
            ],
            &[
                "",
                "A",
                "ABC",
                "aBc",
                "A1",
                "A-1",
                "1-A",
                "-",
                "a-",
                "-a",
                "1-",
                "-1",
                "_",
                "a_",
                "_a",
                "a_b",
                "1_",
                "_1",
                "1_2",
                ".",
                "a.",
                ".a",
                "a..b",
                "1.",
                ".1",
                "1..2",
                " ",
                "a ",
                " a",
                "a b",
                "1 ",
                " 1",
                "1 2",
                "A.a",
                "aB.a",
                "ab.A",
                "A1.a",
                "a1.A",
                "A.1",
                "aB.1",
                "A1.1",
                "1A.1",
                "0.A",
                "01.A",
                "012.A",
                "1A.a",
                "1a.A",
                "A.B.C.D.E",
                "AA.BB.CC.DD.EE",
                "a.B.c.d.e",
                "aa.bB.cc.dd.ee",
                "a@b",
                "a,b",
                "a_b",
                "a;b",
                "a:b",
                "a%b",
                "a?b",
                "a$b",
                &longer,
            ],
        );
    }

    #[test]
    fn dns1035_labels() {
        let long = "a".repeat(63);
        let longer = "a".repeat(64);
        check(
            dns1035_label,
            &["a", "ab", "abc", "a1", "a-1", "a--1--2--b", &long],
            &[
                "0",
                "01",
                "012",
                "1a",
                "1-a",
                "1--a--b--2",
                "",
                "A",
                "ABC",
                "aBc",
                "A1",
                "A-1",
                "1-A",
                "-",
                "a-",
                "-a",
                "1-",
                "-1",
                "_",
                "a_",
                "_a",
                "a_b",
                "1_",
                "_1",
                "1_2",
                ".",
                "a.",
                ".a",
                "a.b",
                "1.",
                ".1",
                "1.2",
                " ",
                "a ",
                " a",
                "a b",
                "1 ",
                " 1",
                "1 2",
                &longer,
            ],
        );
    }

    #[test]
    fn port_names() {
        let longer = "a".repeat(16);
        check(
            port_name,
            &[
                "telnet",
                "re-mail-ck",
                "pop3",
                "a",
                "a-1",
                "1-a",
                "a-1-b-2-c",
                "1-a-2-b-3",
            ],
            &[
                "longerthan15characters",
                "",
                &longer,
                "12345",
                "1-2-3-4",
                "-begin",
                "end-",
                "two--hyphens",
                "whois++",
            ],
        );
    }

    #[test]
    fn qualified_names() {
        let long = "a".repeat(63);
        let prefixed = format!("{}/{}", "a".repeat(253), "b".repeat(63));
        let longer = "a".repeat(64);
        let long_prefix = format!("{}/abc", "a".repeat(254));
        check(
            qualified_name,
            &[
                "simple",
                "now-with-dashes",
                "1-starts-with-num",
                "1234",
                "simple/simple",
                "now-with-dashes/simple",
                "now-with-dashes/now-with-dashes",
                "now.with.dots/simple",
                "now-with.dashes-and.dots/simple",
                "1-num.2-num/3-num",
                "1234/5678",
                "1.2.3.4/5678",
                "Uppercase_Is_OK_123",
                "example.com/Uppercase_Is_OK_123",
                "requests.storage-foo",
                &long,
                &prefixed,
            ],
            &[
                "nospecialchars%^=@",
                "cantendwithadash-",
                "-cantstartwithadash-",
                "only/one/slash",
                "Example.com/abc",
                "example_com/abc",
                "example.com/",
                "/simple",
                &longer,
                &long_prefix,
            ],
        );
    }

    #[test]
    fn label_values() {
        let long = "a".repeat(63);
        let longer = "a".repeat(64);
        check(
            label_value,
            &[
                "simple",
                "now-with-dashes",
                "1-starts-with-num",
                "end-with-num-1",
                "1234",
                &long,
                "",
            ],
            &[
                "nospecialchars%^=@",
                "Tama-nui-te-rā.is.Māori.sun",
                "\\backslashes\\are\\bad",
                "-starts-with-dash",
                "ends-with-dash-",
                ".starts.with.dot",
                "ends.with.dot.",
                &longer,
            ],
        );
    }

    #[test]
    fn config_keys() {
        check(
            config_key,
            &[
                "a",
                "good",
                "good-good",
                "still.good",
                "this.is.also.good",
                ".so.is.this",
                "THIS_IS_GOOD",
                "so_is_this_17",
            ],
            &[".", "..", "..bad", "b*d", "bad!&bad"],
        );
    }
}
