//! Wire DTOs to `warden_core::model`, at the edge. ZITADEL enum names map to the core's vocabularies; a name this
//! version does not know is kept as `Unknown(name)`. A missing id is the only thing that rejects an object.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use warden_core::id::{IdError, OrgId, UserId};
use warden_core::model::{
    AccessTokenType, Application, ApplicationKind, ApplicationState, GrantState, HumanProfile, IdentityProvider,
    IdpOwner, IdpState, KeyType, MachineKey, MachineProfile, Membership, MembershipScope, Org, OrgState,
    PersonalAccessToken, Project, ProjectGrant, ProjectRole, ProjectState, ProviderType, User, UserGrant, UserKind,
    UserMetadata, UserState,
};

use crate::dto::{Details, v1, v2};

/// Why a DTO could not become a model object.
#[derive(Debug, thiserror::Error)]
#[error("{object}: {source}")]
pub(crate) struct ConvertError {
    object: &'static str,
    source: IdError,
}

fn id<T: TryFrom<String, Error = IdError>>(object: &'static str, value: impl Into<String>) -> Result<T, ConvertError> {
    T::try_from(value.into()).map_err(|source| ConvertError { object, source })
}

fn optional_id<T: TryFrom<String, Error = IdError>>(
    object: &'static str,
    value: String,
) -> Result<Option<T>, ConvertError> {
    if value.is_empty() { Ok(None) } else { id(object, value).map(Some) }
}

fn ids<T: TryFrom<String, Error = IdError>>(object: &'static str, values: Vec<String>) -> Result<Vec<T>, ConvertError> {
    values.into_iter().map(|value| id(object, value)).collect()
}

/// RFC 3339, kept to the microsecond (what both stores hold, so that a re-read compares equal); anything else reads
/// as unknown rather than failing the object.
pub(crate) fn time(value: Option<&str>) -> Option<OffsetDateTime> {
    let time = OffsetDateTime::parse(value?, &Rfc3339).ok()?;
    time.replace_nanosecond(time.nanosecond() / 1_000 * 1_000).ok()
}

/// ZITADEL reports "never expires" as 9999-12-31T23:59:59Z.
fn expiry(value: Option<&str>) -> Option<OffsetDateTime> {
    time(value).filter(|expires| expires.year() < 9999)
}

fn dates(details: &Details) -> (Option<OffsetDateTime>, Option<OffsetDateTime>) {
    (time(details.creation_date.as_deref()), time(details.change_date.as_deref()))
}

fn owner(details: &Details) -> String {
    details.resource_owner.clone().unwrap_or_default()
}

/// Strips a ZITADEL enum prefix: `USER_STATE_ACTIVE` -> `active`. Absent means the enum's zero value.
fn enum_text(value: Option<&str>, prefix: &str, zero: &str) -> String {
    match value {
        None | Some("") => zero.to_owned(),
        Some(value) => match value.strip_prefix(prefix) {
            Some(rest) => rest.to_ascii_lowercase(),
            None => value.to_owned(),
        },
    }
}

pub(crate) fn org_state(value: Option<&str>) -> OrgState {
    let text = enum_text(value, "ORG_STATE_", "unspecified");
    OrgState::from_text(&enum_text(Some(&text), "ORGANIZATION_STATE_", "unspecified"))
}

fn user_state(value: Option<&str>) -> UserState {
    match enum_text(value, "USER_STATE_", "unspecified").as_str() {
        "suspend" => UserState::Suspended,
        other => UserState::from_text(other),
    }
}

fn grant_state(value: Option<&str>, prefix: &str) -> GrantState {
    GrantState::from_text(&enum_text(value, prefix, "unspecified"))
}

fn access_token_type(value: Option<&str>) -> AccessTokenType {
    AccessTokenType::from_text(&enum_text(value, "ACCESS_TOKEN_TYPE_", "bearer"))
}

fn machine(machine: v1::Machine) -> UserKind {
    UserKind::Machine(MachineProfile {
        name: machine.name,
        description: machine.description,
        has_secret: machine.has_secret,
        access_token_type: access_token_type(machine.access_token_type.as_deref()),
    })
}

pub(crate) fn org_v1(org: v1::Org) -> Result<Org, ConvertError> {
    let (created_at, changed_at) = dates(&org.details);
    Ok(Org {
        id: id("org", org.id)?,
        name: org.name,
        state: org_state(org.state.as_deref()),
        primary_domain: org.primary_domain,
        created_at,
        changed_at,
    })
}

