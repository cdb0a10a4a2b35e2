//! Management v1 and Admin v1 read routes.

use serde_json::Value;

use super::context::{
    Ctx, IAM_IDP_READ, IAM_MEMBER_READ, IAM_READ, ORG_IDP_READ, ORG_MEMBER_READ, ORG_READ, PROJECT_APP_READ,
    PROJECT_GRANT_MEMBER_READ, PROJECT_GRANT_READ, PROJECT_MEMBER_READ, PROJECT_READ, PROJECT_ROLE_READ,
    USER_GRANT_READ, USER_READ,
};
use super::paging::{SortKey, apply, sort_items, v1_list, v1_page};
use super::render;
use crate::error::ApiError;
use crate::estate::{Estate, Membership, MembershipScope, OrgState, User, UserState};
use crate::json::{TEXT_QUERY_METHODS, get_bool, get_enum, get_list, get_str, get_strings, text_query};

const USER_FIELD_NAMES: &[&str] = &[
    "USER_FIELD_NAME_UNSPECIFIED",
    "USER_FIELD_NAME_USER_NAME",
    "USER_FIELD_NAME_FIRST_NAME",
    "USER_FIELD_NAME_LAST_NAME",
    "USER_FIELD_NAME_NICK_NAME",
    "USER_FIELD_NAME_DISPLAY_NAME",
    "USER_FIELD_NAME_EMAIL",
    "USER_FIELD_NAME_STATE",
    "USER_FIELD_NAME_TYPE",
    "USER_FIELD_NAME_CREATION_DATE",
];
pub(crate) const USER_STATES_V1: &[&str] = &[
    "USER_STATE_UNSPECIFIED",
    "USER_STATE_ACTIVE",
    "USER_STATE_INACTIVE",
    "USER_STATE_DELETED",
    "USER_STATE_LOCKED",
    "USER_STATE_SUSPEND",
    "USER_STATE_INITIAL",
];
pub(crate) const USER_STATES_V2: &[&str] = &[
    "USER_STATE_UNSPECIFIED",
    "USER_STATE_ACTIVE",
    "USER_STATE_INACTIVE",
    "USER_STATE_DELETED",
    "USER_STATE_LOCKED",
    "USER_STATE_INITIAL",
];
const USER_TYPES: &[&str] = &["TYPE_UNSPECIFIED", "TYPE_HUMAN", "TYPE_MACHINE"];
const ORG_STATES: &[&str] = &["ORG_STATE_UNSPECIFIED", "ORG_STATE_ACTIVE", "ORG_STATE_INACTIVE", "ORG_STATE_REMOVED"];
const MEMBER_FIELD_NAMES: &[&str] = &[
    "MEMBER_FIELD_NAME_UNSPECIFIED",
    "MEMBER_FIELD_NAME_USER_ID",
    "MEMBER_FIELD_NAME_CREATION_DATE",
    "MEMBER_FIELD_NAME_CHANGE_DATE",
    "MEMBER_FIELD_NAME_USER_RESOURCE_OWNER",
];
const IDP_OWNER_TYPES: &[&str] = &["IDP_OWNER_TYPE_UNSPECIFIED", "IDP_OWNER_TYPE_SYSTEM", "IDP_OWNER_TYPE_ORG"];

/// `GET /management/v1/orgs/me`.
pub(crate) fn get_my_org(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(ORG_READ)?;
    let org = ctx.estate.org(&org_id).ok_or_else(|| ApiError::not_found("QUERY-iTTGJ", "Organisation not found"))?;
    Ok(serde_json::json!({ "org": render::org_v1(org) }))
}

