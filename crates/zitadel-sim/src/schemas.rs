//! ZITADEL's own published schemas, as the shared checker (`check-log.mjs` of `../shared/tools/zitadel-api`, which
//! `.ci/run` installs into `target/zitadel-api`) applies them to an exchange log: a request ZITADEL would reject is
//! a client bug, a response it could not have given is a simulator bug.
//!
//! `check-log.mjs` finds each exchange's messages by its route, and fails a route the pinned `@zitadel/proto` does
//! not map to REST. [`NEWER_ROUTES`] are routes ZITADEL serves whose messages the pinned package holds but whose
//! REST mapping is newer than it: their exchanges are taken out of the log and checked, just as strictly, by message
//! type with `check.mjs --type`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// A route served by ZITADEL whose REST mapping the pinned schemas lack, with its request and response messages.
#[derive(Debug, Clone, Copy)]
pub struct NewerRoute {
    pub verb: &'static str,
    pub path: &'static str,
    pub request: &'static str,
    pub response: &'static str,
}

/// `UserService.ListKeys` and `UserService.ListPersonalAccessTokens` (user v2): the messages are in the pinned
/// package, their `google.api.http` options are not.
pub const NEWER_ROUTES: &[NewerRoute] = &[
    NewerRoute {
        verb: "POST",
        path: "/v2/users/keys/search",
        request: "zitadel.user.v2.ListKeysRequest",
        response: "zitadel.user.v2.ListKeysResponse",
    },
    NewerRoute {
        verb: "POST",
        path: "/v2/users/pats/search",
        request: "zitadel.user.v2.ListPersonalAccessTokensRequest",
        response: "zitadel.user.v2.ListPersonalAccessTokensResponse",
    },
];

/// The installed checker script (`ZITADEL_API_TOOLS`, else `target/zitadel-api`), or `None` when it is not
/// installed. Under CI (`CI` set) a missing checker is a failure, never a skip.
pub fn check_log_script() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let installed =
        std::env::var_os("ZITADEL_API_TOOLS").map(PathBuf::from).unwrap_or_else(|| root.join("target/zitadel-api"));
    let script = installed.join("check-log.mjs");
    let available =
        script.is_file() && installed.join("check.mjs").is_file() && installed.join("node_modules").is_dir();
    assert!(available || std::env::var("CI").is_err(), "CI must install the ZITADEL schema tools into {installed:?}");
    available.then_some(script)
}

/// Checks every exchange of `log` (the simulator's `exchange_log`): `None` when the checker is not installed,
/// else its report, `Err` when it found violations. Exchanges of [`NEWER_ROUTES`] are checked by message type;
/// the report's last line sums both checks.
pub fn check_exchange_log(log: &Path) -> Option<Result<String, String>> {
    let check_log = check_log_script()?;
    let check_type = check_log.with_file_name("check.mjs");
    let text = match std::fs::read_to_string(log) {
        Ok(text) => text,
        Err(error) => return Some(Err(format!("cannot read the exchange log {}: {error}", log.display()))),
    };
    let split = split_log(&text);
    let mut outcome = Outcome::default();
    let mut scratch = Vec::new();
    if split.newer.is_empty() {
        outcome.add("check-log.mjs", run(Command::new("node").arg(&check_log).arg(log)));
    } else {
        let rest = sibling(log, "by-route.jsonl");
        outcome.add(
            "check-log.mjs",
            write(&rest, &split.rest).and_then(|()| run(Command::new("node").arg(&check_log).arg(&rest))),
        );
        scratch.push(rest);
        for (index, (message, values)) in split.newer.iter().enumerate() {
            let file = sibling(log, &format!("by-type-{index}.jsonl"));
            let checked = write(&file, values)
                .and_then(|()| run(Command::new("node").arg(&check_type).arg("--type").arg(message).arg(&file)));
            outcome.add(&format!("check.mjs --type {message}"), checked);
            scratch.push(file);
        }
    }
    for file in scratch {
        let _ = std::fs::remove_file(file);
    }
    outcome.problems.extend(split.unreadable);
    Some(outcome.finish())
}

