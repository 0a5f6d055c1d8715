//! Best-practice rules, named after their Checkov counterparts (whose `checkov.io/skipN`
//! annotations skip them too). Warnings unless the chart or `--strict` raises them.

use crate::yaml::tree::Value;

use super::doc::At;

use super::doc::{Doc, selects};
use super::{Context, Findings, Rule, Scope, Severity};

/// Runs `check` on every container of every workload; it returns a problem or None.
fn each_container(
    ctx: &Context<'_>,
    out: &mut Findings,
    check: impl Fn(&Doc, &Value, &Value) -> Option<String>,
) {
    for doc in ctx.docs.iter().filter(|d| d.is_workload()) {
        let pod = doc.pod_spec().unwrap_or(&Value::Null);
        for container in doc.containers() {
            if let Some(problem) = check(doc, pod, container) {
                let name = container.get("name").and_then(Value::as_str).unwrap_or("?");
                out.add(
                    Some(doc),
                    format!("container `{name}`: {problem}"),
                    Vec::new(),
                );
            }
        }
    }
}

/// A container setting, falling back to the pod's securityContext.
fn security<'v>(pod: &'v Value<'v>, container: &'v Value<'v>, key: &str) -> Option<&'v Value<'v>> {
    container
        .get("securityContext")
        .and_then(|s| s.get(key))
        .or_else(|| pod.get("securityContext").and_then(|s| s.get(key)))
}

pub const RUN_AS_NON_ROOT: Rule = Rule {
    id: "AC301",
    name: "run-as-non-root",
    severity: Severity::Warning,
    counterparts: &["CKV_K8S_23"],
    scope: Scope::Any,
    rationale: "a process running as root turns a container escape into a node compromise",
    check: |ctx, out| {
        each_container(ctx, out, |_, pod, c| {
            let non_root = security(pod, c, "runAsNonRoot") == Some(&Value::Bool(true));
            let uid = security(pod, c, "runAsUser").and_then(Value::as_i64);
            (!non_root && uid.is_none_or(|u| u == 0)).then(|| "set runAsNonRoot: true".into())
        })
    },
};

pub const READ_ONLY_ROOT: Rule = Rule {
    id: "AC302",
    name: "read-only-root-filesystem",
    severity: Severity::Warning,
    counterparts: &["CKV_K8S_22"],
    scope: Scope::Any,
    rationale: "a writable root filesystem lets an intruder change the container's binaries",
    check: |ctx, out| {
        each_container(ctx, out, |_, _, c| {
            (c.at(&["securityContext", "readOnlyRootFilesystem"]) != Some(&Value::Bool(true)))
                .then(|| "set securityContext.readOnlyRootFilesystem: true (mount emptyDir volumes where it writes)".into())
        })
    },
};

pub const NO_PRIVILEGE_ESCALATION: Rule = Rule {
    id: "AC303",
    name: "no-privilege-escalation",
    severity: Severity::Warning,
    counterparts: &["CKV_K8S_20"],
    scope: Scope::Any,
    rationale: "setuid binaries must not gain privileges the container was not given",
    check: |ctx, out| {
        each_container(ctx, out, |_, _, c| {
            (c.at(&["securityContext", "allowPrivilegeEscalation"]) != Some(&Value::Bool(false)))
                .then(|| "set securityContext.allowPrivilegeEscalation: false".into())
        })
    },
};

pub const NOT_PRIVILEGED: Rule = Rule {
    id: "AC304",
    name: "not-privileged",
    severity: Severity::Warning,
    counterparts: &["CKV_K8S_16"],
    scope: Scope::Any,
    rationale: "a privileged container is root on the node",
    check: |ctx, out| {
        each_container(ctx, out, |_, _, c| {
            (c.at(&["securityContext", "privileged"]) == Some(&Value::Bool(true)))
                .then(|| "must not be privileged".into())
        })
    },
};

pub const DROP_CAPABILITIES: Rule = Rule {
    id: "AC305",
    name: "drop-all-capabilities",
    severity: Severity::Warning,
    counterparts: &["CKV_K8S_28", "CKV_K8S_37"],
    scope: Scope::Any,
    rationale: "containers need no Linux capabilities by default; NET_RAW alone allows spoofing",
    check: |ctx, out| {
        each_container(ctx, out, |_, _, c| {
            let drops = c
                .at(&["securityContext", "capabilities", "drop"])
                .and_then(Value::as_array);
            let all = drops.is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")));
            (!all)
                .then(|| "drop ALL capabilities (securityContext.capabilities.drop: [ALL])".into())
        })
    },
};

pub const SECCOMP: Rule = Rule {
    id: "AC306",
    name: "seccomp-runtime-default",
    severity: Severity::Warning,
    counterparts: &["CKV_K8S_31"],
    scope: Scope::Any,
    rationale: "the runtime's default seccomp profile blocks syscalls containers never need",
    check: |ctx, out| {
        each_container(ctx, out, |_, pod, c| {
            let profile = security(pod, c, "seccompProfile")
                .and_then(|p| p.get("type"))
                .and_then(Value::as_str);
            (!matches!(profile, Some("RuntimeDefault" | "Localhost")))
                .then(|| "set seccompProfile.type: RuntimeDefault".into())
        })
    },
};

