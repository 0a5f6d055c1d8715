//! Standard output for the commands: a closed pipe (`aether-chart values | head -1`) ends the
//! process quietly with exit 0, as ripgrep does, instead of the panic `println!` gives; any other
//! failure to write is one line on stderr and exit 2.

use std::io::Write;

/// Writes `args` to standard output (see the module).
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("Error: cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

/// `print!` for the commands, through [`write`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*))
    };
}

/// `println!` for the commands, through [`write`].
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
