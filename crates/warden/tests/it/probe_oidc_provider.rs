//! A second OIDC implementation, started by the test: panva's `oidc-provider` (npm; `.ci/run` runs `npm ci` in
//! `tests/oidc-provider`). Its discovery document and JWKS pass the probe; stopped, it is down and the finding opens;
//! started again on the same port, it recovers. Without node (or its packages) the test is skipped loudly, except
//! under `CI=true`, where that is a failure.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use time::OffsetDateTime;
use time::macros::datetime;
use warden::probe::{ProbePlan, ProbeSettings, ProbeTarget, probe_all};
use warden_core::health::{HealthPolicy, HealthStatus, ProbeResult, Target, TargetKind, evaluate_all};
use warden_core::id::{EnvironmentName, IdpId};
use warden_core::model::{IdpOwner, ProviderType};
use warden_core::posture::idp_unreachable;

const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

fn directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider")
}

/// The running provider; killed when dropped.
struct OidcProvider {
    child: Child,
    issuer: String,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `node server.mjs PORT` and waits for the issuer it prints.
async fn start(port: u16) -> OidcProvider {
    let mut child = Command::new("node")
        .arg("server.mjs")
        .arg(port.to_string())
        .current_dir(directory())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || BufReader::new(stdout).lines().next().and_then(Result::ok)),
    )
    .await
    .expect("oidc-provider prints its issuer within 30 s")
    .expect("reader")
    .expect("a line");
    let printed: serde_json::Value = serde_json::from_str(&line).expect("JSON");
    OidcProvider { child, issuer: printed["issuer"].as_str().expect("issuer").to_owned() }
}

fn available() -> bool {
    let node = Command::new("node").arg("--version").output().is_ok_and(|output| output.status.success());
    let installed = directory().join("node_modules/oidc-provider").exists();
    if node && installed {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must provide node and run `npm ci` in {} (the second OIDC implementation)",
        directory().display()
    );
    eprintln!(
        "\n************************************************************************************************\n\
         SKIPPING probe_oidc_provider: {} (run `npm ci --prefix {}`)\n\
         ************************************************************************************************\n",
        if node { "oidc-provider is not installed" } else { "node is missing" },
        directory().display()
    );
    false
}

#[tokio::test]
async fn a_second_oidc_implementation_is_probed_goes_down_and_recovers() {
    if !available() {
        return;
    }
    let provider = start(0).await;
    let issuer = provider.issuer.clone();
    let target = ProbeTarget {
        target: Target {
            environment: EnvironmentName::parse("prod").unwrap(),
            name: "oidc-provider".to_owned(),
            kind: TargetKind::IdentityProvider {
                id: IdpId::parse("1").unwrap(),
                provider_type: ProviderType::Oidc,
                owner: IdpOwner::Instance,
            },
        },
        plan: ProbePlan::Oidc { issuer: issuer.clone() },
    };
    let settings =
        ProbeSettings { allow_private: true, request_timeout: Duration::from_secs(3), ..ProbeSettings::default() };
    let policy = HealthPolicy { window: 3, down_after: 1, failure_rate_percent: 34, ..HealthPolicy::default() };
    let mut history: Vec<ProbeResult> = Vec::new();
    let round = |minutes: i64| {
        let (target, settings) = (target.clone(), settings.clone());
        async move {
            let at = NOW + time::Duration::minutes(minutes);
            let result = probe_all(vec![target.clone()], &settings, at).await.unwrap().remove(0);
            (result, at)
        }
    };

    let (first, at) = round(0).await;
    assert!(first.succeeded(), "{first:#?}");
    let discovery = &first.checks[0];
    assert!(discovery.detail.contains(&format!("issuer {issuer} matches")), "{discovery:?}");
    let keys = first.keys.unwrap();
    assert!(keys.usable >= 1 && keys.unusable == 0, "{first:#?}");
    assert!(first.checks[1].detail.contains("RS256"), "{:?}", first.checks[1]);
    history.push(first);
    let health = evaluate_all(std::slice::from_ref(&target.target), &history, &policy, at);
    assert_eq!(health[0].status, HealthStatus::Healthy);

    let port: u16 = issuer.rsplit(':').next().unwrap().parse().unwrap();
    drop(provider);
    let (second, at) = round(5).await;
    assert!(!second.succeeded());
    history.push(second);
    let health = evaluate_all(std::slice::from_ref(&target.target), &history, &policy, at);
    assert_eq!(health[0].status, HealthStatus::Down);
    assert_eq!(idp_unreachable(&target.target.environment, &health).len(), 1);

    let _restarted = start(port).await;
    let (third, at) = round(10).await;
    assert!(third.succeeded(), "{third:#?}");
    history.push(third);
    let health = evaluate_all(std::slice::from_ref(&target.target), &history, &policy, at);
    assert_eq!(health[0].status, HealthStatus::Healthy, "{:?}", health[0].reasons);
    assert!(idp_unreachable(&target.target.environment, &health).is_empty());
}
