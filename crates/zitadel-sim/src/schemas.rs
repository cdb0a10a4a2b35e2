//! ZITADEL's own published schemas, as the shared checker (`check-log.mjs` of `../shared/tools/zitadel-api`, which
//! `.ci/run` installs into `target/zitadel-api`) applies them to an exchange log: a request ZITADEL would reject is
//! a client bug, a response it could not have given is a simulator bug.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The installed checker script (`ZITADEL_API_TOOLS`, else `target/zitadel-api`), or `None` when it is not
/// installed. Under CI (`CI` set) a missing checker is a failure, never a skip.
pub fn check_log_script() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let installed =
        std::env::var_os("ZITADEL_API_TOOLS").map(PathBuf::from).unwrap_or_else(|| root.join("target/zitadel-api"));
    let script = installed.join("check-log.mjs");
    let available = script.is_file() && installed.join("node_modules").is_dir();
    assert!(available || std::env::var("CI").is_err(), "CI must install the ZITADEL schema tools into {installed:?}");
    available.then_some(script)
}

/// Checks every exchange of `log` (the simulator's `exchange_log`): `None` when the checker is not installed,
/// else its report, `Err` when it found violations.
pub fn check_exchange_log(log: &Path) -> Option<Result<String, String>> {
    let script = check_log_script()?;
    let output = match Command::new("node").arg(&script).arg(log).output() {
        Ok(output) => output,
        Err(error) => return Some(Err(format!("cannot run node {}: {error}", script.display()))),
    };
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        return Some(Ok(report));
    }
    Some(Err(format!("{report}\n{}", String::from_utf8_lossy(&output.stderr))))
}
