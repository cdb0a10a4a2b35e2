//! Estate objects -> ZITADEL JSON (v1 messages and their v2/v2beta counterparts).

use serde_json::Value;

use crate::estate::{
    AccessTokenType, AppConfig, AppState, Application, Estate, Gender, GrantState, IdentityProvider, IdpConfig,
    IdpState, MachineKey, MachineProfile, Membership, MembershipScope, ObjectMeta, OidcAppType, Org, OrgState,
    PersonalAccessToken, Project, ProjectGrant, ProjectRole, ProjectState, User, UserGrant, UserKind, UserMetadata,
    UserState,
};
use crate::json::Obj;

/// v1 `ObjectDetails`.
pub(crate) fn details(meta: &ObjectMeta, owner: &str) -> Obj {
    Obj::new()
        .int64("sequence", meta.sequence)
        .time("creationDate", meta.created)
        .time("changeDate", meta.changed)
        .string("resourceOwner", owner)
}

/// The aggregate sequence and creation date of the newest event (what a write's details report: ZITADEL's
/// `writeModelToObjectDetails` after the push); `(0, now)` when the log is empty.
fn last_write(estate: &Estate) -> (u64, time::OffsetDateTime) {
    estate.events().last().map_or((0, estate.now()), |event| (event.sequence, event.created))
}

/// v1 `ObjectDetails` of a change response (sequence, change date, owner).
pub(crate) fn change_details(estate: &Estate, owner: &str) -> Value {
    let (sequence, at) = last_write(estate);
    Obj::new().int64("sequence", sequence).time("changeDate", at).string("resourceOwner", owner).build()
}

/// v1 `ObjectDetails` of an add response (sequence, creation date, owner).
pub(crate) fn add_details(estate: &Estate, owner: &str) -> Value {
    let (sequence, at) = last_write(estate);
    Obj::new().int64("sequence", sequence).time("creationDate", at).string("resourceOwner", owner).build()
}

fn org_state(state: OrgState, prefix: &str) -> String {
    match state {
        OrgState::Active => format!("{prefix}_ACTIVE"),
        OrgState::Inactive => format!("{prefix}_INACTIVE"),
    }
}

pub(crate) fn org_v1(org: &Org) -> Value {
    Obj::new()
        .string("id", &org.id)
        .object("details", details(&org.meta, &org.id))
        .enumeration("state", Some(&org_state(org.state, "ORG_STATE")))
        .string("name", &org.name)
        .string("primaryDomain", &org.primary_domain)
        .build()
}

pub(crate) fn org_v2(org: &Org) -> Value {
    Obj::new()
        .string("id", &org.id)
        .object("details", details(&org.meta, &org.id))
        .enumeration("state", Some(&org_state(org.state, "ORGANIZATION_STATE")))
        .string("name", &org.name)
        .string("primaryDomain", &org.primary_domain)
        .build()
}

pub(crate) fn user_state_name(state: UserState) -> &'static str {
    match state {
        UserState::Active => "USER_STATE_ACTIVE",
        UserState::Inactive => "USER_STATE_INACTIVE",
        UserState::Locked => "USER_STATE_LOCKED",
        UserState::Initial => "USER_STATE_INITIAL",
    }
}

fn gender_name(gender: Gender) -> Option<&'static str> {
    match gender {
        Gender::Unspecified => None,
        Gender::Female => Some("GENDER_FEMALE"),
        Gender::Male => Some("GENDER_MALE"),
        Gender::Diverse => Some("GENDER_DIVERSE"),
    }
}

fn token_type_name(token_type: AccessTokenType) -> Option<&'static str> {
    match token_type {
        AccessTokenType::Bearer => None,
        AccessTokenType::Jwt => Some("ACCESS_TOKEN_TYPE_JWT"),
    }
}

/// v1 `Machine` and v2 `MachineUser`: the same fields.
fn machine_user(machine: &MachineProfile) -> Obj {
    Obj::new()
        .string("name", &machine.name)
        .string("description", &machine.description)
        .flag("hasSecret", machine.client_secret.is_some())
        .enumeration("accessTokenType", token_type_name(machine.access_token_type))
}

