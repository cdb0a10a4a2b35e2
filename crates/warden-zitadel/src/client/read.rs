//! Reading an estate: one method per ZITADEL list, v1 per organization or v2 across the instance.

use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use warden_core::id::{OrgId, UserId};
use warden_core::model::{
    Application, IdentityProvider, MachineKey, Membership, MembershipScope, Org, PersonalAccessToken, Project,
    ProjectGrant, ProjectRole, User, UserGrant, UserMetadata,
};

use crate::client::{ListCall, MAX_PAGE_SIZE, PageStyle, V2Service, ZitadelClient};
use crate::convert::{self, ConvertError};
use crate::dto::{v1, v2};
use crate::error::Error;
use crate::path::segment;
use crate::transport::Call;

fn converted<D, T>(
    operation: &str,
    items: Vec<D>,
    convert: impl Fn(D) -> Result<T, ConvertError>,
) -> Result<Vec<T>, Error> {
    items.into_iter().map(|item| convert(item).map_err(|error| invalid(operation, &error))).collect()
}

fn invalid(operation: &str, error: &dyn std::fmt::Display) -> Error {
    Error::InvalidResponse { operation: operation.to_owned(), message: error.to_string() }
}

impl ZitadelClient {
    fn v1_list<'a>(
        &self,
        path: String,
        org: Option<&'a OrgId>,
        operation: String,
        permission: &'static str,
        sorting_column: Option<&'static str>,
    ) -> ListCall<'a> {
        ListCall { path, org, style: PageStyle::Query, sorting_column, filters: None, operation, permission }
    }

    /// The organization the credential belongs to.
    pub async fn own_org(&self) -> Result<Org, Error> {
        let operation = "read the credential's own org";
        let response: v1::GetMyOrgResponse = self
            .call(Method::GET, "/management/v1/orgs/me".to_owned(), None, None, operation.to_owned(), "org.read")
            .await?;
        convert::org_v1(response.org).map_err(|error| invalid(operation, &error))
    }

    /// The manager memberships (instance, organizations, projects) of the user warden's credential belongs to.
    pub async fn list_my_memberships(&self) -> Result<Vec<Membership>, Error> {
        self.own_memberships(None).await
    }

    /// The manager memberships of the user a bearer token presented to warden belongs to (a SCIM client's token):
    /// ZITADEL vouches for the token by answering. An unknown, expired or revoked token is `Unauthenticated`.
    pub async fn memberships_of_token(&self, token: &SecretString) -> Result<Vec<Membership>, Error> {
        self.own_memberships(Some(token)).await
    }

    /// One page of at most [`MAX_PAGE_SIZE`]: a service user holds a handful of memberships, not thousands.
    async fn own_memberships(&self, token: Option<&SecretString>) -> Result<Vec<Membership>, Error> {
        let operation = "list the token's own memberships";
        let call = Call {
            method: Method::POST,
            path: "/auth/v1/memberships/me/_search".to_owned(),
            org: None,
            body: Some(json!({"query": {"offset": "0", "limit": MAX_PAGE_SIZE, "asc": true}})),
            operation: operation.to_owned(),
            permission: None,
        };
        let transport = &self.inner.transport;
        let response: v1::ListMyMembershipsResponse = match token {
            Some(token) => transport.json_as(&call, token).await?,
            None => transport.json(&call).await?,
        };
        let memberships = converted(operation, response.result, convert::own_membership)?;
        Ok(memberships.into_iter().flatten().collect())
    }

    /// Every organization the credential may see: the instance-wide list (v2, else Admin v1), or only its own
    /// organization when it may not list the instance.
    pub async fn list_orgs(&self) -> Result<Vec<Org>, Error> {
        let operation = "list organizations";
        let v2 = self.through_v2(V2Service::Organizations, operation, async {
            let list = ListCall {
                path: "/v2/organizations/_search".to_owned(),
                org: None,
                style: PageStyle::Query,
                sorting_column: Some("ORGANIZATION_FIELD_NAME_NAME"),
                filters: None,
                operation: operation.to_owned(),
                permission: "org.read",
            };
            let orgs: Vec<v2::Organization> = self.list(&list, |org: &v2::Organization| org.id.clone()).await?;
            converted(operation, orgs, convert::org_v2)
        });
        let listed = match v2.await {
            Ok(Some(orgs)) => Ok(orgs),
            Ok(None) => {
                let list = self.v1_list(
                    "/admin/v1/orgs/_search".to_owned(),
                    None,
                    operation.to_owned(),
                    "iam.read",
                    Some("ORG_FIELD_NAME_NAME"),
                );
                let orgs: Result<Vec<v1::Org>, Error> = self.list(&list, |org: &v1::Org| org.id.clone()).await;
                orgs.and_then(|orgs| converted(operation, orgs, convert::org_v1))
            }
            Err(error) => Err(error),
        };
        match listed {
            Err(error) if error.is_permission_denied() => {
                tracing::info!("the credential cannot list the instance's organizations; reading only its own");
                Ok(vec![self.own_org().await?])
            }
            other => other,
        }
    }

    /// Users (human and machine) of one organization (Management v1, sorted by user name).
    pub async fn list_users(&self, org: &OrgId) -> Result<Vec<User>, Error> {
        let operation = format!("list users of org {org}");
        let list = self.v1_list(
            "/management/v1/users/_search".to_owned(),
            Some(org),
            operation.clone(),
            "user.read",
            Some("USER_FIELD_NAME_USER_NAME"),
        );
        let users: Vec<v1::User> = self.list(&list, |user: &v1::User| user.id.clone()).await?;
        converted(&operation, users, convert::user_v1)
    }

    /// The user of `org` whose user name is `user_name`, compared case-insensitively as ZITADEL's uniqueness does.
    pub async fn find_user_by_user_name(&self, org: &OrgId, user_name: &str) -> Result<Option<User>, Error> {
        let operation = format!("look up user {user_name:?} in org {org}");
        let mut list = self.v1_list(
            "/management/v1/users/_search".to_owned(),
            Some(org),
            operation.clone(),
            "user.read",
            Some("USER_FIELD_NAME_USER_NAME"),
        );
        list.filters = Some(serde_json::json!([
            {"userNameQuery": {"userName": user_name, "method": "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}}
        ]));
        let users: Vec<v1::User> = self.list(&list, |user: &v1::User| user.id.clone()).await?;
        let users = converted(&operation, users, convert::user_v1)?;
        // ZITADEL compares with SQL's LOWER(), which lower-cases beyond ASCII.
        let wanted = user_name.to_lowercase();
        Ok(users.into_iter().find(|user| user.username.to_lowercase() == wanted && user.org_id == *org))
    }

    /// The user grants of one user in `org`.
    pub async fn list_user_grants_of_user(&self, org: &OrgId, user: &UserId) -> Result<Vec<UserGrant>, Error> {
        let operation = format!("list user grants of user {user}");
        let mut list = self.v1_list(
            "/management/v1/users/grants/_search".to_owned(),
            Some(org),
            operation.clone(),
            "user.grant.read",
            None,
        );
        list.filters = Some(serde_json::json!([{"userIdQuery": {"userId": user.as_str()}}]));
        let grants: Vec<v1::UserGrant> = self.list(&list, |grant: &v1::UserGrant| grant.id.clone()).await?;
        converted(&operation, grants, convert::user_grant_v1)
    }

    /// Users of every organization in one list (v2 `ListUsers`); `None` when the caller should page per org (v1).
    pub async fn list_users_instance_wide(&self) -> Result<Option<Vec<User>>, Error> {
        let operation = "list users of the instance";
        self.through_v2(V2Service::Users, operation, async {
            let list = ListCall {
                path: "/v2/users".to_owned(),
                org: None,
                style: PageStyle::Query,
                sorting_column: Some("USER_FIELD_NAME_CREATION_DATE"),
                filters: None,
                operation: operation.to_owned(),
                permission: "user.read",
            };
            let users: Vec<v2::User> = self.list(&list, |user: &v2::User| user.user_id.clone()).await?;
            converted(operation, users, convert::user_v2)
        })
        .await
    }

    pub async fn list_machine_keys(&self, org: &OrgId, user: &UserId) -> Result<Vec<MachineKey>, Error> {
        let operation = format!("list keys of user {}", user);
        let path = format!("/management/v1/users/{}/keys/_search", segment(user.as_str()));
        let list = self.v1_list(path, Some(org), operation.clone(), "user.read", None);
        let keys: Vec<v1::MachineKey> = self.list(&list, |key: &v1::MachineKey| key.id.clone()).await?;
        converted(&operation, keys, |key| convert::machine_key(key, org, user))
    }

    pub async fn list_personal_access_tokens(
        &self,
        org: &OrgId,
        user: &UserId,
    ) -> Result<Vec<PersonalAccessToken>, Error> {
        let operation = format!("list personal access tokens of user {}", user);
        let path = format!("/management/v1/users/{}/pats/_search", segment(user.as_str()));
        let list = self.v1_list(path, Some(org), operation.clone(), "user.read", None);
        let tokens: Vec<v1::PersonalAccessToken> =
            self.list(&list, |token: &v1::PersonalAccessToken| token.id.clone()).await?;
        converted(&operation, tokens, |token| convert::personal_access_token(token, org, user))
    }

    /// The machine keys of every user the credential may read (`user.read`), across all organizations, in pages of
    /// the configured size (user v2 `ListKeys`, `POST /v2/users/keys/search`, sorted by key id).
    ///
    /// `None`: ZITADEL does not serve the search, so list per machine user with [`Self::list_machine_keys`]. As for
    /// every v2 list: `api = "v1"` never asks; `auto` asks once and, when the route is missing (404/501), remembers
    /// that for the client's life; `v2` makes a missing route an [`Error::V2Unavailable`].
    ///
    /// The search does not carry a key's type: every key comes back as [`KeyType::Unspecified`]. A key's type never
    /// changes after creation, so take it from the stored key or from [`Self::list_machine_keys`].
    ///
    /// [`KeyType::Unspecified`]: warden_core::model::KeyType::Unspecified
    pub async fn list_machine_keys_instance_wide(&self) -> Result<Option<Vec<MachineKey>>, Error> {
        self.search_machine_keys(None).await
    }

    /// [`Self::list_machine_keys_instance_wide`] narrowed to the keys of one organization's users
    /// (`organizationIdFilter`); `None` and the key type as there.
    pub async fn list_machine_keys_of_org(&self, org: &OrgId) -> Result<Option<Vec<MachineKey>>, Error> {
        self.search_machine_keys(Some(org)).await
    }

    /// The personal access tokens of every user the credential may read (`user.read`), across all organizations, in
    /// pages of the configured size (user v2 `ListPersonalAccessTokens`, `POST /v2/users/pats/search`, sorted by
    /// token id).
    ///
    /// `None`: ZITADEL does not serve the search, so list per machine user with
    /// [`Self::list_personal_access_tokens`]; `api = "v1"`, `auto` and `v2` decide as for
    /// [`Self::list_machine_keys_instance_wide`] (probed and remembered separately from it).
    ///
    /// The search does not carry a token's scopes: every token comes back with none. Scopes never change after
    /// creation, so take them from the stored token or from [`Self::list_personal_access_tokens`].
    pub async fn list_personal_access_tokens_instance_wide(&self) -> Result<Option<Vec<PersonalAccessToken>>, Error> {
        self.search_personal_access_tokens(None).await
    }

    /// [`Self::list_personal_access_tokens_instance_wide`] narrowed to the tokens of one organization's users
    /// (`organizationIdFilter`); `None` and the scopes as there.
    pub async fn list_personal_access_tokens_of_org(
        &self,
        org: &OrgId,
    ) -> Result<Option<Vec<PersonalAccessToken>>, Error> {
        self.search_personal_access_tokens(Some(org)).await
    }

    async fn search_machine_keys(&self, org: Option<&OrgId>) -> Result<Option<Vec<MachineKey>>, Error> {
        let search = CredentialSearch {
            service: V2Service::MachineKeys,
            path: "/v2/users/keys/search",
            sorting_column: "KEY_FIELD_NAME_ID",
            what: "machine keys",
        };
        self.search_credentials(&search, org, convert::machine_key_v2).await
    }

    async fn search_personal_access_tokens(
        &self,
        org: Option<&OrgId>,
    ) -> Result<Option<Vec<PersonalAccessToken>>, Error> {
        let search = CredentialSearch {
            service: V2Service::PersonalAccessTokens,
            path: "/v2/users/pats/search",
            sorting_column: "PERSONAL_ACCESS_TOKEN_FIELD_NAME_ID",
            what: "personal access tokens",
        };
        self.search_credentials(&search, org, convert::personal_access_token_v2).await
    }

    /// One of the two credential searches: every page, through [`Self::through_v2`].
    async fn search_credentials<T>(
        &self,
        search: &CredentialSearch,
        org: Option<&OrgId>,
        convert: fn(v2::Credential) -> Result<T, ConvertError>,
    ) -> Result<Option<Vec<T>>, Error> {
        let operation = match org {
            None => format!("list {} of the instance", search.what),
            Some(org) => format!("list {} of org {org}", search.what),
        };
        self.through_v2(search.service, &operation, async {
            let list = ListCall {
                path: search.path.to_owned(),
                org: None,
                style: PageStyle::Pagination { items: "result" },
                sorting_column: Some(search.sorting_column),
                filters: org.map(|org| json!([{"organizationIdFilter": {"id": org.as_str()}}])),
                operation: operation.clone(),
                permission: "user.read",
            };
            let items: Vec<v2::Credential> = self.list(&list, |item: &v2::Credential| item.id.clone()).await?;
            converted(&operation, items, convert)
        })
        .await
    }

    pub async fn list_user_metadata(&self, org: &OrgId, user: &UserId) -> Result<Vec<UserMetadata>, Error> {
        let operation = format!("list metadata of user {}", user);
        let path = format!("/management/v1/users/{}/metadata/_search", segment(user.as_str()));
        let list = self.v1_list(path, Some(org), operation.clone(), "user.read", None);
        let entries: Vec<v1::Metadata> = self.list(&list, |entry: &v1::Metadata| entry.key.clone()).await?;
        converted(&operation, entries, |entry| convert::metadata(entry, org, user))
    }

    /// Projects owned by one organization.
    pub async fn list_projects(&self, org: &OrgId) -> Result<Vec<Project>, Error> {
        let operation = format!("list projects of org {org}");
        let list = self.v1_list(
            "/management/v1/projects/_search".to_owned(),
            Some(org),
            operation.clone(),
            "project.read",
            None,
        );
        let projects: Vec<v1::Project> = self.list(&list, |project: &v1::Project| project.id.clone()).await?;
        converted(&operation, projects, convert::project_v1)
    }

    /// Projects of every organization (v2beta `ListProjects`); `None`: page per org instead.
    pub async fn list_projects_instance_wide(&self) -> Result<Option<Vec<Project>>, Error> {
        let operation = "list projects of the instance";
        self.through_v2(V2Service::Projects, operation, async {
            let list = ListCall {
                path: "/v2beta/projects/search".to_owned(),
                org: None,
                style: PageStyle::Pagination { items: "projects" },
                sorting_column: Some("PROJECT_FIELD_NAME_ID"),
                filters: None,
                operation: operation.to_owned(),
                permission: "project.read",
            };
            let projects: Vec<v2::Project> = self.list(&list, |project: &v2::Project| project.id.clone()).await?;
            // Granted projects appear once per grant beside the projects themselves; keep owned projects only.
            let owned = projects.into_iter().filter(|project| project.granted_organization_id.is_empty()).collect();
            converted(operation, owned, convert::project_v2)
        })
        .await
    }

    pub async fn list_project_roles(&self, project: &Project) -> Result<Vec<ProjectRole>, Error> {
        let operation = format!("list roles of project {}", project.id);
        let path = format!("/management/v1/projects/{}/roles/_search", segment(project.id.as_str()));
        let list = self.v1_list(path, Some(&project.org_id), operation.clone(), "project.role.read", None);
        let roles: Vec<v1::Role> = self.list(&list, |role: &v1::Role| role.key.clone()).await?;
        converted(&operation, roles, |role| convert::project_role(role, project))
    }

    /// User grants (authorizations) owned by one organization.
    pub async fn list_user_grants(&self, org: &OrgId) -> Result<Vec<UserGrant>, Error> {
        let operation = format!("list user grants of org {org}");
        let list = self.v1_list(
            "/management/v1/users/grants/_search".to_owned(),
            Some(org),
            operation.clone(),
            "user.grant.read",
            None,
        );
        let grants: Vec<v1::UserGrant> = self.list(&list, |grant: &v1::UserGrant| grant.id.clone()).await?;
        converted(&operation, grants, convert::user_grant_v1)
    }

    /// User grants of every organization (v2beta `ListAuthorizations`); `None`: page per org instead.
    pub async fn list_user_grants_instance_wide(&self) -> Result<Option<Vec<UserGrant>>, Error> {
        let operation = "list authorizations of the instance";
        self.through_v2(V2Service::Authorizations, operation, async {
            let list = ListCall {
                path: "/v2beta/authorizations/search".to_owned(),
                org: None,
                style: PageStyle::Pagination { items: "authorizations" },
                sorting_column: Some("AUTHORIZATION_FIELD_NAME_ID"),
                filters: None,
                operation: operation.to_owned(),
                permission: "user.grant.read",
            };
            let grants: Vec<v2::Authorization> = self.list(&list, |grant: &v2::Authorization| grant.id.clone()).await?;
            converted(operation, grants, convert::authorization_v2)
        })
        .await
    }

    /// Instance managers (`IAM_*` roles).
    pub async fn list_instance_members(&self) -> Result<Vec<Membership>, Error> {
        let operation = "list instance members".to_owned();
        let list =
            self.v1_list("/admin/v1/members/_search".to_owned(), None, operation.clone(), "iam.member.read", None);
        let members: Vec<v1::Member> = self.list(&list, |member: &v1::Member| member.user_id.clone()).await?;
        converted(&operation, members, |member| convert::member(member, MembershipScope::Instance))
    }

    pub async fn list_org_members(&self, org: &OrgId) -> Result<Vec<Membership>, Error> {
        let operation = format!("list members of org {org}");
        let path = "/management/v1/orgs/me/members/_search".to_owned();
        let list = self.v1_list(path, Some(org), operation.clone(), "org.member.read", None);
        let members: Vec<v1::Member> = self.list(&list, |member: &v1::Member| member.user_id.clone()).await?;
        converted(&operation, members, |member| convert::member(member, MembershipScope::Org(org.clone())))
    }

    pub async fn list_project_members(&self, project: &Project) -> Result<Vec<Membership>, Error> {
        let operation = format!("list members of project {}", project.id);
        let path = format!("/management/v1/projects/{}/members/_search", segment(project.id.as_str()));
        let list = self.v1_list(path, Some(&project.org_id), operation.clone(), "project.member.read", None);
        let members: Vec<v1::Member> = self.list(&list, |member: &v1::Member| member.user_id.clone()).await?;
        let scope = MembershipScope::Project { org_id: project.org_id.clone(), project_id: project.id.clone() };
        converted(&operation, members, |member| convert::member(member, scope.clone()))
    }

    pub async fn list_project_grant_members(&self, grant: &ProjectGrant) -> Result<Vec<Membership>, Error> {
        let operation = format!("list members of project grant {}", grant.id);
        let path = format!(
            "/management/v1/projects/{}/grants/{}/members/_search",
            segment(grant.project_id.as_str()),
            segment(grant.id.as_str())
        );
        let list = self.v1_list(path, Some(&grant.org_id), operation.clone(), "project.grant.member.read", None);
        let members: Vec<v1::Member> = self.list(&list, |member: &v1::Member| member.user_id.clone()).await?;
        let scope = MembershipScope::ProjectGrant {
            org_id: grant.org_id.clone(),
            project_id: grant.project_id.clone(),
            project_grant_id: grant.id.clone(),
        };
        converted(&operation, members, |member| convert::member(member, scope.clone()))
    }

    /// Every manager membership of the instance at every scope (v2beta `ListAdministrators`); `None`: list the
    /// members of the instance, each org, project and project grant instead.
    pub async fn list_memberships_instance_wide(&self) -> Result<Option<Vec<Membership>>, Error> {
        let operation = "list administrators of the instance";
        self.through_v2(V2Service::Administrators, operation, async {
            let list = ListCall {
                path: "/v2beta/administrators/search".to_owned(),
                org: None,
                style: PageStyle::Pagination { items: "administrators" },
                sorting_column: Some("ADMINISTRATOR_FIELD_NAME_USER_ID"),
                filters: None,
                operation: operation.to_owned(),
                permission: "iam.member.read",
            };
            let admins: Vec<v2::Administrator> = self.list(&list, administrator_key).await?;
            let memberships = converted(operation, admins, convert::administrator_v2)?;
            Ok(memberships.into_iter().flatten().collect())
        })
        .await
    }

    /// Grants of projects that one organization owns, to other organizations.
    pub async fn list_project_grants(&self, org: &OrgId) -> Result<Vec<ProjectGrant>, Error> {
        let operation = format!("list project grants of org {org}");
        let list = self.v1_list(
            "/management/v1/projectgrants/_search".to_owned(),
            Some(org),
            operation.clone(),
            "project.grant.read",
            None,
        );
        let grants: Vec<v1::GrantedProject> =
            self.list(&list, |grant: &v1::GrantedProject| grant.grant_id.clone()).await?;
        converted(&operation, grants, convert::project_grant_v1)
    }

    pub async fn list_applications(&self, project: &Project) -> Result<Vec<Application>, Error> {
        let operation = format!("list applications of project {}", project.id);
        let path = format!("/management/v1/projects/{}/apps/_search", segment(project.id.as_str()));
        let list = self.v1_list(path, Some(&project.org_id), operation.clone(), "project.app.read", None);
        let apps: Vec<v1::App> = self.list(&list, |app: &v1::App| app.id.clone()).await?;
        converted(&operation, apps, |app| convert::application_v1(app, project))
    }

    /// Identity providers available to one organization: its own and the instance's.
    pub async fn list_identity_providers(&self, org: &OrgId) -> Result<Vec<IdentityProvider>, Error> {
        let operation = format!("list identity providers of org {org}");
        let path = "/management/v1/idps/templates/_search".to_owned();
        let list = self.v1_list(path, Some(org), operation.clone(), "org.idp.read", None);
        let providers: Vec<v1::Provider> = self.list(&list, |provider: &v1::Provider| provider.id.clone()).await?;
        converted(&operation, providers, convert::identity_provider)
    }

    /// Identity providers configured on the instance.
    pub async fn list_instance_identity_providers(&self) -> Result<Vec<IdentityProvider>, Error> {
        let operation = "list identity providers of the instance".to_owned();
        let path = "/admin/v1/idps/templates/_search".to_owned();
        let list = self.v1_list(path, None, operation.clone(), "iam.idp.read", None);
        let providers: Vec<v1::Provider> = self.list(&list, |provider: &v1::Provider| provider.id.clone()).await?;
        converted(&operation, providers, convert::identity_provider)
    }

    /// One page of ZITADEL's event store (needs `events.read`, e.g. `IAM_OWNER_VIEWER`): oldest first after
    /// `query.from`, or newest first with `query.newest_first`.
    pub async fn search_events(&self, query: &EventQuery) -> Result<Vec<ZitadelEvent>, Error> {
        let operation = "search events".to_owned();
        let mut body = json!({"asc": !query.newest_first, "limit": query.limit.clamp(1, 1_000)});
        if let Some(from) = query.from {
            body["from"] = json!(from.format(&Rfc3339).map_err(|error| invalid(&operation, &error))?);
        }
        if !query.aggregate_types.is_empty() {
            body["aggregateTypes"] = json!(query.aggregate_types);
        }
        let response: v1::ListEventsResponse = self
            .call(Method::POST, "/admin/v1/events/_search".to_owned(), None, Some(body), operation, "events.read")
            .await?;
        Ok(response
            .events
            .into_iter()
            .map(|event| ZitadelEvent {
                sequence: event.sequence,
                created_at: convert::time(event.creation_date.as_deref()),
                event_type: event.event_type.name,
                aggregate_type: event.aggregate.aggregate_type.name,
                aggregate_id: event.aggregate.id,
                resource_owner: event.aggregate.resource_owner,
                editor_user_id: event.editor.user_id,
                editor_name: event.editor.display_name,
                payload: event.payload.unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }
}

/// Where one credential search lives and how it sorts.
struct CredentialSearch {
    service: V2Service,
    path: &'static str,
    sorting_column: &'static str,
    /// "machine keys", for the operation's description.
    what: &'static str,
}

fn administrator_key(admin: &v2::Administrator) -> String {
    let resource = match (&admin.project_grant, &admin.project, &admin.organization) {
        (Some(grant), _, _) => format!("project_grant/{}", grant.id),
        (None, Some(project), _) => format!("project/{}", project.id),
        (None, None, Some(organization)) => format!("org/{}", organization.id),
        (None, None, None) => "instance".to_owned(),
    };
    format!("{resource}/{}", admin.user.id)
}

/// Which events to read. ZITADEL's event `sequence` counts per aggregate (the event store orders events by its
/// global `position`, which the API does not show), so pages follow the creation date: oldest first, those created
/// after `from`; or, with `newest_first`, the newest (before `from`, if given).
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub from: Option<OffsetDateTime>,
    pub newest_first: bool,
    /// Only these aggregate types (`user`, `usergrant`, `org`, `project`, `instance`; at most 10); empty: all.
    pub aggregate_types: Vec<String>,
    pub limit: u32,
}

/// One event of ZITADEL's event store, as far as warden reads it (who did what to which object, when).
#[derive(Debug, Clone, PartialEq)]
pub struct ZitadelEvent {
    /// The event's number within its aggregate.
    pub sequence: u64,
    pub created_at: Option<OffsetDateTime>,
    /// `user.human.added`, `user.grant.changed`, ...
    pub event_type: String,
    /// `user`, `usergrant`, `org`, `project`, `instance`.
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub resource_owner: String,
    pub editor_user_id: String,
    pub editor_name: String,
    pub payload: serde_json::Value,
}
