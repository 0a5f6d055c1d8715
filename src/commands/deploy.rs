//! `aether-chart scale` and `route`: the aether-deploy engines run on a chart's layered values,
//! the same values its world-server templates render.

use std::path::PathBuf;

use crate::chart::Limits;
use crate::cli::ValuesArgs;
use crate::deploy::{
    RegionRoutingConfig, RoutingDecision, ScalingConfig, ScalingDecision, world_server_values,
};
use crate::error::{Error, Result};
use crate::release::{DEFAULT_KUBE_VERSION, prepare};
use crate::values::ValuesOptions;
use crate::version::parse_lenient;

/// Arguments of `scale`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScaleArgs {
    /// The chart (default `.`).
    #[arg(value_name = "CHART", default_value = ".")]
    pub chart: PathBuf,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Active players across the world servers.
    #[arg(long, required_unless_present = "trace")]
    pub players: Option<u64>,
    /// Replicas running now (default: scaling.minReplicas).
    #[arg(long)]
    pub replicas: Option<u64>,
    /// Time since the last scaling, e.g. 90s, 5m or 300 (default: longer than any cooldown).
    #[arg(long, value_parser = parse_duration)]
    pub since: Option<u64>,
    /// Replay a CSV of `time,players` rows (time in seconds) and print the replica timeline.
    #[arg(long, value_name = "FILE.csv")]
    pub trace: Option<PathBuf>,
    /// With --trace, draw players and replicas over time into this SVG file.
    #[arg(long, value_name = "FILE.svg", requires = "trace")]
    pub plot: Option<PathBuf>,
}

/// Arguments of `route`.
#[derive(Debug, Clone, clap::Args)]
pub struct RouteArgs {
    /// The chart (default `.`).
    #[arg(value_name = "CHART", default_value = ".")]
    pub chart: PathBuf,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// The player's preferred region.
    #[arg(long)]
    pub region: String,
    /// Treat this region as unhealthy (repeatable).
    #[arg(long, value_name = "REGION")]
    pub unhealthy: Vec<String>,
}

/// `90s`, `5m`, `1h` or plain seconds.
fn parse_duration(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => (&t[..at], &t[at..]),
        None => (t, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 90s, 5m, 300)"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("`{text}` is not a duration (e.g. 90s, 5m, 300)")),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("`{text}` is too long a duration"))
}

fn world_values(chart: &std::path::Path, values: &ValuesOptions) -> Result<crate::values::Map> {
    let kube = parse_lenient(DEFAULT_KUBE_VERSION).map_err(Error::usage)?;
    let prepared = prepare(chart, values, Limits::default(), &kube)?;
    Ok(world_server_values(&prepared.values)?.clone())
}

fn describe(decision: ScalingDecision, replicas: u64) -> String {
    match decision {
        ScalingDecision::ScaleUp { target_replicas } => {
            format!("ScaleUp {{ target_replicas: {target_replicas} }} (from {replicas})")
        }
        ScalingDecision::ScaleDown { target_replicas } => {
            format!("ScaleDown {{ target_replicas: {target_replicas} }} (from {replicas})")
        }
        ScalingDecision::Hold => format!("Hold (at {replicas})"),
    }
}

/// Runs `scale`.
pub fn scale(args: &ScaleArgs) -> Result<u8> {
    let values = world_values(&args.chart, &args.values.options())?;
    let config = ScalingConfig::from_values(&values)?;
    let replicas = args.replicas.unwrap_or(config.min_replicas);
    let Some(trace) = &args.trace else {
        let players = args
            .players
            .expect("clap requires --players without --trace");
        let since = args.since.unwrap_or(u64::MAX);
        let decision = config.compute_desired_replicas(players, replicas, since);
        crate::outln!("{}", describe(decision, replicas));
        crate::outln!("  why: {}", config.explain(players, replicas, since));
        return Ok(0);
    };
    let rows = read_trace(trace)?;
    let mut replicas = replicas;
    let mut last_scale: Option<u64> = None;
    let mut timeline = Vec::new();
    crate::outln!("{:>8} {:>8} {:>9}  decision", "time", "players", "replicas");
    for (time, players) in rows {
        let since = last_scale.map_or(u64::MAX, |t| time - t);
        let decision = config.compute_desired_replicas(players, replicas, since);
        let before = replicas;
        if let ScalingDecision::ScaleUp { target_replicas }
        | ScalingDecision::ScaleDown { target_replicas } = decision
        {
            replicas = target_replicas;
            last_scale = Some(time);
        }
        crate::outln!(
            "{time:>8} {players:>8} {replicas:>9}  {}",
            describe(decision, before)
        );
        timeline.push((time, players, replicas));
    }
    if let Some(path) = &args.plot {
        let svg = plot(&timeline, &config);
        crate::fs::write_path(path, svg.as_bytes(), crate::fs::SHARED)?;
    }
    Ok(0)
}

