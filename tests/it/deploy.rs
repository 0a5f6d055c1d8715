//! `scale` and `route`: the aether-deploy engines read the same values the world-server
//! templates render, so what the HPA and the routing ConfigMap encode cannot drift from what
//! the engines compute; and their bad input.

use crate::support::{aether, failed, ok, repo_root};

/// The documents of a render, parsed.
fn documents(args: &[String]) -> Vec<serde_yaml::Value> {
    let mut full = vec!["template".to_string()];
    full.extend(args.iter().cloned());
    let refs: Vec<&str> = full.iter().map(String::as_str).collect();
    let run = ok(aether(&repo_root(), &refs));
    run.stdout
        .split("\n---\n")
        .filter_map(|d| serde_yaml::from_str::<serde_yaml::Value>(d).ok())
        .filter(|d| d.is_mapping())
        .collect()
}

fn find<'d>(docs: &'d [serde_yaml::Value], kind: &str, name_ends: &str) -> &'d serde_yaml::Value {
    lookup(docs, kind, name_ends).unwrap_or_else(|| panic!("no {kind} named *{name_ends}"))
}

fn lookup<'d>(
    docs: &'d [serde_yaml::Value],
    kind: &str,
    name_ends: &str,
) -> Option<&'d serde_yaml::Value> {
    docs.iter().find(|d| {
        d["kind"] == kind
            && d["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.ends_with(name_ends))
    })
}

/// The numbers of `scale`'s explanation: target, cooldowns up and down, the lower bound.
fn engine_numbers(args: &[String]) -> [u64; 4] {
    let mut full: Vec<String> = vec![
        "scale".into(),
        "--players".into(),
        "1000".into(),
        "--replicas".into(),
        "5".into(),
    ];
    full.extend(args.iter().cloned());
    let refs: Vec<&str> = full.iter().map(String::as_str).collect();
    let run = ok(aether(&repo_root(), &refs));
    let why = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("why: "))
        .unwrap()
        .to_string();
    let number = |after: &str, until: char| -> u64 {
        let start = why
            .find(after)
            .unwrap_or_else(|| panic!("`{after}` in {why}"))
            + after.len();
        why[start..]
            .split(until)
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    [
        number("to ", ' '),
        number("up ", 's'),
        number("down ", 's'),
        number("bounds [", ','),
    ]
}

