//! Printing findings: text for people, JSON for scripts, SARIF 2.1.0 for code-scanning UIs.

use serde_json::json;

use super::{Finding, OTHER_CHECKS, RULES, Severity};
use crate::values::provenance::Traced;

/// Whether any finding fails the run (an error that no annotation skips).
pub fn failing(findings: &[Finding]) -> bool {
    findings
        .iter()
        .any(|f| f.severity == Severity::Error && f.suppressed.is_none())
}

/// The findings as text, one block each; skipped ones are only counted.
pub fn text(findings: &[Finding]) -> String {
    text_from(findings, Severity::Note)
}

/// How many objects a grouped finding names before `and N more`.
const MAX_LISTED: usize = 5;

/// Like [`text`], leaving out findings below `least` and the count of skipped ones. Findings
/// that say the same thing of several objects are printed once, with the objects listed; a
/// summary line closes the text (`2 errors, 14 warnings in 9 objects`).
pub fn text_from(findings: &[Finding], least: Severity) -> String {
    let mut out = String::new();
    let live: Vec<&Finding> = findings.iter().filter(|f| f.suppressed.is_none()).collect();
    let shown: Vec<&Finding> = live
        .iter()
        .copied()
        .filter(|f| f.severity >= least)
        .collect();
    for group in groups(&shown) {
        let f = group[0];
        let level = level(f.severity);
        let name = rule_name(f.rule);
        out.push_str(&format!("{level}[{} {name}]", f.rule));
        if group.len() == 1 {
            if let Some(place) = place(f) {
                out.push_str(&format!(" {place}"));
            }
            out.push_str(&format!(": {}\n", f.message));
        } else {
            let mut places: Vec<String> = group.iter().filter_map(|f| place(f)).collect();
            let more = places.len().saturating_sub(MAX_LISTED);
            places.truncate(MAX_LISTED);
            let mut listed = places.join(", ");
            if more > 0 {
                listed.push_str(&format!(" and {more} more"));
            }
            out.push_str(&format!(
                ": {}\n  in {} objects: {listed}\n",
                f.message,
                group.len()
            ));
        }
        for value in &f.values {
            out.push_str(&format!("  = set at {value}\n"));
        }
    }
    let skipped = findings.len() - live.len();
    if skipped > 0 && least == Severity::Note {
        out.push_str(&format!(
            "{skipped} finding(s) skipped by checkov.io/skip annotations (see --format json)\n"
        ));
    }
    if !shown.is_empty() {
        out.push_str(&summary(&shown, &live, least));
    }
    out
}

/// `2 errors, 14 warnings in 9 objects`, and the warnings `least` hides.
fn summary(shown: &[&Finding], live: &[&Finding], least: Severity) -> String {
    let count = |severity| shown.iter().filter(|f| f.severity == severity).count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    for (severity, word) in [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Note, "note"),
    ] {
        let n = count(severity);
        if n > 0 {
            parts.push(plural(n, word));
        }
    }
    let mut objects: Vec<&str> = shown.iter().filter_map(|f| f.object.as_deref()).collect();
    objects.sort_unstable();
    objects.dedup();
    let mut line = parts.join(", ");
    if !objects.is_empty() {
        line.push_str(&format!(" in {}", plural(objects.len(), "object")));
    }
    let hidden = live
        .iter()
        .filter(|f| f.severity == Severity::Warning && f.severity < least)
        .count();
    if hidden > 0 {
        line.push_str(&format!(" ({} not shown)", plural(hidden, "warning")));
    }
    line.push('\n');
    line
}

/// The findings grouped by what they say (severity, rule, message and values), in the order
/// each first appears.
fn groups<'f>(findings: &[&'f Finding]) -> Vec<Vec<&'f Finding>> {
    let mut out: Vec<Vec<&Finding>> = Vec::new();
    let mut index: std::collections::HashMap<(Severity, &str, &str, &[Traced]), usize> =
        std::collections::HashMap::new();
    for f in findings {
        let key = (f.severity, f.rule, f.message.as_str(), f.values.as_slice());
        match index.get(&key) {
            Some(&i) => out[i].push(f),
            None => {
                index.insert(key, out.len());
                out.push(vec![f]);
            }
        }
    }
    out
}

/// `Deployment/web (`chart/templates/web.yaml`)`: the object and its template, as known.
fn place(f: &Finding) -> Option<String> {
    match (&f.object, &f.template) {
        (Some(object), Some(template)) => Some(format!("{object} (`{template}`)")),
        (Some(object), None) => Some(object.clone()),
        (None, Some(template)) => Some(format!("(`{template}`)")),
        (None, None) => None,
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The findings as a JSON array.
pub fn json(findings: &[Finding]) -> String {
    serde_json::to_string_pretty(findings).unwrap_or_else(|_| "[]".into())
}

/// The findings as a SARIF 2.1.0 log.
pub fn sarif(findings: &[Finding]) -> String {
    let rules: Vec<_> = RULES
        .iter()
        .map(|r| (r.id, r.name, r.rationale))
        .chain(OTHER_CHECKS.iter().copied())
        .map(|(id, name, rationale)| {
            json!({
                "id": id,
                "name": name,
                "shortDescription": {"text": rationale},
                "helpUri": format!("docs/rules.md#{}", id.to_lowercase()),
            })
        })
        .collect();
    let results: Vec<_> = findings.iter().map(sarif_result).collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "aether-chart",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "docs/rules.md",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

/// One SARIF result; its location is the values line behind it, else the template.
fn sarif_result(f: &Finding) -> serde_json::Value {
    let level = level(f.severity);
    let mut text = f.message.clone();
    if let Some(object) = &f.object {
        text = format!("{object}: {text}");
    }
    let place = f
        .values
        .first()
        .and_then(|v| v.place.file())
        .map(|(file, line, column)| (file.to_string(), Some((line as u64, column as u64))));
    let place = place.or_else(|| f.template.as_deref().map(template_location));
    let mut result = json!({"ruleId": f.rule, "level": level, "message": {"text": text}});
    if let Some((uri, line)) = place {
        let mut location = json!({"physicalLocation": {"artifactLocation": {"uri": uri}}});
        match line {
            Some((line, 0)) => {
                location["physicalLocation"]["region"] = json!({"startLine": line});
            }
            Some((line, column)) => {
                location["physicalLocation"]["region"] =
                    json!({"startLine": line, "startColumn": column});
            }
            None => {}
        }
        result["locations"] = json!([location]);
    }
    if let Some(reason) = &f.suppressed {
        result["suppressions"] = json!([{"kind": "inSource", "justification": reason}]);
    }
    result
}

/// Where a finding's template is: `FILE:LINE` of a manifest stream as it is, a `# Source:`
/// name as a path in the chart.
fn template_location(source: &str) -> (String, Option<(u64, u64)>) {
    let numbered = source
        .rsplit_once(':')
        .and_then(|(file, line)| Some((file, line.parse::<u64>().ok()?)));
    match numbered {
        Some((file, line)) => (file.to_string(), Some((line, 0))),
        None => (template_path(source), None),
    }
}

/// `aether/templates/x.yaml` (a `# Source:` name) as a path in the chart: `templates/x.yaml`.
fn template_path(source: &str) -> String {
    source
        .split_once('/')
        .map_or(source, |(_, rest)| rest)
        .to_string()
}

/// The short name of a rule ID.
fn rule_name(id: &str) -> &'static str {
    RULES
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.name)
        .or_else(|| {
            OTHER_CHECKS
                .iter()
                .find(|(i, _, _)| *i == id)
                .map(|(_, n, _)| *n)
        })
        .unwrap_or("rule")
}
