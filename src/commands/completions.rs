//! `aether-chart completions SHELL` and `aether-chart man`: generated from the command-line
//! definitions, so they never fall behind them.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, Result};

/// Arguments of `completions`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints the completion script for a shell.
pub fn completions(args: &CompletionsArgs) -> Result<u8> {
    let mut command = Cli::command();
    clap_complete::generate(
        args.shell,
        &mut command,
        "aether-chart",
        &mut std::io::stdout(),
    );
    Ok(0)
}

/// Prints the man page (roff) of aether-chart and its commands.
pub fn man() -> Result<u8> {
    let command = Cli::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut out)
        .map_err(|e| Error::input(format!("cannot write the man page: {e}")))?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        clap_mangen::Man::new(sub.clone())
            .title(format!("aether-chart-{}", sub.get_name()))
            .render(&mut out)
            .map_err(|e| Error::input(format!("cannot write the man page: {e}")))?;
    }
    crate::out!("{}", String::from_utf8_lossy(&out));
    Ok(0)
}
