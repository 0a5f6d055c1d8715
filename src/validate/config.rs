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
//! aether:                        # Aether's architecture invariants, for these components
//!   scheduler: [scheduler]       # (their app.kubernetes.io/component label)
//!   database: [postgres]
//!   api: [api]
//!   world-server: [world-server]
//! ```
//!
//! Rules true of any Kubernetes workload apply to every chart. The rules that encode Aether's
//! design (a singleton scheduler, the connection budget, world-server scaling and routing,
//! Patroni timing, canary stages) run only where the chart's `aether:` section names the
//! components that play each role: a label that happens to match in another chart is no reason
//! to hold it to Aether's architecture.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Finding, OTHER_CHECKS, RULES, Severity};
use crate::chart::Chart;
use crate::error::{Error, Result};

/// The file name, at the chart root.
pub const FILE: &str = "aether-lint.yaml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default)]
    rules: BTreeMap<String, RuleSetting>,
    #[serde(default)]
    aether: Option<Aether>,
}

/// The chart's components that play each role of Aether's architecture, by their
/// `app.kubernetes.io/component` label.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Aether {
    /// The job scheduler, which must run as a single replica (AC101).
    #[serde(default)]
    scheduler: Vec<String>,
    /// The PostgreSQL servers: connection budget (AC102) and Patroni timing (AC109).
    #[serde(default)]
    database: Vec<String>,
    /// The API, which production runs with at least 2 pods (AC104).
    #[serde(default)]
    api: Vec<String>,
    /// The world servers: scaling, workload kind and region routing (AC105-AC107).
    #[serde(default)]
    world_server: Vec<String>,
}

/// A role of Aether's architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The singleton job scheduler.
    Scheduler,
    /// A PostgreSQL server.
    Database,
    /// The API.
    Api,
    /// A world server.
    WorldServer,
}

impl Aether {
    /// Whether objects labelled `component` play `role`.
    pub fn plays(&self, component: &str, role: Role) -> bool {
        let components = match role {
            Role::Scheduler => &self.scheduler,
            Role::Database => &self.database,
            Role::Api => &self.api,
            Role::WorldServer => &self.world_server,
        };
        components.iter().any(|c| c == component)
    }
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
            let known = RULES.iter().any(|r| r.id == id) || OTHER_CHECKS.iter().any(|c| c.0 == id);
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

    /// The Aether policy, when the chart enables it.
    pub fn aether(&self) -> Option<&Aether> {
        self.settings.aether.as_ref()
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
