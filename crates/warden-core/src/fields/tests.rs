//! The recorded field names and encodings, pinned: stored change history depends on them, so a rename or a
//! new encoding must fail here first.

use std::collections::BTreeMap;

use time::macros::datetime;

use crate::fields::{Described, RecordedFields};
use crate::id::{
    ApplicationId, IdpId, MachineKeyId, MetadataKey, OrgId, PatId, ProjectGrantId, ProjectId, RoleKey, UserGrantId,
    UserId,
};
use crate::model::{
    AccessTokenType, Application, ApplicationKind, ApplicationState, GrantState, HumanProfile, IdentityProvider,
    IdpOwner, IdpState, KeyType, MachineKey, MachineProfile, Membership, MembershipScope, Org, OrgState,
    PersonalAccessToken, Project, ProjectGrant, ProjectRole, ProjectState, ProviderType, User, UserGrant, UserKind,
    UserMetadata, UserState,
};

fn org_id(id: &str) -> OrgId {
    OrgId::parse(id).unwrap()
}

fn role_keys(keys: &[&str]) -> Vec<RoleKey> {
    keys.iter().map(|key| RoleKey::parse(*key).unwrap()).collect()
}

fn check<T: Described>(object: &T, expected: &[(&str, Option<&str>)]) {
    let fields = object.fields();
    let actual: Vec<(&str, Option<&str>)> = fields.iter().map(|(name, value)| (*name, value.as_deref())).collect();
    assert_eq!(actual, expected, "{} {}", T::KIND, object.key());
}

fn human() -> User {
    User {
        id: UserId::parse("u1").unwrap(),
        org_id: org_id("o1"),
        username: "hanna".to_owned(),
        preferred_login_name: "hanna@acme.example".to_owned(),
        state: UserState::Active,
        kind: UserKind::Human(HumanProfile {
            given_name: "Hanna".to_owned(),
            family_name: "Holm".to_owned(),
            display_name: "Hanna Holm".to_owned(),
            nick_name: String::new(),
            preferred_language: "de".to_owned(),
            email: "hanna@acme.example".to_owned(),
            email_verified: true,
            phone: "+49 30 1234".to_owned(),
            phone_verified: false,
        }),
        created_at: Some(datetime!(2025-01-01 0:00 UTC)),
        changed_at: Some(datetime!(2025-02-01 0:00 UTC)),
    }
}

#[test]
fn organizations_projects_and_roles_record_these_fields() {
    check(
        &Org {
            id: org_id("o1"),
            name: "Acme".to_owned(),
            state: OrgState::Active,
            primary_domain: "acme.example".to_owned(),
            created_at: Some(datetime!(2025-01-01 0:00 UTC)),
            changed_at: None,
        },
        &[("name", Some("Acme")), ("state", Some("active")), ("primary_domain", Some("acme.example"))],
    );
    check(
        &Project {
            id: ProjectId::parse("p1").unwrap(),
            org_id: org_id("o1"),
            name: "Billing".to_owned(),
            state: ProjectState::Inactive,
            role_assertion: true,
            role_check: false,
            has_project_check: true,
            created_at: None,
            changed_at: None,
        },
        &[
            ("name", Some("Billing")),
            ("state", Some("inactive")),
            ("role_assertion", Some("true")),
            ("role_check", Some("false")),
            ("has_project_check", Some("true")),
        ],
    );
    check(
        &ProjectRole {
            project_id: ProjectId::parse("p1").unwrap(),
            org_id: org_id("o1"),
            key: RoleKey::parse("billing/reader").unwrap(),
            display_name: "Billing reader".to_owned(),
            group: String::new(),
            created_at: None,
            changed_at: None,
        },
        &[("display_name", Some("Billing reader")), ("group", Some(""))],
    );
}

#[test]
fn users_record_these_fields_by_kind() {
    check(
        &human(),
        &[
            ("username", Some("hanna")),
            ("preferred_login_name", Some("hanna@acme.example")),
            ("state", Some("active")),
            ("kind", Some("human")),
            ("display_name", Some("Hanna Holm")),
            ("given_name", Some("Hanna")),
            ("family_name", Some("Holm")),
            ("nick_name", Some("")),
            ("preferred_language", Some("de")),
            ("email", Some("hanna@acme.example")),
            ("email_verified", Some("true")),
            ("phone", Some("+49 30 1234")),
            ("phone_verified", Some("false")),
        ],
    );
    let machine = User {
        id: UserId::parse("m1").unwrap(),
        username: "deployer".to_owned(),
        preferred_login_name: "deployer@acme.example".to_owned(),
        state: UserState::Unknown("USER_STATE_HIBERNATING".to_owned()),
        kind: UserKind::Machine(MachineProfile {
            name: "Deployer".to_owned(),
            description: "deploys billing".to_owned(),
            has_secret: true,
            access_token_type: AccessTokenType::Jwt,
        }),
        ..human()
    };
    check(
        &machine,
        &[
            ("username", Some("deployer")),
            ("preferred_login_name", Some("deployer@acme.example")),
            ("state", Some("USER_STATE_HIBERNATING")),
            ("kind", Some("machine")),
            ("display_name", Some("Deployer")),
            ("description", Some("deploys billing")),
            ("has_secret", Some("true")),
            ("access_token_type", Some("jwt")),
        ],
    );
}

