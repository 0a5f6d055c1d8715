//! Values: the tree, reading values files, `--set` parsing, Helm's layering and the schema check.

pub mod coalesce;
pub mod file;
pub mod options;
pub mod provenance;
pub mod quick;
pub mod schema;
pub mod strvals;
pub mod tree;

pub use options::ValuesOptions;
pub use tree::{Map, Value};
