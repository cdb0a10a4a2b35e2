use std::process::ExitCode;

fn main() -> ExitCode {
    warden::cli::main()
}