pub(crate) fn org_v2(org: v2::Organization) -> Result<Org, ConvertError> {
    let (created_at, changed_at) = dates(&org.details);
    Ok(Org {
        id: id("organization", org.id)?,
        name: org.name,
        state: org_state(org.state.as_deref()),
        primary_domain: org.primary_domain,
        created_at,
        changed_at,
    })
}

pub(crate) fn user_v1(user: v1::User) -> Result<User, ConvertError> {
    let (created_at, changed_at) = dates(&user.details);
    let kind = match (user.machine, user.human) {
        (Some(profile), _) => machine(profile),
        (None, human) => {
            let human = human.unwrap_or_default();
            UserKind::Human(HumanProfile {
                given_name: human.profile.first_name,
                family_name: human.profile.last_name,
                display_name: human.profile.display_name,
                nick_name: human.profile.nick_name,
                preferred_language: human.profile.preferred_language,
                email: human.email.email,
                email_verified: human.email.is_email_verified,
                phone: human.phone.phone,
                phone_verified: human.phone.is_phone_verified,
            })
        }
    };
    Ok(User {
        org_id: id("user owner", owner(&user.details))?,
        id: id("user", user.id)?,
        username: user.user_name,
        preferred_login_name: user.preferred_login_name,
        state: user_state(user.state.as_deref()),
        kind,
        created_at,
        changed_at,
    })
}

pub(crate) fn user_v2(user: v2::User) -> Result<User, ConvertError> {
    let (created_at, changed_at) = dates(&user.details);
    let kind = match (user.machine, user.human) {
        (Some(profile), _) => machine(profile),
        (None, human) => {
            let human = human.unwrap_or_default();
            UserKind::Human(HumanProfile {
                given_name: human.profile.given_name,
                family_name: human.profile.family_name,
                display_name: human.profile.display_name,
                nick_name: human.profile.nick_name,
                preferred_language: human.profile.preferred_language,
                email: human.email.email,
                email_verified: human.email.is_verified,
                phone: human.phone.phone,
                phone_verified: human.phone.is_verified,
            })
        }
    };
    Ok(User {
        org_id: id("user owner", owner(&user.details))?,
        id: id("user", user.user_id)?,
        username: user.username,
        preferred_login_name: user.preferred_login_name,
        state: user_state(user.state.as_deref()),
        kind,
        created_at,
        changed_at,
    })
}

pub(crate) fn machine_key(key: v1::MachineKey, org: &OrgId, user: &UserId) -> Result<MachineKey, ConvertError> {
    Ok(MachineKey {
        id: id("machine key", key.id)?,
        user_id: user.clone(),
        org_id: org.clone(),
        key_type: KeyType::from_text(&enum_text(key.key_type.as_deref(), "KEY_TYPE_", "unspecified")),
        created_at: time(key.details.creation_date.as_deref()),
        expires_at: expiry(key.expiration_date.as_deref()),
    })
}

pub(crate) fn personal_access_token(
    token: v1::PersonalAccessToken,
    org: &OrgId,
    user: &UserId,
) -> Result<PersonalAccessToken, ConvertError> {
    Ok(PersonalAccessToken {
        id: id("personal access token", token.id)?,
        user_id: user.clone(),
        org_id: org.clone(),
        scopes: token.scopes,
        created_at: time(token.details.creation_date.as_deref()),
        expires_at: expiry(token.expiration_date.as_deref()),
    })
}

/// A key of the instance-wide search, which does not say its type: [`KeyType::Unspecified`].
pub(crate) fn machine_key_v2(key: v2::Credential) -> Result<MachineKey, ConvertError> {
    Ok(MachineKey {
        id: id("machine key", key.id)?,
        user_id: id("machine key user", key.user_id)?,
        org_id: id("machine key owner", key.organization_id)?,
        key_type: KeyType::Unspecified,
        created_at: time(key.creation_date.as_deref()),
        expires_at: expiry(key.expiration_date.as_deref()),
    })
}

/// A token of the instance-wide search, which does not carry its scopes: none.
pub(crate) fn personal_access_token_v2(token: v2::Credential) -> Result<PersonalAccessToken, ConvertError> {
    Ok(PersonalAccessToken {
        id: id("personal access token", token.id)?,
        user_id: id("personal access token user", token.user_id)?,
        org_id: id("personal access token owner", token.organization_id)?,
        scopes: Vec::new(),
        created_at: time(token.creation_date.as_deref()),
        expires_at: expiry(token.expiration_date.as_deref()),
    })
}

