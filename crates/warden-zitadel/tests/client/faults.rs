//! Every injected fault class, and what the client makes of it.

use std::time::{Duration, Instant};

use warden_core::id::OrgId;
use warden_zitadel::{Credential, Error, ZitadelClient};
use zitadel_sim::{Fault, FaultKind};

use crate::support::{ADMIN_PAT, Sim, fast_retries, options_for};

const USERS_SEARCH: &str = "POST /management/v1/users/_search";

fn client(sim: &Sim, page_size: u32, max_retries: u32, timeout: Duration) -> ZitadelClient {
    let mut options = options_for(sim, Credential::PersonalAccessToken(ADMIN_PAT.into()));
    options.page_size = page_size;
    options.retry = fast_retries(max_retries);
    options.timeout = timeout;
    ZitadelClient::new(options).unwrap()
}

/// The organization with the most users, and how many it has.
fn busiest_org(sim: &Sim) -> (OrgId, usize) {
    sim.control().with_estate(|estate| {
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for user in estate.users() {
            *counts.entry(user.org_id.clone()).or_default() += 1;
        }
        let (org, count) = counts.into_iter().max_by_key(|(_, count)| *count).unwrap();
        (OrgId::parse(org).unwrap(), count)
    })
}

fn fault(route: &str, org: Option<&OrgId>, kind: FaultKind, skip: u32, times: Option<u32>) -> Fault {
    Fault { route: route.to_owned(), org_id: org.map(|org| org.to_string()), kind, skip, times }
}

#[tokio::test]
async fn a_500_on_the_third_page_fails_the_list_and_says_where() {
    let sim = Sim::seed().await;
    let (org, users) = busiest_org(&sim);
    assert!(users > 15, "the busiest org has {users} users");
    sim.control().add_fault(fault(USERS_SEARCH, Some(&org), FaultKind::Status(500), 2, Some(1)));
    let error = client(&sim, 5, 3, Duration::from_secs(5)).list_users(&org).await.unwrap_err();
    assert!(matches!(error, Error::Api { status: 500, .. }), "{error}");
    assert!(error.to_string().contains("(offset 10)"), "{error}");
}

#[tokio::test]
async fn transient_statuses_are_retried_until_they_pass() {
    let sim = Sim::seed().await;
    let (org, users) = busiest_org(&sim);
    for status in [502, 503, 504] {
        sim.control().clear_faults();
        sim.control().add_fault(fault(USERS_SEARCH, Some(&org), FaultKind::Status(status), 1, Some(2)));
        let client = client(&sim, 5, 3, Duration::from_secs(5));
        assert_eq!(client.list_users(&org).await.unwrap().len(), users, "HTTP {status}");
        assert_eq!(client.stats().retries(), 2, "HTTP {status}");
    }
}

#[tokio::test]
async fn retry_after_is_honoured_and_a_storm_beyond_the_retries_is_reported() {
    let sim = Sim::seed().await;
    let (org, users) = busiest_org(&sim);
    sim.control().add_fault(fault(USERS_SEARCH, None, FaultKind::RateLimited { retry_after_seconds: 1 }, 0, Some(2)));
    let client = client(&sim, 1_000, 3, Duration::from_secs(5));
    let started = Instant::now();
    assert_eq!(client.list_users(&org).await.unwrap().len(), users);
    assert!(started.elapsed() >= Duration::from_secs(2), "waited {:?}", started.elapsed());
    assert_eq!(client.stats().retries(), 2);

    sim.control().clear_faults();
    sim.control().add_fault(fault(USERS_SEARCH, None, FaultKind::RateLimited { retry_after_seconds: 0 }, 0, None));
    let error = client.list_users(&org).await.unwrap_err();
    assert!(matches!(error, Error::RateLimited { attempts: 4, .. }), "{error}");
}

#[tokio::test]
async fn a_hanging_request_times_out_and_a_slow_one_does_not() {
    let sim = Sim::seed().await;
    let (org, users) = busiest_org(&sim);
    sim.control().add_fault(fault(USERS_SEARCH, None, FaultKind::Latency(Duration::from_millis(150)), 0, None));
    assert_eq!(client(&sim, 1_000, 0, Duration::from_secs(2)).list_users(&org).await.unwrap().len(), users);

    sim.control().clear_faults();
    sim.control().add_fault(fault(USERS_SEARCH, None, FaultKind::Hang, 0, None));
    let started = Instant::now();
    let error = client(&sim, 1_000, 1, Duration::from_millis(300)).list_users(&org).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3), "gave up after {:?}", started.elapsed());
}

#[tokio::test]
async fn a_truncated_body_is_retried_then_reported() {
    let sim = Sim::seed().await;
    let (org, users) = busiest_org(&sim);
    sim.control().add_fault(fault(USERS_SEARCH, None, FaultKind::TruncatedBody, 0, Some(1)));
    let client = client(&sim, 1_000, 2, Duration::from_secs(5));
    assert_eq!(client.list_users(&org).await.unwrap().len(), users);
    assert_eq!(client.stats().retries(), 1);

    sim.control().clear_faults();
    sim.control().add_fault(fault(USERS_SEARCH, None, FaultKind::TruncatedBody, 0, None));
    let error = client.list_users(&org).await.unwrap_err();
    assert!(matches!(error, Error::InvalidResponse { .. }), "{error}");
}

#[tokio::test]
async fn a_total_that_changes_while_paging_is_detected() {
    let sim = Sim::seed().await;
    let (org, _) = busiest_org(&sim);
    // The second page is slow; while it is on its way, a user is added to the org.
    sim.control().add_fault(fault(
        USERS_SEARCH,
        Some(&org),
        FaultKind::Latency(Duration::from_millis(400)),
        1,
        Some(1),
    ));
    let client = client(&sim, 5, 0, Duration::from_secs(5));
    let listing = tokio::spawn({
        let org = org.clone();
        async move { client.list_users(&org).await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        estate.add_machine_user(&editor, org.as_str(), "late-arrival", "Late arrival", "created mid-list").unwrap();
    });
    let error = listing.await.unwrap().unwrap_err();
    assert!(matches!(error, Error::TotalChanged { .. } | Error::ShortPage { .. }), "{error}");
}