/// v1 `User`.
pub(crate) fn user_v1(estate: &Estate, user: &User) -> Value {
    let login_name = estate.login_name(user);
    let mut out = Obj::new()
        .string("id", &user.id)
        .object("details", details(&user.meta, &user.org_id))
        .enumeration("state", Some(user_state_name(user.state)))
        .string("userName", &user.user_name)
        .strings("loginNames", std::slice::from_ref(&login_name))
        .string("preferredLoginName", &login_name);
    match &user.kind {
        UserKind::Human(human) => {
            let profile = Obj::new()
                .string("firstName", &human.first_name)
                .string("lastName", &human.last_name)
                .string("nickName", &human.nick_name)
                .string("displayName", &human.display_name)
                .string("preferredLanguage", &human.preferred_language)
                .enumeration("gender", gender_name(human.gender));
            let email = Obj::new().string("email", &human.email).flag("isEmailVerified", human.email_verified);
            let phone = Obj::new().string("phone", &human.phone).flag("isPhoneVerified", human.phone_verified);
            let human_obj = Obj::new()
                .object("profile", profile)
                .object("email", email)
                .object("phone", phone)
                .time_opt("passwordChanged", human.password_changed);
            out = out.object("human", human_obj);
        }
        UserKind::Machine(machine) => out = out.object("machine", machine_user(machine)),
    }
    out.build()
}

/// v2 `object.v2.Details`.
pub(crate) fn details_v2(meta: &ObjectMeta, owner: &str) -> Obj {
    Obj::new()
        .int64("sequence", meta.sequence)
        .time("changeDate", meta.changed)
        .string("resourceOwner", owner)
        .time("creationDate", meta.created)
}

/// v2 `User`.
pub(crate) fn user_v2(estate: &Estate, user: &User) -> Value {
    let login_name = estate.login_name(user);
    let mut out = Obj::new()
        .string("userId", &user.id)
        .object("details", details_v2(&user.meta, &user.org_id))
        .enumeration("state", Some(user_state_name(user.state)))
        .string("username", &user.user_name)
        .strings("loginNames", std::slice::from_ref(&login_name))
        .string("preferredLoginName", &login_name);
    match &user.kind {
        UserKind::Human(human) => {
            let profile = Obj::new()
                .string("givenName", &human.first_name)
                .string("familyName", &human.last_name)
                .string("nickName", &human.nick_name)
                .string("displayName", &human.display_name)
                .string("preferredLanguage", &human.preferred_language)
                .enumeration("gender", gender_name(human.gender));
            let email = Obj::new().string("email", &human.email).flag("isVerified", human.email_verified);
            let phone = Obj::new().string("phone", &human.phone).flag("isVerified", human.phone_verified);
            let human_obj = Obj::new()
                .object("profile", profile)
                .object("email", email)
                .object("phone", phone)
                .time_opt("passwordChanged", human.password_changed);
            out = out.object("human", human_obj);
        }
        UserKind::Machine(machine) => out = out.object("machine", machine_user(machine)),
    }
    out.build()
}

pub(crate) fn key_v1(key: &MachineKey) -> Value {
    Obj::new()
        .string("id", &key.id)
        .object("details", details(&key.meta, &key.org_id))
        .enumeration("type", Some("KEY_TYPE_JSON"))
        .time("expirationDate", key.expiration)
        .build()
}

pub(crate) fn pat_v1(pat: &PersonalAccessToken) -> Value {
    Obj::new()
        .string("id", &pat.id)
        .object("details", details(&pat.meta, &pat.org_id))
        .time("expirationDate", pat.expiration)
        .strings("scopes", &pat.scopes)
        .build()
}

