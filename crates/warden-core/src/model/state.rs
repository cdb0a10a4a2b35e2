//! Lifecycle states and small vocabularies of ZITADEL objects.

use crate::model::text_enum::text_enum;

text_enum!(
    /// `ORG_STATE_*`.
    OrgState { Active => "active", Inactive => "inactive", Removed => "removed", Unspecified => "unspecified" }
);

text_enum!(
    /// `USER_STATE_*`. `Initial`: a human without a password or verified email yet.
    UserState {
        Active => "active",
        Inactive => "inactive",
        Locked => "locked",
        Suspended => "suspended",
        Initial => "initial",
        Deleted => "deleted",
        Unspecified => "unspecified",
    }
);

impl UserState {
    /// Whether the user can currently authenticate (ZITADEL lets `Initial` users finish setup and log in).
    pub fn is_usable(&self) -> bool {
        matches!(self, UserState::Active | UserState::Initial)
    }
}

text_enum!(
    /// `PROJECT_STATE_*`.
    ProjectState { Active => "active", Inactive => "inactive", Unspecified => "unspecified" }
);

text_enum!(
    /// `USER_GRANT_STATE_*` and `PROJECT_GRANT_STATE_*`.
    GrantState { Active => "active", Inactive => "inactive", Unspecified => "unspecified" }
);

text_enum!(
    /// `APP_STATE_*`.
    ApplicationState { Active => "active", Inactive => "inactive", Unspecified => "unspecified" }
);

text_enum!(
    /// `IDP_STATE_*`.
    IdpState { Active => "active", Inactive => "inactive", Unspecified => "unspecified" }
);

text_enum!(
    /// `ACCESS_TOKEN_TYPE_*` of a machine user.
    AccessTokenType { Bearer => "bearer", Jwt => "jwt" }
);

text_enum!(
    /// `KEY_TYPE_*` of a machine key.
    KeyType { Json => "json", Unspecified => "unspecified" }
);

text_enum!(
    /// What kind of client an application is.
    ApplicationKind { Oidc => "oidc", Api => "api", Saml => "saml" }
);

text_enum!(
    /// `PROVIDER_TYPE_*` of an identity provider template.
    ProviderType {
        Oidc => "oidc",
        Jwt => "jwt",
        Ldap => "ldap",
        OAuth => "oauth",
        AzureAd => "azure_ad",
        Github => "github",
        GithubEnterprise => "github_enterprise",
        Gitlab => "gitlab",
        GitlabSelfHosted => "gitlab_self_hosted",
        Google => "google",
        Apple => "apple",
        Saml => "saml",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip_and_unknown_values_are_kept() {
        for state in UserState::KNOWN {
            assert_eq!(&UserState::from_text(state.as_str()), state);
        }
        let future = UserState::from_text("USER_STATE_HIBERNATING");
        assert_eq!(future, UserState::Unknown("USER_STATE_HIBERNATING".to_owned()));
        assert_eq!(future.as_str(), "USER_STATE_HIBERNATING");
        assert_eq!(ProviderType::from_text("azure_ad"), ProviderType::AzureAd);
    }
}