#[test]
fn credentials_record_these_fields_with_times_in_rfc3339() {
    check(
        &MachineKey {
            id: MachineKeyId::parse("k1").unwrap(),
            user_id: UserId::parse("m1").unwrap(),
            org_id: org_id("o1"),
            key_type: KeyType::Json,
            created_at: Some(datetime!(2025-03-01 12:30:45.25 +01:00)),
            expires_at: None,
        },
        &[
            ("user_id", Some("m1")),
            ("key_type", Some("json")),
            ("created_at", Some("2025-03-01T12:30:45.25+01:00")),
            ("expires_at", None),
        ],
    );
    check(
        &PersonalAccessToken {
            id: PatId::parse("t1").unwrap(),
            user_id: UserId::parse("m1").unwrap(),
            org_id: org_id("o1"),
            scopes: vec!["urn:zitadel:iam:org:project:id:zitadel:aud".to_owned(), "openid".to_owned()],
            created_at: Some(datetime!(2025-03-01 0:00 UTC)),
            expires_at: Some(datetime!(2026-03-01 0:00 UTC)),
        },
        &[
            ("user_id", Some("m1")),
            ("scopes", Some("openid,urn:zitadel:iam:org:project:id:zitadel:aud")),
            ("created_at", Some("2025-03-01T00:00:00Z")),
            ("expires_at", Some("2026-03-01T00:00:00Z")),
        ],
    );
}

#[test]
fn grants_and_memberships_record_these_fields_with_lists_sorted() {
    check(
        &UserGrant {
            id: UserGrantId::parse("g1").unwrap(),
            user_id: UserId::parse("m1").unwrap(),
            org_id: org_id("o2"),
            project_id: ProjectId::parse("p1").unwrap(),
            project_grant_id: Some(ProjectGrantId::parse("pg1").unwrap()),
            role_keys: role_keys(&["reader", "admin"]),
            state: GrantState::Active,
            created_at: None,
            changed_at: None,
        },
        &[
            ("user_id", Some("m1")),
            ("project_id", Some("p1")),
            ("project_grant_id", Some("pg1")),
            ("role_keys", Some("admin,reader")),
            ("state", Some("active")),
        ],
    );
    check(
        &ProjectGrant {
            id: ProjectGrantId::parse("pg1").unwrap(),
            project_id: ProjectId::parse("p1").unwrap(),
            org_id: org_id("o1"),
            granted_org_id: org_id("o2"),
            role_keys: Vec::new(),
            state: GrantState::Inactive,
            created_at: None,
            changed_at: None,
        },
        &[
            ("project_id", Some("p1")),
            ("granted_org_id", Some("o2")),
            ("role_keys", Some("")),
            ("state", Some("inactive")),
        ],
    );
    let membership = |scope: MembershipScope, roles: &[&str]| Membership {
        user_id: UserId::parse("m1").unwrap(),
        scope,
        roles: roles.iter().map(|role| (*role).to_owned()).collect(),
        created_at: None,
        changed_at: None,
    };
    check(
        &membership(
            MembershipScope::ProjectGrant {
                org_id: org_id("o2"),
                project_id: ProjectId::parse("p1").unwrap(),
                project_grant_id: ProjectGrantId::parse("pg1").unwrap(),
            },
            &["PROJECT_GRANT_OWNER"],
        ),
        &[("scope", Some("project_grant")), ("project_id", Some("p1")), ("roles", Some("PROJECT_GRANT_OWNER"))],
    );
    check(
        &membership(MembershipScope::Org(org_id("o1")), &["ORG_USER_MANAGER", "ORG_OWNER"]),
        &[("scope", Some("org")), ("project_id", None), ("roles", Some("ORG_OWNER,ORG_USER_MANAGER"))],
    );
}

