//! Reading a whole estate as a graph of list calls, run as wide as the client's concurrency allows.
//!
//! The critical path is three requests deep: organizations, then users and projects (per org, or instance-wide
//! through v2), then what hangs off each user and project. Every list that fails marks its scope (kind x org)
//! unknown, with the scopes that depend on it, so that reconciliation keeps what is stored there.

use std::collections::{BTreeSet, HashMap, VecDeque};

use tokio::task::JoinSet;
use warden_core::fields::Described;
use warden_core::id::{OrgId, UserId};
use warden_core::incremental::Plan;

use super::credentials::KnownCredentials;
use warden_core::model::MetadataScope;
use warden_core::model::{
    Application, IdentityProvider, MachineKey, Membership, ObjectBatch, Observed, Org, PersonalAccessToken, Project,
    ProjectGrant, ProjectRole, ResourceKind, Snapshot, SyncError, User, UserGrant, UserMetadata,
};
use warden_core::reconcile::FetchScope;
use warden_zitadel::{Error as ClientError, ZitadelClient};

/// List calls under way at once. The client bounds requests in flight; this bounds the memory of the calls waiting
/// for a slot (a large estate has one per user).
const MAX_TASKS_IN_FLIGHT: usize = 256;

/// Everything one read produced.
#[derive(Debug, Default)]
pub(crate) struct Fetched {
    pub(crate) snapshot: Snapshot,
    /// Scopes that could not be read completely.
    pub(crate) unknown: BTreeSet<FetchScope>,
    pub(crate) errors: Vec<SyncError>,
    /// Scopes this credential may not read at all (instance-level lists for an org-level credential).
    pub(crate) not_permitted: Vec<String>,
}

/// One list call of the graph.
#[derive(Debug, Clone)]
enum Task {
    UsersOfInstance,
    UsersOfOrg(OrgId),
    MachineKeysOfInstance,
    MachineKeys(OrgId, UserId),
    PersonalAccessTokensOfInstance,
    PersonalAccessTokens(OrgId, UserId),
    Metadata(OrgId, UserId),
    ProjectsOfInstance,
    ProjectsOfOrg(OrgId),
    ProjectRoles(Project),
    Applications(Project),
    ProjectMembers(Project),
    ProjectGrantsOfOrg(OrgId),
    ProjectGrantMembers(ProjectGrant),
    UserGrantsOfInstance,
    UserGrantsOfOrg(OrgId),
    MembershipsOfInstance,
    InstanceMembers,
    OrgMembers(OrgId),
    InstanceIdentityProviders,
    OrgIdentityProviders(OrgId),
}

/// What a finished task produced: objects, or `None` from an instance-wide v2 list the instance does not serve.
type Outcome = Result<Option<ObjectBatch>, ClientError>;