/// v2 `Key` and `PersonalAccessToken` of the instance-wide searches (the same fields; no key type, no scopes).
pub(crate) fn credential_v2(
    id: &str,
    user_id: &str,
    org_id: &str,
    expiration: time::OffsetDateTime,
    meta: &ObjectMeta,
) -> Value {
    Obj::new()
        .time("creationDate", meta.created)
        .time("changeDate", meta.changed)
        .string("id", id)
        .string("userId", user_id)
        .string("organizationId", org_id)
        .time("expirationDate", expiration)
        .build()
}

pub(crate) fn metadata_v1(entry: &UserMetadata) -> Value {
    Obj::new()
        .object("details", details(&entry.meta, &entry.org_id))
        .string("key", &entry.key)
        .bytes("value", &entry.value)
        .build()
}

pub(crate) fn metadata_v2(entry: &UserMetadata) -> Value {
    Obj::new()
        .time("creationDate", entry.meta.created)
        .time("changeDate", entry.meta.changed)
        .string("key", &entry.key)
        .bytes("value", &entry.value)
        .build()
}

fn user_type(user: Option<&User>) -> Option<&'static str> {
    match user.map(User::is_machine) {
        Some(true) => Some("TYPE_MACHINE"),
        Some(false) => Some("TYPE_HUMAN"),
        None => None,
    }
}

/// v1 `UserGrant`: `org*` = the grant's owner, `grantedOrg*` = the user's org.
pub(crate) fn user_grant_v1(estate: &Estate, grant: &UserGrant) -> Value {
    let user = estate.user(&grant.user_id);
    let human = user.and_then(User::human);
    let org = estate.org(&grant.org_id);
    let user_org = user.and_then(|user| estate.org(&user.org_id));
    let login_name = user.map(|user| estate.login_name(user)).unwrap_or_default();
    Obj::new()
        .string("id", &grant.id)
        .object("details", details(&grant.meta, &grant.org_id))
        .strings("roleKeys", &grant.role_keys)
        .enumeration("state", Some(grant_state_name(grant.state, "USER_GRANT_STATE")).as_deref())
        .string("userId", &grant.user_id)
        .string("userName", user.map(|user| user.user_name.as_str()).unwrap_or_default())
        .string("firstName", human.map(|human| human.first_name.as_str()).unwrap_or_default())
        .string("lastName", human.map(|human| human.last_name.as_str()).unwrap_or_default())
        .string("email", human.map(|human| human.email.as_str()).unwrap_or_default())
        .string("displayName", user.map(User::display_name).unwrap_or_default())
        .string("orgId", &grant.org_id)
        .string("orgName", org.map(|org| org.name.as_str()).unwrap_or_default())
        .string("orgDomain", org.map(|org| org.primary_domain.as_str()).unwrap_or_default())
        .string("projectId", &grant.project_id)
        .string(
            "projectName",
            estate.project(&grant.project_id).map(|project| project.name.as_str()).unwrap_or_default(),
        )
        .string("projectGrantId", grant.project_grant_id.as_deref().unwrap_or_default())
        .string("preferredLoginName", &login_name)
        .enumeration("userType", user_type(user))
        .string("grantedOrgId", user_org.map(|org| org.id.as_str()).unwrap_or_default())
        .string("grantedOrgName", user_org.map(|org| org.name.as_str()).unwrap_or_default())
        .string("grantedOrgDomain", user_org.map(|org| org.primary_domain.as_str()).unwrap_or_default())
        .build()
}

fn grant_state_name(state: GrantState, prefix: &str) -> String {
    match state {
        GrantState::Active => format!("{prefix}_ACTIVE"),
        GrantState::Inactive => format!("{prefix}_INACTIVE"),
    }
}

