//! Probes against the simulator over real HTTP: its own issuer (health endpoints, discovery, the instance JWKS, a JWT
//! issued to warden's key and verified against it, the clock) and one identity provider of each kind whose endpoints
//! are local and behave well or badly. Each gets the right status and findings; status changes are stored as
//! history; when the bad ones recover, the findings clear and the statuses come back to healthy.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use time::OffsetDateTime;
use warden::probe::{ProbeSettings, ProbeTarget, probe_all, targets_from, zitadel_target};
use warden::store::Store;
use warden::sync::{SyncOptions, sync_once};
use warden_core::health::{HealthPolicy, HealthStatus, ProviderHealth, TargetId, evaluate_all, status_change};
use warden_core::id::EnvironmentName;
use warden_core::model::{ApiVersion, Environment, ObjectBatch, ResourceKind};
use warden_core::posture::{Policy, Severity, idp_certificate_expiring, idp_unreachable};
use warden_zitadel::{ClientOptions, Credential, ServiceAccountKey, ZitadelClient};
use zitadel_sim::{Estate, ProbeProviders, ProviderEndpoint, Simulator, SimulatorOptions};

const PAT: &str = "warden-probe-test-pat";

/// The providers this test probes: the simulator's providers to probe and three of the seed's (metadata and
/// configuration only, nothing on the network).
const PROBED: [&str; 17] = [
    "OIDC healthy",
    "OIDC slow",
    "OIDC without keys",
    "OIDC unreachable",
    "JWT healthy",
    "Entra ID healthy",
    "LDAP",
    "GitHub",
    "GitLab",
    "Apple",
    "SAML 10 days",
    "SAML 25 days",
    "SAML 400 days",
    "SAML rotating",
    "Google Workspace",
    "Okta",
    "Legacy ADFS",
];

#[allow(clippy::disallowed_methods, reason = "ZITADEL's Date header is the real clock; the clock-skew check needs it")]
fn real_now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn client(sim: &Simulator, credential: Credential) -> ZitadelClient {
    let mut options = ClientOptions::new(sim.base_url(), credential);
    options.rate_limit = 0;
    ZitadelClient::new(options).unwrap()
}

fn settings(sim: &Simulator) -> ProbeSettings {
    ProbeSettings {
        request_timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(1),
        probe_timeout: Duration::from_secs(10),
        allow_private: true,
        azure_authority: format!("{}/__idp/azure", sim.base_url()),
        ..ProbeSettings::default()
    }
}

fn policy() -> HealthPolicy {
    HealthPolicy {
        window: 3,
        down_after: 2,
        failure_rate_percent: 34,
        latency_threshold: Duration::from_millis(200),
        certificate_warning_days: 30,
    }
}

/// Probes `targets` now (ZITADEL's clock is the real one), stores the results and the status changes, and returns
/// the health by provider name.
async fn round(
    store: &dyn Store,
    targets: &[ProbeTarget],
    settings: &ProbeSettings,
) -> BTreeMap<String, ProviderHealth> {
    let at = real_now();
    let environment = EnvironmentName::parse("prod").unwrap();
    let results = probe_all(targets.to_vec(), settings, at).await.unwrap();
    assert_eq!(results.len(), targets.len());
    store.record_probes(&results).await.unwrap();
    let window = u32::try_from(policy().window).unwrap();
    let history = store.latest_probes(&environment, window).await.unwrap();
    let plain: Vec<_> = targets.iter().map(|target| target.target.clone()).collect();
    let healths = evaluate_all(&plain, &history, &policy(), at);
    let current = store.current_statuses(&environment).await.unwrap();
    let changes: Vec<_> = healths
        .iter()
        .filter_map(|health| status_change(current.get(&health.target.key()).copied(), health, at))
        .collect();
    store.record_status_changes(&changes).await.unwrap();
    healths.into_iter().map(|health| (health.target.name.clone(), health)).collect()
}