impl Task {
    async fn run(self, client: ZitadelClient) -> (Task, Outcome) {
        let outcome = match &self {
            Task::UsersOfInstance => client.list_users_instance_wide().await.map(|users| users.map(ObjectBatch::Users)),
            Task::UsersOfOrg(org) => client.list_users(org).await.map(|users| Some(ObjectBatch::Users(users))),
            Task::MachineKeysOfInstance => {
                client.list_machine_keys_instance_wide().await.map(|keys| keys.map(ObjectBatch::MachineKeys))
            }
            Task::PersonalAccessTokensOfInstance => client
                .list_personal_access_tokens_instance_wide()
                .await
                .map(|tokens| tokens.map(ObjectBatch::PersonalAccessTokens)),
            Task::MachineKeys(org, user) => {
                client.list_machine_keys(org, user).await.map(|keys| Some(ObjectBatch::MachineKeys(keys)))
            }
            Task::PersonalAccessTokens(org, user) => client
                .list_personal_access_tokens(org, user)
                .await
                .map(|tokens| Some(ObjectBatch::PersonalAccessTokens(tokens))),
            Task::Metadata(org, user) => {
                client.list_user_metadata(org, user).await.map(|entries| Some(ObjectBatch::UserMetadata(entries)))
            }
            Task::ProjectsOfInstance => {
                client.list_projects_instance_wide().await.map(|projects| projects.map(ObjectBatch::Projects))
            }
            Task::ProjectsOfOrg(org) => {
                client.list_projects(org).await.map(|projects| Some(ObjectBatch::Projects(projects)))
            }
            Task::ProjectRoles(project) => {
                client.list_project_roles(project).await.map(|roles| Some(ObjectBatch::ProjectRoles(roles)))
            }
            Task::Applications(project) => {
                client.list_applications(project).await.map(|apps| Some(ObjectBatch::Applications(apps)))
            }
            Task::ProjectMembers(project) => {
                client.list_project_members(project).await.map(|members| Some(ObjectBatch::Memberships(members)))
            }
            Task::ProjectGrantsOfOrg(org) => {
                client.list_project_grants(org).await.map(|grants| Some(ObjectBatch::ProjectGrants(grants)))
            }
            Task::ProjectGrantMembers(grant) => {
                client.list_project_grant_members(grant).await.map(|members| Some(ObjectBatch::Memberships(members)))
            }
            Task::UserGrantsOfInstance => {
                client.list_user_grants_instance_wide().await.map(|grants| grants.map(ObjectBatch::UserGrants))
            }
            Task::UserGrantsOfOrg(org) => {
                client.list_user_grants(org).await.map(|grants| Some(ObjectBatch::UserGrants(grants)))
            }
            Task::MembershipsOfInstance => {
                client.list_memberships_instance_wide().await.map(|members| members.map(ObjectBatch::Memberships))
            }
            Task::InstanceMembers => {
                client.list_instance_members().await.map(|members| Some(ObjectBatch::Memberships(members)))
            }
            Task::OrgMembers(org) => {
                client.list_org_members(org).await.map(|members| Some(ObjectBatch::Memberships(members)))
            }
            Task::InstanceIdentityProviders => {
                client.list_instance_identity_providers().await.map(|idps| Some(ObjectBatch::IdentityProviders(idps)))
            }
            Task::OrgIdentityProviders(org) => {
                client.list_identity_providers(org).await.map(|idps| Some(ObjectBatch::IdentityProviders(idps)))
            }
        };
        (self, outcome)
    }

    /// The scopes this task's failure leaves unknown: its own, and those of everything that hangs off it.
    fn scopes(&self, orgs: &[OrgId]) -> Vec<FetchScope> {
        let in_org = |org: &OrgId, kinds: &[ResourceKind]| {
            kinds.iter().map(|kind| FetchScope { kind: *kind, org: Some(org.clone()) }).collect::<Vec<_>>()
        };
        let everywhere = |kinds: &[ResourceKind]| orgs.iter().flat_map(|org| in_org(org, kinds)).collect::<Vec<_>>();
        const USER_KINDS: &[ResourceKind] = &[
            ResourceKind::User,
            ResourceKind::MachineKey,
            ResourceKind::PersonalAccessToken,
            ResourceKind::UserMetadata,
        ];
        const PROJECT_KINDS: &[ResourceKind] =
            &[ResourceKind::Project, ResourceKind::ProjectRole, ResourceKind::Application, ResourceKind::Membership];
        match self {
            Task::UsersOfInstance => everywhere(USER_KINDS),
            Task::UsersOfOrg(org) => in_org(org, USER_KINDS),
            Task::MachineKeysOfInstance => everywhere(&[ResourceKind::MachineKey]),
            Task::PersonalAccessTokensOfInstance => everywhere(&[ResourceKind::PersonalAccessToken]),
            Task::MachineKeys(org, _) => in_org(org, &[ResourceKind::MachineKey]),
            Task::PersonalAccessTokens(org, _) => in_org(org, &[ResourceKind::PersonalAccessToken]),
            Task::Metadata(org, _) => in_org(org, &[ResourceKind::UserMetadata]),
            Task::ProjectsOfInstance => everywhere(PROJECT_KINDS),
            Task::ProjectsOfOrg(org) => in_org(org, PROJECT_KINDS),
            Task::ProjectRoles(project) => in_org(&project.org_id, &[ResourceKind::ProjectRole]),
            Task::Applications(project) => in_org(&project.org_id, &[ResourceKind::Application]),
            Task::ProjectMembers(project) => in_org(&project.org_id, &[ResourceKind::Membership]),
            Task::ProjectGrantsOfOrg(org) => in_org(org, &[ResourceKind::ProjectGrant, ResourceKind::Membership]),
            Task::ProjectGrantMembers(grant) => in_org(&grant.org_id, &[ResourceKind::Membership]),
            Task::UserGrantsOfInstance => everywhere(&[ResourceKind::UserGrant]),
            Task::UserGrantsOfOrg(org) => in_org(org, &[ResourceKind::UserGrant]),
            Task::MembershipsOfInstance => {
                let mut scopes = everywhere(&[ResourceKind::Membership]);
                scopes.push(FetchScope { kind: ResourceKind::Membership, org: None });
                scopes
            }
            Task::InstanceMembers => vec![FetchScope { kind: ResourceKind::Membership, org: None }],
            Task::OrgMembers(org) => in_org(org, &[ResourceKind::Membership]),
            Task::InstanceIdentityProviders => vec![FetchScope { kind: ResourceKind::IdentityProvider, org: None }],
            Task::OrgIdentityProviders(org) => in_org(org, &[ResourceKind::IdentityProvider]),
        }
    }