/// v2beta `Authorization`.
pub(crate) fn authorization_v2(estate: &Estate, grant: &UserGrant) -> Value {
    let user = estate.user(&grant.user_id);
    let project = estate.project(&grant.project_id);
    let granted_org =
        grant.project_grant_id.as_ref().and_then(|id| estate.project_grant(id)).map(|pg| pg.granted_org_id.as_str());
    let user_obj = Obj::new()
        .string("id", &grant.user_id)
        .string("preferredLoginName", &user.map(|user| estate.login_name(user)).unwrap_or_default())
        .string("displayName", user.map(User::display_name).unwrap_or_default())
        .string("organizationId", user.map(|user| user.org_id.as_str()).unwrap_or_default());
    Obj::new()
        .string("id", &grant.id)
        .string("projectId", &grant.project_id)
        .string("projectName", project.map(|project| project.name.as_str()).unwrap_or_default())
        .string("projectOrganizationId", project.map(|project| project.org_id.as_str()).unwrap_or_default())
        .string("projectGrantId", grant.project_grant_id.as_deref().unwrap_or_default())
        .string("grantedOrganizationId", granted_org.unwrap_or_default())
        .string("organizationId", &grant.org_id)
        .time("creationDate", grant.meta.created)
        .time("changeDate", grant.meta.changed)
        .enumeration("state", Some(grant_state_name(grant.state, "STATE")).as_deref())
        .object("user", user_obj)
        .strings("roles", &grant.role_keys)
        .build()
}

fn project_state_name(state: ProjectState) -> &'static str {
    match state {
        ProjectState::Active => "PROJECT_STATE_ACTIVE",
        ProjectState::Inactive => "PROJECT_STATE_INACTIVE",
    }
}

pub(crate) fn project_v1(project: &Project) -> Value {
    Obj::new()
        .string("id", &project.id)
        .object("details", details(&project.meta, &project.org_id))
        .string("name", &project.name)
        .enumeration("state", Some(project_state_name(project.state)))
        .flag("projectRoleAssertion", project.project_role_assertion)
        .flag("projectRoleCheck", project.project_role_check)
        .flag("hasProjectCheck", project.has_project_check)
        .build()
}

pub(crate) fn project_v2(project: &Project) -> Value {
    Obj::new()
        .string("id", &project.id)
        .string("organizationId", &project.org_id)
        .time("creationDate", project.meta.created)
        .time("changeDate", project.meta.changed)
        .string("name", &project.name)
        .enumeration("state", Some(project_state_name(project.state)))
        .flag("projectRoleAssertion", project.project_role_assertion)
        .flag("authorizationRequired", project.project_role_check)
        .flag("projectAccessRequired", project.has_project_check)
        .build()
}

pub(crate) fn role_v1(role: &ProjectRole) -> Value {
    Obj::new()
        .string("key", &role.key)
        .object("details", details(&role.meta, &role.org_id))
        .string("displayName", &role.display_name)
        .string("group", &role.group)
        .build()
}

pub(crate) fn role_v2(role: &ProjectRole) -> Value {
    Obj::new()
        .string("projectId", &role.project_id)
        .string("key", &role.key)
        .time("creationDate", role.meta.created)
        .time("changeDate", role.meta.changed)
        .string("displayName", &role.display_name)
        .string("group", &role.group)
        .build()
}

/// v1 `GrantedProject` (item of `/projectgrants/_search`).
pub(crate) fn granted_project_v1(estate: &Estate, grant: &ProjectGrant) -> Value {
    let project = estate.project(&grant.project_id);
    Obj::new()
        .string("grantId", &grant.id)
        .string("grantedOrgId", &grant.granted_org_id)
        .string("grantedOrgName", estate.org(&grant.granted_org_id).map(|org| org.name.as_str()).unwrap_or_default())
        .strings("grantedRoleKeys", &grant.role_keys)
        .enumeration("state", Some(grant_state_name(grant.state, "PROJECT_GRANT_STATE")).as_deref())
        .string("projectId", &grant.project_id)
        .string("projectName", project.map(|project| project.name.as_str()).unwrap_or_default())
        .string("projectOwnerId", &grant.org_id)
        .string("projectOwnerName", estate.org(&grant.org_id).map(|org| org.name.as_str()).unwrap_or_default())
        .object("details", details(&grant.meta, &grant.org_id))
        .build()
}