pub(crate) fn metadata(entry: v1::Metadata, org: &OrgId, user: &UserId) -> Result<UserMetadata, ConvertError> {
    let (created_at, changed_at) = dates(&entry.details);
    // The value is base64 on the wire; an undecodable one is kept as the text that arrived.
    let value = STANDARD.decode(entry.value.as_bytes()).unwrap_or_else(|_| entry.value.into_bytes());
    Ok(UserMetadata {
        user_id: user.clone(),
        org_id: org.clone(),
        key: id("metadata key", entry.key)?,
        value,
        created_at,
        changed_at,
    })
}

pub(crate) fn user_grant_v1(grant: v1::UserGrant) -> Result<UserGrant, ConvertError> {
    let (created_at, changed_at) = dates(&grant.details);
    Ok(UserGrant {
        id: id("user grant", grant.id)?,
        user_id: id("user grant user", grant.user_id)?,
        org_id: id("user grant owner", owner(&grant.details))?,
        project_id: id("user grant project", grant.project_id)?,
        project_grant_id: optional_id("user grant project grant", grant.project_grant_id)?,
        role_keys: ids("user grant role", grant.role_keys)?,
        state: grant_state(grant.state.as_deref(), "USER_GRANT_STATE_"),
        created_at,
        changed_at,
    })
}

pub(crate) fn authorization_v2(grant: v2::Authorization) -> Result<UserGrant, ConvertError> {
    Ok(UserGrant {
        id: id("authorization", grant.id)?,
        user_id: id("authorization user", grant.user.id)?,
        org_id: id("authorization owner", grant.organization_id)?,
        project_id: id("authorization project", grant.project_id)?,
        project_grant_id: optional_id("authorization project grant", grant.project_grant_id)?,
        role_keys: ids("authorization role", grant.roles)?,
        state: grant_state(grant.state.as_deref(), "STATE_"),
        created_at: time(grant.creation_date.as_deref()),
        changed_at: time(grant.change_date.as_deref()),
    })
}

fn project_state(value: Option<&str>) -> ProjectState {
    ProjectState::from_text(&enum_text(value, "PROJECT_STATE_", "unspecified"))
}

pub(crate) fn project_v1(project: v1::Project) -> Result<Project, ConvertError> {
    let (created_at, changed_at) = dates(&project.details);
    Ok(Project {
        id: id("project", project.id)?,
        org_id: id("project owner", owner(&project.details))?,
        name: project.name,
        state: project_state(project.state.as_deref()),
        role_assertion: project.project_role_assertion,
        role_check: project.project_role_check,
        has_project_check: project.has_project_check,
        created_at,
        changed_at,
    })
}

pub(crate) fn project_v2(project: v2::Project) -> Result<Project, ConvertError> {
    Ok(Project {
        id: id("project", project.id)?,
        org_id: id("project owner", project.organization_id)?,
        name: project.name,
        state: project_state(project.state.as_deref()),
        role_assertion: project.project_role_assertion,
        role_check: project.authorization_required,
        has_project_check: project.project_access_required,
        created_at: time(project.creation_date.as_deref()),
        changed_at: time(project.change_date.as_deref()),
    })
}

pub(crate) fn project_role(role: v1::Role, project: &Project) -> Result<ProjectRole, ConvertError> {
    let (created_at, changed_at) = dates(&role.details);
    Ok(ProjectRole {
        project_id: project.id.clone(),
        org_id: project.org_id.clone(),
        key: id("role key", role.key)?,
        display_name: role.display_name,
        group: role.group,
        created_at,
        changed_at,
    })
}

pub(crate) fn member(member: v1::Member, scope: MembershipScope) -> Result<Membership, ConvertError> {
    let (created_at, changed_at) = dates(&member.details);
    Ok(Membership { user_id: id("member", member.user_id)?, scope, roles: member.roles, created_at, changed_at })
}