    /// Lists of the instance as such, which an organization-level credential may not read.
    fn is_instance_level(&self) -> bool {
        matches!(self, Task::InstanceMembers | Task::InstanceIdentityProviders)
    }
}

/// Reads the organizations in scope (`orgs_in_scope` empty: all visible), then everything in them.
pub(crate) async fn fetch_estate(
    client: &ZitadelClient,
    orgs_in_scope: &[OrgId],
    metadata: &MetadataScope,
    known: KnownCredentials,
) -> Result<Fetched, ClientError> {
    // The administrators list and the credential searches need no org, and whether they are served decides how
    // members and credentials are read: ask them all at once.
    let (orgs, memberships, keys, tokens) = tokio::join!(
        client.list_orgs(),
        Task::MembershipsOfInstance.run(client.clone()),
        Task::MachineKeysOfInstance.run(client.clone()),
        Task::PersonalAccessTokensOfInstance.run(client.clone()),
    );
    let mut orgs: Vec<Org> = orgs?;
    if !orgs_in_scope.is_empty() {
        orgs.retain(|org| orgs_in_scope.contains(&org.id));
    }
    let org_ids: Vec<OrgId> = orgs.iter().map(|org| org.id.clone()).collect();
    let members_through_v2 = !matches!(memberships.1, Ok(None));
    let mut graph = Graph::new(client, org_ids.clone(), members_through_v2);
    graph.fan_out_users = true;
    graph.metadata = metadata.clone();
    graph.keys_per_user = matches!(keys.1, Ok(None));
    graph.tokens_per_user = matches!(tokens.1, Ok(None));
    graph.known = known;
    graph.fetched.snapshot.orgs = orgs;
    graph.finish(&memberships.0, memberships.1);
    graph.finish(&keys.0, keys.1);
    graph.finish(&tokens.0, tokens.1);

    for task in [Task::UsersOfInstance, Task::ProjectsOfInstance, Task::UserGrantsOfInstance] {
        graph.spawn(task);
    }
    graph.spawn(Task::InstanceIdentityProviders);
    for org in &org_ids {
        graph.spawn(Task::ProjectGrantsOfOrg(org.clone()));
        graph.spawn(Task::OrgIdentityProviders(org.clone()));
    }
    graph.run_to_end().await;
    Ok(graph.into_fetched())
}

/// What an incremental read produced, and whether managers came with the instance-wide administrators list.
#[derive(Debug)]
pub(crate) struct PlannedRead {
    pub(crate) fetched: Fetched,
    /// The managers read are all of them (the instance-wide list), not only the planned organizations'.
    pub(crate) all_members: bool,
}