/// `POST /admin/v1/orgs/_search` (sortingColumn `ORG_FIELD_NAME_NAME`).
pub(crate) fn admin_list_orgs(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    ctx.instance(IAM_READ)?;
    let page = v1_page(ctx.body)?;
    let queries = get_list(ctx.body, "queries")?;
    let mut orgs = Vec::new();
    for org in ctx.estate.orgs() {
        let mut keep = true;
        for query in &queries {
            keep &= org_matches(org, query)?;
        }
        if keep {
            orgs.push(org);
        }
    }
    if get_enum(ctx.body, "sortingColumn", &["ORG_FIELD_NAME_UNSPECIFIED", "ORG_FIELD_NAME_NAME"])? == 1 {
        sort_items(&mut orgs, page.asc, |org| SortKey::Text(org.name.clone()));
    }
    let (total, orgs) = apply(orgs, page);
    Ok(v1_list(ctx.estate, total, orgs.into_iter().map(render::org_v1).collect()))
}

/// Org query (v1 and v2 share field names).
pub(crate) fn org_matches(org: &crate::estate::Org, query: &Value) -> Result<bool, ApiError> {
    if let Some(inner) = crate::json::field(query, "nameQuery") {
        return text_query(inner, "name", &org.name, TEXT_QUERY_METHODS);
    }
    if let Some(inner) = crate::json::field(query, "domainQuery") {
        return text_query(inner, "domain", &org.primary_domain, TEXT_QUERY_METHODS);
    }
    if let Some(inner) = crate::json::field(query, "stateQuery") {
        let wanted = get_enum(inner, "state", ORG_STATES)?;
        let actual = if org.state == OrgState::Active { 1 } else { 2 };
        return Ok(wanted == 0 || wanted == actual);
    }
    if let Some(inner) = crate::json::field(query, "idQuery") {
        return Ok(get_str(inner, "id")? == org.id);
    }
    Ok(true)
}

fn user_state_number(state: UserState, v2: bool) -> usize {
    match state {
        UserState::Active => 1,
        UserState::Inactive => 2,
        UserState::Locked => 4,
        UserState::Initial if v2 => 5,
        UserState::Initial => 6,
    }
}

