//! Fuzz target: `aether_chart::fuzzing::set_flags` (see src/fuzzing.rs for what it checks).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aether_chart::fuzzing::set_flags(data));