pub(crate) fn project_grant_v2(estate: &Estate, grant: &ProjectGrant) -> Value {
    Obj::new()
        .string("organizationId", &grant.org_id)
        .time("creationDate", grant.meta.created)
        .time("changeDate", grant.meta.changed)
        .string("grantedOrganizationId", &grant.granted_org_id)
        .string(
            "grantedOrganizationName",
            estate.org(&grant.granted_org_id).map(|org| org.name.as_str()).unwrap_or_default(),
        )
        .strings("grantedRoleKeys", &grant.role_keys)
        .string("projectId", &grant.project_id)
        .string(
            "projectName",
            estate.project(&grant.project_id).map(|project| project.name.as_str()).unwrap_or_default(),
        )
        .enumeration("state", Some(grant_state_name(grant.state, "PROJECT_GRANT_STATE")).as_deref())
        .build()
}

/// The org that owns a membership (resource owner of the member object).
pub(crate) fn membership_owner(estate: &Estate, membership: &Membership) -> String {
    match &membership.scope {
        MembershipScope::Instance => estate.instance_id().to_string(),
        MembershipScope::Org { org_id } | MembershipScope::Project { org_id, .. } => org_id.clone(),
        MembershipScope::ProjectGrant { granted_org_id, .. } => granted_org_id.clone(),
    }
}

/// v1 `Member`.
pub(crate) fn member_v1(estate: &Estate, membership: &Membership) -> Value {
    let user = estate.user(&membership.user_id);
    let human = user.and_then(User::human);
    Obj::new()
        .string("userId", &membership.user_id)
        .object("details", details(&membership.meta, &membership_owner(estate, membership)))
        .strings("roles", &membership.roles)
        .string("preferredLoginName", &user.map(|user| estate.login_name(user)).unwrap_or_default())
        .string("email", human.map(|human| human.email.as_str()).unwrap_or_default())
        .string("firstName", human.map(|human| human.first_name.as_str()).unwrap_or_default())
        .string("lastName", human.map(|human| human.last_name.as_str()).unwrap_or_default())
        .string("displayName", user.map(User::display_name).unwrap_or_default())
        .enumeration("userType", user_type(user))
        .string("userResourceOwner", user.map(|user| user.org_id.as_str()).unwrap_or_default())
        .build()
}

/// `zitadel.user.v1.Membership` (the auth API's own memberships): the scope as one of `iam`, `orgId`, `projectId`,
/// `projectGrantId`; the owning org in `details.resourceOwner`.
pub(crate) fn my_membership_v1(estate: &Estate, membership: &Membership) -> Value {
    let user = estate.user(&membership.user_id);
    let out = Obj::new()
        .string("userId", &membership.user_id)
        .object("details", details(&membership.meta, &membership_owner(estate, membership)))
        .strings("roles", &membership.roles)
        .string("displayName", user.map(User::display_name).unwrap_or_default());
    match &membership.scope {
        MembershipScope::Instance => out.value("iam", Value::Bool(true)),
        MembershipScope::Org { org_id } => out.string("orgId", org_id),
        MembershipScope::Project { project_id, .. } => out.string("projectId", project_id),
        MembershipScope::ProjectGrant { grant_id, .. } => out.string("projectGrantId", grant_id),
    }
    .build()
}

/// v2beta `Administrator`.
pub(crate) fn administrator_v2(estate: &Estate, membership: &Membership) -> Value {
    let user = estate.user(&membership.user_id);
    let user_obj = Obj::new()
        .string("id", &membership.user_id)
        .string("preferredLoginName", &user.map(|user| estate.login_name(user)).unwrap_or_default())
        .string("displayName", user.map(User::display_name).unwrap_or_default())
        .string("organizationId", user.map(|user| user.org_id.as_str()).unwrap_or_default());
    let out = Obj::new()
        .time("creationDate", membership.meta.created)
        .time("changeDate", membership.meta.changed)
        .object("user", user_obj);
    let project_name =
        |project_id: &str| estate.project(project_id).map(|project| project.name.clone()).unwrap_or_default();
    let out = match &membership.scope {
        MembershipScope::Instance => out.value("instance", Value::Bool(true)),
        MembershipScope::Org { org_id } => out.object(
            "organization",
            Obj::new()
                .string("id", org_id)
                .string("name", estate.org(org_id).map(|org| org.name.as_str()).unwrap_or_default()),
        ),
        MembershipScope::Project { project_id, org_id } => out.object(
            "project",
            Obj::new()
                .string("id", project_id)
                .string("name", &project_name(project_id))
                .string("organizationId", org_id),
        ),
        MembershipScope::ProjectGrant { project_id, grant_id, org_id, granted_org_id } => out.object(
            "projectGrant",
            Obj::new()
                .string("id", grant_id)
                .string("projectId", project_id)
                .string("projectName", &project_name(project_id))
                .string("organizationId", org_id)
                .string("grantedOrganizationId", granted_org_id),
        ),
    };
    out.strings("roles", &membership.roles).build()
}

