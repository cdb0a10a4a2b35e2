use std::process::ExitCode;

/// mimalloc hands freed memory back to the system: a sync frees the fetched estate before governance reads the
/// stored one, and glibc's per-thread arenas would keep both.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    warden::cli::main()
}
