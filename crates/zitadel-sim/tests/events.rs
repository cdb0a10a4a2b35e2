//! The event log as ZITADEL's event store keeps it and `POST /admin/v1/events/_search` serves it: every mutation's
//! events checked strictly against `zitadel.admin.v1.ListEventsResponse` with the shared `check.mjs`, sequences per
//! aggregate, one creation date per command that never goes backwards under a frozen clock, the `from`, `range` and
//! `sequence` filters, and objects' `details` moving only with the events their projection reduces.

mod common;

use std::process::Command;

use common::{NOW, get, post, start};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zitadel_sim::{AppConfig, Estate, MembershipScope, NO_EXPIRY, NewHumanUser, OidcAppType, SimulatorOptions};

const PAT: &str = common::ADMIN_PAT;

/// Every kind of mutation the estate offers, each at least once; returns the estate.
fn mutated_estate() -> Estate {
    let mut estate = Estate::seed(NOW);
    let editor = estate.warden_user_id().to_string();
    let platform = estate.platform_org_id().to_string();
    let other_org = estate.orgs().map(|org| org.id.clone()).find(|id| *id != platform).expect("a second org");
    let doomed_org = estate.orgs().map(|org| org.id.clone()).filter(|id| *id != platform).nth(1).expect("a third org");
    let e = editor.as_str();

    let human = estate
        .add_human_user(e, &platform, NewHumanUser::new("ada", "Ada", "Lovelace", "ada@example.com"))
        .expect("succeeds");
    estate.set_user_email(e, &human, "ada@example.org", true).expect("succeeds");
    estate.set_user_profile(e, &human, "Ada", "King", "").expect("succeeds");
    estate.deactivate_user(e, &human).expect("succeeds");
    estate.reactivate_user(e, &human).expect("succeeds");
    estate.lock_user(e, &human).expect("succeeds");
    estate.unlock_user(e, &human).expect("succeeds");
    estate.set_user_metadata(e, &human, "team", b"blue").expect("succeeds");
    estate.set_user_metadata(e, &human, "team", b"red").expect("succeeds");
    estate.remove_user_metadata(e, &human, "team").expect("succeeds");

    let bot = estate.add_machine_user(e, &platform, "bot", "Bot", "does things").expect("succeeds");
    estate.set_machine_secret(e, &bot, "not-a-real-secret").expect("succeeds");
    let key = estate.add_machine_key(e, &bot, NO_EXPIRY).expect("succeeds");
    estate.remove_machine_key(e, &bot, &key).expect("succeeds");
    let pat = estate
        .add_personal_access_token(e, &bot, NOW + time::Duration::days(30), vec!["openid".into()])
        .expect("succeeds");
    estate.remove_personal_access_token(e, &bot, &pat).expect("succeeds");

    let project = estate.add_project(e, &platform, "Payroll").expect("succeeds");
    estate.change_project(e, &project, "Payroll 2").expect("succeeds");
    estate.add_project_role(e, &project, "viewer", "Viewer", "").expect("succeeds");
    estate.add_project_role(e, &project, "admin", "Admin", "ops").expect("succeeds");
    estate.change_project_role(e, &project, "viewer", "Reader", "read").expect("succeeds");
    let api = AppConfig::Api { client_id: "payroll-api".into(), private_key_jwt: true };
    let oidc = AppConfig::Oidc {
        client_id: "payroll-web".into(),
        app_type: OidcAppType::Web,
        redirect_uris: vec!["https://payroll.example.com/cb".into()],
        auth_method_none: false,
        refresh_token: false,
        dev_mode: false,
    };
    let saml = AppConfig::Saml { metadata_xml: "<EntityDescriptor/>".into() };
    let api_app = estate.add_application(e, &project, "API", api).expect("succeeds");
    estate.add_application(e, &project, "Web", oidc).expect("succeeds");
    estate.add_application(e, &project, "SAML", saml).expect("succeeds");
    estate.remove_application(e, &project, &api_app).expect("succeeds");
    let project_grant =
        estate.add_project_grant(e, &project, &other_org, vec!["viewer".into(), "admin".into()]).expect("succeeds");

    let grant = estate.add_user_grant(e, &platform, &human, &project, None, vec!["viewer".into()]).expect("succeeds");
    estate.update_user_grant(e, &grant, vec!["viewer".into(), "admin".into()]).expect("succeeds");
    let other_user = estate.users().find(|user| user.org_id == other_org).expect("a user").id.clone();
    estate
        .add_user_grant(e, &other_org, &other_user, &project, Some(&project_grant), vec!["admin".into()])
        .expect("succeeds");
    let bot_grant = estate.add_user_grant(e, &platform, &bot, &project, None, vec!["viewer".into()]).expect("succeeds");
    estate.remove_user_grant(e, &bot_grant).expect("succeeds");

    let scopes = [
        MembershipScope::Instance,
        MembershipScope::Org { org_id: platform.clone() },
        MembershipScope::Project { project_id: project.clone(), org_id: platform.clone() },
        MembershipScope::ProjectGrant {
            project_id: project.clone(),
            grant_id: project_grant.clone(),
            org_id: platform.clone(),
            granted_org_id: other_org.clone(),
        },
    ];
    for scope in &scopes {
        estate.add_membership(e, &human, scope.clone(), vec!["VIEWER".into()]).expect("succeeds");
    }
    estate.change_membership(e, &human, &scopes[1], vec!["ORG_OWNER".into()]).expect("succeeds");
    estate.add_membership(e, &bot, scopes[1].clone(), vec!["ORG_USER_MANAGER".into()]).expect("succeeds");
    estate.remove_membership(e, &bot, &scopes[1]).expect("succeeds");

    estate.remove_project_role(e, &project, "admin").expect("succeeds");
    estate.remove_project_grant(e, &project, &project_grant).expect("succeeds");
    estate.change_org_name(e, &other_org, "Renamed Org").expect("succeeds");
    estate.remove_user(e, &human).expect("succeeds");
    estate.remove_project(e, &project).expect("succeeds");
    estate.remove_org(e, &doomed_org).expect("succeeds");
    estate.remove_user(e, &bot).expect("succeeds");
    estate
}

