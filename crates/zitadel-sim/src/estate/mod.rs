//! The in-memory model of one ZITADEL instance ("estate"), its deterministic generators and mutation helpers.

mod certificate;
mod model;
mod mutations;
mod seed;

use std::collections::{BTreeMap, HashMap};

use time::{Duration, OffsetDateTime, UtcOffset};

pub use model::*;
pub use mutations::{EstateError, EstateErrorKind, NewHumanUser};

pub(crate) use certificate::saml_idp_metadata_rotating;

/// PEM of the fixed RSA test key pair of the `warden` service account (PKCS#1 private key).
pub const SERVICE_ACCOUNT_PRIVATE_KEY_PEM: &str = include_str!("../../keys/service-account.key");
/// PEM of the public half of [`SERVICE_ACCOUNT_PRIVATE_KEY_PEM`] (SubjectPublicKeyInfo).
pub const SERVICE_ACCOUNT_PUBLIC_KEY_PEM: &str = include_str!("../../keys/service-account.pub");

/// Roles that make a machine user a "manager" for the `machine-user-manager-role` rule (viewer roles do not).
const MANAGER_ROLES: &[&str] = &[
    "IAM_OWNER",
    "IAM_ORG_MANAGER",
    "IAM_USER_MANAGER",
    "IAM_ADMIN_IMPERSONATOR",
    "IAM_END_USER_IMPERSONATOR",
    "ORG_OWNER",
    "ORG_USER_MANAGER",
    "ORG_USER_PERMISSION_EDITOR",
    "ORG_PROJECT_PERMISSION_EDITOR",
    "ORG_ADMIN_IMPERSONATOR",
    "ORG_END_USER_IMPERSONATOR",
    "PROJECT_OWNER",
    "PROJECT_OWNER_GLOBAL",
    "PROJECT_GRANT_OWNER",
];

/// One simulated ZITADEL instance: orgs, users, credentials, projects, grants, memberships, IdPs and events.
///
/// Collections are keyed by id; ids are 18-digit decimal strings handed out in increasing order, so iterating a
/// collection yields insertion order.
#[derive(Debug, Clone, PartialEq)]
pub struct Estate {
    pub(crate) now: OffsetDateTime,
    pub(crate) instance_id: String,
    pub(crate) instance_domain: String,
    pub(crate) next_id: u64,
    pub(crate) platform_org_id: String,
    pub(crate) warden_user_id: String,
    pub(crate) warden_key_id: String,
    pub(crate) orgs: BTreeMap<String, Org>,
    pub(crate) users: BTreeMap<String, User>,
    /// Users by (org, lower-cased userName), as ZITADEL finds them by index: kept by [`Estate::index_user`] and
    /// [`Estate::unindex_user`] wherever `users` changes.
    pub(crate) user_names: HashMap<(String, String), Vec<String>>,
    pub(crate) machine_keys: BTreeMap<String, MachineKey>,
    pub(crate) personal_access_tokens: BTreeMap<String, PersonalAccessToken>,
    pub(crate) projects: BTreeMap<String, Project>,
    pub(crate) project_roles: BTreeMap<String, ProjectRole>,
    pub(crate) user_grants: BTreeMap<String, UserGrant>,
    pub(crate) memberships: BTreeMap<String, Membership>,
    pub(crate) project_grants: BTreeMap<String, ProjectGrant>,
    pub(crate) applications: BTreeMap<String, Application>,
    pub(crate) identity_providers: BTreeMap<String, IdentityProvider>,
    pub(crate) user_metadata: BTreeMap<String, UserMetadata>,
    pub(crate) events: Vec<Event>,
    /// The last sequence of each aggregate `(type, id)`: ZITADEL's sequences count per aggregate.
    pub(crate) aggregate_sequences: HashMap<(String, String), u64>,
    /// The current command (see `begin_command`); events of one command share a creation date.
    pub(crate) command: u64,
    /// The command the newest event belongs to.
    pub(crate) last_event_command: u64,
    pub(crate) anomalies: Vec<SeededAnomaly>,
}

