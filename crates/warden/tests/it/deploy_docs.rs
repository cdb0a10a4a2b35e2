//! `docs/deploy.md`'s configuration reference stays complete and true: every key the configuration accepts is in
//! its table (and nothing else is), with the default the code has and the environment variable that sets it.

use std::collections::BTreeMap;
use std::path::Path;

use warden::config::{Config, CredentialConfig, EnvironmentConfig, PolicyConfig, SecretReference, WebhookConfig};

/// The reference table's rows: key -> (default, environment variable).
fn documented() -> BTreeMap<String, (String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("docs/deploy.md")).unwrap();
    let mut rows = BTreeMap::new();
    for line in text.lines().filter(|line| line.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        assert!(cells.len() >= 4, "a row of four cells: {line}");
        // One row may name several keys: `a`, `b`.
        for key in cells[0].split(", ") {
            rows.insert(key.trim_matches('`').to_owned(), (cells[1].to_owned(), cells[2].to_owned()));
        }
    }
    rows
}

/// Every key of a configuration with every optional part filled in, as `a.b` and `list[].c` paths, with the value
/// the default configuration gives it (where it has one).
fn keys() -> BTreeMap<String, Option<toml::Value>> {
    let defaults = toml::Value::try_from(Config::default()).unwrap();
    let mut full = Config::default();
    full.server.public_url = Some("https://warden.example".parse().unwrap());
    full.retention.changes = Some("730d".parse().unwrap());
    full.retention.audit_events = Some("730d".parse().unwrap());
    full.governance.policy = PolicyConfig {
        credential_max_lifetime_days: Some(1),
        credential_max_age_days: Some(1),
        expiring_soon_days: Some(1),
        manager_roles: Some(vec!["IAM_OWNER".to_owned()]),
        accumulation_min_population: Some(1),
        growth_percent: Some(1),
        growth_min_baseline: Some(1),
        growth_window_days: Some(1),
        certificate_expiring_high_days: Some(1),
        certificate_expiring_medium_days: Some(1),
    };
    full.governance.webhooks.push(WebhookConfig {
        name: "secops".to_owned(),
        url_env: "URL".to_owned(),
        format: Default::default(),
        min_severity: Default::default(),
        rules: Vec::new(),
    });
    let mut environment = EnvironmentConfig::new("prod", "https://acme.zitadel.cloud");
    environment.credential = CredentialConfig {
        pat_env: Some("PAT".to_owned()),
        key_file: Some("sa.json".into()),
        client_id_env: Some("ID".to_owned()),
        client_secret_env: Some("SECRET".to_owned()),
    };
    environment.actions_signing_key = Some(SecretReference::from_env("PROD_ACTIONS_KEY"));
    full.environments.push(environment);
    let mut keys = BTreeMap::new();
    walk("", &toml::Value::try_from(full).unwrap(), Some(&defaults), &mut keys);
    keys
}

fn walk(
    path: &str,
    value: &toml::Value,
    default: Option<&toml::Value>,
    keys: &mut BTreeMap<String, Option<toml::Value>>,
) {
    match value {
        // A map of free keys (`labels`) is one key.
        toml::Value::Table(table) if table.is_empty() => {
            keys.insert(path.to_owned(), None);
        }
        toml::Value::Table(table) => {
            for (key, child) in table {
                let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                let child_default = default.and_then(|default| default.get(key));
                walk(&child_path, child, child_default, keys);
            }
        }
        toml::Value::Array(items) if items.first().is_some_and(toml::Value::is_table) => {
            walk(&format!("{path}[]"), &items[0], None, keys);
        }
        _ => {
            keys.insert(path.to_owned(), default.cloned());
        }
    }
}

#[test]
fn the_configuration_reference_names_every_key_with_its_default_and_variable() {
    let documented = documented();
    let keys = keys();
    let missing: Vec<&String> = keys.keys().filter(|key| !documented.contains_key(*key)).collect();
    assert!(missing.is_empty(), "docs/deploy.md does not document {missing:?}");
    let unknown: Vec<&String> = documented.keys().filter(|key| !keys.contains_key(*key)).collect();
    assert!(unknown.is_empty(), "docs/deploy.md documents keys that do not exist: {unknown:?}");
    for (key, default) in &keys {
        let (documented_default, variable) = &documented[key];
        if key.contains("[]") {
            assert_eq!(variable, "file only", "{key}");
            continue;
        }
        let expected_variable = format!("`WARDEN_{}`", key.replace('.', "__").to_uppercase());
        assert_eq!(variable, &expected_variable, "{key}");
        // A default the code has is written as its TOML value, in backquotes.
        if let Some(default) = default.as_ref().filter(|default| !default.is_array()) {
            let shown = match default {
                toml::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            assert_eq!(documented_default, &format!("`{shown}`"), "{key}'s default");
        }
    }
}
