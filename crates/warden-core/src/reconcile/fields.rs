//! What each observed object is made of, as named comparable values, and which organization scopes it.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::id::OrgId;
use crate::model::{
    Application, IdentityProvider, IdpOwner, MachineKey, Membership, MembershipScope, Observed, Org,
    PersonalAccessToken, Project, ProjectGrant, ProjectRole, User, UserGrant, UserKind, UserMetadata,
};

/// One field's value as text; `None` where the object has no such value.
pub type FieldValue = Option<String>;

/// An observed object's comparable content. Bookkeeping timestamps (`changed_at`) are left out: they move with
/// every write and say nothing of their own; `created_at` and expiries are kept.
pub trait Described: Observed {
    /// The organization whose fetch this object comes from; `None` for instance-level objects.
    fn scope_org(&self) -> Option<&OrgId>;
    /// `(field, value)` pairs in a fixed order.
    fn fields(&self) -> Vec<(&'static str, FieldValue)>;
}

fn text(value: &str) -> FieldValue {
    Some(value.to_owned())
}

fn flag(value: bool) -> FieldValue {
    Some(value.to_string())
}

fn list<T: AsRef<str>>(values: &[T]) -> FieldValue {
    let mut sorted: Vec<&str> = values.iter().map(AsRef::as_ref).collect();
    sorted.sort_unstable();
    Some(sorted.join(","))
}

fn time(value: Option<OffsetDateTime>) -> FieldValue {
    value.map(|time| time.format(&Rfc3339).unwrap_or_else(|_| time.unix_timestamp().to_string()))
}

impl Described for Org {
    fn scope_org(&self) -> Option<&OrgId> {
        None
    }
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        vec![
            ("name", text(&self.name)),
            ("state", text(self.state.as_str())),
            ("primary_domain", text(&self.primary_domain)),
        ]
    }
}

impl Described for Project {
    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        vec![
            ("name", text(&self.name)),
            ("state", text(self.state.as_str())),
            ("role_assertion", flag(self.role_assertion)),
            ("role_check", flag(self.role_check)),
            ("has_project_check", flag(self.has_project_check)),
        ]
    }
}

impl Described for ProjectRole {
    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        vec![("display_name", text(&self.display_name)), ("group", text(&self.group))]
    }
}

impl Described for User {
    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        let mut fields = vec![
            ("username", text(&self.username)),
            ("preferred_login_name", text(&self.preferred_login_name)),
            ("state", text(self.state.as_str())),
        ];
        match &self.kind {
            UserKind::Human(human) => fields.extend([
                ("kind", text("human")),
                ("display_name", text(&human.display_name)),
                ("given_name", text(&human.given_name)),
                ("family_name", text(&human.family_name)),
                ("nick_name", text(&human.nick_name)),
                ("preferred_language", text(&human.preferred_language)),
                ("email", text(&human.email)),
                ("email_verified", flag(human.email_verified)),
                ("phone", text(&human.phone)),
                ("phone_verified", flag(human.phone_verified)),
            ]),
            UserKind::Machine(machine) => fields.extend([
                ("kind", text("machine")),
                ("display_name", text(&machine.name)),
                ("description", text(&machine.description)),
                ("has_secret", flag(machine.has_secret)),
                ("access_token_type", text(machine.access_token_type.as_str())),
            ]),
        }
        fields
    }
}

impl Described for MachineKey {
    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        vec![
            ("user_id", text(self.user_id.as_str())),
            ("key_type", text(self.key_type.as_str())),
            ("created_at", time(self.created_at)),
            ("expires_at", time(self.expires_at)),
        ]
    }
}

impl Described for PersonalAccessToken {
    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        vec![
            ("user_id", text(self.user_id.as_str())),
            ("scopes", list(&self.scopes)),
            ("created_at", time(self.created_at)),
            ("expires_at", time(self.expires_at)),
        ]
    }
}

impl Described for UserGrant {
    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        vec![
            ("user_id", text(self.user_id.as_str())),
            ("project_id", text(self.project_id.as_str())),
            ("project_grant_id", self.project_grant_id.as_ref().map(ToString::to_string)),
            ("role_keys", list(&self.role_keys)),
            ("state", text(self.state.as_str())),
        ]
    }
}

impl Described for Membership {
    fn scope_org(&self) -> Option<&OrgId> {
        self.scope.org_id()
    }
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        let project_id = match &self.scope {
            MembershipScope::Project { project_id, .. } | MembershipScope::ProjectGrant { project_id, .. } => {
                Some(project_id.to_string())
            }
            MembershipScope::Instance | MembershipScope::Org(_) => None,
        };
        vec![("scope", text(self.scope.kind())), ("project_id", project_id), ("roles", list(&self.roles))]
    }
}

impl Described for ProjectGrant {
    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        vec![
            ("project_id", text(self.project_id.as_str())),
            ("granted_org_id", text(self.granted_org_id.as_str())),
            ("role_keys", list(&self.role_keys)),
            ("state", text(self.state.as_str())),
        ]
    }
}

impl Described for Application {
    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        let mut fields = vec![
            ("project_id", text(self.project_id.as_str())),
            ("name", text(&self.name)),
            ("state", text(self.state.as_str())),
            ("kind", text(self.kind.as_str())),
            ("client_id", self.client_id.clone()),
            ("auth_method", self.auth_method.clone()),
        ];
        fields.push(("settings", Some(flatten(&self.settings))));
        fields
    }
}

impl Described for IdentityProvider {
    fn scope_org(&self) -> Option<&OrgId> {
        match &self.owner {
            IdpOwner::Instance => None,
            IdpOwner::Org(org_id) => Some(org_id),
        }
    }
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        vec![
            ("name", text(&self.name)),
            ("state", text(self.state.as_str())),
            ("provider_type", text(self.provider_type.as_str())),
            ("config", Some(flatten(&self.config))),
        ]
    }
}

impl Described for UserMetadata {
    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        vec![("value", Some(String::from_utf8_lossy(&self.value).into_owned()))]
    }
}

fn flatten(map: &std::collections::BTreeMap<String, String>) -> String {
    map.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    //! The recorded field names and encodings, pinned: stored change history depends on them, so a rename or a
    //! new encoding must fail here first.

    use std::collections::BTreeMap;

    use time::macros::datetime;

    use super::*;
    use crate::id::{
        ApplicationId, IdpId, MachineKeyId, MetadataKey, PatId, ProjectGrantId, ProjectId, RoleKey, UserGrantId, UserId,
    };
    use crate::model::{
        AccessTokenType, ApplicationKind, ApplicationState, GrantState, HumanProfile, IdpState, KeyType,
        MachineProfile, OrgState, ProjectState, ProviderType, UserState,
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
}