impl Estate {
    /// The demo/test estate: 41 orgs, 1,000 humans, 210 machine users, ~2,000 grants, planted anomalies.
    /// Deterministic for a given `now`; every timestamp is relative to `now`.
    pub fn seed(now: OffsetDateTime) -> Estate {
        seed::generate(now, &seed::Shape::SEED)
    }

    /// The benchmark estate: 200 orgs, 100,000 users (5,000 machine users) and proportional objects.
    pub fn large(now: OffsetDateTime) -> Estate {
        seed::generate(now, &seed::Shape::LARGE)
    }

    /// An estate with only the platform org and the `warden` service account (IAM_OWNER, fixed key).
    pub fn minimal(now: OffsetDateTime) -> Estate {
        seed::generate(now, &seed::Shape::MINIMAL)
    }

    /// The anomalies the generator planted (computed when the estate was generated).
    pub fn seeded_anomalies(&self) -> &[SeededAnomaly] {
        &self.anomalies
    }

    /// Runs the anomaly rules over the current data (same rules as [`Estate::seeded_anomalies`], but live).
    pub fn current_anomalies(&self) -> Vec<SeededAnomaly> {
        detect_anomalies(self)
    }

    /// Object counts.
    pub fn counts(&self) -> EstateCounts {
        let machine_users = self.users.values().filter(|user| user.is_machine()).count() as u64;
        EstateCounts {
            orgs: self.orgs.len() as u64,
            users: self.users.len() as u64,
            human_users: self.users.len() as u64 - machine_users,
            machine_users,
            projects: self.projects.len() as u64,
            project_roles: self.project_roles.len() as u64,
            user_grants: self.user_grants.len() as u64,
            machine_keys: self.machine_keys.len() as u64,
            personal_access_tokens: self.personal_access_tokens.len() as u64,
            memberships: self.memberships.len() as u64,
            project_grants: self.project_grants.len() as u64,
            applications: self.applications.len() as u64,
            identity_providers: self.identity_providers.len() as u64,
            user_metadata: self.user_metadata.len() as u64,
        }
    }

    /// The estate's current time (event timestamps, expiry checks).
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// Sets the estate's current time.
    pub fn set_now(&mut self, now: OffsetDateTime) {
        self.now = now.to_offset(UtcOffset::UTC);
    }

    /// Moves the estate's current time forward.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// The instance id (resource owner of instance-level objects).
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// The instance domain; org domains are `<org>.<instance domain>`.
    pub fn instance_domain(&self) -> &str {
        &self.instance_domain
    }

    /// Id of the platform org ("Platform").
    pub fn platform_org_id(&self) -> &str {
        &self.platform_org_id
    }

    /// Id of the `warden` machine user (IAM_OWNER; the service account warden uses).
    pub fn warden_user_id(&self) -> &str {
        &self.warden_user_id
    }

    /// Key id of the `warden` user's fixed machine key.
    pub fn warden_key_id(&self) -> &str {
        &self.warden_key_id
    }

    /// Orgs in insertion order.
    pub fn orgs(&self) -> impl Iterator<Item = &Org> {
        self.orgs.values()
    }

    /// One org.
    pub fn org(&self, org_id: &str) -> Option<&Org> {
        self.orgs.get(org_id)
    }

    /// Users in insertion order.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// One user.
    pub fn user(&self, user_id: &str) -> Option<&User> {
        self.users.get(user_id)
    }

    /// Finds a user by org and user name.
    pub fn user_by_name(&self, org_id: &str, user_name: &str) -> Option<&User> {
        self.users.values().find(|user| user.org_id == org_id && user.user_name == user_name)
    }

    /// Machine keys.
    pub fn machine_keys(&self) -> impl Iterator<Item = &MachineKey> {
        self.machine_keys.values()
    }

