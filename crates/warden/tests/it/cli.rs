//! The `warden` binary as a user meets it: exit codes, one-line errors that name what is wrong and where, and
//! secrets that never reach the terminal.

use std::path::Path;
use std::process::{Command, Output};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `warden` in `directory` with only the given `WARDEN_*`-style variables set.
fn warden(directory: &Path, args: &[&str], variables: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_warden"));
    command.current_dir(directory).args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("WARDEN_") || key == "RUST_BACKTRACE" {
            command.env_remove(key);
        }
    }
    command.envs(variables.iter().copied());
    let Output { status, stdout, stderr } = command.output().unwrap();
    Run { code: status.code(), stdout: String::from_utf8(stdout).unwrap(), stderr: String::from_utf8(stderr).unwrap() }
}

/// Writes `warden.toml` and returns the name messages must show (figment shows it relative to the directory).
fn write_config(directory: &Path, text: &str) -> &'static str {
    std::fs::write(directory.join("warden.toml"), text).unwrap();
    "warden.toml"
}

/// Exit code 2 and exactly one line on stderr, without a panic or a backtrace.
fn assert_one_line_failure(run: &Run) -> &str {
    assert_eq!(run.code, Some(2), "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    let line = run.stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "{}", run.stderr);
    assert!(line.starts_with("error: "), "{line}");
    assert!(!line.contains("panicked") && !line.contains("backtrace"), "{line}");
    line
}

const PROD: &str = r#"
[[environments]]
name = "prod"
url = "https://acme.zitadel.cloud"
credential = { pat_env = "ZITADEL_PROD_PAT" }
"#;

#[test]
fn help_lists_only_working_commands_and_the_exit_codes() {
    let directory = tempfile::tempdir().unwrap();
    let run = warden(directory.path(), &["--help"], &[]);
    assert_eq!(run.code, Some(0));
    for expected in ["migrate", "config", "Exit codes", "--config"] {
        assert!(run.stdout.contains(expected), "{expected} missing from:\n{}", run.stdout);
    }
}

#[test]
fn an_unknown_key_names_the_key_and_the_file() {
    let directory = tempfile::tempdir().unwrap();
    let file = write_config(directory.path(), "[database]\nurl = \"sqlite://w.db\"\npool_size = 3\n");
    let line = assert_one_line_failure(&warden(directory.path(), &["config", "check"], &[])).to_owned();
    assert!(line.contains("pool_size") && line.contains(file), "{line}");

    let file = write_config(directory.path(), &format!("{PROD}sync_intervall = \"5m\"\n"));
    let run = warden(directory.path(), &["config", "check"], &[("ZITADEL_PROD_PAT", "x")]);
    let line = assert_one_line_failure(&run);
    assert!(line.contains("sync_intervall") && line.contains(file), "{line}");
}

#[test]
fn a_wrong_type_names_the_key_and_the_file() {
    let directory = tempfile::tempdir().unwrap();
    let file = write_config(directory.path(), &format!("{PROD}concurrency = \"many\"\n"));
    let run = warden(directory.path(), &["config", "check"], &[("ZITADEL_PROD_PAT", "x")]);
    let line = assert_one_line_failure(&run);
    assert!(line.contains("concurrency") && line.contains(file), "{line}");
}

#[test]
fn a_bad_value_names_the_environment_field_and_the_file() {
    let directory = tempfile::tempdir().unwrap();
    let file = write_config(directory.path(), &format!("{PROD}api = \"v3\"\n"));
    let run = warden(directory.path(), &["config", "check"], &[("ZITADEL_PROD_PAT", "x")]);
    let line = assert_one_line_failure(&run);
    assert!(line.contains("environments[0].api") && line.contains("v3") && line.contains(file), "{line}");

    write_config(directory.path(), &PROD.replace("\"prod\"", "\"Prod EU\""));
    let line = assert_one_line_failure(&warden(directory.path(), &["config", "check"], &[])).to_owned();
    assert!(line.contains("environments[0].name"), "{line}");

    write_config(directory.path(), &format!("{PROD}{PROD}"));
    let run = warden(directory.path(), &["config", "check"], &[("ZITADEL_PROD_PAT", "x")]);
    assert!(assert_one_line_failure(&run).contains("used by two environments"));

    write_config(directory.path(), &format!("{PROD}removal_guard_percent = 150\n"));
    let run = warden(directory.path(), &["config", "check"], &[("ZITADEL_PROD_PAT", "x")]);
    assert!(assert_one_line_failure(&run).contains("environments[0].removal_guard_percent"));

    write_config(directory.path(), &format!("[retention]\nscim_request_log = \"a month\"\n{PROD}"));
    let run = warden(directory.path(), &["config", "check"], &[("ZITADEL_PROD_PAT", "x")]);
    let line = assert_one_line_failure(&run);
    assert!(line.contains("retention.scim_request_log") && line.contains("a month"), "{line}");
}

#[test]
fn a_missing_credential_variable_names_the_variable_and_the_environment() {
    let directory = tempfile::tempdir().unwrap();
    write_config(directory.path(), PROD);
    let line = assert_one_line_failure(&warden(directory.path(), &["config", "check"], &[])).to_owned();
    assert!(line.contains("ZITADEL_PROD_PAT") && line.contains("prod"), "{line}");
}

#[test]
fn a_missing_config_file_is_an_error_when_named() {
    let directory = tempfile::tempdir().unwrap();
    let run = warden(directory.path(), &["--config", "nope.toml", "migrate"], &[]);
    assert!(assert_one_line_failure(&run).contains("nope.toml"));
    let run = warden(directory.path(), &["migrate"], &[("WARDEN_CONFIG", "also-nope.toml")]);
    assert!(assert_one_line_failure(&run).contains("also-nope.toml"));
}

#[test]
fn an_unreachable_database_is_one_line_without_its_password() {
    let directory = tempfile::tempdir().unwrap();
    let url = "postgres://warden:sekrit@127.0.0.1:1/warden";
    for args in [&["migrate"][..], &["config", "check"][..]] {
        let run = warden(directory.path(), args, &[("WARDEN_DATABASE__URL", url)]);
        let line = assert_one_line_failure(&run);
        assert!(line.contains("127.0.0.1:1") && !line.contains("sekrit"), "{line}");
    }
    let run = warden(directory.path(), &["migrate"], &[("WARDEN_DATABASE__URL", "mysql://localhost/w")]);
    assert!(assert_one_line_failure(&run).contains("database.url"));
}

#[test]
fn the_example_config_is_valid_as_shipped() {
    let directory = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../warden.example.toml");
    std::fs::copy(example, directory.path().join("warden.toml")).unwrap();
    let variables = [("ZITADEL_PROD_PAT", "x"), ("WARDEN_SECOPS_WEBHOOK_URL", "https://hooks.example/secops")];
    let run = warden(directory.path(), &["config", "check"], &variables);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("scim_request_log = \"30d\""), "{}", run.stdout);
}

