//! One module per subcommand; each turns parsed arguments into settings and runs them.

pub mod argocd;
pub mod completions;
pub mod create;
pub mod dependency;
pub mod deploy;
pub mod diff;
pub mod docs;
pub mod lint;
pub mod oci;
pub mod package;
pub mod repo;
pub mod show;
pub mod template;
pub mod validate;
pub mod values;
pub mod verify;
