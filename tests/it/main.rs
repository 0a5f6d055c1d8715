//! Integration tests: the real `aether-chart` binary run against fixture charts, hostile
//! inputs, and real Helm 4 for the differential suite.

mod support;

mod argocd;
mod attacks;
mod chart_checkers;
mod cli;
mod constraints;
mod corpus;
mod crds;
mod create;
mod dependencies;
mod deploy;
mod diff;
mod differential;
mod fuzz_corpus;
mod hostile;
mod lint;
mod overlays;
mod packaging;
mod provenance;
mod realworld;
mod registry;
mod root_chart;
mod scripted;
mod template_flags;
mod transfers;
mod validate;