/// `None` for a project-grant membership (the auth API names the grant, not its project; it says nothing about
/// managing users) and for a scope this version does not know.
pub(crate) fn own_membership(membership: v1::OwnMembership) -> Result<Option<Membership>, ConvertError> {
    let (created_at, changed_at) = dates(&membership.details);
    let owner = || id("membership org", membership.details.resource_owner.clone().unwrap_or_default());
    let scope = if membership.iam == Some(true) {
        MembershipScope::Instance
    } else if let Some(org_id) = membership.org_id {
        MembershipScope::Org(id("membership org", org_id)?)
    } else if let Some(project_id) = membership.project_id {
        MembershipScope::Project { org_id: owner()?, project_id: id("membership project", project_id)? }
    } else {
        return Ok(None);
    };
    let user_id = id("membership user", membership.user_id)?;
    Ok(Some(Membership { user_id, scope, roles: membership.roles, created_at, changed_at }))
}

/// `None` for an administrator entry whose resource this version does not know.
pub(crate) fn administrator_v2(admin: v2::Administrator) -> Result<Option<Membership>, ConvertError> {
    let scope = if admin.instance {
        MembershipScope::Instance
    } else if let Some(grant) = admin.project_grant {
        MembershipScope::ProjectGrant {
            org_id: id("administrator org", grant.organization_id)?,
            project_id: id("administrator project", grant.project_id)?,
            project_grant_id: id("administrator project grant", grant.id)?,
        }
    } else if let Some(project) = admin.project {
        MembershipScope::Project {
            org_id: id("administrator org", project.organization_id)?,
            project_id: id("administrator project", project.id)?,
        }
    } else if let Some(organization) = admin.organization {
        MembershipScope::Org(id("administrator org", organization.id)?)
    } else {
        return Ok(None);
    };
    Ok(Some(Membership {
        user_id: id("administrator", admin.user.id)?,
        scope,
        roles: admin.roles,
        created_at: time(admin.creation_date.as_deref()),
        changed_at: time(admin.change_date.as_deref()),
    }))
}

pub(crate) fn project_grant_v1(grant: v1::GrantedProject) -> Result<ProjectGrant, ConvertError> {
    let (created_at, changed_at) = dates(&grant.details);
    let org_id = if grant.project_owner_id.is_empty() { owner(&grant.details) } else { grant.project_owner_id };
    Ok(ProjectGrant {
        id: id("project grant", grant.grant_id)?,
        project_id: id("project grant project", grant.project_id)?,
        org_id: id("project grant owner", org_id)?,
        granted_org_id: id("project grant granted org", grant.granted_org_id)?,
        role_keys: ids("project grant role", grant.granted_role_keys)?,
        state: grant_state(grant.state.as_deref(), "PROJECT_GRANT_STATE_"),
        created_at,
        changed_at,
    })
}

pub(crate) fn application_v1(app: v1::App, project: &Project) -> Result<Application, ConvertError> {
    let (created_at, changed_at) = dates(&app.details);
    let (kind, config) = match (app.oidc_config, app.api_config, app.saml_config) {
        (Some(config), _, _) => (ApplicationKind::Oidc, config),
        (None, Some(config), _) => (ApplicationKind::Api, config),
        (None, None, Some(config)) => (ApplicationKind::Saml, config),
        (None, None, None) => (ApplicationKind::Unknown("none".to_owned()), serde_json::Value::Null),
    };
    let mut settings = BTreeMap::new();
    flatten("", &config, &mut settings);
    let client_id = settings.remove("clientId");
    let auth_method = settings.remove("authMethodType");
    Ok(Application {
        id: id("application", app.id)?,
        project_id: project.id.clone(),
        org_id: project.org_id.clone(),
        name: app.name,
        state: ApplicationState::from_text(&enum_text(app.state.as_deref(), "APP_STATE_", "unspecified")),
        kind,
        client_id,
        auth_method,
        settings,
        created_at,
        changed_at,
    })
}

pub(crate) fn identity_provider(provider: v1::Provider) -> Result<IdentityProvider, ConvertError> {
    let (created_at, changed_at) = dates(&provider.details);
    let owner = match provider.owner.as_deref() {
        Some("IDP_OWNER_TYPE_ORG") => IdpOwner::Org(id("identity provider owner", owner(&provider.details))?),
        _ => IdpOwner::Instance,
    };
    let mut config = BTreeMap::new();
    flatten("", provider.config.as_ref().unwrap_or(&serde_json::Value::Null), &mut config);
    // SAML metadata travels as base64; keep the XML itself, which holds the signing certificates.
    if let Some(encoded) = config.get_mut("saml.metadataXml")
        && let Ok(xml) = STANDARD.decode(encoded.as_bytes()).map(String::from_utf8)
        && let Ok(xml) = xml
    {
        *encoded = xml;
    }
    Ok(IdentityProvider {
        id: id("identity provider", provider.id)?,
        owner,
        name: provider.name,
        state: IdpState::from_text(&enum_text(provider.state.as_deref(), "IDP_STATE_", "unspecified")),
        provider_type: provider_type(provider.provider_type.as_deref()),
        config,
        created_at,
        changed_at,
    })
}

