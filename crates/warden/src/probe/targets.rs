//! What to probe: ZITADEL itself and each identity provider, read from ZITADEL's configuration of the provider
//! (`IdentityProvider.config`, flattened by `warden_zitadel`) into a [`ProbePlan`]. Providers with well-known
//! endpoints (Google, GitHub, GitLab, Apple) get configuration checks only, made here; inactive providers and types
//! warden does not know are not probed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use warden_core::health::{Check, Target, TargetKind};
use warden_core::id::EnvironmentName;
use warden_core::model::{IdentityProvider, IdpState, ProviderType};
use warden_zitadel::ZitadelClient;

use crate::probe::ldap::LdapConfiguration;
use crate::probe::saml::SamlConfiguration;

/// One target and how to probe it.
#[derive(Clone)]
pub struct ProbeTarget {
    pub target: Target,
    pub plan: ProbePlan,
}

/// How a target is probed.
#[derive(Clone)]
pub enum ProbePlan {
    /// ZITADEL itself; with a client, a token is issued with warden's credential.
    Zitadel {
        base_url: String,
        client: Option<ZitadelClient>,
    },
    /// An OIDC issuer: discovery and JWKS (generic OIDC, GitLab self-hosted).
    Oidc {
        issuer: String,
    },
    /// Azure AD: the tenant's issuer under `ProbeSettings::azure_authority`; `common`, `organizations` and
    /// `consumers` answer with the multi-tenant issuer template.
    AzureAd {
        tenant: String,
    },
    /// A JWT provider: its keys endpoint (a JWKS) and its JWT endpoint.
    Jwt {
        keys_endpoint: String,
        jwt_endpoint: String,
    },
    /// OAuth endpoints (generic OAuth, GitHub Enterprise Server), each reachable: `(name, url)`.
    OAuth {
        endpoints: Vec<(String, String)>,
    },
    Saml(SamlConfiguration),
    Ldap(LdapConfiguration),
    /// Checks decided from the configuration alone (providers with well-known endpoints, or a configuration that
    /// lacks what a probe needs).
    Configuration {
        checks: Vec<Check>,
    },
}

impl std::fmt::Debug for ProbeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeTarget").field("target", &self.target).finish_non_exhaustive()
    }
}

/// ZITADEL itself, as the environment's configuration names it. With `client`, the probe issues a token with
/// warden's credential.
pub fn zitadel_target(environment: &EnvironmentName, base_url: &str, client: Option<ZitadelClient>) -> ProbeTarget {
    ProbeTarget {
        target: Target { environment: environment.clone(), name: "ZITADEL".to_owned(), kind: TargetKind::Zitadel },
        plan: ProbePlan::Zitadel { base_url: base_url.trim_end_matches('/').to_owned(), client },
    }
}

/// A target per active identity provider of a known type, in the order given.
pub fn targets_from(environment: &EnvironmentName, providers: &[IdentityProvider]) -> Vec<ProbeTarget> {
    providers
        .iter()
        .filter(|provider| provider.state != IdpState::Inactive)
        .filter_map(|provider| {
            let plan = plan(provider)?;
            let target = Target {
                environment: environment.clone(),
                name: provider.name.clone(),
                kind: TargetKind::IdentityProvider {
                    id: provider.id.clone(),
                    provider_type: provider.provider_type.clone(),
                    owner: provider.owner.clone(),
                },
            };
            Some(ProbeTarget { target, plan })
        })
        .collect()
}

