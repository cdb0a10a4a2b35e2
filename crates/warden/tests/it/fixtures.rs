//! Domain objects for tests: a small estate that exercises every kind and every optional field.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use time::macros::datetime;
use warden_core::id::{EnvironmentName, OrgId};
use warden_core::model::{
    AccessTokenType, ApiVersion, Application, ApplicationKind, ApplicationState, Environment, GrantState, HumanProfile,
    IdentityProvider, IdpOwner, IdpState, KeyType, MachineKey, MachineProfile, Membership, MembershipScope,
    ObjectBatch, Org, OrgState, PersonalAccessToken, Project, ProjectGrant, ProjectRole, ProjectState, ProviderType,
    Snapshot, User, UserGrant, UserKind, UserMetadata, UserState,
};

pub const CREATED: OffsetDateTime = datetime!(2025-11-02 09:12:44.518_123 UTC);
pub const CHANGED: OffsetDateTime = datetime!(2026-01-15 16:03:10 UTC);

pub fn environment(name: &str) -> Environment {
    Environment {
        name: EnvironmentName::parse(name).unwrap(),
        url: format!("https://{name}.zitadel.example"),
        credential_reference: format!("pat_env:ZITADEL_{}_PAT", name.to_uppercase()),
        orgs: vec![OrgId::parse("100").unwrap()],
        sync_interval_seconds: 900,
        api: ApiVersion::Auto,
        labels: BTreeMap::from([("tier".to_owned(), "gold".to_owned())]),
    }
}

fn id<T: TryFrom<&'static str, Error = warden_core::id::IdError>>(text: &'static str) -> T {
    T::try_from(text).unwrap()
}

pub fn human(user_id: &str, org_id: &str) -> User {
    User {
        id: warden_core::id::UserId::parse(user_id).unwrap(),
        org_id: OrgId::parse(org_id).unwrap(),
        username: format!("user.{user_id}"),
        preferred_login_name: format!("user.{user_id}@acme.zitadel.example"),
        state: UserState::Active,
        kind: UserKind::Human(HumanProfile {
            given_name: "Jane".to_owned(),
            family_name: "O'Doe \"quoted\"".to_owned(),
            display_name: "Jane O'Doe 🚀".to_owned(),
            nick_name: String::new(),
            preferred_language: "und".to_owned(),
            email: format!("{user_id}@acme.example"),
            email_verified: true,
            phone: String::new(),
            phone_verified: false,
        }),
        created_at: Some(CREATED),
        changed_at: Some(CHANGED),
    }
}

pub fn machine(user_id: &str, org_id: &str) -> User {
    User {
        id: warden_core::id::UserId::parse(user_id).unwrap(),
        org_id: OrgId::parse(org_id).unwrap(),
        username: format!("svc-{user_id}"),
        preferred_login_name: format!("svc-{user_id}@acme.zitadel.example"),
        state: UserState::Inactive,
        kind: UserKind::Machine(MachineProfile {
            name: "CI deployer".to_owned(),
            description: "GitHub Actions deploys; DROP TABLE users; --".to_owned(),
            has_secret: true,
            access_token_type: AccessTokenType::Jwt,
        }),
        created_at: None,
        changed_at: None,
    }
}