/// One user search query (v1 `user.v1.SearchQuery`, v2 `user.v2.SearchQuery`); unknown queries match.
pub(crate) fn user_matches(estate: &Estate, user: &User, query: &Value, v2: bool) -> Result<bool, ApiError> {
    let human = user.human();
    let text = |name: &str, field: &str, actual: &str| -> Result<Option<bool>, ApiError> {
        match crate::json::field(query, name) {
            Some(inner) => text_query(inner, field, actual, TEXT_QUERY_METHODS).map(Some),
            None => Ok(None),
        }
    };
    let first_name = human.map(|human| human.first_name.as_str()).unwrap_or_default();
    let last_name = human.map(|human| human.last_name.as_str()).unwrap_or_default();
    let nick_name = human.map(|human| human.nick_name.as_str()).unwrap_or_default();
    let email = human.map(|human| human.email.as_str()).unwrap_or_default();
    let checks = [
        text("userNameQuery", "userName", &user.user_name)?,
        text("firstNameQuery", "firstName", first_name)?,
        text("lastNameQuery", "lastName", last_name)?,
        text("nickNameQuery", "nickName", nick_name)?,
        text("displayNameQuery", "displayName", user.display_name())?,
        text("emailQuery", "emailAddress", email)?,
        text("loginNameQuery", "loginName", &estate.login_name(user))?,
    ];
    if let Some(result) = checks.into_iter().flatten().next() {
        return Ok(result);
    }
    if let Some(inner) = crate::json::field(query, "stateQuery") {
        let states = if v2 { USER_STATES_V2 } else { USER_STATES_V1 };
        return Ok(get_enum(inner, "state", states)? == user_state_number(user.state, v2));
    }
    if let Some(inner) = crate::json::field(query, "typeQuery") {
        let wanted = get_enum(inner, "type", USER_TYPES)?;
        return Ok(wanted == 0 || (wanted == 2) == user.is_machine());
    }
    if let Some(inner) = crate::json::field(query, "inUserIdsQuery") {
        return Ok(get_strings(inner, "userIds")?.contains(&user.id));
    }
    if let Some(inner) = crate::json::field(query, "inUserEmailsQuery") {
        return Ok(get_strings(inner, "userEmails")?.iter().any(|wanted| wanted == email));
    }
    if let Some(inner) = crate::json::field(query, "organizationIdQuery") {
        return Ok(get_str(inner, "organizationId")? == user.org_id);
    }
    if let Some(inner) = crate::json::field(query, "phoneQuery") {
        let phone = human.map(|human| human.phone.as_str()).unwrap_or_default();
        return Ok(get_str(inner, "number")? == phone);
    }
    if let Some(inner) = crate::json::field(query, "orQuery") {
        for sub in get_list(inner, "queries")? {
            if user_matches(estate, user, sub, v2)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if let Some(inner) = crate::json::field(query, "andQuery") {
        for sub in get_list(inner, "queries")? {
            if !user_matches(estate, user, sub, v2)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if let Some(inner) = crate::json::field(query, "notQuery") {
        return match crate::json::field(inner, "query") {
            Some(sub) => Ok(!user_matches(estate, user, sub, v2)?),
            None => Ok(true),
        };
    }
    Ok(true)
}

/// Sort key of a user for `USER_FIELD_NAME_*` (`column` > 0).
pub(crate) fn user_sort_key(user: &User, column: usize) -> SortKey {
    let human = user.human();
    let text = |value: Option<&str>| SortKey::Text(value.unwrap_or_default().to_string());
    match column {
        1 => SortKey::Text(user.user_name.clone()),
        2 => text(human.map(|human| human.first_name.as_str())),
        3 => text(human.map(|human| human.last_name.as_str())),
        4 => text(human.map(|human| human.nick_name.as_str())),
        5 => SortKey::Text(user.display_name().to_string()),
        6 => text(human.map(|human| human.email.as_str())),
        7 => SortKey::Number(user_state_number(user.state, false) as u64),
        8 => SortKey::Number(u64::from(user.is_machine()) + 1),
        _ => SortKey::Time(user.meta.created),
    }
}

/// Filters, sorts (by `sortingColumn`) and pages users; shared by v1 and v2 user lists.
pub(crate) fn search_users<'a>(
    estate: &'a Estate,
    body: &Value,
    candidates: impl Iterator<Item = &'a User>,
    v2: bool,
) -> Result<(u64, Vec<&'a User>), ApiError> {
    let page = v1_page(body)?;
    let queries = get_list(body, "queries")?;
    let mut users = Vec::new();
    for user in candidates {
        let mut keep = true;
        for query in &queries {
            if !user_matches(estate, user, query, v2)? {
                keep = false;
                break;
            }
        }
        if keep {
            users.push(user);
        }
    }
    let column = get_enum(body, "sortingColumn", USER_FIELD_NAMES)?;
    if column > 0 {
        sort_items(&mut users, page.asc, |user| user_sort_key(user, column));
    }
    Ok(apply(users, page))
}

/// `POST /management/v1/users/_search`: the context org's users.
pub(crate) fn list_users(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_READ)?;
    let estate = &*ctx.estate;
    // A lookup by one userName is answered from the index (as ZITADEL's is); the queries still decide.
    let named = one_user_name(ctx.body);
    let candidates: Box<dyn Iterator<Item = &User>> = match &named {
        Some(name) => Box::new(estate.users_named(&org_id, name)),
        None => Box::new(estate.users().filter(|user| user.org_id == org_id)),
    };
    let (total, users) = search_users(estate, ctx.body, candidates, false)?;
    Ok(v1_list(estate, total, users.into_iter().map(|user| render::user_v1(estate, user)).collect()))
}

/// The userName of a search whose only query is an equality on it (exact or ignoring case), if it is one.
fn one_user_name(body: &Value) -> Option<String> {
    let queries = body.get("queries")?.as_array()?;
    let [query] = queries.as_slice() else { return None };
    let inner = query.get("userNameQuery")?;
    let method = inner.get("method").and_then(Value::as_str).unwrap_or("TEXT_QUERY_METHOD_EQUALS");
    let equality = matches!(method, "TEXT_QUERY_METHOD_EQUALS" | "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE");
    equality.then(|| inner.get("userName")?.as_str().map(str::to_owned)).flatten()
}

/// `GET /management/v1/users/{id}`.
pub(crate) fn get_user(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_READ)?;
    let user =
        ctx.estate.user(&ctx.param(0)).filter(|user| user.org_id == org_id).ok_or_else(ApiError::user_not_found)?;
    Ok(serde_json::json!({ "user": render::user_v1(ctx.estate, user) }))
}

/// `POST /management/v1/users/{user_id}/keys/_search`.
pub(crate) fn list_machine_keys(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_READ)?;
    let user_id = ctx.param(0);
    let page = v1_page(ctx.body)?;
    let keys: Vec<_> = ctx.estate.machine_keys().filter(|key| key.user_id == user_id && key.org_id == org_id).collect();
    let (total, keys) = apply(keys, page);
    Ok(v1_list(ctx.estate, total, keys.into_iter().map(render::key_v1).collect()))
}

