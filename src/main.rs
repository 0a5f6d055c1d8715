//! The `aether-chart` binary: parse arguments, run, report errors, exit with 0, 1 or 2.

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: aether_chart::memory::Bounded = aether_chart::memory::Bounded;

fn main() -> ExitCode {
    aether_chart::memory::set_ceiling();
    // Templates may nest macros deeply; give worker threads room for the recursion limit.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(64 << 20)
        .build_global();
    let cli = aether_chart::cli::Cli::parse();
    match std::panic::catch_unwind(|| aether_chart::run(cli)) {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(err)) => {
            eprintln!("Error: {err}");
            ExitCode::from(err.exit_code())
        }
        Err(_) => {
            eprintln!(
                "Error: aether-chart hit an internal error (a bug); please report it with the command line"
            );
            ExitCode::from(2)
        }
    }
}