/// Two or more objects of every kind, with optional fields both set and unset and an unknown enum value.
pub fn estate() -> Snapshot {
    Snapshot {
        orgs: vec![
            Org {
                id: id("100"),
                name: "Platform".to_owned(),
                state: OrgState::Active,
                primary_domain: "platform.zitadel.example".to_owned(),
                created_at: Some(CREATED),
                changed_at: Some(CHANGED),
            },
            Org {
                id: id("101"),
                name: "Customer «Ä»".to_owned(),
                state: OrgState::Unknown("ORG_STATE_FROZEN".to_owned()),
                primary_domain: String::new(),
                created_at: None,
                changed_at: None,
            },
        ],
        projects: vec![
            Project {
                id: id("200"),
                org_id: id("100"),
                name: "Billing".to_owned(),
                state: ProjectState::Active,
                role_assertion: true,
                role_check: false,
                has_project_check: true,
                created_at: Some(CREATED),
                changed_at: None,
            },
            Project {
                id: id("201"),
                org_id: id("101"),
                name: "Portal".to_owned(),
                state: ProjectState::Inactive,
                role_assertion: false,
                role_check: true,
                has_project_check: false,
                created_at: None,
                changed_at: Some(CHANGED),
            },
        ],
        project_roles: vec![
            ProjectRole {
                project_id: id("200"),
                org_id: id("100"),
                key: id("admin"),
                display_name: "Administrator".to_owned(),
                group: "billing".to_owned(),
                created_at: Some(CREATED),
                changed_at: Some(CHANGED),
            },
            ProjectRole {
                project_id: id("200"),
                org_id: id("100"),
                key: id("invoices/read"),
                display_name: String::new(),
                group: String::new(),
                created_at: None,
                changed_at: None,
            },
        ],
        users: vec![human("300", "100"), machine("301", "100"), machine("302", "101")],
        machine_keys: vec![
            MachineKey {
                id: id("400"),
                user_id: id("301"),
                org_id: id("100"),
                key_type: KeyType::Json,
                created_at: Some(CREATED),
                expires_at: None,
            },
            MachineKey {
                id: id("401"),
                user_id: id("302"),
                org_id: id("101"),
                key_type: KeyType::Unknown("KEY_TYPE_PKCS8".to_owned()),
                created_at: Some(CREATED),
                expires_at: Some(datetime!(2027-01-01 00:00 UTC)),
            },
        ],
        personal_access_tokens: vec![
            PersonalAccessToken {
                id: id("500"),
                user_id: id("301"),
                org_id: id("100"),
                scopes: vec!["openid".to_owned(), "urn:zitadel:iam:org:project:id:zitadel:aud".to_owned()],
                created_at: Some(CREATED),
                expires_at: None,
            },
            PersonalAccessToken {
                id: id("501"),
                user_id: id("302"),
                org_id: id("101"),
                scopes: Vec::new(),
                created_at: None,
                expires_at: Some(datetime!(2026-12-01 12:00 UTC)),
            },
        ],
        user_grants: vec![
            UserGrant {
                id: id("600"),
                user_id: id("300"),
                org_id: id("100"),
                project_id: id("200"),
                project_grant_id: None,
                role_keys: vec![id("admin"), id("invoices/read")],
                state: GrantState::Active,
                created_at: Some(CREATED),
                changed_at: Some(CHANGED),
            },
            UserGrant {
                id: id("601"),
                user_id: id("302"),
                org_id: id("101"),
                project_id: id("200"),
                project_grant_id: Some(id("700")),
                role_keys: Vec::new(),
                state: GrantState::Inactive,
                created_at: None,
                changed_at: None,
            },
        ],
        memberships: vec![
            Membership {
                user_id: id("301"),
                scope: MembershipScope::Instance,
                roles: vec!["IAM_OWNER".to_owned()],
                created_at: Some(CREATED),
                changed_at: None,
            },
            Membership {
                user_id: id("301"),
                scope: MembershipScope::Org(id("100")),
                roles: vec!["ORG_OWNER".to_owned(), "ORG_USER_MANAGER".to_owned()],
                created_at: None,
                changed_at: Some(CHANGED),
            },
            Membership {
                user_id: id("300"),
                scope: MembershipScope::Project { org_id: id("100"), project_id: id("200") },
                roles: vec!["PROJECT_OWNER".to_owned()],
                created_at: None,
                changed_at: None,
            },
            Membership {
                user_id: id("302"),
                scope: MembershipScope::ProjectGrant {
                    org_id: id("101"),
                    project_id: id("200"),
                    project_grant_id: id("700"),
                },
                roles: vec!["PROJECT_GRANT_OWNER".to_owned()],
                created_at: None,
                changed_at: None,
            },
        ],
        project_grants: vec![
            ProjectGrant {
                id: id("700"),
                project_id: id("200"),
                org_id: id("100"),
                granted_org_id: id("101"),
                role_keys: vec![id("invoices/read")],
                state: GrantState::Active,
                created_at: Some(CREATED),
                changed_at: Some(CHANGED),
            },
            ProjectGrant {
                id: id("701"),
                project_id: id("201"),
                org_id: id("101"),
                granted_org_id: id("100"),
                role_keys: Vec::new(),
                state: GrantState::Unknown("PROJECT_GRANT_STATE_PAUSED".to_owned()),
                created_at: None,
                changed_at: None,
            },
        ],
        applications: vec![
            Application {
                id: id("800"),
                project_id: id("200"),
                org_id: id("100"),
                name: "Billing web".to_owned(),
                state: ApplicationState::Active,
                kind: ApplicationKind::Oidc,
                client_id: Some("800@billing".to_owned()),
                auth_method: Some("private_key_jwt".to_owned()),
                settings: BTreeMap::from([
                    ("redirect_uris".to_owned(), "https://billing.example/cb".to_owned()),
                    ("dev_mode".to_owned(), "false".to_owned()),
                ]),
                created_at: Some(CREATED),
                changed_at: Some(CHANGED),
            },
            Application {
                id: id("801"),
                project_id: id("201"),
                org_id: id("101"),
                name: "Portal SAML".to_owned(),
                state: ApplicationState::Inactive,
                kind: ApplicationKind::Saml,
                client_id: None,
                auth_method: None,
                settings: BTreeMap::new(),
                created_at: None,
                changed_at: None,
            },
        ],
        identity_providers: vec![
            IdentityProvider {
                id: id("900"),
                owner: IdpOwner::Instance,
                name: "Google".to_owned(),
                state: IdpState::Active,
                provider_type: ProviderType::Google,
                config: BTreeMap::from([("client_id".to_owned(), "google-client".to_owned())]),
                created_at: Some(CREATED),
                changed_at: None,
            },
            IdentityProvider {
                id: id("901"),
                owner: IdpOwner::Org(id("101")),
                name: "Customer SAML".to_owned(),
                state: IdpState::Inactive,
                provider_type: ProviderType::Saml,
                config: BTreeMap::from([("metadata_xml".to_owned(), "<EntityDescriptor/>".to_owned())]),
                created_at: None,
                changed_at: Some(CHANGED),
            },
        ],
        user_metadata: vec![
            UserMetadata {
                user_id: id("300"),
                org_id: id("100"),
                key: id("urn:zitadel:scim:externalId"),
                value: b"00u1abcd".to_vec(),
                created_at: Some(CREATED),
                changed_at: None,
            },
            UserMetadata {
                user_id: id("301"),
                org_id: id("100"),
                key: id("owner"),
                value: vec![0, 159, 146, 150, 255],
                created_at: None,
                changed_at: None,
            },
        ],
    }
}

