//! Charts: `Chart.yaml`, loading from a directory or a `.tgz`, `.helmignore`, dependencies.

pub mod crds;
pub mod dependencies;
pub mod glob;
pub mod helm_json;
pub mod ignore;
pub mod loader;
pub mod lock;
pub mod metadata;
pub mod package;
pub mod provenance;
pub mod remote;
pub mod repo;

pub use loader::{Limits, load};
pub use metadata::Metadata;

use crate::values::Map;

/// A file of a chart: its path relative to the chart root (`/`-separated) and its bytes.
#[derive(Debug, Clone)]
pub struct File {
    /// Path relative to the chart root, e.g. `templates/api.yaml`.
    pub name: String,
    /// The file's contents (a UTF-8 byte-order mark removed).
    pub data: Vec<u8>,
}

/// A loaded chart with its subcharts.
#[derive(Debug, Clone)]
pub struct Chart {
    /// `Chart.yaml`.
    pub metadata: Metadata,
    /// The chart's default values (`values.yaml`).
    pub values: Map,
    /// The text of `values.yaml`, kept for positions in messages.
    pub values_text: String,
    /// `values.schema.json`, if present.
    pub schema: Option<Vec<u8>>,
    /// Files under `templates/`.
    pub templates: Vec<File>,
    /// Every other file (what `files.get` may read).
    pub files: Vec<File>,
    /// Subcharts from `charts/`.
    pub dependencies: Vec<Chart>,
    /// Where the chart's files are, for messages: `` for the root, `charts/x/` for a subchart.
    pub origin: String,
}

impl Chart {
    /// The chart's name (an alias once dependencies are processed).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }
}
