//! The aether-deploy engines, from the same values the world-server templates render: the
//! player-count scaling decision (its load-ratio algorithm) and the region router.
//!
//! aether-deploy's earlier CPU-threshold model is superseded by its load-ratio algorithm, which
//! is the one implemented here. What the rendered HPA does differently is stated in
//! docs/deployment-k8s.md.

use crate::error::{Error, Result};
use crate::values::{Map, Value};

/// Player-count autoscaling (`scaling:` in the world-server values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingConfig {
    pub target_players_per_pod: u64,
    pub min_replicas: u64,
    pub max_replicas: u64,
    pub scale_up_cooldown_secs: u64,
    pub scale_down_cooldown_secs: u64,
}

/// What the scaler decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalingDecision {
    ScaleUp { target_replicas: u64 },
    ScaleDown { target_replicas: u64 },
    Hold,
}

impl ScalingConfig {
    /// aether-deploy's load-ratio algorithm: load = players / replicas; above the target and past
    /// the scale-up cooldown, scale up to ceil(players / target); below half the target and past
    /// the scale-down cooldown, scale down to max(ceil(players / target), min); otherwise hold.
    /// Every result is clamped to [min, max], so a replica count outside the bounds is brought
    /// back inside; a decision that would not change the count is Hold.
    pub fn compute_desired_replicas(
        &self,
        current_players: u64,
        current_replicas: u64,
        since_last_scale_secs: u64,
    ) -> ScalingDecision {
        let target = self.target_players_per_pod.max(1);
        let needed = current_players.div_ceil(target);
        // With no replicas every player is unserved: the load is unbounded.
        let load = if current_replicas == 0 {
            if current_players == 0 {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            current_players as f64 / current_replicas as f64
        };
        let desired =
            if load > target as f64 && since_last_scale_secs >= self.scale_up_cooldown_secs {
                needed
            } else if load < target as f64 * 0.5
                && since_last_scale_secs >= self.scale_down_cooldown_secs
            {
                needed.max(self.min_replicas)
            } else {
                current_replicas
            };
        let clamped = desired.clamp(self.min_replicas, self.max_replicas.max(self.min_replicas));
        match clamped.cmp(&current_replicas) {
            std::cmp::Ordering::Greater => ScalingDecision::ScaleUp {
                target_replicas: clamped,
            },
            std::cmp::Ordering::Less => ScalingDecision::ScaleDown {
                target_replicas: clamped,
            },
            std::cmp::Ordering::Equal => ScalingDecision::Hold,
        }
    }

    /// Why `compute_desired_replicas` decided as it did, in one sentence.
    pub fn explain(&self, players: u64, replicas: u64, since: u64) -> String {
        let target = self.target_players_per_pod.max(1);
        let load = if replicas == 0 {
            "unbounded (no replicas)".to_string()
        } else {
            format!("{:.1} players per pod", players as f64 / replicas as f64)
        };
        let band = format!("the band is {:.1} to {target} per pod", target as f64 * 0.5);
        let cooldowns = format!(
            "{since}s since the last scale (cooldowns: up {}s, down {}s)",
            self.scale_up_cooldown_secs, self.scale_down_cooldown_secs
        );
        format!(
            "load {load}; {band}; {cooldowns}; ceil({players} / {target}) = {}; bounds [{}, {}]",
            players.div_ceil(target),
            self.min_replicas,
            self.max_replicas
        )
    }
}

/// One region of the router (`regions:` in the world-server values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub code: String,
    pub latency_ms: u64,
    pub healthy: bool,
    pub weight: u64,
    pub failover: Vec<String>,
}

/// The region router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionRoutingConfig {
    pub regions: Vec<Region>,
    pub failover_enabled: bool,
}

/// Where a player goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutingDecision {
    Primary { region: String },
    Failover { region: String, reason: String },
}

impl RegionRoutingConfig {
    /// The preferred region when healthy; else the first healthy region of its failover list;
    /// else the healthy region with the lowest latency. An error when the region is unknown,
    /// failover is off, or no region is healthy.
    pub fn route_player(&self, preferred: &str) -> Result<RoutingDecision> {
        let find = |code: &str| self.regions.iter().find(|r| r.code == code);
        let Some(region) = find(preferred) else {
            let known: Vec<&str> = self.regions.iter().map(|r| r.code.as_str()).collect();
            return Err(Error::usage(format!(
                "region `{preferred}` is not configured (regions: {})",
                known.join(", ")
            )));
        };
        if region.healthy {
            return Ok(RoutingDecision::Primary {
                region: region.code.clone(),
            });
        }
        if !self.failover_enabled {
            return Err(Error::input(format!(
                "region `{preferred}` is unhealthy and routing.failoverEnabled is false: no player can be placed"
            )));
        }
        if let Some(next) = region
            .failover
            .iter()
            .filter_map(|code| find(code))
            .find(|r| r.healthy)
        {
            return Ok(RoutingDecision::Failover {
                region: next.code.clone(),
                reason: format!(
                    "{preferred} is unhealthy; {} is the first healthy region of its failover list [{}]",
                    next.code,
                    region.failover.join(", ")
                ),
            });
        }
        let closest = self
            .regions
            .iter()
            .filter(|r| r.healthy)
            .min_by_key(|r| (r.latency_ms, r.code.clone()));
        match closest {
            Some(next) => Ok(RoutingDecision::Failover {
                region: next.code.clone(),
                reason: if region.failover.is_empty() {
                    format!(
                        "{preferred} is unhealthy and has no failover list; {} is the healthy region with the lowest latency ({} ms)",
                        next.code, next.latency_ms
                    )
                } else {
                    format!(
                        "{preferred} is unhealthy and no region of its failover list [{}] is healthy; {} is the healthy region with the lowest latency ({} ms)",
                        region.failover.join(", "),
                        next.code,
                        next.latency_ms
                    )
                },
            }),
            None => Err(Error::input(
                "no region is healthy: no player can be placed; mark a region healthy (regions[].healthy)",
            )),
        }
    }
}

