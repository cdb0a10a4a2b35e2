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
