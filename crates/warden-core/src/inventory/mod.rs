//! The service-account inventory: per machine user, who it is, what it can reach, which credentials it holds, and a
//! risk score that says how much a leak of it would cost ([`risk`], formula in `docs/risk-score.md`).

pub mod risk;

use std::collections::{BTreeSet, HashMap};

use time::OffsetDateTime;

use crate::id::{EnvironmentName, OrgId, ProjectGrantId, ProjectId, RoleKey, UserGrantId, UserId};
use crate::model::{
    AccessTokenType, GrantState, MachineKey, Membership, MembershipScope, PersonalAccessToken, Project, ProjectGrant,
    Snapshot, User, UserGrant, UserKind, UserState,
};
use crate::posture::Policy;

pub use risk::{RiskFactor, RiskScore, risk_score};

/// One machine user and everything it can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub environment: EnvironmentName,
    pub id: UserId,
    pub username: String,
    /// The machine user's name, else its username.
    pub display_name: String,
    pub org_id: OrgId,
    pub org_name: Option<String>,
    pub state: UserState,
    pub description: String,
    pub created_at: Option<OffsetDateTime>,
    /// A client secret is set: the account can log in with client credentials (a secret has no expiry in ZITADEL
    /// and is not listed, so it appears here and not among the credentials).
    pub has_client_secret: bool,
    pub access_token_type: AccessTokenType,
    /// Organizations other than its own that it reaches, sorted: where its active user grants are owned, the owners
    /// of the projects those grants are on, the scopes of its memberships (and the granted organization of a
    /// project-grant membership), and the organizations the projects it manages (a project membership with one of
    /// the policy's manager roles) are granted to by active project grants. An instance-level membership reaches
    /// every organization and is not enumerated.
    pub orgs_reached: Vec<OrgId>,
    /// Its user grants (every state; only active ones give access), by project.
    pub grants: Vec<GrantAccess>,
    /// Its manager memberships at every scope.
    pub memberships: Vec<ManagerAccess>,
    /// Projects it holds an active grant on or a project membership of, that are granted to other organizations.
    pub project_grant_reach: Vec<ProjectGrantReach>,
    /// Machine keys and personal access tokens, oldest first.
    pub credentials: Vec<Credential>,
    pub risk: RiskScore,
}

/// A user grant: role keys on a project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GrantAccess {
    pub project_id: ProjectId,
    /// `None` when the project is not in the synced state (owned by an organization out of scope).
    pub project_name: Option<String>,
    pub user_grant_id: UserGrantId,
    /// The organization that owns the grant.
    pub grant_org_id: OrgId,
    /// Set when the grant is made through a project grant.
    pub project_grant_id: Option<ProjectGrantId>,
    pub role_keys: Vec<RoleKey>,
    pub state: GrantState,
}

/// A manager membership: manager roles at one scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ManagerAccess {
    pub scope: MembershipScope,
    /// The project's name for project and project-grant scopes, when known.
    pub project_name: Option<String>,
    pub roles: Vec<String>,
}

/// How an account is tied to a project it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReachVia {
    /// An active user grant on the project.
    UserGrant,
    /// A project membership (it manages the project, its grants included).
    ProjectMembership,
}

/// A project the account is tied to and the organizations that project is granted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectGrantReach {
    pub project_id: ProjectId,
    pub project_name: Option<String>,
    pub via: Vec<ReachVia>,
    pub granted_to: Vec<GrantedOrg>,
}

/// One project grant: the organization it is granted to and the role keys it may hand out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GrantedOrg {
    pub org_id: OrgId,
    pub project_grant_id: ProjectGrantId,
    pub role_keys: Vec<RoleKey>,
    pub state: GrantState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CredentialKind {
    MachineKey,
    PersonalAccessToken,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::MachineKey => "machine_key",
            CredentialKind::PersonalAccessToken => "personal_access_token",
        }
    }
}

/// A machine key or personal access token, dated relative to the time it was looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub kind: CredentialKind,
    pub id: String,
    pub created_at: Option<OffsetDateTime>,
    /// `None`: never expires.
    pub expires_at: Option<OffsetDateTime>,
    /// Whole days since creation; `None` when the creation time is unknown.
    pub age_days: Option<i64>,
    pub expired: bool,
}

/// Every machine user of the snapshot with its reach, credentials and risk, highest risk first, then by username.
pub fn service_account_inventory(
    environment: &EnvironmentName,
    snapshot: &Snapshot,
    policy: &Policy,
    now: OffsetDateTime,
) -> Vec<ServiceAccount> {
    let index = SnapshotIndex::new(snapshot);
    let mut accounts: Vec<ServiceAccount> = snapshot
        .users
        .iter()
        .filter(|user| user.is_machine())
        .map(|user| {
            let mut account = describe_account(environment, &index, user, policy, now);
            account.risk = risk_score(&account, policy, now);
            account
        })
        .collect();
    accounts.sort_by(|a, b| {
        b.risk.score.cmp(&a.risk.score).then_with(|| a.username.cmp(&b.username)).then_with(|| a.id.cmp(&b.id))
    });
    accounts
}

