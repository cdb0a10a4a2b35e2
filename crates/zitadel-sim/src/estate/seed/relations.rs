//! Generator part two: projects, applications, grants, memberships, metadata and identity providers.

use super::*;

impl Generator {
    pub(super) fn projects(&mut self, org_id: &str) -> Vec<String> {
        let is_platform = org_id == self.estate.platform_org_id;
        let names: Vec<&str> = if is_platform {
            vec!["Platform API", "Customer Portal", "Billing", "Support Desk"]
        } else {
            let count = self.rng.random_range(2..=4);
            let mut names = PROJECT_NAMES.to_vec();
            names.shuffle(&mut self.rng);
            names.truncate(count);
            names
        };
        let org_created = self.estate.orgs[org_id].meta.created;
        let mut ids = Vec::new();
        for name in names {
            let created = self.between(org_created, self.days_ago(30));
            let id = self.estate.new_id();
            let meta = self.meta(created);
            let project = Project {
                id: id.clone(),
                org_id: org_id.to_string(),
                name: name.to_string(),
                state: if self.chance(5) { ProjectState::Inactive } else { ProjectState::Active },
                project_role_assertion: self.chance(60),
                project_role_check: self.chance(40),
                has_project_check: self.chance(20),
                meta,
            };
            self.estate.projects.insert(id.clone(), project);
            let role_count = self.rng.random_range(3..=6);
            let mut pool: Vec<usize> = (0..ROLE_POOL.len()).collect();
            pool.shuffle(&mut self.rng);
            for index in pool.into_iter().take(role_count) {
                let (key, display_name, group) = ROLE_POOL[index];
                let internal_id = self.estate.new_id();
                let meta = self.meta(created);
                self.estate.project_roles.insert(
                    internal_id.clone(),
                    ProjectRole {
                        internal_id,
                        project_id: id.clone(),
                        org_id: org_id.to_string(),
                        key: key.to_string(),
                        display_name: display_name.to_string(),
                        group: group.to_string(),
                        meta,
                    },
                );
            }
            self.applications(org_id, &id, name, created);
            ids.push(id);
        }
        ids
    }

    pub(super) fn applications(&mut self, org_id: &str, project_id: &str, project_name: &str, created: OffsetDateTime) {
        let project_slug = slug(project_name);
        let org_slug = slug(&self.estate.orgs[org_id].name);
        let mut configs = vec![(
            format!("{project_name} Web"),
            AppConfig::Oidc {
                client_id: format!(
                    "{}@{project_slug}",
                    self.rng.random_range(100_000_000_000_000_000u64..999_999_999_999_999_999)
                ),
                app_type: *self.pick(&[
                    OidcAppType::Web,
                    OidcAppType::Web,
                    OidcAppType::UserAgent,
                    OidcAppType::Native,
                ]),
                redirect_uris: vec![format!("https://{project_slug}.{org_slug}.example.com/auth/callback")],
                auth_method_none: self.chance(40),
                refresh_token: self.chance(50),
                dev_mode: self.chance(10),
            },
        )];
        if self.chance(50) {
            let client_id = format!(
                "{}@{project_slug}",
                self.rng.random_range(100_000_000_000_000_000u64..999_999_999_999_999_999)
            );
            configs
                .push((format!("{project_name} API"), AppConfig::Api { client_id, private_key_jwt: self.chance(50) }));
        }
        if self.chance(10) {
            let entity = format!("https://{project_slug}.{org_slug}.example.com/saml/metadata");
            let acs = format!("https://{project_slug}.{org_slug}.example.com/saml/acs");
            configs.push((
                format!("{project_name} SAML"),
                AppConfig::Saml { metadata_xml: saml_sp_metadata(&entity, &acs) },
            ));
        }
        for (name, config) in configs {
            let id = self.estate.new_id();
            let app_created = self.between(created, self.days_ago(1));
            let meta = self.meta(app_created);
            let state = if self.chance(5) { AppState::Inactive } else { AppState::Active };
            self.estate.applications.insert(
                id.clone(),
                Application {
                    id,
                    project_id: project_id.to_string(),
                    org_id: org_id.to_string(),
                    name,
                    state,
                    config,
                    meta,
                },
            );
        }
    }

    pub(super) fn role_keys_of(&self, project_id: &str) -> Vec<String> {
        self.estate
            .project_roles
            .values()
            .filter(|role| role.project_id == project_id)
            .map(|role| role.key.clone())
            .collect()
    }