pub const RESOURCES_SET: Rule = Rule {
    id: "AC307",
    name: "resources-set",
    severity: Severity::Warning,
    counterparts: &["CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13"],
    scope: Scope::Any,
    rationale: "without requests the scheduler overcommits nodes; without limits one pod starves the rest",
    check: |ctx, out| {
        each_container(ctx, out, |_, _, c| {
            let missing: Vec<String> = ["requests", "limits"]
                .iter()
                .flat_map(|scope| ["cpu", "memory"].map(|r| (scope, r)))
                .filter(|(scope, r)| {
                    c.get("resources")
                        .and_then(|x| x.get(scope))
                        .and_then(|x| x.get(r))
                        .is_none()
                })
                .map(|(scope, r)| format!("{scope}.{r}"))
                .collect();
            (!missing.is_empty()).then(|| format!("set resources {}", missing.join(", ")))
        })
    },
};

pub const PROBES: Rule = Rule {
    id: "AC308",
    name: "probes",
    severity: Severity::Warning,
    counterparts: &["CKV_K8S_8", "CKV_K8S_9"],
    scope: Scope::Any,
    rationale: "without liveness a hung process is never restarted; without readiness traffic reaches pods that cannot serve",
    check: |ctx, out| {
        for doc in ctx
            .docs
            .iter()
            .filter(|d| d.is_workload() && d.kind != "Job" && d.kind != "CronJob")
        {
            let containers = doc
                .pod_spec()
                .and_then(|p| p.get("containers"))
                .and_then(Value::as_array);
            for c in containers.into_iter().flatten() {
                let missing: Vec<&str> = ["livenessProbe", "readinessProbe"]
                    .into_iter()
                    .filter(|p| c.get(p).is_none())
                    .collect();
                if !missing.is_empty() {
                    let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
                    out.add(
                        Some(doc),
                        format!("container `{name}` has no {}", missing.join(" and ")),
                        Vec::new(),
                    );
                }
            }
        }
    },
};

pub const HOST_ACCESS: Rule = Rule {
    id: "AC309",
    name: "no-host-access",
    severity: Severity::Warning,
    counterparts: &["CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19"],
    scope: Scope::Any,
    rationale: "host namespaces and hostPath volumes break the container boundary",
    check: |ctx, out| {
        for doc in ctx.docs.iter().filter(|d| d.is_workload()) {
            let Some(pod) = doc.pod_spec() else { continue };
            for key in ["hostNetwork", "hostPID", "hostIPC"] {
                if pod.get(key) == Some(&Value::Bool(true)) {
                    out.add(Some(doc), format!("uses {key}"), Vec::new());
                }
            }
            for volume in pod
                .get("volumes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if volume.get("hostPath").is_some() {
                    let name = volume.get("name").and_then(Value::as_str).unwrap_or("?");
                    out.add(
                        Some(doc),
                        format!("volume `{name}` is a hostPath"),
                        Vec::new(),
                    );
                }
            }
        }
    },
};

