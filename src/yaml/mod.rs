//! The one place YAML is read and written.
//!
//! - [`guard`]: the flow-nesting limit checked before any parser runs.
//! - [`parse`]: serde_yaml behind one door, with its errors formatted.
//! - [`block`]: the fast reader for the block YAML rendered manifests are written in, straight
//!   into the [`tree`] every later step reads; anything outside its subset goes to [`full`].
//! - [`full`]: the full reader of rendered manifests (serde_yaml judges the text, yaml-rust2's
//!   events give the scalar styles).
//! - [`kube`]: how Kubernetes clients type plain scalars (YAML 1.1, as go-yaml v2).
//! - [`core_schema`]: how Helm types the plain scalars of values files (YAML 1.2, as serde_yaml).
//! - [`tree`]: JSON values whose strings borrow the text and whose collections live in arenas.
//! - [`thin`]: the 12-byte borrowed strings and slices the tree is made of.
//! - [`keys`]: object keys, numbered once per run, as the tree's members name them.
//! - [`emit`]: `toyaml`'s writer and the quoting rules of printed scalars.
//!
//! Values files are YAML 1.2, as Helm reads them; rendered manifests are read the way
//! Kubernetes clients read them, YAML 1.1.

pub(crate) mod block;
pub(crate) mod core_schema;
pub mod emit;
pub(crate) mod full;
pub(crate) mod guard;
pub(crate) mod keys;
pub(crate) mod kube;
pub(crate) mod parse;
pub mod thin;
pub mod tree;