    pub(super) fn role_subset(&mut self, keys: &[String], most: usize) -> Vec<String> {
        let mut keys = keys.to_vec();
        keys.shuffle(&mut self.rng);
        let count = self.rng.random_range(1..=most.min(keys.len()).max(1));
        keys.truncate(count);
        keys
    }

    /// Grants the platform's "Customer Portal" (~40% of customers) and "Platform API" (~20%).
    pub(super) fn project_grants(
        &mut self,
        org_ids: &[String],
        projects: &BTreeMap<String, Vec<String>>,
    ) -> Vec<String> {
        let platform = self.estate.platform_org_id.clone();
        let platform_projects = projects.get(&platform).cloned().unwrap_or_default();
        let mut ids = Vec::new();
        for (project_index, percent) in [(1, 40), (0, 20)] {
            let Some(project_id) = platform_projects.get(project_index) else { continue };
            let keys = self.role_keys_of(project_id);
            for granted_org_id in &org_ids[1..] {
                if !self.chance(percent) {
                    continue;
                }
                let role_keys = self.role_subset(&keys, 3);
                let created = self.between(self.days_ago(180), self.days_ago(10));
                let id = self.estate.new_id();
                let meta = self.meta(created);
                let state = if self.chance(5) { GrantState::Inactive } else { GrantState::Active };
                self.estate.project_grants.insert(
                    id.clone(),
                    ProjectGrant {
                        id: id.clone(),
                        project_id: project_id.clone(),
                        org_id: platform.clone(),
                        granted_org_id: granted_org_id.clone(),
                        role_keys,
                        state,
                        meta,
                    },
                );
                ids.push(id);
            }
        }
        ids
    }

    /// Machine users: `initial` created before six months ago, the rest over the last six months (fastest last).
    pub(super) fn add_membership(&mut self, user_id: &str, scope: MembershipScope, role: &str) {
        let created = self.between(self.estate.users[user_id].meta.created, self.now);
        let id = self.estate.new_id();
        let meta = self.meta(created);
        let membership = Membership {
            internal_id: id.clone(),
            user_id: user_id.to_string(),
            scope,
            roles: vec![role.to_string()],
            meta,
        };
        self.estate.memberships.insert(id, membership);
    }

    pub(super) fn memberships(
        &mut self,
        shape: &Shape,
        humans: &BTreeMap<String, Vec<String>>,
        machines: &[String],
        projects: &BTreeMap<String, Vec<String>>,
        project_grants: &[String],
    ) {
        let platform = self.estate.platform_org_id.clone();
        let platform_humans = humans.get(&platform).cloned().unwrap_or_default();
        for (index, role) in ["IAM_OWNER", "IAM_OWNER", "IAM_OWNER_VIEWER"].iter().enumerate() {
            if let Some(user_id) = platform_humans.get(index) {
                self.add_membership(user_id, MembershipScope::Instance, role);
            }
        }
        for (org_id, org_humans) in humans {
            let scope = MembershipScope::Org { org_id: org_id.clone() };
            if let Some(owner) = org_humans.first() {
                self.add_membership(owner, scope.clone(), "ORG_OWNER");
            }
            if org_humans.len() > 2 && self.chance(30) {
                self.add_membership(&org_humans[1], scope.clone(), "ORG_USER_MANAGER");
            }
            if org_humans.len() > 3 && self.chance(20) {
                self.add_membership(&org_humans[2], scope, "ORG_OWNER_VIEWER");
            }
            for project_id in projects.get(org_id).into_iter().flatten() {
                if org_humans.len() > 4 && self.chance(40) {
                    let user_id = self.pick(&org_humans[3..]).clone();
                    let role = if self.chance(70) { "PROJECT_OWNER" } else { "PROJECT_OWNER_VIEWER" };
                    let scope = MembershipScope::Project { project_id: project_id.clone(), org_id: org_id.clone() };
                    self.add_membership(&user_id, scope, role);
                }
            }
        }
        for grant_id in project_grants {
            let grant = self.estate.project_grants[grant_id].clone();
            let candidates = humans.get(&grant.granted_org_id).cloned().unwrap_or_default();
            if !candidates.is_empty() && self.chance(50) {
                let user_id = self.pick(&candidates).clone();
                let scope = MembershipScope::ProjectGrant {
                    project_id: grant.project_id.clone(),
                    grant_id: grant.id.clone(),
                    org_id: grant.org_id.clone(),
                    granted_org_id: grant.granted_org_id.clone(),
                };
                self.add_membership(&user_id, scope, "PROJECT_GRANT_OWNER");
            }
        }
        // Machine users with manager roles (anomalies): one more IAM_OWNER, ORG_OWNERs, an ORG_USER_MANAGER and a
        // PROJECT_OWNER; picked among active machine users.
        let active: Vec<String> =
            machines.iter().filter(|id| self.estate.users[*id].state == UserState::Active).cloned().collect();
        let (platform_machines, customer_machines): (Vec<String>, Vec<String>) =
            active.into_iter().partition(|id| self.estate.users[id].org_id == platform);
        if let Some(user_id) = platform_machines.first() {
            self.add_membership(user_id, MembershipScope::Instance, "IAM_OWNER");
        }
        let step = (customer_machines.len() / (shape.machine_owners + 3).max(1)).max(1);
        let mut chosen = customer_machines.iter().step_by(step);
        for _ in 0..shape.machine_owners {
            if let Some(user_id) = chosen.next() {
                let org_id = self.estate.users[user_id].org_id.clone();
                self.add_membership(user_id, MembershipScope::Org { org_id }, "ORG_OWNER");
            }
        }
        if let Some(user_id) = chosen.next() {
            let org_id = self.estate.users[user_id].org_id.clone();
            self.add_membership(user_id, MembershipScope::Org { org_id }, "ORG_USER_MANAGER");
        }
        if let Some(user_id) = chosen.next() {
            let org_id = self.estate.users[user_id].org_id.clone();
            if let Some(project_id) = projects.get(&org_id).and_then(|ids| ids.first()) {
                let scope = MembershipScope::Project { project_id: project_id.clone(), org_id };
                self.add_membership(user_id, scope, "PROJECT_OWNER");
            }
        }
    }

