//! v2 and v2beta read routes (instance-wide, filtered by the caller's permissions).

use serde_json::Value;
use time::OffsetDateTime;

use super::context::{
    Ctx, IAM_MEMBER_READ, ORG_MEMBER_READ, ORG_READ, PROJECT_APP_READ, PROJECT_GRANT_MEMBER_READ, PROJECT_GRANT_READ,
    PROJECT_MEMBER_READ, PROJECT_READ, PROJECT_ROLE_READ, USER_GRANT_READ, USER_READ,
};
use super::paging::{SortKey, apply, sort_items, v1_page, v2_filter_list, v2_object_list, v2_page};
use super::reads_v1::{org_matches, search_users};
use super::render;
use crate::error::ApiError;
use crate::estate::{AppConfig, AppState, GrantState, Membership, MembershipScope, ObjectMeta};
use crate::json::{
    TEXT_FILTER_METHODS, field, get_bool, get_enum, get_list, get_str, get_strings, get_timestamp, text_query,
};

/// `POST /v2/organizations/_search`: orgs the caller can read.
pub(crate) fn list_organizations(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let page = v1_page(ctx.body)?;
    let queries = get_list(ctx.body, "queries")?;
    let mut orgs = Vec::new();
    for org in ctx.estate.orgs().filter(|org| ctx.visible(ORG_READ, &org.id)) {
        let mut keep = true;
        for query in &queries {
            keep &= org_matches(org, query)?;
        }
        if keep {
            orgs.push(org);
        }
    }
    let column =
        get_enum(ctx.body, "sortingColumn", &["ORGANIZATION_FIELD_NAME_UNSPECIFIED", "ORGANIZATION_FIELD_NAME_NAME"])?;
    if column == 1 {
        sort_items(&mut orgs, page.asc, |org| SortKey::Text(org.name.clone()));
    }
    let (total, orgs) = apply(orgs, page);
    Ok(v2_object_list(ctx.estate, total, orgs.into_iter().map(render::org_v2).collect()))
}

/// `POST /v2/users`: users of every org the caller may read (`organizationIdQuery` narrows).
pub(crate) fn list_users(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let estate = &*ctx.estate;
    let candidates = estate.users().filter(|user| ctx.visible(USER_READ, &user.org_id));
    let (total, users) = search_users(estate, ctx.body, candidates, true)?;
    Ok(v2_object_list(estate, total, users.into_iter().map(|user| render::user_v2(estate, user)).collect()))
}

/// `GET /v2/users/{user_id}`.
pub(crate) fn get_user(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let user = ctx.estate.user(&ctx.param(0)).ok_or_else(ApiError::user_not_found)?;
    ctx.in_org(USER_READ, &user.org_id)?;
    let details = render::details_v2(&user.meta, &user.org_id).build();
    Ok(serde_json::json!({ "details": details, "user": render::user_v2(ctx.estate, user) }))
}

/// `POST /v2/users/{user_id}/metadata/search`.
pub(crate) fn list_user_metadata(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let user = ctx.estate.user(&ctx.param(0)).ok_or_else(ApiError::user_not_found)?;
    ctx.in_org(USER_READ, &user.org_id)?;
    let page = v2_page(ctx.body)?;
    let filters = get_list(ctx.body, "filters")?;
    let mut entries = Vec::new();
    for entry in ctx.estate.user_metadata().filter(|entry| entry.user_id == user.id) {
        let mut keep = true;
        for filter in &filters {
            if let Some(inner) = field(filter, "keyFilter") {
                keep &= text_query(inner, "key", &entry.key, TEXT_FILTER_METHODS)?;
            }
        }
        if keep {
            entries.push(entry);
        }
    }
    let (total, entries) = apply(entries, page);
    Ok(v2_filter_list(total, page, "metadata", entries.into_iter().map(render::metadata_v2).collect()))
}