fn plan(provider: &IdentityProvider) -> Option<ProbePlan> {
    let setting = |key: &str| provider.config.get(key).map(|value| value.trim()).filter(|value| !value.is_empty());
    let plan = match &provider.provider_type {
        ProviderType::Oidc => match setting("oidc.issuer") {
            Some(issuer) => ProbePlan::Oidc { issuer: issuer.to_owned() },
            None => missing("oidc.issuer"),
        },
        ProviderType::GitlabSelfHosted => match setting("gitlabSelfHosted.issuer") {
            Some(issuer) => ProbePlan::Oidc { issuer: issuer.to_owned() },
            None => missing("gitlabSelfHosted.issuer"),
        },
        ProviderType::AzureAd => {
            let tenant = match (setting("azureAd.tenant.tenantId"), setting("azureAd.tenant.tenantType")) {
                (Some(id), _) => id.to_owned(),
                // COMMON is the enum's zero value, which ZITADEL omits.
                (None, None | Some("AZURE_AD_TENANT_TYPE_COMMON")) => "common".to_owned(),
                (None, Some("AZURE_AD_TENANT_TYPE_ORGANISATIONS")) => "organizations".to_owned(),
                (None, Some("AZURE_AD_TENANT_TYPE_CONSUMERS")) => "consumers".to_owned(),
                (None, Some(other)) => {
                    return Some(configuration(vec![Check::failed("tenant", format!("unknown tenant type {other}"))]));
                }
            };
            ProbePlan::AzureAd { tenant }
        }
        ProviderType::Jwt => match (setting("jwt.keysEndpoint"), setting("jwt.jwtEndpoint")) {
            (Some(keys), Some(jwt)) => ProbePlan::Jwt { keys_endpoint: keys.to_owned(), jwt_endpoint: jwt.to_owned() },
            (None, _) => missing("jwt.keysEndpoint"),
            (_, None) => missing("jwt.jwtEndpoint"),
        },
        ProviderType::OAuth | ProviderType::GithubEnterprise => {
            let prefix = if provider.provider_type == ProviderType::OAuth { "oauth" } else { "githubEs" };
            let mut endpoints = Vec::new();
            let mut checks = Vec::new();
            for (name, key) in [
                ("authorization endpoint", "authorizationEndpoint"),
                ("token endpoint", "tokenEndpoint"),
                ("user endpoint", "userEndpoint"),
            ] {
                match setting(&format!("{prefix}.{key}")) {
                    Some(url) => endpoints.push((name.to_owned(), url.to_owned())),
                    None => checks.push(Check::failed("configuration", format!("no {prefix}.{key}"))),
                }
            }
            if checks.is_empty() { ProbePlan::OAuth { endpoints } } else { configuration(checks) }
        }
        ProviderType::Saml => ProbePlan::Saml(SamlConfiguration {
            metadata_xml: setting("saml.metadataXml").map(str::to_owned),
            metadata_url: setting("saml.metadataUrl").map(str::to_owned),
            binding: setting("saml.binding").map(str::to_owned),
        }),
        ProviderType::Ldap => ProbePlan::Ldap(LdapConfiguration {
            servers: setting("ldap.servers")
                .map(|servers| servers.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default(),
            start_tls: setting("ldap.startTls") == Some("true"),
            root_ca: setting("ldap.rootCa")
                .map(|encoded| STANDARD.decode(encoded).unwrap_or_else(|_| encoded.as_bytes().to_vec())),
        }),
        ProviderType::Google => configuration(vec![client_id(
            setting("google.clientId"),
            |id| id.ends_with(".apps.googleusercontent.com"),
            "a Google client id ends with .apps.googleusercontent.com",
        )]),
        ProviderType::Github => configuration(vec![client_id(setting("github.clientId"), |_| true, "")]),
        ProviderType::Gitlab => configuration(vec![client_id(setting("gitlab.clientId"), |_| true, "")]),
        ProviderType::Apple => configuration(vec![
            client_id(setting("apple.clientId"), |_| true, ""),
            apple_identifier("team id", setting("apple.teamId")),
            apple_identifier("key id", setting("apple.keyId")),
        ]),
        ProviderType::Unknown(_) => return None,
    };
    Some(plan)
}

fn configuration(checks: Vec<Check>) -> ProbePlan {
    ProbePlan::Configuration { checks }
}

fn missing(key: &str) -> ProbePlan {
    configuration(vec![Check::failed("configuration", format!("no {key} configured"))])
}

fn client_id(value: Option<&str>, valid: impl Fn(&str) -> bool, expectation: &str) -> Check {
    match value {
        None => Check::failed("client id", "no client id configured"),
        Some(id) if !valid(id) => Check::failed("client id", format!("{id}: {expectation}")),
        Some(id) => Check::passed("client id", id.chars().take(120).collect::<String>()),
    }
}

/// Apple team and key ids are 10 upper-case letters and digits.
fn apple_identifier(name: &str, value: Option<&str>) -> Check {
    match value {
        None => Check::failed(name, format!("no {name} configured")),
        Some(id) if id.len() == 10 && id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) => {
            Check::passed(name, id)
        }
        Some(id) => Check::failed(
            name,
            format!("{}: not 10 upper-case letters and digits", id.chars().take(40).collect::<String>()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use warden_core::id::IdpId;
    use warden_core::model::IdpOwner;

    use super::*;

    fn provider(provider_type: ProviderType, settings: &[(&str, &str)]) -> IdentityProvider {
        IdentityProvider {
            id: IdpId::parse("1").unwrap(),
            owner: IdpOwner::Instance,
            name: "p".to_owned(),
            state: IdpState::Active,
            provider_type,
            config: settings
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            created_at: None,
            changed_at: None,
        }
    }

    fn checks(plan: &ProbePlan) -> Vec<(String, bool)> {
        match plan {
            ProbePlan::Configuration { checks } => checks.iter().map(|check| (check.name.clone(), check.ok)).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn configurations_become_plans() {
        let environment = EnvironmentName::parse("prod").unwrap();
        let plan_of =
            |provider: IdentityProvider| targets_from(&environment, &[provider]).pop().map(|target| target.plan);

        let oidc = plan_of(provider(ProviderType::Oidc, &[("oidc.issuer", "https://idp.example.com")]));
        assert!(matches!(oidc, Some(ProbePlan::Oidc { issuer }) if issuer == "https://idp.example.com"));
        let azure = plan_of(provider(ProviderType::AzureAd, &[]));
        assert!(matches!(azure, Some(ProbePlan::AzureAd { tenant }) if tenant == "common"));
        let azure = plan_of(provider(ProviderType::AzureAd, &[("azureAd.tenant.tenantId", "abc")]));
        assert!(matches!(azure, Some(ProbePlan::AzureAd { tenant }) if tenant == "abc"));
        let ldap = plan_of(provider(
            ProviderType::Ldap,
            &[("ldap.servers", "ldaps://a:636, ldap://b"), ("ldap.startTls", "true")],
        ));
        assert!(matches!(ldap, Some(ProbePlan::Ldap(LdapConfiguration { servers, start_tls: true, root_ca: None }))
            if servers == ["ldaps://a:636", "ldap://b"]));

        let missing = plan_of(provider(ProviderType::Oidc, &[])).unwrap();
        assert_eq!(checks(&missing), [("configuration".to_owned(), false)]);
        let google = plan_of(provider(ProviderType::Google, &[("google.clientId", "1-x.apps.googleusercontent.com")]));
        assert_eq!(checks(&google.unwrap()), [("client id".to_owned(), true)]);
        let google = plan_of(provider(ProviderType::Google, &[("google.clientId", "something-else")]));
        assert_eq!(checks(&google.unwrap()), [("client id".to_owned(), false)]);
        let apple = plan_of(provider(
            ProviderType::Apple,
            &[("apple.clientId", "com.example.web"), ("apple.teamId", "ABCDE12345"), ("apple.keyId", "short")],
        ));
        assert_eq!(
            checks(&apple.unwrap()),
            [("client id".to_owned(), true), ("team id".to_owned(), true), ("key id".to_owned(), false)]
        );

        let mut inactive = provider(ProviderType::Github, &[("github.clientId", "x")]);
        inactive.state = IdpState::Inactive;
        assert!(plan_of(inactive).is_none(), "inactive providers are not probed");
        assert!(plan_of(provider(ProviderType::Unknown("future".to_owned()), &[])).is_none());
    }
}