    pub(super) fn add_user_grant(
        &mut self,
        user_id: &str,
        org_id: &str,
        project_id: &str,
        project_grant_id: Option<String>,
        role_keys: Vec<String>,
    ) {
        let user_created = self.estate.users[user_id].meta.created;
        let created = self.between(user_created, self.now);
        let id = self.estate.new_id();
        let meta = self.meta(created);
        let state = if self.chance(3) { GrantState::Inactive } else { GrantState::Active };
        let grant = UserGrant {
            id: id.clone(),
            user_id: user_id.to_string(),
            org_id: org_id.to_string(),
            project_id: project_id.to_string(),
            project_grant_id,
            role_keys,
            state,
            meta,
        };
        self.estate.user_grants.insert(id, grant);
    }

    pub(super) fn user_grants(
        &mut self,
        humans: &BTreeMap<String, Vec<String>>,
        machines: &[String],
        projects: &BTreeMap<String, Vec<String>>,
        project_grants: &[String],
    ) {
        let role_keys: BTreeMap<String, Vec<String>> =
            self.estate.projects.keys().map(|id| (id.clone(), self.role_keys_of(id))).collect();
        let grant_for = |generator: &mut Generator, user_id: &str, count: usize| {
            let org_id = generator.estate.users[user_id].org_id.clone();
            let mut org_projects = projects.get(&org_id).cloned().unwrap_or_default();
            org_projects.shuffle(&mut generator.rng);
            for project_id in org_projects.into_iter().take(count) {
                let keys = role_keys.get(&project_id).cloned().unwrap_or_default();
                let subset = generator.role_subset(&keys, 2);
                generator.add_user_grant(user_id, &org_id, &project_id, None, subset);
            }
        };
        for user_id in humans.values().flatten() {
            let count = match self.rng.random_range(0..100) {
                0..10 => 0,
                10..45 => 1,
                45..80 => 2,
                _ => 3,
            };
            grant_for(self, user_id, count);
        }
        for user_id in machines {
            let inactive = self.estate.users[user_id].state != UserState::Active;
            let count = match self.rng.random_range(0..100) {
                0..25 if !inactive => 0,
                0..70 => 1,
                _ => 2,
            };
            grant_for(self, user_id, count);
        }
        for grant_id in project_grants {
            let grant = self.estate.project_grants[grant_id].clone();
            let mut candidates = humans.get(&grant.granted_org_id).cloned().unwrap_or_default();
            candidates.shuffle(&mut self.rng);
            let count = self.rng.random_range(3..=8);
            for user_id in candidates.into_iter().take(count) {
                let subset = self.role_subset(&grant.role_keys, 2);
                self.add_user_grant(&user_id, &grant.granted_org_id, &grant.project_id, Some(grant.id.clone()), subset);
            }
        }
    }