/// What the instance-wide key and PAT searches filter, sort and render: the fields both messages carry.
struct Credential<'a> {
    id: &'a str,
    user_id: &'a str,
    org_id: &'a str,
    expiration: OffsetDateTime,
    meta: &'a ObjectMeta,
}

/// How one credential search names its id filter and its sorting columns (`KeyFieldName` /
/// `PersonalAccessTokenFieldName`, in number order). Both answer their items as `result`.
struct CredentialSearch {
    id_filter: &'static str,
    columns: &'static [&'static str],
}

/// `POST /v2/users/keys/search`: the machine keys of every user the caller may read (`user.read` in the user's org).
pub(crate) fn list_keys(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let keys = ctx.estate.machine_keys().map(|key| Credential {
        id: &key.id,
        user_id: &key.user_id,
        org_id: &key.org_id,
        expiration: key.expiration,
        meta: &key.meta,
    });
    let search = CredentialSearch {
        id_filter: "keyIdFilter",
        columns: &[
            "KEY_FIELD_NAME_UNSPECIFIED",
            "KEY_FIELD_NAME_CREATED_DATE",
            "KEY_FIELD_NAME_ID",
            "KEY_FIELD_NAME_USER_ID",
            "KEY_FIELD_NAME_ORGANIZATION_ID",
            "KEY_FIELD_NAME_KEY_EXPIRATION_DATE",
        ],
    };
    search_credentials(ctx, keys.collect(), &search)
}

/// `POST /v2/users/pats/search`: the personal access tokens of every user the caller may read.
pub(crate) fn list_personal_access_tokens(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let tokens = ctx.estate.personal_access_tokens().map(|token| Credential {
        id: &token.id,
        user_id: &token.user_id,
        org_id: &token.org_id,
        expiration: token.expiration,
        meta: &token.meta,
    });
    let search = CredentialSearch {
        id_filter: "tokenIdFilter",
        columns: &[
            "PERSONAL_ACCESS_TOKEN_FIELD_NAME_UNSPECIFIED",
            "PERSONAL_ACCESS_TOKEN_FIELD_NAME_CREATED_DATE",
            "PERSONAL_ACCESS_TOKEN_FIELD_NAME_ID",
            "PERSONAL_ACCESS_TOKEN_FIELD_NAME_USER_ID",
            "PERSONAL_ACCESS_TOKEN_FIELD_NAME_ORGANIZATION_ID",
            "PERSONAL_ACCESS_TOKEN_FIELD_NAME_EXPIRATION_DATE",
        ],
    };
    search_credentials(ctx, tokens.collect(), &search)
}

fn search_credentials(
    ctx: &Ctx<'_>,
    candidates: Vec<Credential<'_>>,
    search: &CredentialSearch,
) -> Result<Value, ApiError> {
    let page = v2_page(ctx.body)?;
    let filters = get_list(ctx.body, "filters")?;
    let column = get_enum(ctx.body, "sortingColumn", search.columns)?;
    let mut kept = Vec::new();
    for credential in candidates.into_iter().filter(|credential| ctx.visible(USER_READ, credential.org_id)) {
        let mut keep = true;
        for filter in &filters {
            keep &= credential_matches(&credential, filter, search)?;
        }
        if keep {
            kept.push(credential);
        }
    }
    if column > 0 {
        sort_items(&mut kept, page.asc, |credential| match column {
            1 => SortKey::Time(credential.meta.created),
            2 => SortKey::Text(credential.id.to_owned()),
            3 => SortKey::Text(credential.user_id.to_owned()),
            4 => SortKey::Text(credential.org_id.to_owned()),
            _ => SortKey::Time(credential.expiration),
        });
    }
    let (total, kept) = apply(kept, page);
    let items = kept
        .into_iter()
        .map(|credential| {
            render::credential_v2(
                credential.id,
                credential.user_id,
                credential.org_id,
                credential.expiration,
                credential.meta,
            )
        })
        .collect();
    Ok(v2_filter_list(total, page, "result", items))
}

