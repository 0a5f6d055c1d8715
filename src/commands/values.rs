//! `aether-chart values`: the layered values of a chart, or where one key was set.

use crate::chart::Limits;
use crate::cli::ValuesArgs;
use crate::error::{Error, Result};
use crate::release::{DEFAULT_KUBE_VERSION, check_values, load_chart, prepare_chart};
use crate::values::Value;
use crate::values::provenance::Provenance;
use crate::version::parse_lenient;
use crate::yaml::emit::to_yaml;

/// Arguments of `values`.
#[derive(Debug, Clone, clap::Args)]
pub struct ValuesCommandArgs {
    /// The chart (default `.`).
    #[arg(value_name = "CHART", default_value = ".")]
    pub chart: std::path::PathBuf,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Print every layer that set KEY (dotted, e.g. api.autoscaling.maxReplicas), in order, with
    /// file and line, instead of the values.
    #[arg(long, value_name = "KEY")]
    pub explain: Option<String>,
    #[command(flatten)]
    pub source: crate::cli::ChartSourceArgs,
}

/// Runs `values`.
pub fn run(args: &ValuesCommandArgs) -> Result<u8> {
    let options = args.values.options();
    let kube = parse_lenient(DEFAULT_KUBE_VERSION).map_err(Error::usage)?;
    // A chart from a registry, a repository or a URL is fetched once, into memory.
    let archive = args
        .source
        .fetch(&args.chart.to_string_lossy(), Limits::default())?;
    let load = || {
        let chart = load_chart(&args.chart, archive.as_ref(), Limits::default())?;
        prepare_chart(chart, &options, &kube)
    };
    let Some(key) = &args.explain else {
        let prepared = load()?;
        check_values(&prepared, &options)?;
        let text = to_yaml(&Value::Map(prepared.values).to_template())
            .map_err(|e| Error::input(format!("cannot print the values: {e}")))?;
        crate::outln!("{text}");
        return Ok(0);
    };
    // Explaining is how a schema violation is understood: the layers are printed first, the
    // violations after them (and the exit is 1).
    let prepared = load()?;
    let provenance = Provenance::build(&prepared.chart, &prepared.values_files, &options);
    explain_key(&provenance, key)?;
    match check_values(&prepared, &options) {
        Ok(()) => Ok(0),
        Err(e) => {
            eprintln!("Error: {e}");
            Ok(1)
        }
    }
}

/// Prints every layer that set `key`, or each key below it.
fn explain_key(provenance: &Provenance, key: &str) -> Result<()> {
    let origins = provenance.origins(key);
    if origins.is_empty() {
        let under: Vec<&str> = provenance
            .keys()
            .filter(|k| k.starts_with(&format!("{key}.")))
            .collect();
        if under.is_empty() {
            return Err(Error::usage(format!(
                "--explain `{key}`: no values file or flag sets this key; check its spelling"
            )));
        }
        for k in under {
            explain(provenance, k);
        }
        return Ok(());
    }
    explain(provenance, key);
    Ok(())
}

/// Prints every layer that set `key`, the winning one last.
fn explain(provenance: &Provenance, key: &str) {
    let origins = provenance.origins(key);
    for (i, origin) in origins.iter().enumerate() {
        let marker = if i + 1 == origins.len() { "=>" } else { "  " };
        crate::outln!("{marker} {}: {key} = {}", origin.place, origin.value);
    }
}