/// A log split into the lines `check-log.mjs` can check and, per message type, the bodies of [`NEWER_ROUTES`].
#[derive(Debug, Default)]
struct SplitLog {
    rest: Vec<String>,
    /// Message type -> its JSON values, one compact line each (in [`NEWER_ROUTES`] order, requests first).
    newer: Vec<(&'static str, Vec<String>)>,
    unreadable: Vec<String>,
}

fn split_log(text: &str) -> SplitLog {
    let mut split = SplitLog::default();
    for (number, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let exchange: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        let verb = exchange["verb"].as_str().unwrap_or_default();
        let path = exchange["path"].as_str().unwrap_or_default().split('?').next().unwrap_or_default();
        let Some(route) = NEWER_ROUTES.iter().find(|route| route.verb.eq_ignore_ascii_case(verb) && route.path == path)
        else {
            split.rest.push(line.to_owned());
            continue;
        };
        for (message, body) in [(route.request, &exchange["body"]), (route.response, &exchange["response"])] {
            // As `check-log.mjs`: an empty body (an error response, a request without one) is not checked.
            let body = body.as_str().unwrap_or_default();
            if body.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(body) {
                Ok(value) => {
                    let position = match split.newer.iter().position(|(known, _)| *known == message) {
                        Some(position) => position,
                        None => {
                            split.newer.push((message, Vec::new()));
                            split.newer.len() - 1
                        }
                    };
                    split.newer[position].1.push(value.to_string());
                }
                Err(error) => split.unreadable.push(format!("line {}: {verb} {path} ({message}): {error}", number + 1)),
            }
        }
    }
    split
}

/// The combined result of several checker runs.
#[derive(Debug, Default)]
struct Outcome {
    report: String,
    /// Exchanges no checker could read, checkers that could not run.
    problems: Vec<String>,
    a_check_failed: bool,
    passed: u64,
    failed: u64,
}

impl Outcome {
    fn add(&mut self, what: &str, run: Result<(bool, String), String>) {
        match run {
            Ok((success, report)) => {
                let (passed, failed) = counts(&report);
                self.passed += passed;
                self.failed += failed;
                self.a_check_failed |= !success;
                self.report.push_str(&format!("{what}:\n{report}"));
            }
            Err(error) => self.problems.push(format!("{what}: {error}")),
        }
    }

    fn finish(mut self) -> Result<String, String> {
        for problem in &self.problems {
            self.report.push_str(&format!("{problem}\n"));
        }
        let failed = self.failed + self.problems.len() as u64;
        self.report.push_str(&format!("{} passed, {failed} failed", self.passed));
        if self.a_check_failed || !self.problems.is_empty() { Err(self.report) } else { Ok(self.report) }
    }
}

/// `N passed, M failed`, the last line both scripts print.
fn counts(report: &str) -> (u64, u64) {
    let last = report.lines().rev().find(|line| line.contains(" passed, ")).unwrap_or_default();
    let mut numbers = last.split(|c: char| !c.is_ascii_digit()).filter(|part| !part.is_empty());
    let mut next = || numbers.next().and_then(|number| number.parse().ok()).unwrap_or(0);
    (next(), next())
}

fn sibling(log: &Path, suffix: &str) -> PathBuf {
    let name = log.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    log.with_file_name(format!("{name}.{suffix}"))
}

fn write(file: &Path, lines: &[String]) -> Result<(), String> {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(file, text).map_err(|error| format!("cannot write {}: {error}", file.display()))
}

/// Runs a checker: whether it passed, and its standard output (with its standard error when it failed).
fn run(command: &mut Command) -> Result<(bool, String), String> {
    let output = command.output().map_err(|error| format!("cannot run node: {error}"))?;
    let mut report = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        report.push_str(&String::from_utf8_lossy(&output.stderr));
    }
    Ok((output.status.success(), report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_routes_are_taken_out_by_message_type_and_the_rest_is_left() {
        let log = [
            r#"{"verb":"POST","path":"/v2/users","body":"{}","response":"{}"}"#,
            r#"{"verb":"POST","path":"/v2/users/keys/search","body":"{\"pagination\":{}}","response":""}"#,
            r#"{"verb":"POST","path":"/v2/users/pats/search?x=1","body":"","response":"{\n\"result\":[]}"}"#,
            r#"{"verb":"POST","path":"/v2/users/keys/search","body":"{not json","response":""}"#,
        ]
        .join("\n");
        let split = split_log(&log);
        assert_eq!(split.rest.len(), 1);
        let types: Vec<_> = split.newer.iter().map(|(message, values)| (*message, values.clone())).collect();
        assert_eq!(
            types,
            [
                ("zitadel.user.v2.ListKeysRequest", vec![r#"{"pagination":{}}"#.to_owned()]),
                ("zitadel.user.v2.ListPersonalAccessTokensResponse", vec![r#"{"result":[]}"#.to_owned()]),
            ]
        );
        assert_eq!(split.unreadable.len(), 1, "{:?}", split.unreadable);
        assert_eq!(counts("x\n3 passed, 1 failed\n"), (3, 1));
    }
}