/// One `KeysSearchFilter` / `PersonalAccessTokensSearchFilter` (a oneof; filters of a request are ANDed).
fn credential_matches(
    credential: &Credential<'_>,
    filter: &Value,
    search: &CredentialSearch,
) -> Result<bool, ApiError> {
    if let Some(id) = id_filter(filter, search.id_filter)? {
        return Ok(id == credential.id);
    }
    if let Some(id) = id_filter(filter, "userIdFilter")? {
        return Ok(id == credential.user_id);
    }
    if let Some(id) = id_filter(filter, "organizationIdFilter")? {
        return Ok(id == credential.org_id);
    }
    for (name, at) in [("createdDateFilter", credential.meta.created), ("expirationDateFilter", credential.expiration)]
    {
        if let Some(inner) = field(filter, name) {
            // An absent timestamp is protobuf's zero time, as ZITADEL reads it.
            let wanted = get_timestamp(inner, "timestamp")?.unwrap_or(OffsetDateTime::UNIX_EPOCH);
            return Ok(match get_enum(inner, "method", FILTER_V2_TIMESTAMP_METHODS)? {
                1 => at > wanted,
                2 => at >= wanted,
                3 => at < wanted,
                4 => at <= wanted,
                _ => at == wanted,
            });
        }
    }
    Ok(true)
}

/// `zitadel.filter.v2.TimestampFilterMethod`.
const FILTER_V2_TIMESTAMP_METHODS: &[&str] = &[
    "TIMESTAMP_FILTER_METHOD_EQUALS",
    "TIMESTAMP_FILTER_METHOD_AFTER",
    "TIMESTAMP_FILTER_METHOD_AFTER_OR_EQUALS",
    "TIMESTAMP_FILTER_METHOD_BEFORE",
    "TIMESTAMP_FILTER_METHOD_BEFORE_OR_EQUALS",
];

fn id_filter(filter: &Value, name: &str) -> Result<Option<String>, ApiError> {
    match field(filter, name) {
        Some(inner) => Ok(Some(get_str(inner, "id")?)),
        None => Ok(None),
    }
}

/// `POST /v2beta/projects/search`.
pub(crate) fn list_projects(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let page = v2_page(ctx.body)?;
    let filters = get_list(ctx.body, "filters")?;
    let mut projects = Vec::new();
    for project in ctx.estate.projects().filter(|project| ctx.visible(PROJECT_READ, &project.org_id)) {
        let mut keep = true;
        for filter in &filters {
            if let Some(inner) = field(filter, "projectNameFilter") {
                keep &= text_query(inner, "projectName", &project.name, TEXT_FILTER_METHODS)?;
            }
            if let Some(inner) = field(filter, "inProjectIdsFilter") {
                keep &= get_strings(inner, "ids")?.contains(&project.id);
            }
            for name in ["projectResourceOwnerFilter", "projectOrganizationIdFilter"] {
                if let Some(id) = id_filter(filter, name)? {
                    keep &= id == project.org_id;
                }
            }
        }
        if keep {
            projects.push(project);
        }
    }
    let names = &[
        "PROJECT_FIELD_NAME_UNSPECIFIED",
        "PROJECT_FIELD_NAME_ID",
        "PROJECT_FIELD_NAME_CREATION_DATE",
        "PROJECT_FIELD_NAME_CHANGE_DATE",
        "PROJECT_FIELD_NAME_NAME",
    ];
    let column = get_enum(ctx.body, "sortingColumn", names)?;
    if column > 0 {
        sort_items(&mut projects, page.asc, |project| match column {
            1 => SortKey::Text(project.id.clone()),
            2 => SortKey::Time(project.meta.created),
            3 => SortKey::Time(project.meta.changed),
            _ => SortKey::Text(project.name.clone()),
        });
    }
    let (total, projects) = apply(projects, page);
    Ok(v2_filter_list(total, page, "projects", projects.into_iter().map(render::project_v2).collect()))
}