/// The world server's values: under `world-server` in a parent chart, or the root of the
/// world-server chart itself.
pub fn world_server_values(values: &Map) -> Result<&Map> {
    match values.get("world-server") {
        Some(Value::Map(scope)) => Ok(scope),
        _ if values.contains_key("scaling") || values.contains_key("regions") => Ok(values),
        _ => Err(Error::input(
            "the chart has no world-server values (a `world-server` subchart or `scaling`/`regions` keys)",
        )),
    }
}

fn number(map: &Map, path: &str) -> Result<u64> {
    let mut keys = path.split('.');
    let first = keys.next().unwrap_or_default();
    let node = keys.try_fold(map.get(first), |node, key| match node {
        Some(Value::Map(m)) => Ok(m.get(key)),
        _ => Err(()),
    });
    let node = node.ok().flatten();
    match node {
        Some(Value::Int(n)) if *n >= 0 => Ok(*n as u64),
        Some(Value::Float(f)) if *f >= 0.0 && f.fract() == 0.0 => Ok(*f as u64),
        Some(other) => Err(Error::input(format!(
            "world-server value `{path}` must be a whole number of 0 or more, not {other:?}"
        ))),
        None => Err(Error::input(format!(
            "world-server value `{path}` is missing"
        ))),
    }
}

impl ScalingConfig {
    /// From the world server's `scaling:` values.
    pub fn from_values(values: &Map) -> Result<ScalingConfig> {
        let config = ScalingConfig {
            target_players_per_pod: number(values, "scaling.targetPlayersPerPod")?,
            min_replicas: number(values, "scaling.minReplicas")?,
            max_replicas: number(values, "scaling.maxReplicas")?,
            scale_up_cooldown_secs: number(values, "scaling.scaleUpCooldownSecs")?,
            scale_down_cooldown_secs: number(values, "scaling.scaleDownCooldownSecs")?,
        };
        if config.target_players_per_pod == 0 {
            return Err(Error::input(
                "world-server value `scaling.targetPlayersPerPod` must be above 0",
            ));
        }
        if config.min_replicas > config.max_replicas {
            return Err(Error::input(format!(
                "world-server scaling.minReplicas ({}) is above scaling.maxReplicas ({})",
                config.min_replicas, config.max_replicas
            )));
        }
        Ok(config)
    }
}

