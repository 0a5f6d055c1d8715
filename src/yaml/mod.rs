//! The one place YAML is read and written.
//!
//! - [`guard`]: the flow-nesting limit checked before any parser runs.
//! - [`parse`]: serde_yaml behind one door, with its errors formatted.
//! - [`block`]: the fast reader for the block YAML rendered manifests are written in, straight
//!   into the [`tree`] every later step reads; anything outside its subset goes to serde_yaml.
//! - [`tree`]: JSON values whose strings borrow the text and whose collections live in arenas.
//! - [`emit`]: `toyaml`'s writer and the quoting rules of printed scalars.
//!
//! Values files are YAML 1.2; rendered manifests are read the way serde_yaml reads them.

pub(crate) mod block;
pub mod emit;
pub(crate) mod guard;
pub(crate) mod parse;
pub mod tree;