    /// Personal access tokens.
    pub fn personal_access_tokens(&self) -> impl Iterator<Item = &PersonalAccessToken> {
        self.personal_access_tokens.values()
    }

    /// Projects.
    pub fn projects(&self) -> impl Iterator<Item = &Project> {
        self.projects.values()
    }

    /// One project.
    pub fn project(&self, project_id: &str) -> Option<&Project> {
        self.projects.get(project_id)
    }

    /// Project roles.
    pub fn project_roles(&self) -> impl Iterator<Item = &ProjectRole> {
        self.project_roles.values()
    }

    /// User grants.
    pub fn user_grants(&self) -> impl Iterator<Item = &UserGrant> {
        self.user_grants.values()
    }

    /// One user grant.
    pub fn user_grant(&self, grant_id: &str) -> Option<&UserGrant> {
        self.user_grants.get(grant_id)
    }

    /// Manager memberships.
    pub fn memberships(&self) -> impl Iterator<Item = &Membership> {
        self.memberships.values()
    }

    /// Project grants.
    pub fn project_grants(&self) -> impl Iterator<Item = &ProjectGrant> {
        self.project_grants.values()
    }

    /// One project grant.
    pub fn project_grant(&self, grant_id: &str) -> Option<&ProjectGrant> {
        self.project_grants.get(grant_id)
    }

    /// Applications.
    pub fn applications(&self) -> impl Iterator<Item = &Application> {
        self.applications.values()
    }

    /// Identity providers (instance- and org-owned).
    pub fn identity_providers(&self) -> impl Iterator<Item = &IdentityProvider> {
        self.identity_providers.values()
    }

    /// User metadata entries.
    pub fn user_metadata(&self) -> impl Iterator<Item = &UserMetadata> {
        self.user_metadata.values()
    }

    /// The event log, oldest first (append-only; positions 1, 2, 3, ...; creation dates never decrease, and are
    /// equal exactly within one command).
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The position of the newest event (0 when the log is empty): a global counter of events, ZITADEL's
    /// `position`. Not comparable to an event's `sequence`, which counts the events of its aggregate.
    pub fn processed_sequence(&self) -> u64 {
        self.events.last().map_or(0, |event| event.position)
    }

    /// Hands out the next 18-digit id.
    pub(crate) fn new_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// Login name `user@org-domain`.
    pub fn login_name(&self, user: &User) -> String {
        match self.orgs.get(&user.org_id) {
            Some(org) => format!("{}@{}", user.user_name, org.primary_domain),
            None => user.user_name.clone(),
        }
    }
}