fn provider_type(value: Option<&str>) -> ProviderType {
    match enum_text(value, "PROVIDER_TYPE_", "unspecified").as_str() {
        "github_es" => ProviderType::GithubEnterprise,
        other => ProviderType::from_text(other),
    }
}

/// Flattens JSON into `path.to.field = value` settings; lists join with `,`.
fn flatten(prefix: &str, value: &serde_json::Value, into: &mut BTreeMap<String, String>) {
    let key = |name: &str| if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") };
    match value {
        serde_json::Value::Object(fields) => {
            for (name, value) in fields {
                flatten(&key(name), value, into);
            }
        }
        serde_json::Value::Array(items) => {
            let texts: Vec<String> = items
                .iter()
                .map(|item| match item {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect();
            into.insert(prefix.to_owned(), texts.join(","));
        }
        serde_json::Value::String(text) => {
            into.insert(prefix.to_owned(), text.clone());
        }
        serde_json::Value::Null => {}
        other => {
            into.insert(prefix.to_owned(), other.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_map_to_the_core_and_unknown_names_are_kept() {
        assert_eq!(user_state(Some("USER_STATE_SUSPEND")), UserState::Suspended);
        assert_eq!(user_state(None), UserState::Unspecified);
        assert_eq!(user_state(Some("USER_STATE_FROZEN")), UserState::Unknown("frozen".to_owned()));
        assert_eq!(org_state(Some("ORGANIZATION_STATE_ACTIVE")), OrgState::Active);
        assert_eq!(access_token_type(None), AccessTokenType::Bearer);
        assert_eq!(provider_type(Some("PROVIDER_TYPE_GITHUB_ES")), ProviderType::GithubEnterprise);
        assert_eq!(grant_state(Some("STATE_INACTIVE"), "STATE_"), GrantState::Inactive);
    }

    #[test]
    fn never_expiring_credentials_have_no_expiry() {
        assert_eq!(expiry(Some("9999-12-31T23:59:59Z")), None);
        assert!(expiry(Some("2027-01-01T00:00:00Z")).is_some());
        assert_eq!(time(Some("not a time")), None);
        let precise = time(Some("2026-10-23T05:42:45.937346731Z")).unwrap();
        assert_eq!(precise.nanosecond(), 937_346_000, "nanoseconds are cut to what the stores keep");
    }

    #[test]
    fn searched_credentials_carry_no_key_type_and_no_scopes() {
        let item = || v2::Credential {
            creation_date: Some("2026-01-02T03:04:05Z".to_owned()),
            change_date: None,
            id: "311".to_owned(),
            user_id: "312".to_owned(),
            organization_id: "313".to_owned(),
            expiration_date: Some("9999-12-31T23:59:59Z".to_owned()),
        };
        let key = machine_key_v2(item()).unwrap();
        assert_eq!((key.id.as_str(), key.user_id.as_str(), key.org_id.as_str()), ("311", "312", "313"));
        assert_eq!((key.key_type, key.expires_at), (KeyType::Unspecified, None));
        assert!(key.created_at.is_some());
        let token = personal_access_token_v2(item()).unwrap();
        assert!(token.scopes.is_empty());
        assert!(machine_key_v2(v2::Credential { organization_id: String::new(), ..item() }).is_err());
    }

    #[test]
    fn configs_flatten_into_comparable_settings() {
        let config =
            serde_json::json!({"oidc": {"issuer": "https://idp", "scopes": ["openid", "email"], "usePkce": true}});
        let mut settings = BTreeMap::new();
        flatten("", &config, &mut settings);
        assert_eq!(settings["oidc.issuer"], "https://idp");
        assert_eq!(settings["oidc.scopes"], "openid,email");
        assert_eq!(settings["oidc.usePkce"], "true");
    }
}