/// `POST /v2beta/projects/{project_id}/roles/search`.
pub(crate) fn list_project_roles(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let project =
        ctx.estate.project(&ctx.param(0)).ok_or_else(|| ApiError::not_found("PROJECT-Bm9sd", "Project not found"))?;
    ctx.in_org(PROJECT_ROLE_READ, &project.org_id)?;
    let page = v2_page(ctx.body)?;
    let filters = get_list(ctx.body, "filters")?;
    let mut roles = Vec::new();
    for role in ctx.estate.project_roles().filter(|role| role.project_id == project.id) {
        let mut keep = true;
        for filter in &filters {
            if let Some(inner) = field(filter, "roleKeyFilter") {
                keep &= text_query(inner, "key", &role.key, TEXT_FILTER_METHODS)?;
            }
            if let Some(inner) = field(filter, "displayNameFilter") {
                keep &= text_query(inner, "displayName", &role.display_name, TEXT_FILTER_METHODS)?;
            }
        }
        if keep {
            roles.push(role);
        }
    }
    let names = &[
        "PROJECT_ROLE_FIELD_NAME_UNSPECIFIED",
        "PROJECT_ROLE_FIELD_NAME_KEY",
        "PROJECT_ROLE_FIELD_NAME_CREATION_DATE",
        "PROJECT_ROLE_FIELD_NAME_CHANGE_DATE",
    ];
    let column = get_enum(ctx.body, "sortingColumn", names)?;
    if column > 0 {
        sort_items(&mut roles, page.asc, |role| match column {
            1 => SortKey::Text(role.key.clone()),
            2 => SortKey::Time(role.meta.created),
            _ => SortKey::Time(role.meta.changed),
        });
    }
    let (total, roles) = apply(roles, page);
    Ok(v2_filter_list(total, page, "projectRoles", roles.into_iter().map(render::role_v2).collect()))
}

/// `POST /v2beta/projects/grants/search`.
pub(crate) fn list_project_grants(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let page = v2_page(ctx.body)?;
    let filters = get_list(ctx.body, "filters")?;
    let estate = &*ctx.estate;
    let mut grants = Vec::new();
    for grant in estate.project_grants().filter(|grant| ctx.visible(PROJECT_GRANT_READ, &grant.org_id)) {
        let mut keep = true;
        for filter in &filters {
            if let Some(inner) = field(filter, "projectNameFilter") {
                let name = estate.project(&grant.project_id).map(|project| project.name.as_str()).unwrap_or_default();
                keep &= text_query(inner, "projectName", name, TEXT_FILTER_METHODS)?;
            }
            if let Some(inner) = field(filter, "roleKeyFilter") {
                let mut any = false;
                for key in &grant.role_keys {
                    any |= text_query(inner, "key", key, TEXT_FILTER_METHODS)?;
                }
                keep &= any;
            }
            if let Some(inner) = field(filter, "inProjectIdsFilter") {
                keep &= get_strings(inner, "ids")?.contains(&grant.project_id);
            }
            if let Some(id) = id_filter(filter, "projectResourceOwnerFilter")? {
                keep &= id == grant.org_id;
            }
            if let Some(id) = id_filter(filter, "projectGrantResourceOwnerFilter")? {
                keep &= id == grant.granted_org_id;
            }
        }
        if keep {
            grants.push(grant);
        }
    }
    let names = &[
        "PROJECT_GRANT_FIELD_NAME_UNSPECIFIED",
        "PROJECT_GRANT_FIELD_NAME_PROJECT_ID",
        "PROJECT_GRANT_FIELD_NAME_CREATION_DATE",
        "PROJECT_GRANT_FIELD_NAME_CHANGE_DATE",
    ];
    let column = get_enum(ctx.body, "sortingColumn", names)?;
    if column > 0 {
        sort_items(&mut grants, page.asc, |grant| match column {
            1 => SortKey::Text(grant.project_id.clone()),
            2 => SortKey::Time(grant.meta.created),
            _ => SortKey::Time(grant.meta.changed),
        });
    }
    let (total, grants) = apply(grants, page);
    let items = grants.into_iter().map(|grant| render::project_grant_v2(estate, grant)).collect();
    Ok(v2_filter_list(total, page, "projectGrants", items))
}

