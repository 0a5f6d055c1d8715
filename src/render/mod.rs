//! Rendering: the template environment and its context, filters, `toyaml`, and turning
//! rendered text into the ordered, checked manifest stream.

pub mod context;
pub mod engine;
pub mod files;
pub mod filters;
pub mod manifest;
pub mod name;

pub use context::{Capabilities, Release};
pub use engine::{RenderOptions, Rendered, render};