/// The anomaly rules, applied to the data (one entry per subject and rule).
fn detect_anomalies(estate: &Estate) -> Vec<SeededAnomaly> {
    let now = estate.now;
    let soon = now + Duration::days(14);
    let year_ago = now - Duration::days(365);
    let mut found = Vec::new();
    let mut per_user: BTreeMap<&str, Vec<(&'static str, String)>> = BTreeMap::new();

    for membership in estate.memberships.values() {
        let Some(user) = estate.users.get(&membership.user_id) else { continue };
        if !user.is_machine() {
            continue;
        }
        for role in &membership.roles {
            if MANAGER_ROLES.contains(&role.as_str()) {
                per_user
                    .entry(&user.id)
                    .or_default()
                    .push(("machine-user-manager-role", format!("{} holds {role}", user.user_name)));
            }
        }
    }
    let credentials =
        estate.machine_keys.values().map(|key| ("key", &key.id, &key.user_id, key.meta.created, key.expiration)).chain(
            estate
                .personal_access_tokens
                .values()
                .map(|pat| ("pat", &pat.id, &pat.user_id, pat.meta.created, pat.expiration)),
        );
    for (kind, id, user_id, created, expiration) in credentials {
        let entry = per_user.entry(user_id).or_default();
        // Never expiring, or living longer than a year from creation (an expired one is nobody's risk).
        if expiration > now && (expiration == NO_EXPIRY || expiration - created > Duration::days(365)) {
            let rule = if kind == "key" { "key-without-expiry" } else { "pat-without-expiry" };
            let note = if expiration == NO_EXPIRY { "never expires" } else { "lives longer than 365 days" };
            entry.push((rule, format!("{kind} {id} {note}")));
        }
        if expiration > now && created < year_ago {
            entry.push(("credential-older-than-365d", format!("{kind} {id} created {}", created.date())));
        }
        if expiration > now && expiration <= soon {
            entry.push(("credential-expiring-soon", format!("{kind} {id} expires {}", expiration.date())));
        }
    }
    // Grants and memberships both keep access alive.
    let mut grant_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for grant in estate.user_grants.values() {
        *grant_counts.entry(&grant.user_id).or_default() += 1;
    }
    for membership in estate.memberships.values() {
        *grant_counts.entry(&membership.user_id).or_default() += 1;
    }
    for user in estate.users.values() {
        let Some(machine) = user.machine() else { continue };
        if machine.description.trim().is_empty() {
            per_user.entry(&user.id).or_default().push(("machine-without-description", user.user_name.clone()));
        }
        if matches!(user.state, UserState::Inactive | UserState::Locked) {
            let grants = grant_counts.get(user.id.as_str()).copied().unwrap_or(0);
            if grants > 0 {
                per_user.entry(&user.id).or_default().push((
                    "inactive-machine-with-grants",
                    format!("{} ({:?}) holds {grants} grants and memberships", user.user_name, user.state),
                ));
            }
        }
    }
    for &rule in RULE_ORDER {
        for (user_id, entries) in &per_user {
            if let Some((_, note)) = entries.iter().find(|(entry_rule, _)| *entry_rule == rule) {
                found.push(SeededAnomaly { rule, subject_id: (*user_id).to_string(), note: note.clone() });
            }
        }
        if rule == "idp-certificate-expiring" {
            for idp in estate.identity_providers.values() {
                if let IdpConfig::Saml { certificate_not_after, .. } = &idp.config
                    && *certificate_not_after <= soon
                {
                    found.push(SeededAnomaly {
                        rule,
                        subject_id: idp.id.clone(),
                        note: format!("{}: signing certificate expires {}", idp.name, certificate_not_after.date()),
                    });
                }
            }
        }
    }
    found
}

/// Rule ids in report order.
const RULE_ORDER: &[&str] = &[
    "machine-user-manager-role",
    "key-without-expiry",
    "pat-without-expiry",
    "credential-older-than-365d",
    "credential-expiring-soon",
    "inactive-machine-with-grants",
    "machine-without-description",
    "idp-certificate-expiring",
];

impl Estate {
    /// Adds `user_id` (already in `users`) to the userName index.
    pub(crate) fn index_user(&mut self, user_id: &str) {
        if let Some(user) = self.users.get(user_id) {
            let key = (user.org_id.clone(), user.user_name.to_lowercase());
            self.user_names.entry(key).or_default().push(user_id.to_string());
        }
    }

    /// Drops `user_id` (still in `users`) from the userName index.
    pub(crate) fn unindex_user(&mut self, user_id: &str) {
        if let Some(user) = self.users.get(user_id) {
            let key = (user.org_id.clone(), user.user_name.to_lowercase());
            if let Some(ids) = self.user_names.get_mut(&key) {
                ids.retain(|id| id != user_id);
                if ids.is_empty() {
                    self.user_names.remove(&key);
                }
            }
        }
    }

    /// The org's users whose userName equals `user_name` ignoring case (ZITADEL's `LOWER()`).
    pub fn users_named(&self, org_id: &str, user_name: &str) -> impl Iterator<Item = &User> {
        self.user_names
            .get(&(org_id.to_string(), user_name.to_lowercase()))
            .into_iter()
            .flatten()
            .filter_map(|id| self.users.get(id))
    }
}