/// Reads the organizations in scope and the lists `plan` names. `known_users` are the stored users the plan's
/// per-user lists may concern: those of a user that is neither re-listed nor stored are not read (it was removed),
/// and keys and tokens are listed for machine users only, as a full read does.
pub(crate) async fn fetch_planned(
    client: &ZitadelClient,
    orgs_in_scope: &[OrgId],
    metadata: &MetadataScope,
    plan: &mut Plan,
    known_users: &[User],
) -> Result<PlannedRead, ClientError> {
    let members_dirty = !plan.members_of.is_empty() || plan.instance_members;
    let (orgs, memberships) = if members_dirty {
        let (orgs, memberships) = tokio::join!(client.list_orgs(), Task::MembershipsOfInstance.run(client.clone()));
        (orgs?, Some(memberships))
    } else {
        (client.list_orgs().await?, None)
    };
    let mut orgs: Vec<Org> = orgs;
    if !orgs_in_scope.is_empty() {
        orgs.retain(|org| orgs_in_scope.contains(&org.id));
    }
    let org_ids: Vec<OrgId> = orgs.iter().map(|org| org.id.clone()).collect();
    plan.retain_orgs(|org| org_ids.contains(org));
    let all_members = matches!(memberships, Some((_, Ok(Some(_)))));
    let members_through_v1 = matches!(memberships, Some((_, Ok(None))));
    if members_through_v1 {
        // Project and project-grant managers are listed per project and grant: the organization's projects and
        // grants are listed with them, so that its managers are read completely.
        for org in plan.members_of.clone() {
            plan.projects_of.insert(org.clone());
            plan.project_grants_of.insert(org);
        }
    }
    let mut graph = Graph::new(client, org_ids, !members_through_v1);
    graph.members_of = plan.members_of.iter().cloned().collect();
    graph.instance_members = plan.instance_members;
    graph.fetched.snapshot.orgs = orgs;
    if let Some((task, outcome)) = memberships {
        graph.finish(&task, outcome);
    }
    for org in &plan.users_of {
        graph.spawn(Task::UsersOfOrg(org.clone()));
    }
    for org in &plan.projects_of {
        graph.spawn(Task::ProjectsOfOrg(org.clone()));
    }
    for org in &plan.project_grants_of {
        graph.spawn(Task::ProjectGrantsOfOrg(org.clone()));
    }
    for org in &plan.user_grants_of {
        graph.spawn(Task::UserGrantsOfOrg(org.clone()));
    }
    for org in &plan.providers_of {
        graph.spawn(Task::OrgIdentityProviders(org.clone()));
    }
    if plan.instance_providers {
        graph.spawn(Task::InstanceIdentityProviders);
    }
    graph.run_to_end().await;

    // What hangs off each user the events name, once the users are known.
    let relisted_ok = |org: &OrgId| {
        plan.users_of.contains(org)
            && !graph.fetched.unknown.contains(&FetchScope { kind: ResourceKind::User, org: Some(org.clone()) })
    };
    let relisted: HashMap<&UserId, &User> = graph.fetched.snapshot.users.iter().map(|user| (&user.id, user)).collect();
    let stored: HashMap<&UserId, &User> = known_users.iter().map(|user| (&user.id, user)).collect();
    let mut follow_ups = Vec::new();
    for (user_id, (org, parts)) in &plan.user_parts {
        let user = if plan.users_of.contains(org) {
            if !relisted_ok(org) {
                // The users could not be listed: their scopes are unknown already, nothing is removed.
                continue;
            }
            relisted.get(user_id).copied()
        } else {
            stored.get(user_id).copied()
        };
        let Some(user) = user else { continue };
        if parts.metadata && metadata.covers(user.is_machine()) {
            follow_ups.push(Task::Metadata(org.clone(), user_id.clone()));
        }
        if parts.machine_keys && user.is_machine() {
            follow_ups.push(Task::MachineKeys(org.clone(), user_id.clone()));
        }
        if parts.personal_access_tokens && user.is_machine() {
            follow_ups.push(Task::PersonalAccessTokens(org.clone(), user_id.clone()));
        }
    }
    for task in follow_ups {
        graph.spawn(task);
    }
    graph.run_to_end().await;
    Ok(PlannedRead { fetched: graph.into_fetched(), all_members })
}

struct Graph {
    client: ZitadelClient,
    orgs: Vec<OrgId>,
    /// Whether the keys, tokens and metadata of every user read are listed (a full read), or only those queued.
    fan_out_users: bool,
    /// Whose metadata is listed.
    metadata: MetadataScope,
    /// Whether machine users' keys (tokens) are listed per user: the instance-wide search is not served.
    keys_per_user: bool,
    tokens_per_user: bool,
    /// What completes the searched credentials.
    known: KnownCredentials,
    /// Where the instance-wide administrators list is not served, the organizations whose managers are listed
    /// instead, and whether the instance's are.
    members_of: Vec<OrgId>,
    instance_members: bool,
    /// Project and project-grant members come with the instance-wide administrators list (or it failed, and their
    /// scopes are unknown anyway); otherwise each is listed.
    members_through_v2: bool,
    tasks: JoinSet<(Task, Outcome)>,
    waiting: VecDeque<Task>,
    /// The user (index into the fetched users) and which of its lists come next.
    user_cursor: (usize, u8),
    fetched: Fetched,
}