fn app_config(out: Obj, config: &AppConfig) -> Obj {
    match config {
        AppConfig::Oidc { client_id, app_type, redirect_uris, auth_method_none, refresh_token, dev_mode } => {
            let mut grant_types = vec![Value::from("OIDC_GRANT_TYPE_AUTHORIZATION_CODE")];
            if *refresh_token {
                grant_types.push(Value::from("OIDC_GRANT_TYPE_REFRESH_TOKEN"));
            }
            let app_type = match app_type {
                OidcAppType::Web => None,
                OidcAppType::UserAgent => Some("OIDC_APP_TYPE_USER_AGENT"),
                OidcAppType::Native => Some("OIDC_APP_TYPE_NATIVE"),
            };
            let oidc = Obj::new()
                .strings("redirectUris", redirect_uris)
                .list("responseTypes", vec![Value::from("OIDC_RESPONSE_TYPE_CODE")])
                .list("grantTypes", grant_types)
                .enumeration("appType", app_type)
                .string("clientId", client_id)
                .enumeration("authMethodType", auth_method_none.then_some("OIDC_AUTH_METHOD_TYPE_NONE"))
                .flag("devMode", *dev_mode)
                .flag("accessTokenRoleAssertion", true);
            out.object("oidcConfig", oidc)
        }
        AppConfig::Api { client_id, private_key_jwt } => out.object(
            "apiConfig",
            Obj::new()
                .string("clientId", client_id)
                .enumeration("authMethodType", private_key_jwt.then_some("API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT")),
        ),
        AppConfig::Saml { metadata_xml } => {
            out.object("samlConfig", Obj::new().bytes("metadataXml", metadata_xml.as_bytes()))
        }
    }
}

fn app_state_name(state: AppState) -> &'static str {
    match state {
        AppState::Active => "APP_STATE_ACTIVE",
        AppState::Inactive => "APP_STATE_INACTIVE",
    }
}

pub(crate) fn app_v1(app: &Application) -> Value {
    let out = Obj::new()
        .string("id", &app.id)
        .object("details", details(&app.meta, &app.org_id))
        .enumeration("state", Some(app_state_name(app.state)))
        .string("name", &app.name);
    app_config(out, &app.config).build()
}

pub(crate) fn app_v2(app: &Application) -> Value {
    let out = Obj::new()
        .string("id", &app.id)
        .time("creationDate", app.meta.created)
        .time("changeDate", app.meta.changed)
        .enumeration("state", Some(app_state_name(app.state)))
        .string("name", &app.name);
    app_config(out, &app.config).build()
}

