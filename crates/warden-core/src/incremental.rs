//! Incremental sync: whether a run may read only what changed, and what ZITADEL's events say changed.
//!
//! A run is incremental only from a trusted position: the newest event the last `ok` run accounted for, recorded
//! under the same basis (scope settings and warden's reading of ZITADEL), with a full sync within
//! `full_sync_interval`. Every event after it is mapped to the lists that show its effect ([`plan`]): a list is
//! read again whole (the users of an organization, the projects of an organization with their roles and
//! applications, ...), or per user for what hangs off a user (metadata, keys, tokens). Removals are then found by
//! comparing those lists with what the store holds in the same scope, never guessed from an event alone.
//!
//! Nothing is skipped because an object's `details.sequence` or `changeDate` did not move. ZITADEL's projections
//! (`internal/query/projection/`) keep a user's row still when its metadata, keys or tokens change: `user.go`'s
//! `userProjection` reduces none of `user.metadata.*`, `user.machine.key.*`, `user.pat.*`, which only
//! `user_metadata.go`, `authn_key.go` and `personal_access_token.go` reduce; likewise `project.go` reduces no
//! `project.role.*` (`project_role.go`) or `project.application.*` (`app.go`) event. A parent's `details` therefore
//! prove nothing about its fan-out, and every fan-out is driven by events (docs/incremental-sync.md,
//! docs/zitadel-projections.md).

use std::collections::{BTreeMap, BTreeSet};

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::id::{OrgId, UserId};
use crate::model::{SyncMode, SyncRun, SyncStatus};

/// Why a run is full or incremental.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeChoice {
    pub mode: SyncMode,
    pub reason: String,
}

impl ModeChoice {
    pub fn full(reason: impl Into<String>) -> ModeChoice {
        ModeChoice { mode: SyncMode::Full, reason: reason.into() }
    }
}

/// What decides a run's mode.
#[derive(Debug, Clone, Copy)]
pub struct ModeInput<'a> {
    /// An operator asked for a full sync (`warden sync --full`).
    pub full_requested: bool,
    /// The environment's newest run that ended `ok`, if any.
    pub last_ok: Option<&'a SyncRun>,
    /// The environment's newest full run that ended `ok`, if any.
    pub last_full_ok: Option<&'a SyncRun>,
    /// The basis this run reads under.
    pub basis: &'a str,
    pub full_sync_interval: Duration,
    pub now: OffsetDateTime,
}

/// Full unless every condition for reading on from the last position holds.
pub fn choose_mode(input: ModeInput<'_>) -> ModeChoice {
    if input.full_requested {
        return ModeChoice::full("requested");
    }
    let (Some(last_ok), Some(last_full_ok)) = (input.last_ok, input.last_full_ok) else {
        return ModeChoice::full("first sync");
    };
    let Some(position) = last_ok.event_position else {
        return ModeChoice::full(
            "no event position: the last run could not read ZITADEL's events (the credential needs events.read, \
             e.g. IAM_OWNER_VIEWER)",
        );
    };
    if last_ok.basis.as_deref() != Some(input.basis) {
        return ModeChoice::full("the environment's scope or warden's reading of ZITADEL changed");
    }
    let due = last_full_ok.started_at + input.full_sync_interval;
    if due <= input.now {
        return ModeChoice::full("full_sync_interval elapsed");
    }
    ModeChoice {
        mode: SyncMode::Incremental,
        reason: format!("events after {}", position.format(&Rfc3339).unwrap_or_else(|_| position.to_string())),
    }
}

/// Whether a run's end lets the next read on from its position.
pub fn advances_position(status: &SyncStatus) -> bool {
    *status == SyncStatus::Ok
}

/// One event, as far as planning needs it.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub resource_owner: &'a str,
    pub event_type: &'a str,
}

/// The aggregate types whose events can change what warden stores (the others, such as sessions, are not read).
pub const AGGREGATE_TYPES: [&str; 5] = ["org", "project", "user", "usergrant", "instance"];

