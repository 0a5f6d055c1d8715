//! Fuzz target: `aether_chart::fuzzing::provenance` (see src/fuzzing.rs for what it checks).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aether_chart::fuzzing::provenance(data));