/// A snapshot's objects by the ids the inventory looks them up by, built once so that describing every account
/// stays linear in the size of the estate (100,000 users, 5,000 of them machines, is a real estate).
pub(crate) struct SnapshotIndex<'a> {
    org_names: HashMap<&'a OrgId, &'a str>,
    projects: HashMap<&'a ProjectId, &'a Project>,
    project_grants_by_project: HashMap<&'a ProjectId, Vec<&'a ProjectGrant>>,
    project_grants: HashMap<&'a ProjectGrantId, &'a ProjectGrant>,
    user_grants: HashMap<&'a UserId, Vec<&'a UserGrant>>,
    memberships: HashMap<&'a UserId, Vec<&'a Membership>>,
    machine_keys: HashMap<&'a UserId, Vec<&'a MachineKey>>,
    personal_access_tokens: HashMap<&'a UserId, Vec<&'a PersonalAccessToken>>,
}

impl<'a> SnapshotIndex<'a> {
    pub(crate) fn new(snapshot: &'a Snapshot) -> Self {
        fn by_user<'a, T>(items: &'a [T], user_id: impl Fn(&'a T) -> &'a UserId) -> HashMap<&'a UserId, Vec<&'a T>> {
            let mut map: HashMap<&UserId, Vec<&T>> = HashMap::new();
            for item in items {
                map.entry(user_id(item)).or_default().push(item);
            }
            map
        }
        let mut project_grants_by_project: HashMap<&ProjectId, Vec<&ProjectGrant>> = HashMap::new();
        for project_grant in &snapshot.project_grants {
            project_grants_by_project.entry(&project_grant.project_id).or_default().push(project_grant);
        }
        SnapshotIndex {
            org_names: snapshot.orgs.iter().map(|org| (&org.id, org.name.as_str())).collect(),
            projects: snapshot.projects.iter().map(|project| (&project.id, project)).collect(),
            project_grants_by_project,
            project_grants: snapshot.project_grants.iter().map(|grant| (&grant.id, grant)).collect(),
            user_grants: by_user(&snapshot.user_grants, |grant| &grant.user_id),
            memberships: by_user(&snapshot.memberships, |membership| &membership.user_id),
            machine_keys: by_user(&snapshot.machine_keys, |key| &key.user_id),
            personal_access_tokens: by_user(&snapshot.personal_access_tokens, |token| &token.user_id),
        }
    }

    fn project_name(&self, project_id: &ProjectId) -> Option<String> {
        self.projects.get(project_id).map(|project| project.name.clone())
    }

    fn of<T>(map: &HashMap<&'a UserId, Vec<&'a T>>, user_id: &UserId) -> impl Iterator<Item = &'a T> {
        map.get(user_id).into_iter().flatten().copied()
    }
}

/// One user's account as of `now`, without its risk score (left at zero).
fn describe_account(
    environment: &EnvironmentName,
    index: &SnapshotIndex<'_>,
    user: &User,
    policy: &Policy,
    now: OffsetDateTime,
) -> ServiceAccount {
    let (description, has_client_secret, access_token_type) = match &user.kind {
        UserKind::Machine(machine) => {
            (machine.description.clone(), machine.has_secret, machine.access_token_type.clone())
        }
        UserKind::Human(_) => (String::new(), false, AccessTokenType::Bearer),
    };
    let grants = grants_of(index, &user.id);
    let memberships = memberships_of(index, &user.id);
    let project_grant_reach = project_grant_reach(index, &grants, &memberships);
    let orgs_reached = orgs_reached(index, user, &grants, &memberships, &project_grant_reach, policy);
    ServiceAccount {
        environment: environment.clone(),
        id: user.id.clone(),
        username: user.username.clone(),
        display_name: user.display_name().to_owned(),
        org_id: user.org_id.clone(),
        org_name: index.org_names.get(&user.org_id).map(|name| (*name).to_owned()),
        state: user.state.clone(),
        description,
        created_at: user.created_at,
        has_client_secret,
        access_token_type,
        orgs_reached,
        grants,
        memberships,
        project_grant_reach,
        credentials: credentials_of(index, &user.id, now),
        risk: RiskScore::default(),
    }
}

/// The user's grants (every state), sorted by project, then grant id; role keys sorted.
pub(crate) fn grants_of(index: &SnapshotIndex<'_>, user_id: &UserId) -> Vec<GrantAccess> {
    let mut grants: Vec<GrantAccess> = SnapshotIndex::of(&index.user_grants, user_id)
        .map(|grant| {
            let mut role_keys = grant.role_keys.clone();
            role_keys.sort();
            GrantAccess {
                project_id: grant.project_id.clone(),
                project_name: index.project_name(&grant.project_id),
                user_grant_id: grant.id.clone(),
                grant_org_id: grant.org_id.clone(),
                project_grant_id: grant.project_grant_id.clone(),
                role_keys,
                state: grant.state.clone(),
            }
        })
        .collect();
    grants.sort();
    grants
}