/// `POST /management/v1/users/{user_id}/pats/_search`.
pub(crate) fn list_personal_access_tokens(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_READ)?;
    let user_id = ctx.param(0);
    let page = v1_page(ctx.body)?;
    let pats: Vec<_> =
        ctx.estate.personal_access_tokens().filter(|pat| pat.user_id == user_id && pat.org_id == org_id).collect();
    let (total, pats) = apply(pats, page);
    Ok(v1_list(ctx.estate, total, pats.into_iter().map(render::pat_v1).collect()))
}

/// `POST /management/v1/users/{id}/metadata/_search` (`keyQuery`).
pub(crate) fn list_user_metadata(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_READ)?;
    let user_id = ctx.param(0);
    let page = v1_page(ctx.body)?;
    let queries = get_list(ctx.body, "queries")?;
    let mut entries = Vec::new();
    for entry in ctx.estate.user_metadata().filter(|entry| entry.user_id == user_id && entry.org_id == org_id) {
        let mut keep = true;
        for query in &queries {
            if let Some(inner) = crate::json::field(query, "keyQuery") {
                keep &= text_query(inner, "key", &entry.key, TEXT_QUERY_METHODS)?;
            }
        }
        if keep {
            entries.push(entry);
        }
    }
    let (total, entries) = apply(entries, page);
    Ok(v1_list(ctx.estate, total, entries.into_iter().map(render::metadata_v1).collect()))
}

/// `POST /management/v1/users/grants/_search`: grants owned by the context org; with any `withGrantedQuery` also
/// other orgs' grants on projects the context org owns.
pub(crate) fn list_user_grants(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_GRANT_READ)?;
    let page = v1_page(ctx.body)?;
    let queries = get_list(ctx.body, "queries")?;
    let with_granted = queries.iter().any(|query| crate::json::field(query, "withGrantedQuery").is_some());
    let estate = &*ctx.estate;
    let mut grants = Vec::new();
    for grant in estate.user_grants() {
        let project_owner = estate.project(&grant.project_id).map(|project| project.org_id.as_str());
        let in_scope = grant.org_id == org_id || (with_granted && project_owner == Some(org_id.as_str()));
        if !in_scope {
            continue;
        }
        let mut keep = true;
        for query in &queries {
            keep &= user_grant_matches(estate, grant, query)?;
        }
        if keep {
            grants.push(grant);
        }
    }
    let (total, grants) = apply(grants, page);
    Ok(v1_list(estate, total, grants.into_iter().map(|grant| render::user_grant_v1(estate, grant)).collect()))
}