/// Events through the API, oldest first, paged with `asc` + `from` at or after the last date seen (`from` is
/// strictly after, so it is moved back 1 µs) and deduplicated by (aggregate type, id, sequence): the paging that
/// loses no event although one command's events share a creation date, as long as no command wrote more events
/// than a page holds. Also returns the response bodies and whether paging got stuck (a full page of one date it
/// had seen: the rest of that command is unreachable by date).
async fn read_all(sim: &zitadel_sim::Simulator, limit: u64) -> (Vec<Value>, Vec<Value>, bool) {
    let mut events: Vec<Value> = Vec::new();
    let mut bodies = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut from: Option<OffsetDateTime> = None;
    loop {
        let mut body = json!({"asc": true, "limit": limit});
        if let Some(from) = from {
            body["from"] = json!((from - time::Duration::microseconds(1)).format(&Rfc3339).expect("succeeds"));
        }
        let (status, page) = post(sim, "/admin/v1/events/_search", None, body).await;
        assert_eq!(status, 200, "{page}");
        let items = page["events"].as_array().cloned().unwrap_or_default();
        bodies.push(page);
        let mut fresh = 0;
        for item in &items {
            let key =
                (item["aggregate"]["type"]["type"].clone(), item["aggregate"]["id"].clone(), item["sequence"].clone());
            if seen.insert(key) {
                fresh += 1;
                events.push(item.clone());
            }
        }
        if (items.len() as u64) < limit {
            return (events, bodies, false);
        }
        if fresh == 0 {
            return (events, bodies, true);
        }
        from = Some(created(items.last().expect("a full page")));
    }
}

fn created(event: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(event["creationDate"].as_str().expect("creationDate"), &Rfc3339).expect("RFC 3339")
}

fn sequence(event: &Value) -> u64 {
    event["sequence"].as_str().expect("int64 as string").parse().expect("a number")
}

#[tokio::test]
async fn every_mutation_event_conforms_to_list_events_response() {
    let estate = mutated_estate();
    let expected = estate.events().len();
    let types: std::collections::BTreeSet<String> =
        estate.events().iter().map(|event| event.event_type.clone()).collect();
    for needed in [
        "user.human.added",
        "user.human.email.verified",
        "user.unlocked",
        "user.machine.secret.set",
        "user.pat.removed",
        "user.metadata.removed",
        "project.changed",
        "project.role.changed",
        "project.application.added",
        "project.application.config.saml.added",
        "project.application.removed",
        "project.grant.added",
        "project.grant.cascade.changed",
        "project.grant.removed",
        "user.grant.cascade.changed",
        "user.grant.cascade.removed",
        "instance.member.added",
        "org.member.changed",
        "project.member.cascade.removed",
        "org.changed",
        "org.removed",
    ] {
        assert!(types.contains(needed), "{needed} missing from {types:?}");
    }
    let sim = start(SimulatorOptions::new(estate, PAT)).await;
    let (events, bodies, stuck) = read_all(&sim, 1000).await;
    assert!(!stuck);
    assert_eq!(events.len(), expected, "every event is served once");
    assert!(events.iter().any(|event| event.get("payload").is_none()), "payload-less events have no payload");

    let Some(check_log) = zitadel_sim::schemas::check_log_script() else {
        println!("NOTE: the ZITADEL schema tools are not installed; skipping the schema check");
        return;
    };
    let check = check_log.with_file_name("check.mjs");
    let file = std::env::temp_dir().join(format!("zitadel-sim-events-{}.jsonl", std::process::id()));
    let lines: Vec<String> = bodies.iter().map(Value::to_string).collect();
    std::fs::write(&file, lines.join("\n")).expect("written");
    let output = Command::new("node")
        .arg(&check)
        .args(["--type", "zitadel.admin.v1.ListEventsResponse"])
        .arg(&file)
        .output()
        .expect("node runs");
    let _ = std::fs::remove_file(&file);
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "check.mjs failed:\n{report}\n{}", String::from_utf8_lossy(&output.stderr));
    println!("{report}");
}