fn in_scope<T: Described>(objects: Vec<T>, orgs: &[OrgId]) -> Vec<T> {
    objects.into_iter().filter(|object| object.scope_org().is_none_or(|org| orgs.contains(org))).collect()
}

impl Graph {
    fn new(client: &ZitadelClient, orgs: Vec<OrgId>, members_through_v2: bool) -> Graph {
        Graph {
            client: client.clone(),
            members_of: orgs.clone(),
            orgs,
            fan_out_users: false,
            metadata: MetadataScope::All,
            keys_per_user: true,
            tokens_per_user: true,
            known: KnownCredentials::default(),
            instance_members: true,
            members_through_v2,
            tasks: JoinSet::new(),
            waiting: VecDeque::new(),
            user_cursor: (0, 0),
            fetched: Fetched::default(),
        }
    }

    /// What the read produced. Instance providers are listed by the instance and by every organization: each is
    /// kept once.
    fn into_fetched(self) -> Fetched {
        let mut fetched = self.fetched;
        let mut seen = BTreeSet::new();
        fetched.snapshot.identity_providers.retain(|provider| seen.insert(provider.key()));
        fetched
    }

    /// Runs every queued task and what follows from it.
    async fn run_to_end(&mut self) {
        self.start_waiting();
        while let Some(joined) = self.tasks.join_next().await {
            match joined {
                Ok((task, outcome)) => self.finish(&task, outcome),
                // A panicking task is a bug; its scope is unknown but the read goes on.
                Err(error) => {
                    self.fetched.errors.push(SyncError { scope: "internal".to_owned(), message: error.to_string() })
                }
            }
            self.start_waiting();
        }
    }

    fn spawn(&mut self, task: Task) {
        self.waiting.push_back(task);
    }

    fn start_waiting(&mut self) {
        while self.tasks.len() < MAX_TASKS_IN_FLIGHT
            && let Some(task) = self.waiting.pop_front().or_else(|| self.next_user_task())
        {
            self.tasks.spawn(task.run(self.client.clone()));
        }
    }

    /// The next list hanging off a user already read: metadata of every user in the metadata scope, keys and
    /// tokens of machine users.
    fn next_user_task(&mut self) -> Option<Task> {
        if !self.fan_out_users {
            return None;
        }
        loop {
            let (index, step) = self.user_cursor;
            let user = self.fetched.snapshot.users.get(index)?;
            self.user_cursor = if step == 2 { (index + 1, 0) } else { (index, step + 1) };
            let (org, id) = (user.org_id.clone(), user.id.clone());
            match step {
                0 if self.metadata.covers(user.is_machine()) => return Some(Task::Metadata(org, id)),
                1 if user.is_machine() && self.keys_per_user => return Some(Task::MachineKeys(org, id)),
                2 if user.is_machine() && self.tokens_per_user => return Some(Task::PersonalAccessTokens(org, id)),
                _ => {}
            }
        }
    }

    fn finish(&mut self, task: &Task, outcome: Outcome) {
        match outcome {
            Err(error) if task.is_instance_level() && error.is_permission_denied() => {
                self.fetched.unknown.extend(task.scopes(&self.orgs));
                self.fetched.not_permitted.push(error.to_string());
            }
            Err(error) => {
                self.fetched.unknown.extend(task.scopes(&self.orgs));
                let scopes = task.scopes(&self.orgs);
                let scope = scopes.first().map_or_else(|| "instance".to_owned(), describe_scope);
                self.fetched.errors.push(SyncError { scope, message: error.to_string() });
            }
            // The instance does not serve this v2 list: read it per organization instead.
            Ok(None) => self.fall_back(task),
            Ok(Some(ObjectBatch::MachineKeys(keys))) if matches!(task, Task::MachineKeysOfInstance) => {
                let (keys, unknown) = self.known.complete_keys(in_scope(keys, &self.orgs));
                self.fetched.snapshot.machine_keys.extend(keys);
                for (org, user) in unknown {
                    self.spawn(Task::MachineKeys(org, user));
                }
            }
            Ok(Some(ObjectBatch::PersonalAccessTokens(tokens)))
                if matches!(task, Task::PersonalAccessTokensOfInstance) =>
            {
                let (tokens, unknown) = self.known.complete_tokens(in_scope(tokens, &self.orgs));
                self.fetched.snapshot.personal_access_tokens.extend(tokens);
                for (org, user) in unknown {
                    self.spawn(Task::PersonalAccessTokens(org, user));
                }
            }
            Ok(Some(batch)) => self.accept(batch),
        }
    }