#[test]
fn applications_providers_and_metadata_record_these_fields() {
    check(
        &Application {
            id: ApplicationId::parse("a1").unwrap(),
            project_id: ProjectId::parse("p1").unwrap(),
            org_id: org_id("o1"),
            name: "Portal".to_owned(),
            state: ApplicationState::Active,
            kind: ApplicationKind::Oidc,
            client_id: Some("portal@billing".to_owned()),
            auth_method: None,
            settings: BTreeMap::from([
                ("redirect_uris".to_owned(), "https://a.example/cb,https://b.example/cb".to_owned()),
                ("dev_mode".to_owned(), "false".to_owned()),
            ]),
            created_at: None,
            changed_at: None,
        },
        &[
            ("project_id", Some("p1")),
            ("name", Some("Portal")),
            ("state", Some("active")),
            ("kind", Some("oidc")),
            ("client_id", Some("portal@billing")),
            ("auth_method", None),
            ("settings", Some("dev_mode=false; redirect_uris=https://a.example/cb,https://b.example/cb")),
        ],
    );
    check(
        &IdentityProvider {
            id: IdpId::parse("i1").unwrap(),
            owner: IdpOwner::Instance,
            name: "Corporate SAML".to_owned(),
            state: IdpState::Inactive,
            provider_type: ProviderType::Saml,
            config: BTreeMap::new(),
            created_at: None,
            changed_at: None,
        },
        &[
            ("name", Some("Corporate SAML")),
            ("state", Some("inactive")),
            ("provider_type", Some("saml")),
            ("config", Some("")),
        ],
    );
    check(
        &UserMetadata {
            user_id: UserId::parse("u1").unwrap(),
            org_id: org_id("o1"),
            key: MetadataKey::parse("cost center").unwrap(),
            value: "Zürich 7".as_bytes().to_vec(),
            created_at: None,
            changed_at: None,
        },
        &[("value", Some("Zürich 7"))],
    );
}

/// Recorded values as a change holds them.
fn recorded(values: &[(&str, &str)]) -> RecordedFields {
    values.iter().map(|(name, value)| ((*name).to_owned(), Some((*value).to_owned()))).collect()
}

fn rebuild_error<T: Described + std::fmt::Debug>(key: &str, org: Option<&str>, values: &[(&str, &str)]) -> String {
    let org = org.map(org_id);
    T::rebuild(key, org.as_ref(), &recorded(values), None).unwrap_err().to_string()
}

#[test]
fn values_that_do_not_make_an_object_are_an_error_that_names_the_field_or_key() {
    assert_eq!(rebuild_error::<Org>("o1", None, &[]), "field name was not recorded");
    assert_eq!(rebuild_error::<MachineKey>("k1", Some("o1"), &[]), "field user_id was not recorded");
    assert_eq!(
        rebuild_error::<UserGrant>("g1", Some("o1"), &[("user_id", "")]),
        r#"field user_id is "": user id must not be empty"#
    );
    assert_eq!(
        rebuild_error::<Project>(
            "p1",
            Some("o1"),
            &[("name", "Billing"), ("state", "active"), ("role_assertion", "yes")]
        ),
        r#"field role_assertion is "yes", not a flag"#
    );
    assert_eq!(
        rebuild_error::<User>("u1", Some("o1"), &[("username", "u"), ("state", "active"), ("kind", "robot")]),
        r#"field kind is "robot", not human or machine"#
    );
    assert_eq!(
        rebuild_error::<PersonalAccessToken>(
            "t1",
            Some("o1"),
            &[("user_id", "m1"), ("scopes", ""), ("created_at", "May")]
        ),
        r#"field created_at is "May", not a time"#
    );
    assert_eq!(
        rebuild_error::<Membership>("project_grant/pg1/m1", Some("o1"), &[("scope", "project_grant"), ("roles", "")]),
        "field project_id was not recorded"
    );
    assert_eq!(
        rebuild_error::<Membership>("org/o1/m1", Some("o1"), &[("scope", "project"), ("roles", "")]),
        r#"field scope is "project", but the key says org"#
    );
    assert_eq!(
        rebuild_error::<Application>(
            "a1",
            Some("o1"),
            &[("project_id", "p1"), ("name", "App"), ("state", "active"), ("kind", "oidc"), ("settings", "dev_mode")]
        ),
        r#"field settings is "dev_mode", not key=value settings"#
    );
    assert_eq!(rebuild_error::<ProjectRole>("p1", Some("o1"), &[]), r#"key "p1" is not project/role"#);
    assert_eq!(rebuild_error::<Membership>("team/t1/m1", None, &[]), r#"key "team/t1/m1" is not a membership key"#);
    assert_eq!(rebuild_error::<Project>("p1", None, &[]), "the change names no organization");
}

#[test]
fn profile_details_that_were_not_recorded_are_empty() {
    let values = recorded(&[("username", "m1"), ("state", "active"), ("kind", "machine")]);
    let user = User::rebuild("m1", Some(&org_id("o1")), &values, None).unwrap();
    assert_eq!(
        user.kind,
        UserKind::Machine(MachineProfile {
            name: String::new(),
            description: String::new(),
            has_secret: false,
            access_token_type: AccessTokenType::Bearer,
        })
    );
    let role = ProjectRole::rebuild("p1/billing/reader", Some(&org_id("o1")), &RecordedFields::new(), None).unwrap();
    assert_eq!((role.key.as_str(), role.display_name.as_str()), ("billing/reader", ""));
}