#[test]
fn config_check_prints_the_resolved_config_and_no_secret() {
    let directory = tempfile::tempdir().unwrap();
    let key = r#"{"type":"serviceaccount","keyId":"k1","key":"-----BEGIN RSA PRIVATE KEY-----\nMIIEkeymaterial\n-----END RSA PRIVATE KEY-----","userId":"u1"}"#;
    std::fs::write(directory.path().join("sa.json"), key).unwrap();
    write_config(
        directory.path(),
        &format!(
            "{PROD}\n[[environments]]\nname = \"staging\"\nurl = \"https://staging.example\"\n\
             credential = {{ key_file = \"sa.json\" }}\napi = \"v1\"\nrate_limit = 0\n"
        ),
    );
    let variables = [
        ("ZITADEL_PROD_PAT", "pat-value-that-must-never-show"),
        ("WARDEN_DATABASE__URL", "sqlite://elsewhere.db"),
        ("WARDEN_SERVER__LISTEN", "0.0.0.0:9090"),
    ];
    let run = warden(directory.path(), &["config", "check"], &variables);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for expected in ["sqlite://elsewhere.db", "0.0.0.0:9090", "pat_env = \"ZITADEL_PROD_PAT\"", "rate_limit = 0"] {
        assert!(run.stdout.contains(expected), "{expected} missing from:\n{}", run.stdout);
    }
    assert!(run.stdout.contains("credential pat_env:ZITADEL_PROD_PAT is readable"), "{}", run.stdout);
    assert!(run.stdout.contains("credential key_file:sa.json is readable"), "{}", run.stdout);
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains("pat-value-that-must-never-show") && !output.contains("MIIE"), "{output}");
    }
    assert!(!directory.path().join("elsewhere.db").exists(), "a check leaves no database behind");
}

#[test]
fn migrate_creates_the_sqlite_file_and_can_run_again_with_json_logs() {
    let directory = tempfile::tempdir().unwrap();
    let run = warden(directory.path(), &["migrate"], &[("WARDEN_LOG_FORMAT", "json")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(directory.path().join("warden.db").is_file());
    let lines: Vec<serde_json::Value> = run.stderr.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(lines.iter().any(|line| line["fields"]["message"] == "database schema is up to date"), "{}", run.stderr);
    let again = warden(directory.path(), &["migrate"], &[]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(again.stderr.contains("database schema is up to date"), "{}", again.stderr);
}

#[test]
fn migrate_works_on_postgres() {
    let Some(admin) = crate::support::postgres_admin_url() else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let scratch = runtime.block_on(warden::store::create_scratch_database(&admin, "warden_cli")).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let run = warden(directory.path(), &["migrate"], &[("WARDEN_DATABASE__URL", scratch.expose())]);
    runtime.block_on(warden::store::drop_scratch_database(&admin, &scratch)).unwrap();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}