fn statuses(healths: &BTreeMap<String, ProviderHealth>) -> BTreeMap<&str, HealthStatus> {
    healths.iter().map(|(name, health)| (name.as_str(), health.status)).collect()
}

fn findings(healths: &BTreeMap<String, ProviderHealth>, now: OffsetDateTime) -> BTreeSet<String> {
    let environment = EnvironmentName::parse("prod").unwrap();
    let all: Vec<ProviderHealth> = healths.values().cloned().collect();
    let name_of = |id: &str| {
        all.iter().find(|health| health.target.id().as_str() == id).map(|health| health.target.name.clone()).unwrap()
    };
    let mut found: BTreeSet<String> = idp_unreachable(&environment, &all)
        .iter()
        .map(|finding| format!("{} {}", finding.rule, name_of(&finding.subject.id)))
        .collect();
    for finding in idp_certificate_expiring(&environment, &all, &Policy::default(), now) {
        let severity = if finding.severity == Severity::High { "high" } else { "medium" };
        found.insert(format!("{} {} {severity}", finding.rule, name_of(&finding.subject.id)));
    }
    found
}

#[tokio::test]
async fn every_kind_of_provider_gets_its_status_and_recovers() {
    let now = real_now();
    let mut options = SimulatorOptions::new(Estate::seed(now), PAT);
    options.probe_providers = Some(ProbeProviders { slow_latency: Duration::from_millis(400) });
    options.jwt_access_tokens = true;
    let sim = Simulator::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let pat = client(&sim, Credential::PersonalAccessToken(SecretString::from(PAT)));
    let key = ServiceAccountKey::from_json(&sim.control().service_account_key_json()).unwrap();
    let key_client = client(&sim, Credential::ServiceAccountKey(key));
    let environment = Environment {
        name: EnvironmentName::parse("prod").unwrap(),
        url: sim.base_url(),
        credential_reference: "pat_env:TEST".to_owned(),
        orgs: Vec::new(),
        sync_interval_seconds: 900,
        api: ApiVersion::Auto,
        labels: Default::default(),
    };
    let settings = settings(&sim);

    let (base_url, control) = (sim.base_url(), sim.control().clone());
    crate::support::on_sqlite(|store: Arc<dyn Store>| async move {
        sync_once(&environment, &pat, &*store, SyncOptions::default(), now).await.unwrap();
        let ObjectBatch::IdentityProviders(providers) =
            store.list_objects(&environment.name, ResourceKind::IdentityProvider).await.unwrap()
        else {
            panic!("identity providers expected");
        };
        let mut targets = vec![zitadel_target(&environment.name, &base_url.clone(), Some(key_client))];
        targets.extend(
            targets_from(&environment.name, &providers)
                .into_iter()
                .filter(|target| PROBED.contains(&target.target.name.as_str())),
        );
        assert_eq!(targets.len(), PROBED.len() + 1, "every provider to probe was synced");

        use HealthStatus::{Degraded, Down, Healthy};
        let first = round(&*store, &targets, &settings).await;
        let expected = BTreeMap::from([
            ("ZITADEL", Healthy),
            ("OIDC healthy", Healthy),
            ("OIDC slow", Degraded),
            ("OIDC without keys", Down),
            ("OIDC unreachable", Down),
            ("JWT healthy", Healthy),
            ("Entra ID healthy", Healthy),
            ("LDAP", Healthy),
            ("GitHub", Healthy),
            ("GitLab", Healthy),
            ("Apple", Healthy),
            ("Google Workspace", Healthy),
            ("SAML 10 days", Degraded),
            ("SAML 25 days", Degraded),
            ("SAML 400 days", Healthy),
            ("SAML rotating", Degraded),
            ("Okta", Healthy),
            ("Legacy ADFS", Degraded),
        ]);
        assert_eq!(statuses(&first), expected, "{first:#?}");

        let zitadel = first["ZITADEL"].latest.as_ref().unwrap();
        let checks: Vec<&str> = zitadel.checks.iter().map(|check| check.name.as_str()).collect();
        assert_eq!(checks, ["healthz", "ready", "clock skew", "discovery", "jwks", "token"]);
        let token = zitadel.checks.iter().find(|check| check.name == "token").unwrap();
        assert!(token.detail.contains("signature verifies against the JWKS"), "{token:?}");
        assert!(first["OIDC slow"].reasons[0].starts_with("median latency"), "{:?}", first["OIDC slow"].reasons);
        let unreachable = first["OIDC unreachable"].latest.as_ref().unwrap();
        assert!(unreachable.checks[0].detail.contains("Connection refused"), "{unreachable:?}");
        let keyless = first["OIDC without keys"].latest.as_ref().unwrap();
        assert_eq!(keyless.keys.map(|keys| keys.usable), Some(0));
        let rotating = &first["SAML rotating"];
        assert_eq!(rotating.certificates.len(), 2, "the current and the next certificate");
        // The simulator issues certificates to the second.
        let whole_second = now.replace_nanosecond(0).unwrap();
        assert_eq!(rotating.certificates[0].days_left(whole_second), 10);
        assert_eq!(rotating.certificates[1].days_left(whole_second), 400);
        assert_eq!(
            first["SAML 25 days"].certificate_expires_at(),
            Some(rotating.certificates[0].not_after + time::Duration::days(15))
        );

        assert_eq!(
            findings(&first, now),
            BTreeSet::from(
                [
                    "idp-unreachable OIDC without keys",
                    "idp-unreachable OIDC unreachable",
                    "idp-certificate-expiring SAML 10 days high",
                    "idp-certificate-expiring SAML 25 days medium",
                    "idp-certificate-expiring SAML rotating high",
                    "idp-certificate-expiring Legacy ADFS high",
                ]
                .map(str::to_owned)
            )
        );

        // A PAT is not exchanged: nothing to issue, and that is fine.
        let with_pat = zitadel_target(&environment.name, &base_url.clone(), Some(pat.clone()));
        let result = probe_all(vec![with_pat], &settings, now).await.unwrap();
        let token = result[0].checks.iter().find(|check| check.name == "token").unwrap();
        assert!(token.ok && token.detail.contains("personal access token"), "{token:?}");

        // The issuers recover; the finding clears at once, the status once the failure is a small part of the window.
        control.set_provider_endpoint("no-keys", ProviderEndpoint::Healthy);
        control.set_provider_endpoint("slow", ProviderEndpoint::Healthy);
        let second = round(&*store, &targets, &settings).await;
        assert_eq!(second["OIDC without keys"].status, Degraded, "{:?}", second["OIDC without keys"].reasons);
        assert!(!findings(&second, now).contains("idp-unreachable OIDC without keys"));
        assert!(findings(&second, now).contains("idp-unreachable OIDC unreachable"));
        let third = round(&*store, &targets, &settings).await;
        assert_eq!(third["OIDC without keys"].status, Healthy);
        assert_eq!(third["OIDC slow"].status, Healthy);
        assert_eq!(third["OIDC unreachable"].status, Down);

        let keyless_id = first["OIDC without keys"].target.id();
        let history = store.status_history(&environment.name, Some(&keyless_id), 10).await.unwrap();
        let transitions: Vec<(HealthStatus, HealthStatus)> =
            history.iter().rev().map(|change| (change.from, change.to)).collect();
        assert_eq!(
            transitions,
            [(HealthStatus::Unknown, Down), (Down, Degraded), (Degraded, Healthy)],
            "one entry per change, none for a status that stays"
        );
        let zitadel_history = store.status_history(&environment.name, Some(&TargetId::Zitadel), 10).await.unwrap();
        assert_eq!(zitadel_history.len(), 1, "ZITADEL stayed healthy");
    })
    .await;
    sim.shutdown().await;
}
