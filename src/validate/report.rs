//! Printing findings: text for people, JSON for scripts, SARIF 2.1.0 for code-scanning UIs.

use serde_json::json;

use super::{Finding, RULES, SCHEMA_RULE, Severity, UNCHECKED_RULE};

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

/// Like [`text`], leaving out findings below `least` and the count of skipped ones.
pub fn text_from(findings: &[Finding], least: Severity) -> String {
    let mut out = String::new();
    let mut skipped = 0;
    for f in findings.iter().filter(|f| f.severity >= least) {
        if f.suppressed.is_some() {
            skipped += 1;
            continue;
        }
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let name = rule_name(f.rule);
        out.push_str(&format!("{level}[{} {name}]", f.rule));
        if let Some(object) = &f.object {
            out.push_str(&format!(" {object}"));
        }
        if let Some(template) = &f.template {
            out.push_str(&format!(" (`{template}`)"));
        }
        out.push_str(&format!(": {}\n", f.message));
        for value in &f.values {
            out.push_str(&format!("  = set at {value}\n"));
        }
    }
    if skipped > 0 && least == Severity::Note {
        out.push_str(&format!(
            "{skipped} finding(s) skipped by checkov.io/skip annotations (see --format json)\n"
        ));
    }
    out
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
        .chain([
            (
                SCHEMA_RULE.0,
                SCHEMA_RULE.1,
                "every object must match the strict Kubernetes schema of the target version",
            ),
            (
                UNCHECKED_RULE.0,
                UNCHECKED_RULE.1,
                "objects of kinds no bundled or given schema describes are not checked",
            ),
        ])
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
    let level = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let mut text = f.message.clone();
    if let Some(object) = &f.object {
        text = format!("{object}: {text}");
    }
    let place = f.values.first().and_then(|v| {
        let (file, rest) = v.split_once(':')?;
        let line: u64 = rest.split(':').next()?.trim().parse().ok()?;
        (!file.starts_with("--")).then(|| (file.to_string(), Some(line)))
    });
    let place = place.or_else(|| f.template.as_ref().map(|t| (template_path(t), None)));
    let mut result = json!({"ruleId": f.rule, "level": level, "message": {"text": text}});
    if let Some((uri, line)) = place {
        let mut location = json!({"physicalLocation": {"artifactLocation": {"uri": uri}}});
        if let Some(line) = line {
            location["physicalLocation"]["region"] = json!({"startLine": line});
        }
        result["locations"] = json!([location]);
    }
    if let Some(reason) = &f.suppressed {
        result["suppressions"] = json!([{"kind": "inSource", "justification": reason}]);
    }
    result
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
            [SCHEMA_RULE, UNCHECKED_RULE]
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, n)| *n)
        })
        .unwrap_or("rule")
}