/// What hangs off a user and is listed per user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserParts {
    pub metadata: bool,
    pub machine_keys: bool,
    pub personal_access_tokens: bool,
}

impl UserParts {
    const ALL: UserParts = UserParts { metadata: true, machine_keys: true, personal_access_tokens: true };

    fn merge(&mut self, other: UserParts) {
        self.metadata |= other.metadata;
        self.machine_keys |= other.machine_keys;
        self.personal_access_tokens |= other.personal_access_tokens;
    }
}

/// The lists an incremental run reads again. Organizations are always listed (one request), so that added and
/// removed organizations are seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Organizations whose users are listed.
    pub users_of: BTreeSet<OrgId>,
    /// Users whose metadata, keys or tokens are listed, with their organization.
    pub user_parts: BTreeMap<UserId, (OrgId, UserParts)>,
    /// Organizations whose projects are listed, with every project's roles and applications.
    pub projects_of: BTreeSet<OrgId>,
    /// Organizations whose project grants are listed.
    pub project_grants_of: BTreeSet<OrgId>,
    /// Organizations whose user grants are listed.
    pub user_grants_of: BTreeSet<OrgId>,
    /// Organizations whose managers (of the organization, its projects and its project grants) are listed.
    pub members_of: BTreeSet<OrgId>,
    pub instance_members: bool,
    /// Organizations whose identity providers are listed.
    pub providers_of: BTreeSet<OrgId>,
    pub instance_providers: bool,
    /// Events that change nothing warden stores (logins, token checks, policies).
    pub ignored_events: usize,
}

impl Plan {
    /// Whether the run reads nothing but the organizations.
    pub fn is_empty(&self) -> bool {
        self.users_of.is_empty()
            && self.user_parts.is_empty()
            && self.projects_of.is_empty()
            && self.project_grants_of.is_empty()
            && self.user_grants_of.is_empty()
            && self.members_of.is_empty()
            && !self.instance_members
            && self.providers_of.is_empty()
            && !self.instance_providers
    }

    /// Drops what concerns organizations out of scope (`in_scope` false).
    pub fn retain_orgs(&mut self, in_scope: impl Fn(&OrgId) -> bool) {
        for orgs in [
            &mut self.users_of,
            &mut self.projects_of,
            &mut self.project_grants_of,
            &mut self.user_grants_of,
            &mut self.members_of,
            &mut self.providers_of,
        ] {
            orgs.retain(&in_scope);
        }
        self.user_parts.retain(|_, (org, _)| in_scope(org));
    }
}

/// An event the plan cannot follow: a full sync is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsFullSync(pub String);

/// Maps events to the lists that show their effect.
pub fn plan<'a>(events: impl IntoIterator<Item = EventRef<'a>>) -> Result<Plan, NeedsFullSync> {
    let mut plan = Plan::default();
    for event in events {
        plan_event(&mut plan, event)?;
    }
    Ok(plan)
}

fn org_of(event: &EventRef<'_>, id: &str) -> Result<OrgId, NeedsFullSync> {
    OrgId::parse(id)
        .map_err(|_| NeedsFullSync(format!("event {} names an organization id warden cannot read", event.event_type)))
}

/// Events of a user that change nothing warden stores: logins and credential checks, issued tokens, sign-outs.
/// A first login that completes the initialization changes the user's state, so it counts.
fn is_user_noise(event_type: &str) -> bool {
    let check = (event_type.ends_with(".check.succeeded") || event_type.ends_with(".check.failed"))
        && event_type != "user.human.initialization.check.succeeded";
    check
        || event_type.starts_with("user.token.")
        || event_type.starts_with("user.refresh.token.")
        || event_type == "user.human.signed.out"
}

