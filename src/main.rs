//! The `aether-chart` binary: parse arguments, run, report errors, exit with 0, 1 or 2.

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: aether_chart::memory::Bounded = aether_chart::memory::Bounded;

/// The stack of each worker thread.
const STACK: usize = 64 << 20;

fn main() -> ExitCode {
    aether_chart::memory::tune_heaps();
    // Templates may nest macros deeply; give worker threads room for the recursion limit. The
    // pool's threads start while the arguments are read (a global pool would be waited for),
    // and the command runs on one of them.
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(STACK)
        .start_handler(|_| {
            aether_chart::memory::huge_heap_start();
        })
        .build();
    let threads = pool.as_ref().map_or(0, |pool| pool.current_num_threads());
    aether_chart::memory::set_ceiling(threads, STACK);
    let cli = aether_chart::cli::Cli::from_process();
    let run = || std::panic::catch_unwind(|| aether_chart::run(cli));
    let outcome = match &pool {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    };
    match outcome {
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
