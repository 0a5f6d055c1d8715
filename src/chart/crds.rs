//! A chart's `crds/` folder, as Helm reads it: the files there (`.yaml`, `.yml`, `.json`) are
//! not templates; `template --include-crds` prints them before everything else, `show crds`
//! prints them, and the validator checks the chart's custom resources against their schemas.

use super::{Chart, File};

/// The CRD files of `chart` and of its subcharts (after conditions and tags), the chart's own
/// first, each with the path Helm gives it (`mychart/crds/a.yaml`,
/// `mychart/charts/sub/crds/b.yaml`).
pub fn files(chart: &Chart) -> Vec<(String, &File)> {
    let mut out = Vec::new();
    collect(chart, chart.name().to_string(), &mut out);
    out
}

fn collect<'c>(chart: &'c Chart, prefix: String, out: &mut Vec<(String, &'c File)>) {
    let mut own: Vec<&File> = chart
        .files
        .iter()
        .filter(|f| {
            f.name.starts_with("crds/")
                && [".yaml", ".yml", ".json"]
                    .iter()
                    .any(|ext| f.name.ends_with(ext))
        })
        .collect();
    own.sort_by(|a, b| a.name.cmp(&b.name));
    out.extend(own.into_iter().map(|f| (format!("{prefix}/{}", f.name), f)));
    for sub in &chart.dependencies {
        collect(sub, format!("{prefix}/charts/{}", sub.name()), out);
    }
}

/// Whether a manifest's source names a file of a `crds/` folder rather than a template.
pub fn is_crd_source(source: &str) -> bool {
    let mut parts = source.split('/');
    parts.clone().any(|part| part == "crds") && !parts.any(|part| part == "templates")
}