/// The estate as batches, one per kind.
pub fn batches(snapshot: &Snapshot) -> Vec<ObjectBatch> {
    let snapshot = snapshot.clone();
    vec![
        ObjectBatch::Orgs(snapshot.orgs),
        ObjectBatch::Projects(snapshot.projects),
        ObjectBatch::ProjectRoles(snapshot.project_roles),
        ObjectBatch::Users(snapshot.users),
        ObjectBatch::MachineKeys(snapshot.machine_keys),
        ObjectBatch::PersonalAccessTokens(snapshot.personal_access_tokens),
        ObjectBatch::UserGrants(snapshot.user_grants),
        ObjectBatch::Memberships(snapshot.memberships),
        ObjectBatch::ProjectGrants(snapshot.project_grants),
        ObjectBatch::Applications(snapshot.applications),
        ObjectBatch::IdentityProviders(snapshot.identity_providers),
        ObjectBatch::UserMetadata(snapshot.user_metadata),
    ]
}

/// `count` users in one org, every tenth a machine user.
pub fn many_users(count: usize) -> Vec<User> {
    (0..count)
        .map(|index| {
            let user_id = format!("{}", 310_000_000_000_000_000_u64 + index as u64);
            if index % 10 == 0 { machine(&user_id, "100") } else { human(&user_id, "100") }
        })
        .collect()
}