    fn fall_back(&mut self, task: &Task) {
        let per_org: Vec<Task> = match task {
            Task::UsersOfInstance => self.orgs.iter().cloned().map(Task::UsersOfOrg).collect(),
            Task::ProjectsOfInstance => self.orgs.iter().cloned().map(Task::ProjectsOfOrg).collect(),
            Task::UserGrantsOfInstance => self.orgs.iter().cloned().map(Task::UserGrantsOfOrg).collect(),
            Task::MembershipsOfInstance => {
                let mut tasks: Vec<Task> = self.members_of.iter().cloned().map(Task::OrgMembers).collect();
                if self.instance_members {
                    tasks.push(Task::InstanceMembers);
                }
                tasks
            }
            _ => Vec::new(),
        };
        for task in per_org {
            self.spawn(task);
        }
    }

    fn accept(&mut self, batch: ObjectBatch) {
        let orgs = self.orgs.clone();
        let snapshot = &mut self.fetched.snapshot;
        let mut follow_ups = Vec::new();
        match batch {
            // What hangs off each user is listed from the users read so far ([`Graph::next_user_task`]), not
            // queued here: a large estate would queue hundreds of thousands of tasks at once.
            ObjectBatch::Users(users) => snapshot.users.extend::<Vec<User>>(in_scope(users, &orgs)),
            ObjectBatch::Projects(projects) => {
                let projects: Vec<Project> = in_scope(projects, &orgs);
                for project in &projects {
                    follow_ups.push(Task::ProjectRoles(project.clone()));
                    follow_ups.push(Task::Applications(project.clone()));
                    if !self.members_through_v2 {
                        follow_ups.push(Task::ProjectMembers(project.clone()));
                    }
                }
                snapshot.projects.extend(projects);
            }
            ObjectBatch::ProjectGrants(grants) => {
                let grants: Vec<ProjectGrant> = in_scope(grants, &orgs);
                if !self.members_through_v2 {
                    follow_ups.extend(grants.iter().cloned().map(Task::ProjectGrantMembers));
                }
                snapshot.project_grants.extend(grants);
            }
            ObjectBatch::MachineKeys(keys) => snapshot.machine_keys.extend::<Vec<MachineKey>>(keys),
            ObjectBatch::PersonalAccessTokens(tokens) => {
                snapshot.personal_access_tokens.extend::<Vec<PersonalAccessToken>>(tokens);
            }
            ObjectBatch::UserMetadata(entries) => snapshot.user_metadata.extend::<Vec<UserMetadata>>(entries),
            ObjectBatch::ProjectRoles(roles) => snapshot.project_roles.extend::<Vec<ProjectRole>>(roles),
            ObjectBatch::Applications(apps) => snapshot.applications.extend::<Vec<Application>>(apps),
            ObjectBatch::UserGrants(grants) => snapshot.user_grants.extend::<Vec<UserGrant>>(in_scope(grants, &orgs)),
            ObjectBatch::Memberships(members) => {
                snapshot.memberships.extend::<Vec<Membership>>(in_scope(members, &orgs))
            }
            ObjectBatch::IdentityProviders(idps) => {
                snapshot.identity_providers.extend::<Vec<IdentityProvider>>(in_scope(idps, &orgs));
            }
            ObjectBatch::Orgs(_) => {}
        }
        for task in follow_ups {
            self.spawn(task);
        }
    }
}

fn describe_scope(scope: &FetchScope) -> String {
    match &scope.org {
        Some(org) => format!("{} in org {org}", scope.kind),
        None => format!("{} of the instance", scope.kind),
    }
}