/// v1 `idp.v1.Provider` (template).
pub(crate) fn provider_v1(estate: &Estate, idp: &IdentityProvider) -> Value {
    let owner = idp.org_id.clone().unwrap_or_else(|| estate.instance_id().to_string());
    let options = Obj::new()
        .flag("isLinkingAllowed", idp.is_linking_allowed)
        .flag("isCreationAllowed", idp.is_creation_allowed)
        .flag("isAutoCreation", idp.is_auto_creation)
        .flag("isAutoUpdate", idp.is_auto_update);
    let config = Obj::new().object("options", options);
    let (provider_type, config) = match &idp.config {
        IdpConfig::Oidc { issuer, client_id, scopes } => (
            "PROVIDER_TYPE_OIDC",
            config.object(
                "oidc",
                Obj::new().string("issuer", issuer).string("clientId", client_id).strings("scopes", scopes),
            ),
        ),
        IdpConfig::Google { client_id, scopes } => (
            "PROVIDER_TYPE_GOOGLE",
            config.object("google", Obj::new().string("clientId", client_id).strings("scopes", scopes)),
        ),
        IdpConfig::AzureAd { client_id, tenant_id, scopes } => (
            "PROVIDER_TYPE_AZURE_AD",
            config.object(
                "azureAd",
                Obj::new()
                    .string("clientId", client_id)
                    .object("tenant", Obj::new().string("tenantId", tenant_id))
                    .flag("emailVerified", true)
                    .strings("scopes", scopes),
            ),
        ),
        IdpConfig::Saml { metadata_xml, .. } => (
            "PROVIDER_TYPE_SAML",
            config.object(
                "saml",
                Obj::new()
                    .bytes("metadataXml", metadata_xml.as_bytes())
                    .enumeration("binding", Some("SAML_BINDING_POST"))
                    .flag("withSignedRequest", true)
                    .enumeration("nameIdFormat", Some("SAML_NAME_ID_FORMAT_EMAIL_ADDRESS")),
            ),
        ),
        IdpConfig::Jwt { issuer, jwt_endpoint, keys_endpoint, header_name } => (
            "PROVIDER_TYPE_JWT",
            config.object(
                "jwt",
                Obj::new()
                    .string("jwtEndpoint", jwt_endpoint)
                    .string("issuer", issuer)
                    .string("keysEndpoint", keys_endpoint)
                    .string("headerName", header_name),
            ),
        ),
        IdpConfig::Ldap { servers, start_tls, base_dn } => (
            "PROVIDER_TYPE_LDAP",
            config.object(
                "ldap",
                Obj::new()
                    .strings("servers", servers)
                    .flag("startTls", *start_tls)
                    .string("baseDn", base_dn)
                    .string("bindDn", &format!("cn=zitadel,{base_dn}"))
                    .string("userBase", "uid")
                    .strings("userObjectClasses", &["inetOrgPerson".to_string()])
                    .strings("userFilters", &["uid".to_string(), "mail".to_string()])
                    .string("timeout", "10s")
                    .object("attributes", Obj::new().string("idAttribute", "uid").string("emailAttribute", "mail")),
            ),
        ),
        IdpConfig::Github { client_id, scopes } => (
            "PROVIDER_TYPE_GITHUB",
            config.object("github", Obj::new().string("clientId", client_id).strings("scopes", scopes)),
        ),
        IdpConfig::Gitlab { client_id, scopes } => (
            "PROVIDER_TYPE_GITLAB",
            config.object("gitlab", Obj::new().string("clientId", client_id).strings("scopes", scopes)),
        ),
        IdpConfig::Apple { client_id, team_id, key_id, scopes } => (
            "PROVIDER_TYPE_APPLE",
            config.object(
                "apple",
                Obj::new()
                    .string("clientId", client_id)
                    .string("teamId", team_id)
                    .string("keyId", key_id)
                    .strings("scopes", scopes),
            ),
        ),
    };
    let state = match idp.state {
        IdpState::Active => "IDP_STATE_ACTIVE",
        IdpState::Inactive => "IDP_STATE_INACTIVE",
    };
    let owner_type = if idp.org_id.is_some() { "IDP_OWNER_TYPE_ORG" } else { "IDP_OWNER_TYPE_SYSTEM" };
    Obj::new()
        .string("id", &idp.id)
        .object("details", details(&idp.meta, &owner))
        .enumeration("state", Some(state))
        .string("name", &idp.name)
        .enumeration("owner", Some(owner_type))
        .enumeration("type", Some(provider_type))
        .object("config", config)
        .build()
}
