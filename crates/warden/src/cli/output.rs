//! Standard output for the commands: `print!`/`println!` without their panic when the reader has gone.
//!
//! `warden report | head -1` closes the pipe while warden still writes; `println!` would panic there (Rust
//! ignores SIGPIPE). A closed reader is not the command's failure: the rest of the output is dropped and the
//! command finishes with its own exit code (a `report --fail-on` gate still fails). Any other write error (a full
//! disk behind a redirect) is returned.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write found the reader gone; later output is dropped.
static READER_GONE: AtomicBool = AtomicBool::new(false);

/// Writes to standard output; `Ok` also when the reader has closed the pipe.
pub(crate) fn write_stdout(arguments: fmt::Arguments<'_>) -> io::Result<()> {
    if READER_GONE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = io::stdout().lock();
    match stdout.write_fmt(arguments).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
            READER_GONE.store(true, Ordering::Relaxed);
            Ok(())
        }
        result => result,
    }
}

/// `print!` returning `io::Result<()>`.
macro_rules! out {
    ($($argument:tt)*) => {
        $crate::cli::output::write_stdout(format_args!($($argument)*))
    };
}

/// `println!` returning `io::Result<()>`.
macro_rules! outln {
    () => {
        $crate::cli::output::write_stdout(format_args!("\n"))
    };
    ($($argument:tt)*) => {
        $crate::cli::output::write_stdout(format_args!("{}\n", format_args!($($argument)*)))
    };
}

pub(crate) use {out, outln};