/// `time,players` rows (a header line is allowed), times increasing.
/// The largest trace read (a row a second for a year is about 600 MB; a real replay is far
/// smaller).
const MAX_TRACE_BYTES: u64 = 256 * 1024 * 1024;

fn read_trace(path: &std::path::Path) -> Result<Vec<(u64, u64)>> {
    let bytes = crate::fs::read_user_file(path, "the trace", MAX_TRACE_BYTES)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::input(format!("`{}` is not UTF-8 text", path.display())))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = format!("{}:{}", path.display(), i + 1);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if rows.is_empty()
            && i == 0
            && fields.iter().any(|f| f.parse::<f64>().is_err())
            && fields.len() == 2
            && fields[0].chars().all(|c| c.is_alphabetic() || c == '_')
        {
            continue; // a header such as `time,players`
        }
        let [time, players] = fields[..] else {
            return Err(Error::input(format!(
                "`{at}`: expected `time,players`, found `{line}`"
            )));
        };
        let time: u64 = time.parse().map_err(|_| {
            Error::input(format!(
                "`{at}`: time `{time}` is not a whole number of seconds"
            ))
        })?;
        let players: u64 = players.parse().map_err(|_| {
            Error::input(format!(
                "`{at}`: players `{players}` is not a whole number of 0 or more"
            ))
        })?;
        if rows.last().is_some_and(|&(t, _)| time <= t) {
            return Err(Error::input(format!(
                "`{at}`: time {time} does not come after the row before"
            )));
        }
        rows.push((time, players));
    }
    if rows.is_empty() {
        return Err(Error::input(format!(
            "`{}` holds no `time,players` rows",
            path.display()
        )));
    }
    Ok(rows)
}

/// Players (left axis) and replicas (right axis) over time, as an SVG line chart.
fn plot(timeline: &[(u64, u64, u64)], config: &ScalingConfig) -> String {
    let (width, height, margin) = (800.0, 400.0, 50.0);
    let t0 = timeline.first().map_or(0, |r| r.0) as f64;
    let t1 = (timeline.last().map_or(1, |r| r.0) as f64).max(t0 + 1.0);
    let max_players = timeline.iter().map(|r| r.1).max().unwrap_or(1).max(1) as f64;
    let max_replicas = (config.max_replicas.max(1)) as f64;
    let x = |t: u64| margin + (t as f64 - t0) / (t1 - t0) * (width - 2.0 * margin);
    let y = |v: f64, max: f64| height - margin - v / max * (height - 2.0 * margin);
    let line = |value: &dyn Fn(&(u64, u64, u64)) -> f64, max: f64, step: bool| {
        let mut points = Vec::new();
        for (i, row) in timeline.iter().enumerate() {
            if step && i > 0 {
                points.push(format!(
                    "{:.1},{:.1}",
                    x(row.0),
                    y(value(&timeline[i - 1]), max)
                ));
            }
            points.push(format!("{:.1},{:.1}", x(row.0), y(value(row), max)));
        }
        points.join(" ")
    };
    let players = line(&|r| r.1 as f64, max_players, false);
    let replicas = line(&|r| r.2 as f64, max_replicas, true);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<line x1="{margin}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="black"/>
<line x1="{margin}" y1="{margin}" x2="{margin}" y2="{bottom}" stroke="#1f77b4"/>
<line x1="{right}" y1="{margin}" x2="{right}" y2="{bottom}" stroke="#d62728"/>
<text x="{margin}" y="{label_y}" fill="#1f77b4">players (max {max_players})</text>
<text x="{right}" y="{label_y}" fill="#d62728" text-anchor="end">replicas (max {max_replicas})</text>
<text x="{mid}" y="{time_y}" text-anchor="middle">time (s), {t0} to {t1}</text>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{players}"/>
<polyline fill="none" stroke="#d62728" stroke-width="2" points="{replicas}"/>
</svg>
"##,
        bottom = height - margin,
        right = width - margin,
        label_y = margin - 10.0,
        mid = width / 2.0,
        time_y = height - 15.0,
    )
}

/// Runs `route`.
pub fn route(args: &RouteArgs) -> Result<u8> {
    let values = world_values(&args.chart, &args.values.options())?;
    let mut config = RegionRoutingConfig::from_values(&values)?;
    for code in &args.unhealthy {
        let region = config
            .regions
            .iter_mut()
            .find(|r| &r.code == code)
            .ok_or_else(|| {
                Error::usage(format!("--unhealthy `{code}` is not a configured region"))
            })?;
        region.healthy = false;
    }
    match config.route_player(&args.region)? {
        RoutingDecision::Primary { region } => crate::outln!("Primary {{ region: {region} }}"),
        RoutingDecision::Failover { region, reason } => {
            crate::outln!("Failover {{ region: {region} }}");
            crate::outln!("  why: {reason}");
        }
    }
    Ok(0)
}
