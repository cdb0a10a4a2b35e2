use std::process::ExitCode;

/// mimalloc hands freed memory back to the system: a sync frees the fetched estate before governance reads the
/// stored one, and glibc's per-thread arenas would keep both. Its v2 line purges freed pages after 10 ms; v3 waits a
/// second, by which time governance (on other threads) has read the estate on top of the sync's, which took a
/// large estate's `warden sync` from about 250 to about 290 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    warden::cli::main()
}