fn plan_event(plan: &mut Plan, event: EventRef<'_>) -> Result<(), NeedsFullSync> {
    let kind = event.event_type;
    match event.aggregate_type {
        "user" => {
            if is_user_noise(kind) {
                plan.ignored_events += 1;
                return Ok(());
            }
            let org = org_of(&event, event.resource_owner)?;
            let user = UserId::parse(event.aggregate_id)
                .map_err(|_| NeedsFullSync(format!("event {kind} names a user id warden cannot read")))?;
            let parts = if kind.starts_with("user.metadata.") {
                UserParts { metadata: true, ..UserParts::default() }
            } else if kind.starts_with("user.machine.key.") {
                UserParts { machine_keys: true, ..UserParts::default() }
            } else if kind.starts_with("user.pat.") {
                UserParts { personal_access_tokens: true, ..UserParts::default() }
            } else {
                plan.users_of.insert(org.clone());
                if kind == "user.removed" { UserParts::ALL } else { UserParts::default() }
            };
            if parts != UserParts::default() {
                plan.user_parts.entry(user).or_insert_with(|| (org, UserParts::default())).1.merge(parts);
            }
        }
        "usergrant" => {
            plan.user_grants_of.insert(org_of(&event, event.resource_owner)?);
        }
        "org" => {
            let org = org_of(&event, event.aggregate_id)?;
            if kind == "org.removed" {
                return Err(NeedsFullSync(format!("organization {org} was removed")));
            } else if kind.starts_with("org.member.") {
                plan.members_of.insert(org);
            } else if kind.starts_with("org.idp.") {
                plan.providers_of.insert(org);
            } else if kind == "org.domain.primary.set" {
                // Every user's preferred login name ends with the organization's primary domain.
                plan.users_of.insert(org);
            } else if !matches!(kind, "org.added" | "org.changed" | "org.deactivated" | "org.reactivated") {
                // Policies, domains, settings: not stored; the organization itself is listed anyway.
                plan.ignored_events += 1;
            }
        }
        "project" => {
            let org = org_of(&event, event.resource_owner)?;
            if kind.starts_with("project.grant.member.") || kind.starts_with("project.member.") {
                plan.members_of.insert(org);
            } else if kind.starts_with("project.grant.") {
                // A removed grant takes its managers with it.
                plan.project_grants_of.insert(org.clone());
                plan.members_of.insert(org);
            } else {
                if kind == "project.removed" {
                    plan.project_grants_of.insert(org.clone());
                    plan.members_of.insert(org.clone());
                }
                plan.projects_of.insert(org);
            }
        }
        "instance" => {
            if kind == "instance.removed" {
                return Err(NeedsFullSync("the instance was removed".to_owned()));
            } else if kind.starts_with("instance.member.") {
                plan.instance_members = true;
            } else if kind.starts_with("instance.idp.") {
                plan.instance_providers = true;
            } else {
                plan.ignored_events += 1;
            }
        }
        _ => plan.ignored_events += 1,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn event<'a>(aggregate_type: &'a str, aggregate_id: &'a str, owner: &'a str, event_type: &'a str) -> EventRef<'a> {
        EventRef { aggregate_type, aggregate_id, resource_owner: owner, event_type }
    }

    fn org(id: &str) -> OrgId {
        OrgId::parse(id).unwrap()
    }

    #[test]
    fn user_events_list_the_users_of_their_org_and_only_the_parts_they_touch() {
        let plan = plan([
            event("user", "11", "1", "user.human.email.changed"),
            event("user", "12", "1", "user.metadata.set"),
            event("user", "13", "2", "user.pat.added"),
            event("user", "13", "2", "user.machine.key.removed"),
            event("user", "14", "2", "user.token.added"),
            event("user", "14", "2", "user.human.password.check.succeeded"),
        ])
        .unwrap();
        assert_eq!(plan.users_of, BTreeSet::from([org("1")]));
        let parts = |id: &str| plan.user_parts.get(&UserId::parse(id).unwrap()).map(|(_, parts)| *parts);
        assert_eq!(parts("11"), None);
        assert_eq!(parts("12"), Some(UserParts { metadata: true, ..UserParts::default() }));
        assert_eq!(
            parts("13"),
            Some(UserParts { machine_keys: true, personal_access_tokens: true, ..UserParts::default() })
        );
        assert_eq!(plan.ignored_events, 2);
    }

    #[test]
    fn a_removed_user_lists_its_org_and_everything_that_hung_off_it() {
        let plan = plan([event("user", "11", "1", "user.removed")]).unwrap();
        assert_eq!(plan.users_of, BTreeSet::from([org("1")]));
        assert_eq!(plan.user_parts[&UserId::parse("11").unwrap()], (org("1"), UserParts::ALL));
    }

    #[test]
    fn a_completed_initialization_counts_but_other_checks_do_not() {
        let counted = plan([event("user", "11", "1", "user.human.initialization.check.succeeded")]).unwrap();
        assert!(!counted.is_empty());
        let ignored = plan([event("user", "11", "1", "user.human.mfa.otp.check.succeeded")]).unwrap();
        assert!(ignored.is_empty());
    }

    #[test]
    fn project_grant_and_member_events_list_their_scopes() {
        let plan = plan([
            event("project", "50", "1", "project.role.added"),
            event("project", "51", "2", "project.grant.added"),
            event("project", "52", "3", "project.member.added"),
            event("usergrant", "60", "4", "user.grant.cascade.removed"),
            event("org", "5", "5", "org.member.changed"),
            event("instance", "9", "9", "instance.idp.oidc.added"),
        ])
        .unwrap();
        assert_eq!(plan.projects_of, BTreeSet::from([org("1")]));
        assert_eq!(plan.project_grants_of, BTreeSet::from([org("2")]));
        assert_eq!(plan.members_of, BTreeSet::from([org("2"), org("3"), org("5")]));
        assert_eq!(plan.user_grants_of, BTreeSet::from([org("4")]));
        assert!(plan.instance_providers && !plan.instance_members);
    }

    #[test]
    fn removing_an_organization_or_an_unreadable_id_needs_a_full_sync() {
        assert!(plan([event("org", "5", "5", "org.removed")]).is_err());
        assert!(plan([event("user", "", "1", "user.human.added")]).is_err());
    }

    fn run(
        status: SyncStatus,
        mode: SyncMode,
        started_at: OffsetDateTime,
        position: Option<OffsetDateTime>,
    ) -> SyncRun {
        SyncRun {
            id: crate::id::SyncRunId(1),
            environment: crate::id::EnvironmentName::parse("prod").unwrap(),
            started_at,
            finished_at: None,
            status,
            counts: BTreeMap::new(),
            errors: Vec::new(),
            requests: 0,
            retries: 0,
            holder: None,
            mode,
            mode_reason: String::new(),
            event_position: position,
            basis: Some("b1".to_owned()),
        }
    }

    #[test]
    fn a_run_is_incremental_only_from_a_trusted_position() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(100);
        let hour_ago = now - Duration::hours(1);
        let trusted = run(SyncStatus::Ok, SyncMode::Full, hour_ago, Some(hour_ago));
        let input = ModeInput {
            full_requested: false,
            last_ok: Some(&trusted),
            last_full_ok: Some(&trusted),
            basis: "b1",
            full_sync_interval: Duration::hours(24),
            now,
        };
        assert_eq!(choose_mode(input).mode, SyncMode::Incremental);
        assert_eq!(choose_mode(ModeInput { full_requested: true, ..input }).reason, "requested");
        assert_eq!(choose_mode(ModeInput { last_ok: None, ..input }).reason, "first sync");
        assert!(choose_mode(ModeInput { basis: "b2", ..input }).reason.contains("changed"));
        let stale = ModeInput { full_sync_interval: Duration::minutes(30), ..input };
        assert_eq!(choose_mode(stale).reason, "full_sync_interval elapsed");
        let blind = run(SyncStatus::Ok, SyncMode::Incremental, hour_ago, None);
        assert!(choose_mode(ModeInput { last_ok: Some(&blind), ..input }).reason.contains("events.read"));
    }
}