pub const SERVICE_ACCOUNT_TOKEN: Rule = Rule {
    id: "AC310",
    name: "service-account-token",
    severity: Severity::Warning,
    counterparts: &["CKV_K8S_38"],
    scope: Scope::Any,
    rationale: "a pod that never calls the Kubernetes API should not carry a token for it",
    check: |ctx, out| {
        let bound: std::collections::HashSet<&str> = ctx
            .docs
            .iter()
            .filter(|d| d.kind == "RoleBinding" || d.kind == "ClusterRoleBinding")
            .flat_map(|b| {
                b.json
                    .get("subjects")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .filter_map(|s| s.get("name").and_then(Value::as_str))
            .collect();
        for doc in ctx.docs.iter().filter(|d| d.is_workload()) {
            let Some(pod) = doc.pod_spec() else { continue };
            if pod.get("automountServiceAccountToken") == Some(&Value::Bool(false)) {
                continue;
            }
            let account = pod
                .get("serviceAccountName")
                .and_then(Value::as_str)
                .unwrap_or("default");
            if !bound.contains(account) {
                out.add(Some(doc), format!("mounts a token of ServiceAccount `{account}`, which no role binding uses; set automountServiceAccountToken: false"), Vec::new());
            }
        }
    },
};

pub const NETWORK_POLICY: Rule = Rule {
    id: "AC311",
    name: "network-policy-coverage",
    severity: Severity::Warning,
    counterparts: &["CKV2_K8S_6"],
    scope: Scope::Any,
    rationale: "pods no NetworkPolicy selects accept traffic from anywhere in the cluster",
    check: |ctx, out| {
        let policies: Vec<&Doc> = ctx
            .docs
            .iter()
            .filter(|d| d.kind == "NetworkPolicy")
            .collect();
        for doc in ctx.docs.iter().filter(|d| d.is_workload()) {
            let Some(labels) = doc.pod_labels() else {
                continue;
            };
            let namespace = doc.namespace;
            let covered = policies
                .iter()
                .filter(|p| p.namespace == namespace)
                .any(|p| match p.json.at(&["spec", "podSelector"]) {
                    Some(Value::Object(sel)) if sel.is_empty() => true,
                    Some(sel) => sel
                        .get("matchLabels")
                        .and_then(Value::as_object)
                        .is_some_and(|m| m.is_empty() || selects(m, labels)),
                    None => false,
                });
            if !covered {
                out.add(
                    Some(doc),
                    "no NetworkPolicy selects its pods".into(),
                    Vec::new(),
                );
            }
        }
    },
};

pub const SECRETS_IN_ENV: Rule = Rule {
    id: "AC312",
    name: "no-secret-literals-in-env",
    severity: Severity::Warning,
    counterparts: &[],
    scope: Scope::Any,
    rationale: "a secret written as a plain env value is readable by anyone who can read the pod spec",
    check: |ctx, out| {
        each_container(ctx, out, |_, _, c| {
            let names: Vec<&str> = c
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| {
                    let name = e.get("name").and_then(Value::as_str)?;
                    let value = e.get("value").and_then(Value::as_str)?;
                    secret_literal(name, value).then_some(name)
                })
                .collect();
            (!names.is_empty()).then(|| {
                format!(
                    "{} set as plain values; read them from a Secret",
                    names.join(", ")
                )
            })
        })
    },
};

/// Whether the env var `name` set to `value` holds a secret in plain sight: a name that ends
/// like a credential's, and a value that could be one. Not: a switch about a credential
/// (`ALLOW_EMPTY_PASSWORD`, a yes/no value), a path to one (a key file), a reference to another
/// variable (`$(DB_PASSWORD)`), etcd's cluster token, which names a cluster, or etcd's auth
/// token setting, which chooses the token provider (`simple`, or `jwt,priv-key=<path>,...`).
fn secret_literal(name: &str, value: &str) -> bool {
    const ENDINGS: [&str; 6] = [
        "PASSWORD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
    ];
    const SWITCHES: [&str; 7] = [
        "ALLOW_", "ENABLE_", "DISABLE_", "REQUIRE_", "SKIP_", "USE_", "NO_",
    ];
    const WORDS: [&str; 10] = [
        "yes", "no", "true", "false", "on", "off", "y", "n", "enabled", "disabled",
    ];
    // Compared without regard to ASCII case, without making an upper-case copy.
    let name = name.as_bytes();
    let ends_with = |end: &str| {
        name.len() >= end.len()
            && name[name.len() - end.len()..].eq_ignore_ascii_case(end.as_bytes())
    };
    let starts_with = |start: &str| {
        name.len() >= start.len() && name[..start.len()].eq_ignore_ascii_case(start.as_bytes())
    };
    let value = value.trim();
    ENDINGS.iter().any(|e| ends_with(e))
        && !SWITCHES.iter().any(|p| starts_with(p))
        && !ends_with("INITIAL_CLUSTER_TOKEN")
        && !name.eq_ignore_ascii_case(b"ETCD_AUTH_TOKEN")
        && !value.is_empty()
        && !value.contains("$(")
        && !value.starts_with('/')
        && !WORDS.iter().any(|w| w.eq_ignore_ascii_case(value))
}

#[cfg(test)]
mod tests {
    use super::secret_literal;

    /// What the rule flagged on public charts, none of it a secret, beside what it must flag.
    #[test]
    fn secret_literals_are_credentials_not_switches_or_paths() {
        for (name, value) in [
            ("ALLOW_EMPTY_PASSWORD", "no"),
            ("RABBITMQ_SECURE_PASSWORD", "yes"),
            ("ETCD_INITIAL_CLUSTER_TOKEN", "etcd-cluster-k8s"),
            (
                "ETCD_AUTH_TOKEN",
                "jwt,priv-key=/opt/bitnami/etcd/certs/token/jwt-token.pem,sign-method=RS256,ttl=10m",
            ),
            ("JWT_PRIVATE_KEY", "/etc/jwt/private.pem"),
            ("DB_PASSWORD", "$(POSTGRES_PASSWORD)"),
            ("REDIS_PASSWORD", ""),
            ("LOG_LEVEL", "hunter2"),
        ] {
            assert!(!secret_literal(name, value), "{name}={value}");
        }
        for (name, value) in [
            ("DB_PASSWORD", "hunter2"),
            ("GITHUB_TOKEN", "ghp_0123456789"),
            ("stripe_api_key", "sk_live_abc"),
            ("SESSION_SECRET", "no-one-guesses-this"),
        ] {
            assert!(secret_literal(name, value), "{name}={value}");
        }
    }
}
