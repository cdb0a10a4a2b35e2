//! Newtype identifiers, parsed once at the edge.
//!
//! ZITADEL ids are opaque strings (decimal in practice). They are validated only for what warden relies on:
//! non-empty, bounded, and free of control characters, so that an `OrgId` can be logged and stored safely and can
//! never be passed where a `UserId` is expected.

use std::fmt;

/// The longest identifier accepted from outside.
pub const MAX_ID_LENGTH: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} contains a control character")]
    ControlCharacter { kind: &'static str },
    #[error("{kind} {value:?} may only contain lowercase letters, digits, '-' and '_' and must start with a letter")]
    InvalidName { kind: &'static str, value: String },
}

fn check_opaque(kind: &'static str, value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if value.chars().count() > MAX_ID_LENGTH {
        return Err(IdError::TooLong { kind, max: MAX_ID_LENGTH });
    }
    if value.chars().any(char::is_control) {
        return Err(IdError::ControlCharacter { kind });
    }
    Ok(())
}

macro_rules! opaque_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_opaque($kind, &value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(value: &str) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

opaque_id!(
    /// A ZITADEL organisation id.
    OrgId,
    "org id"
);
opaque_id!(
    /// A ZITADEL project id.
    ProjectId,
    "project id"
);
opaque_id!(
    /// A project role key. ZITADEL allows `/` and other punctuation in role keys.
    RoleKey,
    "role key"
);
opaque_id!(
    /// A ZITADEL user id (human or machine).
    UserId,
    "user id"
);
opaque_id!(
    /// The id of a machine user's key.
    MachineKeyId,
    "machine key id"
);
opaque_id!(
    /// The id of a personal access token (never the token itself).
    PatId,
    "personal access token id"
);
opaque_id!(
    /// A user grant (authorization) id.
    UserGrantId,
    "user grant id"
);
opaque_id!(
    /// A project grant id.
    ProjectGrantId,
    "project grant id"
);
opaque_id!(
    /// An application id.
    ApplicationId,
    "application id"
);
opaque_id!(
    /// An identity provider id.
    IdpId,
    "identity provider id"
);
opaque_id!(
    /// A user metadata key.
    MetadataKey,
    "metadata key"
);
opaque_id!(
    /// A group provisioned by a SCIM client (warden's id for it, not the client's `externalId`).
    ScimGroupId,
    "scim group id"
);
opaque_id!(
    /// A group-role mapping (group -> project + role keys).
    GroupRoleMappingId,
    "group-role mapping id"
);

/// The empty id, which `parse` refuses: only a placeholder in an object being rebuilt from recorded fields, until its
/// field is written (`crate::fields::Described::rebuild` fails rather than return an object holding one).
macro_rules! unset_id {
    ($($name:ident),+) => {
        $(impl $name {
            pub(crate) fn unset() -> Self {
                Self(String::new())
            }
        })+
    };
}

unset_id!(OrgId, ProjectId, UserId);

/// The name of a configured environment (`prod`, `staging`, ...): the key everything observed hangs from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvironmentName(String);

impl EnvironmentName {
    pub const MAX_LENGTH: usize = 64;

    pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
        const KIND: &str = "environment name";
        let value = value.into();
        if value.is_empty() {
            return Err(IdError::Empty { kind: KIND });
        }
        if value.len() > Self::MAX_LENGTH {
            return Err(IdError::TooLong { kind: KIND, max: Self::MAX_LENGTH });
        }
        let mut chars = value.chars();
        let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !starts_with_letter || !rest_ok {
            return Err(IdError::InvalidName { kind: KIND, value });
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvironmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of a recorded sync run, assigned by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SyncRunId(pub i64);

impl fmt::Display for SyncRunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_ids_reject_empty_long_and_control_characters() {
        assert_eq!(OrgId::parse(""), Err(IdError::Empty { kind: "org id" }));
        assert!(OrgId::parse("x".repeat(MAX_ID_LENGTH)).is_ok());
        assert_eq!(
            OrgId::parse("x".repeat(MAX_ID_LENGTH + 1)),
            Err(IdError::TooLong { kind: "org id", max: MAX_ID_LENGTH })
        );
        assert_eq!(UserId::parse("12\n3"), Err(IdError::ControlCharacter { kind: "user id" }));
        assert_eq!(RoleKey::parse("billing/admin").map(|k| k.to_string()), Ok("billing/admin".to_owned()));
    }

    #[test]
    fn environment_names_are_lowercase_slugs() {
        for good in ["prod", "eu-staging", "dev_2"] {
            assert!(EnvironmentName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "Prod", "2prod", "pro d", "prod/eu", "-x"] {
            assert!(EnvironmentName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(EnvironmentName::parse("a".repeat(65)).is_err());
    }
}
