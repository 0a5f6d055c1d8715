//! The chart's own rule settings: `aether-lint.yaml` at the chart root may change a rule's
//! severity or turn it off (with a written reason), for every environment or only some.
//!
//! ```yaml
//! rules:
//!   AC310:
//!     severity: error            # error, warning, note or off
//!   AC311:
//!     severity: off
//!     reason: the platform injects a default-deny policy per namespace
//!     environments: [dev]        # only when global.environment is dev
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Finding, RULES, SCHEMA_RULE, Severity, UNCHECKED_RULE};
use crate::chart::Chart;
use crate::error::{Error, Result};

/// The file name, at the chart root.
pub const FILE: &str = "aether-lint.yaml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default)]
    rules: BTreeMap<String, RuleSetting>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSetting {
    severity: Level,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    environments: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Level {
    Error,
    Warning,
    Note,
    Off,
}

/// The rule settings of a chart.
#[derive(Debug, Default)]
pub struct Config {
    settings: Settings,
}

impl Config {
    /// Reads the chart's `aether-lint.yaml`; no file means every rule at its default.
    pub fn load(chart: &Chart) -> Result<Config> {
        let Some(file) = chart.files.iter().find(|f| f.name == FILE) else {
            return Ok(Config::default());
        };
        let name = format!("{}{FILE}", chart.origin);
        let settings: Settings = serde_yaml::from_slice(&file.data).map_err(|e| {
            Error::input(format!("`{name}` is not a valid rule configuration: {e}"))
        })?;
        for (id, setting) in &settings.rules {
            let known =
                RULES.iter().any(|r| r.id == id) || id == SCHEMA_RULE.0 || id == UNCHECKED_RULE.0;
            if !known {
                return Err(Error::input(format!(
                    "`{name}`: unknown rule `{id}`; the rules are listed in docs/rules.md"
                )));
            }
            if setting.severity == Level::Off
                && setting
                    .reason
                    .as_deref()
                    .is_none_or(|r| r.trim().is_empty())
            {
                return Err(Error::input(format!(
                    "`{name}`: rule `{id}` is turned off without a reason; add `reason:`"
                )));
            }
        }
        Ok(Config { settings })
    }

    /// Applies the chart's settings for `environment`, then `--strict` (warnings become errors).
    pub fn apply(
        &self,
        findings: Vec<Finding>,
        environment: Option<&str>,
        strict: bool,
    ) -> Vec<Finding> {
        findings
            .into_iter()
            .filter_map(|mut finding| {
                let setting = self.settings.rules.get(finding.rule).filter(|s| {
                    s.environments
                        .as_ref()
                        .is_none_or(|envs| environment.is_some_and(|e| envs.iter().any(|x| x == e)))
                });
                if let Some(setting) = setting {
                    finding.severity = match setting.severity {
                        Level::Off => return None,
                        Level::Error => Severity::Error,
                        Level::Warning => Severity::Warning,
                        Level::Note => Severity::Note,
                    };
                }
                if strict && finding.severity == Severity::Warning {
                    finding.severity = Severity::Error;
                }
                Some(finding)
            })
            .collect()
    }
}