/// `POST /v2beta/authorizations/search`: user grants of every org the caller may read grants in.
pub(crate) fn list_authorizations(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let page = v2_page(ctx.body)?;
    let filters = get_list(ctx.body, "filters")?;
    let estate = &*ctx.estate;
    let mut grants = Vec::new();
    for grant in estate.user_grants().filter(|grant| ctx.visible(USER_GRANT_READ, &grant.org_id)) {
        let user = estate.user(&grant.user_id);
        let mut keep = true;
        for filter in &filters {
            if let Some(inner) = field(filter, "authorizationIds") {
                keep &= get_strings(inner, "ids")?.contains(&grant.id);
            }
            if let Some(id) = id_filter(filter, "organizationId")? {
                keep &= id == grant.org_id;
            }
            if let Some(inner) = field(filter, "state") {
                let wanted = get_enum(inner, "state", &["STATE_UNSPECIFIED", "STATE_ACTIVE", "STATE_INACTIVE"])?;
                let actual = if grant.state == GrantState::Active { 1 } else { 2 };
                keep &= wanted == 0 || wanted == actual;
            }
            if let Some(id) = id_filter(filter, "userId")? {
                keep &= id == grant.user_id;
            }
            if let Some(id) = id_filter(filter, "userOrganizationId")? {
                keep &= user.is_some_and(|user| user.org_id == id);
            }
            if let Some(id) = id_filter(filter, "projectId")? {
                keep &= id == grant.project_id;
            }
            if let Some(id) = id_filter(filter, "projectGrantId")? {
                keep &= Some(id) == grant.project_grant_id;
            }
            if let Some(inner) = field(filter, "roleKey") {
                let mut any = false;
                for key in &grant.role_keys {
                    any |= text_query(inner, "key", key, TEXT_FILTER_METHODS)?;
                }
                keep &= any;
            }
            if let Some(inner) = field(filter, "userPreferredLoginName") {
                let login = user.map(|user| estate.login_name(user)).unwrap_or_default();
                keep &= text_query(inner, "loginName", &login, TEXT_FILTER_METHODS)?;
            }
            if let Some(inner) = field(filter, "projectName") {
                let name = estate.project(&grant.project_id).map(|project| project.name.as_str()).unwrap_or_default();
                keep &= text_query(inner, "name", name, TEXT_FILTER_METHODS)?;
            }
        }
        if keep {
            grants.push(grant);
        }
    }
    let names = &[
        "AUTHORIZATION_FIELD_NAME_UNSPECIFIED",
        "AUTHORIZATION_FIELD_NAME_CREATED_DATE",
        "AUTHORIZATION_FIELD_NAME_CHANGED_DATE",
        "AUTHORIZATION_FIELD_NAME_ID",
        "AUTHORIZATION_FIELD_NAME_USER_ID",
        "AUTHORIZATION_FIELD_NAME_PROJECT_ID",
        "AUTHORIZATION_FIELD_NAME_ORGANIZATION_ID",
        "AUTHORIZATION_FIELD_NAME_USER_ORGANIZATION_ID",
    ];
    let column = get_enum(ctx.body, "sortingColumn", names)?;
    if column > 0 {
        sort_items(&mut grants, page.asc, |grant| match column {
            1 => SortKey::Time(grant.meta.created),
            2 => SortKey::Time(grant.meta.changed),
            3 => SortKey::Text(grant.id.clone()),
            4 => SortKey::Text(grant.user_id.clone()),
            5 => SortKey::Text(grant.project_id.clone()),
            6 => SortKey::Text(grant.org_id.clone()),
            _ => SortKey::Text(estate.user(&grant.user_id).map(|user| user.org_id.clone()).unwrap_or_default()),
        });
    }
    let (total, grants) = apply(grants, page);
    let items = grants.into_iter().map(|grant| render::authorization_v2(estate, grant)).collect();
    Ok(v2_filter_list(total, page, "authorizations", items))
}