    pub(super) fn metadata(&mut self) {
        let users: Vec<(String, String, bool, OffsetDateTime)> = self
            .estate
            .users
            .values()
            .map(|user| (user.id.clone(), user.org_id.clone(), user.is_machine(), user.meta.created))
            .collect();
        for (user_id, org_id, is_machine, created) in users {
            let mut entries = Vec::new();
            if is_machine {
                if self.chance(50) {
                    let owner = format!(
                        "{}.{}@example.com",
                        self.pick(FIRST_NAMES).to_lowercase(),
                        self.pick(LAST_NAMES).to_lowercase()
                    );
                    entries.push(("owner", owner));
                }
                if self.chance(30) {
                    entries.push(("cost-center", format!("CC-{:04}", self.rng.random_range(0..10_000))));
                }
            } else if self.chance(15) {
                entries.push(("department", self.pick(DEPARTMENTS).to_string()));
            }
            for (key, value) in entries {
                let id = self.estate.new_id();
                let set_at = self.between(created, self.now);
                let meta = self.meta(set_at);
                let entry = UserMetadata {
                    internal_id: id.clone(),
                    user_id: user_id.clone(),
                    org_id: org_id.clone(),
                    key: key.to_string(),
                    value: value.into_bytes(),
                    meta,
                };
                self.estate.user_metadata.insert(id, entry);
            }
        }
    }

    pub(super) fn add_idp(&mut self, org_id: Option<String>, name: &str, config: IdpConfig) {
        let id = self.estate.new_id();
        let created = self.between(self.days_ago(700), self.days_ago(60));
        let meta = self.meta(created);
        let idp = IdentityProvider {
            id: id.clone(),
            org_id,
            name: name.to_string(),
            state: IdpState::Active,
            is_linking_allowed: true,
            is_creation_allowed: self.chance(50),
            is_auto_creation: self.chance(30),
            is_auto_update: self.chance(50),
            config,
            meta,
        };
        self.estate.identity_providers.insert(id, idp);
    }

    pub(super) fn saml(&mut self, host: &str, valid_from_days_ago: i64, valid_for_days: i64) -> IdpConfig {
        let not_before = trim_seconds(self.days_ago(valid_from_days_ago));
        let not_after = trim_seconds(not_before + Duration::days(valid_for_days));
        let serial = self.rng.random_range(1..u64::MAX >> 1);
        let metadata_xml = saml_idp_metadata(
            &format!("https://{host}/metadata"),
            &format!("https://{host}/sso"),
            host,
            serial,
            not_before,
            not_after,
        );
        IdpConfig::Saml { metadata_xml, certificate_not_after: not_after }
    }

    pub(super) fn identity_providers(&mut self, org_ids: &[String]) {
        let google = IdpConfig::Google {
            client_id: "1234567890-sim.apps.googleusercontent.com".to_string(),
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
        };
        self.add_idp(None, "Google Workspace", google);
        let keycloak = IdpConfig::Oidc {
            issuer: "https://sso.example-corp.com/realms/main".to_string(),
            client_id: "zitadel".to_string(),
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
        };
        self.add_idp(None, "Corporate Keycloak", keycloak);
        let okta = self.saml("example-corp.okta.com", 330, 730);
        self.add_idp(None, "Okta", okta);
        // The one expiring certificate: issued 356 days ago for one year, so it expires in 9 days.
        let adfs = self.saml("adfs.example-corp.com", 356, 365);
        self.add_idp(None, "Legacy ADFS", adfs);
        for (index, org_id) in org_ids.iter().enumerate().skip(1) {
            let org_slug = slug(&self.estate.orgs[org_id].name);
            let config = match index {
                1 => IdpConfig::AzureAd {
                    client_id: format!("{}-sim-client", org_slug),
                    tenant_id: format!("{:08x}-0000-4000-8000-000000000000", self.rng.random_range(0..u32::MAX)),
                    scopes: vec!["openid".into(), "email".into()],
                },
                3 => self.saml(&format!("{org_slug}.onelogin.example.com"), 165, 365),
                _ if index == 2 || index % 10 == 0 => IdpConfig::Oidc {
                    issuer: format!("https://{org_slug}.eu.auth0.example.com/"),
                    client_id: format!("{org_slug}-zitadel"),
                    scopes: vec!["openid".into()],
                },
                _ => continue,
            };
            let name = match &config {
                IdpConfig::AzureAd { .. } => "Entra ID",
                IdpConfig::Saml { .. } => "OneLogin",
                _ => "Auth0",
            };
            self.add_idp(Some(org_id.clone()), name, config);
        }
    }
}