fn user_grant_matches(estate: &Estate, grant: &crate::estate::UserGrant, query: &Value) -> Result<bool, ApiError> {
    let field = |name: &str| crate::json::field(query, name);
    if let Some(inner) = field("projectIdQuery") {
        return Ok(get_str(inner, "projectId")? == grant.project_id);
    }
    if let Some(inner) = field("userIdQuery") {
        return Ok(get_str(inner, "userId")? == grant.user_id);
    }
    if let Some(inner) = field("projectGrantIdQuery") {
        return Ok(Some(get_str(inner, "projectGrantId")?) == grant.project_grant_id);
    }
    if let Some(inner) = field("roleKeyQuery") {
        for key in &grant.role_keys {
            if text_query(inner, "roleKey", key, TEXT_QUERY_METHODS)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    let user = estate.user(&grant.user_id);
    if let Some(inner) = field("userTypeQuery") {
        let wanted = get_enum(inner, "type", USER_TYPES)?;
        return Ok(wanted == 0 || user.is_some_and(|user| (wanted == 2) == user.is_machine()));
    }
    if let Some(inner) = field("userNameQuery") {
        return text_query(
            inner,
            "userName",
            user.map(|user| user.user_name.as_str()).unwrap_or_default(),
            TEXT_QUERY_METHODS,
        );
    }
    if let Some(inner) = field("inUserIdsQuery") {
        return Ok(get_strings(inner, "inUserIds")?.contains(&grant.user_id));
    }
    if let Some(inner) = field("projectNameQuery") {
        let name = estate.project(&grant.project_id).map(|project| project.name.as_str()).unwrap_or_default();
        return text_query(inner, "projectName", name, TEXT_QUERY_METHODS);
    }
    if let Some(inner) = field("withGrantedQuery") {
        get_bool(inner, "withGranted")?;
    }
    Ok(true)
}

/// `POST /management/v1/projects/_search`: projects owned by the context org.
pub(crate) fn list_projects(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(PROJECT_READ)?;
    let page = v1_page(ctx.body)?;
    let queries = get_list(ctx.body, "queries")?;
    let mut projects = Vec::new();
    for project in ctx.estate.projects().filter(|project| project.org_id == org_id) {
        let mut keep = true;
        for query in &queries {
            if let Some(inner) = crate::json::field(query, "nameQuery") {
                keep &= text_query(inner, "name", &project.name, TEXT_QUERY_METHODS)?;
            }
            if let Some(inner) = crate::json::field(query, "projectResourceOwnerQuery") {
                keep &= get_str(inner, "resourceOwner")? == project.org_id;
            }
        }
        if keep {
            projects.push(project);
        }
    }
    let (total, projects) = apply(projects, page);
    Ok(v1_list(ctx.estate, total, projects.into_iter().map(render::project_v1).collect()))
}

/// `POST /management/v1/projects/{project_id}/roles/_search`.
pub(crate) fn list_project_roles(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(PROJECT_ROLE_READ)?;
    let project_id = ctx.param(0);
    let page = v1_page(ctx.body)?;
    let queries = get_list(ctx.body, "queries")?;
    let mut roles = Vec::new();
    for role in ctx.estate.project_roles().filter(|role| role.project_id == project_id && role.org_id == org_id) {
        let mut keep = true;
        for query in &queries {
            if let Some(inner) = crate::json::field(query, "keyQuery") {
                keep &= text_query(inner, "key", &role.key, TEXT_QUERY_METHODS)?;
            }
            if let Some(inner) = crate::json::field(query, "displayNameQuery") {
                keep &= text_query(inner, "displayName", &role.display_name, TEXT_QUERY_METHODS)?;
            }
        }
        if keep {
            roles.push(role);
        }
    }
    let (total, roles) = apply(roles, page);
    Ok(v1_list(ctx.estate, total, roles.into_iter().map(render::role_v1).collect()))
}

fn member_matches(estate: &Estate, membership: &Membership, query: &Value) -> Result<bool, ApiError> {
    let user = estate.user(&membership.user_id);
    let human = user.and_then(User::human);
    if let Some(inner) = crate::json::field(query, "userIdQuery") {
        return Ok(get_str(inner, "userId")? == membership.user_id);
    }
    if let Some(inner) = crate::json::field(query, "firstNameQuery") {
        return text_query(
            inner,
            "firstName",
            human.map(|human| human.first_name.as_str()).unwrap_or_default(),
            TEXT_QUERY_METHODS,
        );
    }
    if let Some(inner) = crate::json::field(query, "lastNameQuery") {
        return text_query(
            inner,
            "lastName",
            human.map(|human| human.last_name.as_str()).unwrap_or_default(),
            TEXT_QUERY_METHODS,
        );
    }
    if let Some(inner) = crate::json::field(query, "emailQuery") {
        return text_query(
            inner,
            "email",
            human.map(|human| human.email.as_str()).unwrap_or_default(),
            TEXT_QUERY_METHODS,
        );
    }
    Ok(true)
}

/// Shared by all v1 member lists: filter by scope and queries, optional sorting, paging.
fn list_members(ctx: &Ctx<'_>, in_scope: impl Fn(&MembershipScope) -> bool, sortable: bool) -> Result<Value, ApiError> {
    let page = v1_page(ctx.body)?;
    let queries = get_list(ctx.body, "queries")?;
    let estate = &*ctx.estate;
    let mut members = Vec::new();
    for membership in estate.memberships().filter(|membership| in_scope(&membership.scope)) {
        let mut keep = true;
        for query in &queries {
            keep &= member_matches(estate, membership, query)?;
        }
        if keep {
            members.push(membership);
        }
    }
    let column = if sortable { get_enum(ctx.body, "sortingColumn", MEMBER_FIELD_NAMES)? } else { 0 };
    if column > 0 {
        sort_items(&mut members, page.asc, |membership| match column {
            1 => SortKey::Text(membership.user_id.clone()),
            2 => SortKey::Time(membership.meta.created),
            3 => SortKey::Time(membership.meta.changed),
            _ => SortKey::Text(estate.user(&membership.user_id).map(|user| user.org_id.clone()).unwrap_or_default()),
        });
    }
    let (total, members) = apply(members, page);
    Ok(v1_list(estate, total, members.into_iter().map(|membership| render::member_v1(estate, membership)).collect()))
}

/// `POST /management/v1/projects/{project_id}/members/_search`.
pub(crate) fn list_project_members(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(PROJECT_MEMBER_READ)?;
    let wanted = ctx.param(0);
    list_members(
        ctx,
        |scope| matches!(scope, MembershipScope::Project { project_id, org_id: owner } if *project_id == wanted && *owner == org_id),
        false,
    )
}

/// `POST /management/v1/projects/{project_id}/grants/{grant_id}/members/_search`.
pub(crate) fn list_project_grant_members(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(PROJECT_GRANT_MEMBER_READ)?;
    let (wanted_project, wanted_grant) = (ctx.param(0), ctx.param(1));
    list_members(
        ctx,
        |scope| {
            matches!(scope, MembershipScope::ProjectGrant { project_id, grant_id, org_id: owner, granted_org_id }
                if *project_id == wanted_project && *grant_id == wanted_grant && (*owner == org_id || *granted_org_id == org_id))
        },
        false,
    )
}

/// `POST /management/v1/orgs/me/members/_search`.
pub(crate) fn list_org_members(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(ORG_MEMBER_READ)?;
    list_members(ctx, |scope| matches!(scope, MembershipScope::Org { org_id: owner } if *owner == org_id), false)
}

/// `POST /auth/v1/memberships/me/_search`: the caller's own manager memberships, on every scope (no permission
/// needed beyond a valid token; the queries narrowing the scope are not modelled).
pub(crate) fn list_my_memberships(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let page = v1_page(ctx.body)?;
    let estate = &*ctx.estate;
    let mine: Vec<&Membership> =
        estate.memberships().filter(|membership| membership.user_id == ctx.caller.user_id).collect();
    let (total, mine) = apply(mine, page);
    Ok(v1_list(
        estate,
        total,
        mine.into_iter().map(|membership| render::my_membership_v1(estate, membership)).collect(),
    ))
}

/// `POST /admin/v1/members/_search`.
pub(crate) fn admin_list_members(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    ctx.instance(IAM_MEMBER_READ)?;
    list_members(ctx, |scope| matches!(scope, MembershipScope::Instance), true)
}

/// `POST /management/v1/projectgrants/_search`: grants of projects the context org owns.
pub(crate) fn list_all_project_grants(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(PROJECT_GRANT_READ)?;
    let page = v1_page(ctx.body)?;
    let queries = get_list(ctx.body, "queries")?;
    let estate = &*ctx.estate;
    let mut grants = Vec::new();
    for grant in estate.project_grants().filter(|grant| grant.org_id == org_id) {
        let mut keep = true;
        for query in &queries {
            if let Some(inner) = crate::json::field(query, "projectIdQuery") {
                keep &= get_str(inner, "projectId")? == grant.project_id;
            }
            if let Some(inner) = crate::json::field(query, "grantedOrgIdQuery") {
                keep &= get_str(inner, "grantedOrgId")? == grant.granted_org_id;
            }
            if let Some(inner) = crate::json::field(query, "projectNameQuery") {
                let name = estate.project(&grant.project_id).map(|project| project.name.as_str()).unwrap_or_default();
                keep &= text_query(inner, "name", name, TEXT_QUERY_METHODS)?;
            }
            if let Some(inner) = crate::json::field(query, "roleKeyQuery") {
                let mut any = false;
                for key in &grant.role_keys {
                    any |= text_query(inner, "roleKey", key, TEXT_QUERY_METHODS)?;
                }
                keep &= any;
            }
        }
        if keep {
            grants.push(grant);
        }
    }
    let (total, grants) = apply(grants, page);
    Ok(v1_list(estate, total, grants.into_iter().map(|grant| render::granted_project_v1(estate, grant)).collect()))
}

/// `POST /management/v1/projects/{project_id}/apps/_search`.
pub(crate) fn list_apps(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(PROJECT_APP_READ)?;
    let project_id = ctx.param(0);
    let page = v1_page(ctx.body)?;
    let queries = get_list(ctx.body, "queries")?;
    let mut apps = Vec::new();
    for app in ctx.estate.applications().filter(|app| app.project_id == project_id && app.org_id == org_id) {
        let mut keep = true;
        for query in &queries {
            if let Some(inner) = crate::json::field(query, "nameQuery") {
                keep &= text_query(inner, "name", &app.name, TEXT_QUERY_METHODS)?;
            }
        }
        if keep {
            apps.push(app);
        }
    }
    let (total, apps) = apply(apps, page);
    Ok(v1_list(ctx.estate, total, apps.into_iter().map(render::app_v1).collect()))
}

/// `POST /management/v1/idps/templates/_search` (instance and context-org providers) and
/// `POST /admin/v1/idps/templates/_search` (instance providers).
pub(crate) fn list_providers(ctx: &mut Ctx<'_>, admin: bool) -> Result<Value, ApiError> {
    let org_id = if admin {
        ctx.instance(IAM_IDP_READ)?;
        None
    } else {
        Some(ctx.context_org(ORG_IDP_READ)?)
    };
    let page = v1_page(ctx.body)?;
    let queries = get_list(ctx.body, "queries")?;
    let estate = &*ctx.estate;
    let mut providers = Vec::new();
    for idp in estate.identity_providers() {
        let visible = match (&idp.org_id, &org_id) {
            (None, _) => true,
            (Some(owner), Some(context)) => owner == context,
            (Some(_), None) => false,
        };
        if !visible {
            continue;
        }
        let mut keep = true;
        for query in &queries {
            if let Some(inner) = crate::json::field(query, "idpIdQuery") {
                keep &= get_str(inner, "id")? == idp.id;
            }
            if let Some(inner) = crate::json::field(query, "idpNameQuery") {
                keep &= text_query(inner, "name", &idp.name, TEXT_QUERY_METHODS)?;
            }
            if let Some(inner) = crate::json::field(query, "ownerTypeQuery") {
                let wanted = get_enum(inner, "ownerType", IDP_OWNER_TYPES)?;
                keep &= wanted == 0 || (wanted == 2) == idp.org_id.is_some();
            }
        }
        if keep {
            providers.push(idp);
        }
    }
    let (total, providers) = apply(providers, page);
    Ok(v1_list(estate, total, providers.into_iter().map(|idp| render::provider_v1(estate, idp)).collect()))
}