#[test]
fn the_hpa_and_the_scaler_read_the_same_values() {
    let mut variants = crate::root_chart::variants();
    variants.push((
        "prod+set".into(),
        ["-f", "values/prod.yaml", "--set", "world-server.scaling.maxReplicas=33,world-server.scaling.targetPlayersPerPod=40,world-server.scaling.scaleDownCooldownSecs=450"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    ));
    let mut compared = 0;
    for (name, args) in variants
        .iter()
        .filter(|(n, _)| !n.contains("canary") && !n.contains("blueGreen") && !n.contains("ab"))
    {
        let docs = documents(
            &args
                .iter()
                .cloned()
                .chain(["--skip-validation".to_string()])
                .collect::<Vec<_>>(),
        );
        let Some(hpa) = lookup(&docs, "HorizontalPodAutoscaler", "world-server") else {
            assert!(
                !name.starts_with("prod"),
                "{name}: the world server has no HPA"
            );
            continue;
        };
        compared += 1;
        let hpa = &hpa["spec"];
        let rendered = [
            hpa["metrics"][0]["pods"]["target"]["averageValue"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap(),
            hpa["behavior"]["scaleUp"]["stabilizationWindowSeconds"]
                .as_u64()
                .unwrap(),
            hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"]
                .as_u64()
                .unwrap(),
            hpa["minReplicas"].as_u64().unwrap(),
            hpa["maxReplicas"].as_u64().unwrap(),
        ];
        let [target, up, down, min] = engine_numbers(args);
        let max = {
            let mut full: Vec<String> = vec![
                "scale".into(),
                "--players".into(),
                "1000000".into(),
                "--replicas".into(),
                "1".into(),
            ];
            full.extend(args.iter().cloned());
            let refs: Vec<&str> = full.iter().map(String::as_str).collect();
            let run = ok(aether(&repo_root(), &refs));
            let line = run.stdout.lines().next().unwrap().to_string();
            line.split("target_replicas: ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        };
        assert_eq!(
            rendered,
            [target, up, down, min, max],
            "{name}: HPA {rendered:?}"
        );
    }
    assert!(
        compared >= 5,
        "only {compared} renders had a world-server HPA"
    );
}

#[test]
fn the_routing_configmap_and_the_router_read_the_same_values() {
    for region_file in ["us-east-1", "us-west-2", "eu-west-1"] {
        let args: Vec<String> = [
            "-f",
            "values/prod.yaml",
            "-f",
            &format!("values/regions/{region_file}.yaml"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let docs = documents(
            &args
                .iter()
                .cloned()
                .chain(["--skip-validation".to_string()])
                .collect::<Vec<_>>(),
        );
        let table: serde_yaml::Value = serde_yaml::from_str(
            find(&docs, "ConfigMap", "world-server-routing")["data"]["routing.yaml"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let regions = table["regions"].as_sequence().unwrap();
        let weights: u64 = regions.iter().map(|r| r["weight"].as_u64().unwrap()).sum();
        assert_eq!(weights, 100);
        // Take each region down in turn: the router must pick what the rendered table says.
        for region in regions {
            let code = region["code"].as_str().unwrap();
            let expected = region["failover"]
                .as_sequence()
                .and_then(|list| list.iter().filter_map(|c| c.as_str()).find(|c| *c != code))
                .map(str::to_string)
                .unwrap_or_else(|| {
                    regions
                        .iter()
                        .filter(|r| r["code"] != code)
                        .min_by_key(|r| r["latencyMs"].as_u64().unwrap())
                        .unwrap()["code"]
                        .as_str()
                        .unwrap()
                        .to_string()
                });
            let mut route: Vec<String> = vec![
                "route".into(),
                "--region".into(),
                code.into(),
                "--unhealthy".into(),
                code.into(),
            ];
            route.extend(args.iter().cloned());
            let refs: Vec<&str> = route.iter().map(String::as_str).collect();
            let run = ok(aether(&repo_root(), &refs));
            assert!(
                run.stdout
                    .starts_with(&format!("Failover {{ region: {expected} }}\n")),
                "{region_file} {code}: {}",
                run.stdout
            );
            let mut healthy: Vec<String> = vec!["route".into(), "--region".into(), code.into()];
            healthy.extend(args.iter().cloned());
            let refs: Vec<&str> = healthy.iter().map(String::as_str).collect();
            assert_eq!(
                ok(aether(&repo_root(), &refs)).stdout,
                format!("Primary {{ region: {code} }}\n")
            );
        }
    }
}

#[test]
fn traces_and_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("trace.csv");
    std::fs::write(
        &trace,
        "time,players\n0,100\n30,900\n90,1800\n120,1800\n400,300\n700,100\n",
    )
    .unwrap();
    let svg = tmp.path().join("out.svg");
    let run = ok(aether(
        &repo_root(),
        &[
            "scale",
            "--trace",
            trace.to_str().unwrap(),
            "--plot",
            svg.to_str().unwrap(),
        ],
    ));
    let replicas: Vec<&str> = run
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    // Up at once (cooldown elapsed), up again after 60 s, hold, down only after 300 s.
    assert_eq!(
        replicas,
        ["2", "18", "20", "20", "6", "2"],
        "{}",
        run.stdout
    );
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(drawn.matches("<polyline").count(), 2);
    assert!(drawn.starts_with("<svg"));

    for (text, expect) in [
        ("", "holds no `time,players` rows"),
        ("time,players\n", "holds no `time,players` rows"),
        (
            "0,10\n5,x\n",
            "trace.csv:2`: players `x` is not a whole number",
        ),
        ("0,10\n5,-3\n", "trace.csv:2`: players `-3`"),
        ("0,10\n0,12\n", "trace.csv:2`: time 0 does not come after"),
        ("0,10,3\n", "trace.csv:1`: expected `time,players`"),
    ] {
        std::fs::write(&trace, text).unwrap();
        failed(
            &aether(&repo_root(), &["scale", "--trace", trace.to_str().unwrap()]),
            expect,
        );
    }
    failed(
        &aether(&repo_root(), &["route", "--region", "mars-1"]),
        "region `mars-1` is not configured",
    );
    failed(
        &aether(
            &repo_root(),
            &["route", "--region", "us-east-1", "--unhealthy", "mars-1"],
        ),
        "--unhealthy `mars-1`",
    );
    failed(
        &aether(
            &repo_root(),
            &[
                "route",
                "--region",
                "us-east-1",
                "--unhealthy",
                "us-east-1",
                "--unhealthy",
                "us-west-2",
                "--unhealthy",
                "eu-west-1",
            ],
        ),
        "no region is healthy",
    );
    let run = aether(&repo_root(), &["scale", "--players", "-4"]);
    assert_eq!(run.code, 2);
    let run = aether(&repo_root(), &["scale", "--players", "many"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid value 'many'"),
        "{}",
        run.stderr
    );
}