fn administrator_visible(ctx: &Ctx<'_>, membership: &Membership) -> bool {
    match &membership.scope {
        MembershipScope::Instance => ctx.caller.can_instance(IAM_MEMBER_READ),
        MembershipScope::Org { org_id } => ctx.visible(ORG_MEMBER_READ, org_id),
        MembershipScope::Project { org_id, .. } => ctx.visible(PROJECT_MEMBER_READ, org_id),
        MembershipScope::ProjectGrant { org_id, .. } => ctx.visible(PROJECT_GRANT_MEMBER_READ, org_id),
    }
}

fn administrator_matches(ctx: &Ctx<'_>, membership: &Membership, filter: &Value) -> Result<bool, ApiError> {
    let estate = &*ctx.estate;
    let user = estate.user(&membership.user_id);
    if let Some(inner) = field(filter, "inUserIdsFilter") {
        return Ok(get_strings(inner, "ids")?.contains(&membership.user_id));
    }
    if let Some(id) = id_filter(filter, "userOrganizationId")? {
        return Ok(user.is_some_and(|user| user.org_id == id));
    }
    if let Some(inner) = field(filter, "role") {
        return Ok(membership.roles.contains(&get_str(inner, "roleKey")?));
    }
    if let Some(inner) = field(filter, "resource") {
        return Ok(match &membership.scope {
            MembershipScope::Instance => get_bool(inner, "instance")?,
            MembershipScope::Org { org_id } => get_str(inner, "organizationId")? == *org_id,
            MembershipScope::Project { project_id, .. } => get_str(inner, "projectId")? == *project_id,
            MembershipScope::ProjectGrant { grant_id, .. } => get_str(inner, "projectGrantId")? == *grant_id,
        });
    }
    if let Some(inner) = field(filter, "userDisplayName") {
        return text_query(
            inner,
            "displayName",
            user.map(|user| user.display_name()).unwrap_or_default(),
            TEXT_FILTER_METHODS,
        );
    }
    if let Some(inner) = field(filter, "userPreferredLoginName") {
        let login = user.map(|user| estate.login_name(user)).unwrap_or_default();
        return text_query(inner, "preferredLoginName", &login, TEXT_FILTER_METHODS);
    }
    for (name, at) in [("creationDate", membership.meta.created), ("changeDate", membership.meta.changed)] {
        if let Some(inner) = field(filter, name) {
            let Some(wanted) = get_timestamp(inner, "timestamp")? else { return Ok(true) };
            let method = get_enum(inner, "method", TIMESTAMP_METHODS)?;
            return Ok(match method {
                1 => at > wanted,
                2 => at >= wanted,
                3 => at < wanted,
                4 => at <= wanted,
                _ => at == wanted,
            });
        }
    }
    if let Some(inner) = field(filter, "and") {
        for sub in get_list(inner, "queries")? {
            if !administrator_matches(ctx, membership, sub)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if let Some(inner) = field(filter, "or") {
        for sub in get_list(inner, "queries")? {
            if administrator_matches(ctx, membership, sub)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if let Some(inner) = field(filter, "not") {
        return match field(inner, "query") {
            Some(sub) => Ok(!administrator_matches(ctx, membership, sub)?),
            None => Ok(true),
        };
    }
    Ok(true)
}

const TIMESTAMP_METHODS: &[&str] = &[
    "TIMESTAMP_FILTER_METHOD_EQUALS",
    "TIMESTAMP_FILTER_METHOD_GREATER",
    "TIMESTAMP_FILTER_METHOD_GREATER_OR_EQUALS",
    "TIMESTAMP_FILTER_METHOD_LESS",
    "TIMESTAMP_FILTER_METHOD_LESS_OR_EQUALS",
];

/// `POST /v2beta/administrators/search`: every manager membership the caller may see.
pub(crate) fn list_administrators(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let page = v2_page(ctx.body)?;
    let filters = get_list(ctx.body, "filters")?;
    let mut members = Vec::new();
    for membership in ctx.estate.memberships().filter(|membership| administrator_visible(ctx, membership)) {
        let mut keep = true;
        for filter in &filters {
            keep &= administrator_matches(ctx, membership, filter)?;
        }
        if keep {
            members.push(membership);
        }
    }
    let names = &[
        "ADMINISTRATOR_FIELD_NAME_UNSPECIFIED",
        "ADMINISTRATOR_FIELD_NAME_USER_ID",
        "ADMINISTRATOR_FIELD_NAME_CREATION_DATE",
        "ADMINISTRATOR_FIELD_NAME_CHANGE_DATE",
    ];
    let column = get_enum(ctx.body, "sortingColumn", names)?;
    if column > 0 {
        sort_items(&mut members, page.asc, |membership| match column {
            1 => SortKey::Text(membership.user_id.clone()),
            2 => SortKey::Time(membership.meta.created),
            _ => SortKey::Time(membership.meta.changed),
        });
    }
    let (total, members) = apply(members, page);
    let estate = &*ctx.estate;
    let items = members.into_iter().map(|membership| render::administrator_v2(estate, membership)).collect();
    Ok(v2_filter_list(total, page, "administrators", items))
}

/// `POST /v2beta/applications/search` (`projectId` narrows; without it every visible project's apps).
pub(crate) fn list_applications(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let page = v2_page(ctx.body)?;
    let project_id = get_str(ctx.body, "projectId")?;
    let filters = get_list(ctx.body, "filters")?;
    let mut apps = Vec::new();
    let states = &["APP_STATE_UNSPECIFIED", "APP_STATE_ACTIVE", "APP_STATE_INACTIVE", "APP_STATE_REMOVED"];
    for app in ctx.estate.applications().filter(|app| ctx.visible(PROJECT_APP_READ, &app.org_id)) {
        if !project_id.is_empty() && app.project_id != project_id {
            continue;
        }
        let mut keep = true;
        for filter in &filters {
            if let Some(inner) = field(filter, "nameFilter") {
                keep &= text_query(inner, "name", &app.name, TEXT_FILTER_METHODS)?;
            }
            if field(filter, "stateFilter").is_some() {
                let wanted = get_enum(filter, "stateFilter", states)?;
                let actual = if app.state == AppState::Active { 1 } else { 2 };
                keep &= wanted == 0 || wanted == actual;
            }
            if get_bool(filter, "apiAppOnly")? {
                keep &= matches!(app.config, AppConfig::Api { .. });
            }
            if get_bool(filter, "oidcAppOnly")? {
                keep &= matches!(app.config, AppConfig::Oidc { .. });
            }
            if get_bool(filter, "samlAppOnly")? {
                keep &= matches!(app.config, AppConfig::Saml { .. });
            }
        }
        if keep {
            apps.push(app);
        }
    }
    let names = &[
        "APP_SORT_BY_ID",
        "APP_SORT_BY_NAME",
        "APP_SORT_BY_STATE",
        "APP_SORT_BY_CREATION_DATE",
        "APP_SORT_BY_CHANGE_DATE",
    ];
    let column = get_enum(ctx.body, "sortingColumn", names)?;
    if column > 0 {
        sort_items(&mut apps, page.asc, |app| match column {
            1 => SortKey::Text(app.name.clone()),
            2 => SortKey::Number(u64::from(app.state == AppState::Inactive)),
            3 => SortKey::Time(app.meta.created),
            _ => SortKey::Time(app.meta.changed),
        });
    }
    let (total, apps) = apply(apps, page);
    Ok(v2_filter_list(total, page, "applications", apps.into_iter().map(render::app_v2).collect()))
}