impl RegionRoutingConfig {
    /// From the world server's `regions:` and `routing:` values.
    pub fn from_values(values: &Map) -> Result<RegionRoutingConfig> {
        let Some(Value::List(items)) = values.get("regions") else {
            return Err(Error::input(
                "world-server value `regions` is missing or not a list",
            ));
        };
        let mut regions = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Value::Map(region) = item else {
                return Err(Error::input(format!(
                    "world-server regions[{i}] is not a map"
                )));
            };
            let text = |key: &str| match region.get(key) {
                Some(Value::String(s)) => Ok(s.clone()),
                _ => Err(Error::input(format!(
                    "world-server regions[{i}].{key} must be a string"
                ))),
            };
            let failover = match region.get("failover") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::List(codes)) => codes
                    .iter()
                    .map(|c| match c {
                        Value::String(s) => Ok(s.clone()),
                        _ => Err(Error::input(format!(
                            "world-server regions[{i}].failover must list region codes"
                        ))),
                    })
                    .collect::<Result<_>>()?,
                _ => {
                    return Err(Error::input(format!(
                        "world-server regions[{i}].failover must be a list"
                    )));
                }
            };
            regions.push(Region {
                code: text("code")?,
                latency_ms: number(region, "latencyMs")?,
                healthy: matches!(region.get("healthy"), Some(Value::Bool(true))),
                weight: number(region, "weight").unwrap_or(0),
                failover,
            });
        }
        let failover_enabled = !matches!(
            values.get("routing").and_then(|r| match r {
                Value::Map(m) => m.get("failoverEnabled"),
                _ => None,
            }),
            Some(Value::Bool(false))
        );
        Ok(RegionRoutingConfig {
            regions,
            failover_enabled,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Region, RegionRoutingConfig, RoutingDecision, ScalingConfig, ScalingDecision};
    use ScalingDecision::{Hold, ScaleDown, ScaleUp};

    fn seed() -> ScalingConfig {
        ScalingConfig {
            target_players_per_pod: 50,
            min_replicas: 2,
            max_replicas: 20,
            scale_up_cooldown_secs: 60,
            scale_down_cooldown_secs: 300,
        }
    }

    #[test]
    fn scaling_follows_seed_001() {
        let c = seed();
        // Above the target, past the scale-up cooldown: ceil(players / target), here 36 clamped.
        assert_eq!(
            c.compute_desired_replicas(1800, 10, 60),
            ScaleUp {
                target_replicas: 20
            }
        );
        assert_eq!(
            c.compute_desired_replicas(551, 10, 60),
            ScaleUp {
                target_replicas: 12
            }
        );
        // The cooldown edge: 59 s holds, 60 s scales.
        assert_eq!(c.compute_desired_replicas(551, 10, 59), Hold);
        // Exactly at the target is not above it.
        assert_eq!(c.compute_desired_replicas(500, 10, 1000), Hold);
        // The 0.5 band: 25 per pod is not below half the target; 24.9 is.
        assert_eq!(c.compute_desired_replicas(250, 10, 1000), Hold);
        assert_eq!(
            c.compute_desired_replicas(249, 10, 1000),
            ScaleDown { target_replicas: 5 }
        );
        // The scale-down cooldown edge: 299 s holds, 300 s scales.
        assert_eq!(c.compute_desired_replicas(100, 10, 299), Hold);
        assert_eq!(
            c.compute_desired_replicas(100, 10, 300),
            ScaleDown { target_replicas: 2 }
        );
        // Clamping at both bounds.
        assert_eq!(
            c.compute_desired_replicas(5000, 10, 60),
            ScaleUp {
                target_replicas: 20
            }
        );
        assert_eq!(
            c.compute_desired_replicas(0, 10, 300),
            ScaleDown { target_replicas: 2 }
        );
        assert_eq!(c.compute_desired_replicas(5000, 20, 60), Hold);
        assert_eq!(c.compute_desired_replicas(0, 2, 300), Hold);
        // A count outside the bounds is brought back, whatever the cooldown.
        assert_eq!(
            c.compute_desired_replicas(60, 1, 0),
            ScaleUp { target_replicas: 2 }
        );
        assert_eq!(
            c.compute_desired_replicas(900, 25, 0),
            ScaleDown {
                target_replicas: 20
            }
        );
        // No replicas at all: every player is unserved.
        assert_eq!(
            c.compute_desired_replicas(120, 0, 60),
            ScaleUp { target_replicas: 3 }
        );
    }

    fn router() -> RegionRoutingConfig {
        let region = |code: &str, latency: u64, healthy: bool, failover: &[&str]| Region {
            code: code.into(),
            latency_ms: latency,
            healthy,
            weight: 0,
            failover: failover.iter().map(|s| s.to_string()).collect(),
        };
        RegionRoutingConfig {
            regions: vec![
                region("us-east-1", 20, true, &["us-west-2"]),
                region("us-west-2", 70, true, &["us-east-1"]),
                region("eu-west-1", 90, true, &[]),
                region("ap-south-1", 150, false, &[]),
            ],
            failover_enabled: true,
        }
    }

    #[test]
    fn routing() {
        let mut c = router();
        assert_eq!(
            c.route_player("us-east-1").unwrap(),
            RoutingDecision::Primary {
                region: "us-east-1".into()
            }
        );
        // No failover list: the healthy region with the lowest latency.
        let RoutingDecision::Failover { region, .. } = c.route_player("ap-south-1").unwrap() else {
            panic!()
        };
        assert_eq!(region, "us-east-1");
        // The failover list in order.
        c.regions[0].healthy = false;
        let RoutingDecision::Failover { region, reason } = c.route_player("us-east-1").unwrap()
        else {
            panic!()
        };
        assert_eq!(region, "us-west-2");
        assert!(reason.contains("failover list"), "{reason}");
        // Every region of the list unhealthy: the closest healthy one.
        c.regions[1].healthy = false;
        let RoutingDecision::Failover { region, .. } = c.route_player("us-east-1").unwrap() else {
            panic!()
        };
        assert_eq!(region, "eu-west-1");
        // None healthy.
        c.regions[2].healthy = false;
        assert!(
            c.route_player("us-east-1")
                .unwrap_err()
                .to_string()
                .contains("no region is healthy")
        );
        assert!(
            c.route_player("mars-1")
                .unwrap_err()
                .to_string()
                .contains("not configured")
        );
        let mut off = router();
        off.failover_enabled = false;
        assert!(
            off.route_player("ap-south-1")
                .unwrap_err()
                .to_string()
                .contains("failoverEnabled")
        );
    }
}