/// The user's memberships, sorted by scope; roles sorted.
pub(crate) fn memberships_of(index: &SnapshotIndex<'_>, user_id: &UserId) -> Vec<ManagerAccess> {
    let mut memberships: Vec<ManagerAccess> = SnapshotIndex::of(&index.memberships, user_id)
        .map(|membership: &Membership| {
            let mut roles = membership.roles.clone();
            roles.sort();
            let project_name = match &membership.scope {
                MembershipScope::Project { project_id, .. } | MembershipScope::ProjectGrant { project_id, .. } => {
                    index.project_name(project_id)
                }
                MembershipScope::Instance | MembershipScope::Org(_) => None,
            };
            ManagerAccess { scope: membership.scope.clone(), project_name, roles }
        })
        .collect();
    memberships.sort();
    memberships
}

/// The user's keys and tokens, oldest first (unknown creation first), dated relative to `now`.
pub(crate) fn credentials_of(index: &SnapshotIndex<'_>, user_id: &UserId, now: OffsetDateTime) -> Vec<Credential> {
    let credential =
        |kind, id: &str, created_at: Option<OffsetDateTime>, expires_at: Option<OffsetDateTime>| Credential {
            kind,
            id: id.to_owned(),
            created_at,
            expires_at,
            age_days: created_at.map(|created| (now - created).whole_days()),
            expired: expires_at.is_some_and(|expires| expires <= now),
        };
    let mut credentials: Vec<Credential> = SnapshotIndex::of(&index.machine_keys, user_id)
        .map(|key| credential(CredentialKind::MachineKey, key.id.as_str(), key.created_at, key.expires_at))
        .chain(SnapshotIndex::of(&index.personal_access_tokens, user_id).map(|token| {
            credential(CredentialKind::PersonalAccessToken, token.id.as_str(), token.created_at, token.expires_at)
        }))
        .collect();
    credentials.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
    credentials
}

fn project_grant_reach(
    index: &SnapshotIndex<'_>,
    grants: &[GrantAccess],
    memberships: &[ManagerAccess],
) -> Vec<ProjectGrantReach> {
    let mut tied: Vec<(&ProjectId, ReachVia)> = grants
        .iter()
        .filter(|grant| grant.state == GrantState::Active)
        .map(|grant| (&grant.project_id, ReachVia::UserGrant))
        .chain(memberships.iter().filter_map(|membership| match &membership.scope {
            MembershipScope::Project { project_id, .. } => Some((project_id, ReachVia::ProjectMembership)),
            _ => None,
        }))
        .collect();
    tied.sort();
    tied.dedup();
    let projects: BTreeSet<&ProjectId> = tied.iter().map(|(project_id, _)| *project_id).collect();
    projects
        .into_iter()
        .filter_map(|project_id| {
            let mut granted_to: Vec<GrantedOrg> = index
                .project_grants_by_project
                .get(project_id)
                .into_iter()
                .flatten()
                .map(|project_grant| {
                    let mut role_keys = project_grant.role_keys.clone();
                    role_keys.sort();
                    GrantedOrg {
                        org_id: project_grant.granted_org_id.clone(),
                        project_grant_id: project_grant.id.clone(),
                        role_keys,
                        state: project_grant.state.clone(),
                    }
                })
                .collect();
            if granted_to.is_empty() {
                return None;
            }
            granted_to.sort();
            let via =
                tied.iter().filter(|(tied_project, _)| *tied_project == project_id).map(|(_, via)| *via).collect();
            Some(ProjectGrantReach {
                project_id: project_id.clone(),
                project_name: index.project_name(project_id),
                via,
                granted_to,
            })
        })
        .collect()
}

fn orgs_reached(
    index: &SnapshotIndex<'_>,
    user: &User,
    grants: &[GrantAccess],
    memberships: &[ManagerAccess],
    reach: &[ProjectGrantReach],
    policy: &Policy,
) -> Vec<OrgId> {
    let mut orgs: BTreeSet<&OrgId> = BTreeSet::new();
    for grant in grants.iter().filter(|grant| grant.state == GrantState::Active) {
        orgs.insert(&grant.grant_org_id);
        if let Some(project) = index.projects.get(&grant.project_id) {
            orgs.insert(&project.org_id);
        }
    }
    for membership in memberships {
        orgs.extend(membership.scope.org_id());
        if let MembershipScope::ProjectGrant { project_grant_id, .. } = &membership.scope
            && let Some(project_grant) = index.project_grants.get(project_grant_id)
        {
            orgs.insert(&project_grant.granted_org_id);
        }
    }
    let managed: BTreeSet<&ProjectId> = memberships
        .iter()
        .filter(|membership| membership.roles.iter().any(|role| policy.manager_roles.contains(role)))
        .filter_map(|membership| match &membership.scope {
            MembershipScope::Project { project_id, .. } => Some(project_id),
            _ => None,
        })
        .collect();
    for project in reach.iter().filter(|project| managed.contains(&project.project_id)) {
        orgs.extend(
            project
                .granted_to
                .iter()
                .filter(|granted| granted.state == GrantState::Active)
                .map(|granted| &granted.org_id),
        );
    }
    orgs.remove(&user.org_id);
    orgs.into_iter().cloned().collect()
}

#[cfg(test)]
mod tests;