#[tokio::test]
async fn sequences_count_per_aggregate_and_dates_move_per_command_under_a_frozen_clock() {
    let mut estate = Estate::minimal(NOW);
    let editor = estate.warden_user_id().to_string();
    let platform = estate.platform_org_id().to_string();
    let e = editor.as_str();
    let project = estate.add_project(e, &platform, "P").expect("succeeds");
    estate.add_project_role(e, &project, "r", "R", "").expect("succeeds");
    let mut users = Vec::new();
    for n in 0..3 {
        let user = estate.add_machine_user(e, &platform, &format!("bot-{n}"), "Bot", "").expect("succeeds");
        estate.add_user_grant(e, &platform, &user, &project, None, vec!["r".into()]).expect("succeeds");
        estate
            .add_membership(e, &user, MembershipScope::Org { org_id: platform.clone() }, vec!["ORG_OWNER".into()])
            .expect("succeeds");
        users.push(user);
    }
    let before_removal = estate.events().len();
    estate.remove_user(e, &users[0]).expect("succeeds");
    assert_eq!(estate.now(), NOW, "the clock stayed frozen");

    // One command = one creation date; commands strictly later than the one before.
    let log = estate.events();
    let removal = &log[before_removal..];
    assert_eq!(
        removal.iter().map(|event| event.event_type.as_str()).collect::<Vec<_>>(),
        ["user.removed", "user.grant.cascade.removed", "org.member.cascade.removed"]
    );
    assert!(removal.iter().all(|event| event.created == removal[0].created), "one command, one date");
    for pair in log[..before_removal + 1].windows(2) {
        assert!(pair[1].created > pair[0].created, "{} then {}", pair[0].event_type, pair[1].event_type);
    }
    // Sequences: per aggregate, from 1 (the project's: added, role added; the org's: three members, a cascade).
    let of =
        |id: &str| log.iter().filter(|event| event.aggregate_id == id).map(|event| event.sequence).collect::<Vec<_>>();
    assert_eq!(of(&project), [1, 2]);
    assert_eq!(of(&users[0]), [1, 2], "machine added, removed");
    let seeded_org = of(&platform);
    assert!(seeded_org.windows(2).all(|pair| pair[1] == pair[0] + 1) && seeded_org.len() == 4, "{seeded_org:?}");

    let sim = start(SimulatorOptions::new(estate, PAT)).await;
    let all = read_all(&sim, 1000).await.0;
    assert_eq!(all.len(), before_removal + 3);
    // Pages of 4 split the log inside the removal's command; at-or-after paging still sees each event once.
    let (paged, _, stuck) = read_all(&sim, 4).await;
    assert!(!stuck);
    assert_eq!(paged, all);
    // Pages of 2 cannot hold the removal's three events of one date: paging by date cannot get past them.
    let (partial, _, stuck) = read_all(&sim, 2).await;
    assert!(stuck && partial.len() < all.len(), "a command larger than a page is unreachable by date alone");

    // `from` with `asc`: strictly after; without: strictly before, newest first.
    let third = &all[2];
    let from = third["creationDate"].clone();
    let (_, after) = post(&sim, "/admin/v1/events/_search", None, json!({"asc": true, "from": from})).await;
    let after = after["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(after.first(), all.get(3), "the event at `from` itself is not returned");
    let (_, before) = post(&sim, "/admin/v1/events/_search", None, json!({"from": from})).await;
    let before = before["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(before, [all[1].clone(), all[0].clone()]);
    // `range`: since strictly after, until strictly before; it replaces `from`.
    let range = json!({"asc": true, "from": all[0]["creationDate"], "range": {"since": all[0]["creationDate"], "until": all[3]["creationDate"]}});
    let (_, ranged) = post(&sim, "/admin/v1/events/_search", None, range).await;
    assert_eq!(ranged["events"].as_array().cloned().unwrap_or_default(), all[1..3].to_vec());
    // `sequence` compares aggregate sequences: greater with `asc`, smaller without.
    let (_, late) = post(&sim, "/admin/v1/events/_search", None, json!({"asc": true, "sequence": "1"})).await;
    let late = late["events"].as_array().cloned().unwrap_or_default();
    assert!(!late.is_empty() && late.iter().all(|event| sequence(event) > 1));
    let (_, early) = post(&sim, "/admin/v1/events/_search", None, json!({"sequence": "2"})).await;
    let early = early["events"].as_array().cloned().unwrap_or_default();
    assert!(!early.is_empty() && early.iter().all(|event| sequence(event) < 2));
    // Event types imply their aggregate types (`user.grant.*` -> `usergrant`).
    let (_, grants) =
        post(&sim, "/admin/v1/events/_search", None, json!({"asc": true, "eventTypes": ["user.grant.added"]})).await;
    assert_eq!(grants["events"].as_array().map(Vec::len), Some(3));
    sim.shutdown().await;
}

#[tokio::test]
async fn details_move_only_with_the_events_their_projection_reduces() {
    let mut estate = Estate::minimal(NOW);
    let editor = estate.warden_user_id().to_string();
    let platform = estate.platform_org_id().to_string();
    let e = editor.as_str();
    let bot = estate.add_machine_user(e, &platform, "bot", "Bot", "").expect("succeeds");
    let project = estate.add_project(e, &platform, "P").expect("succeeds");
    estate.add_project_role(e, &project, "r", "R", "").expect("succeeds");
    let sim = start(SimulatorOptions::new(estate, PAT)).await;
    let user_details =
        |body: &Value| (body["user"]["details"]["sequence"].clone(), body["user"]["details"]["changeDate"].clone());
    let (_, created) = get(&sim, &format!("/management/v1/users/{bot}"), Some(&platform)).await;
    let original = user_details(&created);
    assert_eq!(original.0, "1");

    let key = sim.control().with_estate(|estate| {
        estate.advance(time::Duration::minutes(1));
        let key = estate.add_machine_key(e, &bot, NO_EXPIRY).expect("succeeds");
        estate.add_personal_access_token(e, &bot, NO_EXPIRY, Vec::new()).expect("succeeds");
        estate.set_user_metadata(e, &bot, "k", b"v").expect("succeeds");
        estate.add_user_grant(e, &platform, &bot, &project, None, vec!["r".into()]).expect("succeeds");
        estate
            .add_membership(
                e,
                &bot,
                MembershipScope::Project { project_id: project.clone(), org_id: platform.clone() },
                vec!["PROJECT_OWNER".into()],
            )
            .expect("succeeds");
        key
    });
    let (_, unchanged) = get(&sim, &format!("/management/v1/users/{bot}"), Some(&platform)).await;
    assert_eq!(
        user_details(&unchanged),
        original,
        "keys, PATs, metadata, grants and memberships leave the user's details"
    );
    let (_, keys) = post(&sim, &format!("/management/v1/users/{bot}/keys/_search"), Some(&platform), json!({})).await;
    assert_eq!(keys["result"][0]["id"], key.as_str());
    assert_eq!(keys["result"][0]["details"]["sequence"], "2", "the key carries its event's aggregate sequence");
    let (_, projects) = post(&sim, "/management/v1/projects/_search", Some(&platform), json!({})).await;
    let listed = projects["result"].as_array().into_iter().flatten().find(|item| item["id"] == project.as_str());
    assert_eq!(listed.expect("listed")["details"]["sequence"], "1", "roles and members leave the project's details");

    sim.control().with_estate(|estate| estate.set_machine_secret(e, &bot, "s").expect("succeeds"));
    let (_, moved) = get(&sim, &format!("/management/v1/users/{bot}"), Some(&platform)).await;
    let last = sim.control().with_estate(|estate| estate.events().last().cloned().expect("succeeds"));
    assert_eq!(moved["user"]["details"]["sequence"], last.sequence.to_string(), "the secret event moves the user");
    assert_eq!(last.sequence, 5, "after added, key, PAT and metadata on the same aggregate");
    assert_eq!(moved["user"]["details"]["changeDate"], zitadel_sim::format_timestamp(last.created).as_str());
    sim.shutdown().await;
}
