//! Deterministic estate generation (ChaCha8 with a fixed seed; every timestamp relative to `now`).

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use time::{Duration, OffsetDateTime, UtcOffset};

mod names;
mod relations;

use names::*;

use super::certificate::{saml_idp_metadata, saml_sp_metadata};
use super::{
    AccessTokenType, AppConfig, AppState, Application, Estate, Gender, GrantState, HumanProfile, IdentityProvider,
    IdpConfig, IdpState, MachineKey, MachineProfile, Membership, MembershipScope, NO_EXPIRY, ObjectMeta, OidcAppType,
    Org, OrgState, PersonalAccessToken, Project, ProjectGrant, ProjectRole, ProjectState,
    SERVICE_ACCOUNT_PUBLIC_KEY_PEM, User, UserGrant, UserKind, UserMetadata, UserState, detect_anomalies,
};

/// Size of a generated estate.
pub(crate) struct Shape {
    orgs: usize,
    humans: usize,
    platform_humans: usize,
    machines: usize,
    machine_owners: usize,
    rng_seed: u64,
}

impl Shape {
    pub(crate) const SEED: Shape =
        Shape { orgs: 41, humans: 1_000, platform_humans: 60, machines: 210, machine_owners: 4, rng_seed: 0x5EED };
    pub(crate) const LARGE: Shape = Shape {
        orgs: 200,
        humans: 95_000,
        platform_humans: 500,
        machines: 5_000,
        machine_owners: 20,
        rng_seed: 0x1A46E,
    };
    pub(crate) const MINIMAL: Shape =
        Shape { orgs: 1, humans: 0, platform_humans: 0, machines: 1, machine_owners: 0, rng_seed: 1 };
}

/// Generates an estate of the given shape.
pub(crate) fn generate(now: OffsetDateTime, shape: &Shape) -> Estate {
    let now = now.to_offset(UtcOffset::UTC);
    let mut generator = Generator {
        rng: ChaCha8Rng::seed_from_u64(shape.rng_seed),
        now,
        taken_user_names: HashSet::new(),
        estate: Estate {
            now,
            instance_id: String::new(),
            instance_domain: "warden-sim.zitadel.cloud".to_string(),
            next_id: 310_000_000_000_000_000,
            platform_org_id: String::new(),
            warden_user_id: String::new(),
            warden_key_id: String::new(),
            orgs: BTreeMap::new(),
            users: BTreeMap::new(),
            user_names: HashMap::new(),
            machine_keys: BTreeMap::new(),
            personal_access_tokens: BTreeMap::new(),
            projects: BTreeMap::new(),
            project_roles: BTreeMap::new(),
            user_grants: BTreeMap::new(),
            memberships: BTreeMap::new(),
            project_grants: BTreeMap::new(),
            applications: BTreeMap::new(),
            identity_providers: BTreeMap::new(),
            user_metadata: BTreeMap::new(),
            events: Vec::new(),
            aggregate_sequences: HashMap::new(),
            command: 0,
            last_event_command: 0,
            anomalies: Vec::new(),
        },
    };
    generator.estate.instance_id = generator.estate.new_id();
    let org_ids = generator.orgs(shape.orgs);
    generator.warden();
    if shape.machines > 1 || shape.humans > 0 {
        generator.populate(shape, &org_ids);
    }
    let anomalies = detect_anomalies(&generator.estate);
    generator.estate.anomalies = anomalies;
    let ids: Vec<String> = generator.estate.users.keys().cloned().collect();
    for id in ids {
        generator.estate.index_user(&id);
    }
    generator.estate.seed_aggregate_sequences();
    generator.estate
}

struct Generator {
    rng: ChaCha8Rng,
    now: OffsetDateTime,
    estate: Estate,
    taken_user_names: HashSet<(String, String)>,
}

impl Generator {
    fn populate(&mut self, shape: &Shape, org_ids: &[String]) {
        let weights: Vec<u32> = org_ids.iter().map(|_| self.rng.random_range(1..=10)).collect();
        let humans_by_org = self.humans(shape, org_ids, &weights);
        let projects_by_org: BTreeMap<String, Vec<String>> =
            org_ids.iter().map(|org_id| (org_id.clone(), self.projects(org_id))).collect();
        let project_grant_ids = self.project_grants(org_ids, &projects_by_org);
        let machines = self.machines(shape, org_ids, &weights);
        for machine_id in &machines {
            self.credentials(machine_id);
        }
        self.memberships(shape, &humans_by_org, &machines, &projects_by_org, &project_grant_ids);
        self.user_grants(&humans_by_org, &machines, &projects_by_org, &project_grant_ids);
        self.metadata();
        self.identity_providers(org_ids);
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    fn days_ago(&self, days: i64) -> OffsetDateTime {
        self.now - Duration::days(days)
    }

    /// A random instant in `[from, to)` with millisecond precision (`from` if the range is empty).
    fn between(&mut self, from: OffsetDateTime, to: OffsetDateTime) -> OffsetDateTime {
        let span = (to - from).whole_milliseconds();
        if span <= 1 {
            return from;
        }
        let offset = self.rng.random_range(0..span as i64);
        from + Duration::milliseconds(offset)
    }

    fn meta(&mut self, created: OffsetDateTime) -> ObjectMeta {
        let sequence = self.rng.random_range(1..=5);
        let changed = if sequence == 1 { created } else { self.between(created, self.now) };
        ObjectMeta { sequence, created, changed }
    }

    fn unique_user_name(&mut self, org_id: &str, base: &str) -> String {
        let mut candidate = base.to_string();
        let mut counter = 1;
        while !self.taken_user_names.insert((org_id.to_string(), candidate.clone())) {
            counter += 1;
            candidate = format!("{base}{counter}");
        }
        candidate
    }

    fn orgs(&mut self, count: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(count);
        for index in 0..count {
            let name = if index == 0 {
                "Platform".to_string()
            } else if count <= COMPANIES.len() + 1 {
                COMPANIES[index - 1].to_string()
            } else {
                format!("{} {}", COMPANIES[(index - 1) % COMPANIES.len()], (index - 1) / COMPANIES.len() + 1)
            };
            let created =
                if index == 0 { self.days_ago(900) } else { self.between(self.days_ago(850), self.days_ago(200)) };
            let id = self.estate.new_id();
            let primary_domain = format!("{}.{}", slug(&name), self.estate.instance_domain);
            let meta = self.meta(created);
            self.estate
                .orgs
                .insert(id.clone(), Org { id: id.clone(), name, primary_domain, state: OrgState::Active, meta });
            ids.push(id);
        }
        self.estate.platform_org_id = ids.first().cloned().unwrap_or_default();
        ids
    }

    fn warden(&mut self) {
        let org_id = self.estate.platform_org_id.clone();
        let created = self.days_ago(200);
        let secret: String = (0..32).map(|_| char::from(b'a' + self.rng.random_range(0..26u8))).collect();
        let user_id = self.estate.new_id();
        self.taken_user_names.insert((org_id.clone(), "warden".to_string()));
        self.estate.users.insert(
            user_id.clone(),
            User {
                id: user_id.clone(),
                org_id: org_id.clone(),
                user_name: "warden".to_string(),
                state: UserState::Active,
                kind: UserKind::Machine(MachineProfile {
                    name: "Warden".to_string(),
                    description: "Identity governance service account (warden)".to_string(),
                    client_secret: Some(secret),
                    access_token_type: AccessTokenType::Bearer,
                }),
                meta: ObjectMeta::new(created),
            },
        );
        let key_id = self.estate.new_id();
        self.estate.machine_keys.insert(
            key_id.clone(),
            MachineKey {
                id: key_id.clone(),
                user_id: user_id.clone(),
                org_id: org_id.clone(),
                expiration: self.now + Duration::days(335),
                public_key_pem: Some(SERVICE_ACCOUNT_PUBLIC_KEY_PEM.to_string()),
                meta: ObjectMeta::new(self.days_ago(30)),
            },
        );
        let pat_id = self.estate.new_id();
        self.estate.personal_access_tokens.insert(
            pat_id.clone(),
            PersonalAccessToken {
                id: pat_id,
                user_id: user_id.clone(),
                org_id,
                expiration: self.now + Duration::days(335),
                scopes: vec!["openid".to_string(), "urn:zitadel:iam:org:project:id:zitadel:aud".to_string()],
                meta: ObjectMeta::new(self.days_ago(30)),
            },
        );
        let membership_id = self.estate.new_id();
        self.estate.memberships.insert(
            membership_id.clone(),
            Membership {
                internal_id: membership_id,
                user_id: user_id.clone(),
                scope: MembershipScope::Instance,
                roles: vec!["IAM_OWNER".to_string()],
                meta: ObjectMeta::new(created),
            },
        );
        self.estate.warden_user_id = user_id;
        self.estate.warden_key_id = key_id;
    }

    fn weighted_org(&mut self, org_ids: &[String], cumulative: &[u32]) -> String {
        let total = cumulative.last().copied().unwrap_or(1).max(1);
        let ticket = self.rng.random_range(0..total);
        let index = cumulative.partition_point(|bound| *bound <= ticket).min(org_ids.len() - 1);
        org_ids[index].clone()
    }

    fn humans(&mut self, shape: &Shape, org_ids: &[String], weights: &[u32]) -> BTreeMap<String, Vec<String>> {
        let customers = &org_ids[1..];
        let mut per_org: Vec<usize> = vec![0; org_ids.len()];
        per_org[0] = shape.platform_humans.min(shape.humans);
        let rest = shape.humans - per_org[0];
        if !customers.is_empty() {
            let base = rest / customers.len() / 2;
            for count in per_org.iter_mut().skip(1) {
                *count = base;
            }
            let cumulative: Vec<u32> = weights[1..]
                .iter()
                .scan(0, |sum, weight| {
                    *sum += weight;
                    Some(*sum)
                })
                .collect();
            for _ in 0..rest - base * customers.len() {
                let total = cumulative.last().copied().unwrap_or(1).max(1);
                let ticket = self.rng.random_range(0..total);
                let index = cumulative.partition_point(|bound| *bound <= ticket).min(customers.len() - 1);
                per_org[index + 1] += 1;
            }
        }
        let mut humans_by_org = BTreeMap::new();
        for (org_id, count) in org_ids.iter().zip(per_org) {
            let ids: Vec<String> = (0..count).map(|_| self.human(org_id)).collect();
            humans_by_org.insert(org_id.clone(), ids);
        }
        humans_by_org
    }

    fn human(&mut self, org_id: &str) -> String {
        let first = *self.pick(FIRST_NAMES);
        let last = *self.pick(LAST_NAMES);
        let user_name = self.unique_user_name(org_id, &format!("{}.{}", first.to_lowercase(), last.to_lowercase()));
        let org = &self.estate.orgs[org_id];
        let (org_created, email_domain) = (org.meta.created, format!("{}.example.com", slug(&org.name)));
        let roll = self.rng.random_range(0..100);
        let state = match roll {
            0..86 => UserState::Active,
            86..92 => UserState::Initial,
            92..97 => UserState::Inactive,
            _ => UserState::Locked,
        };
        let created = self.between(org_created + Duration::days(1), self.days_ago(1));
        let password_changed = if state == UserState::Initial { None } else { Some(self.between(created, self.now)) };
        let phone =
            if self.chance(30) { format!("+4179{:07}", self.rng.random_range(0..10_000_000)) } else { String::new() };
        let phone_verified = !phone.is_empty() && self.chance(70);
        let gender = *self.pick(&[Gender::Female, Gender::Male, Gender::Diverse, Gender::Unspecified]);
        let preferred_language = self.pick(&["en", "en", "en", "de", "fr", "und"]).to_string();
        let nick_name = if self.chance(10) { first.to_string() } else { String::new() };
        let email_verified = state != UserState::Initial || self.chance(30);
        let meta = self.meta(created);
        let id = self.estate.new_id();
        self.estate.users.insert(
            id.clone(),
            User {
                id: id.clone(),
                org_id: org_id.to_string(),
                state,
                kind: UserKind::Human(HumanProfile {
                    first_name: first.to_string(),
                    last_name: last.to_string(),
                    nick_name,
                    display_name: format!("{first} {last}"),
                    preferred_language,
                    gender,
                    email: format!("{user_name}@{email_domain}"),
                    email_verified,
                    phone,
                    phone_verified,
                    password_changed,
                }),
                user_name,
                meta,
            },
        );
        id
    }

    fn machines(&mut self, shape: &Shape, org_ids: &[String], weights: &[u32]) -> Vec<String> {
        let total = shape.machines.saturating_sub(1);
        let initial = (shape.machines * 40 / 210).saturating_sub(1);
        let growth = total - initial;
        let mut dates = Vec::with_capacity(total);
        for _ in 0..initial {
            dates.push(self.between(self.days_ago(800), self.days_ago(181)));
        }
        let weight_sum: usize = MACHINE_MONTH_WEIGHTS.iter().sum();
        let mut assigned = 0;
        for (month, weight) in MACHINE_MONTH_WEIGHTS.iter().enumerate() {
            let count =
                if month == MACHINE_MONTH_WEIGHTS.len() - 1 { growth - assigned } else { growth * weight / weight_sum };
            assigned += count;
            let start = self.days_ago(180 - 30 * month as i64);
            let end = (start + Duration::days(30)).min(self.now - Duration::hours(1));
            for _ in 0..count {
                dates.push(self.between(start, end));
            }
        }
        dates.sort();
        let cumulative: Vec<u32> = weights
            .iter()
            .scan(0, |sum, weight| {
                *sum += weight;
                Some(*sum)
            })
            .collect();
        let platform = self.estate.platform_org_id.clone();
        let mut ids = Vec::with_capacity(total);
        for created in dates {
            let org_id = if self.chance(10) { platform.clone() } else { self.weighted_org(org_ids, &cumulative) };
            let (base, name, description) = *self.pick(MACHINE_TEMPLATES);
            let user_name = self.unique_user_name(&org_id, base);
            let description = if self.chance(6) { String::new() } else { description.to_string() };
            let state = match self.rng.random_range(0..100) {
                0..94 => UserState::Active,
                94..98 => UserState::Inactive,
                _ => UserState::Locked,
            };
            let client_secret =
                if self.chance(20) { Some(format!("sim-secret-{}", self.rng.random_range(0..u64::MAX))) } else { None };
            let access_token_type = if self.chance(25) { AccessTokenType::Jwt } else { AccessTokenType::Bearer };
            let meta = self.meta(created);
            let id = self.estate.new_id();
            self.estate.users.insert(
                id.clone(),
                User {
                    id: id.clone(),
                    org_id,
                    user_name,
                    state,
                    kind: UserKind::Machine(MachineProfile {
                        name: name.to_string(),
                        description,
                        client_secret,
                        access_token_type,
                    }),
                    meta,
                },
            );
            ids.push(id);
        }
        ids
    }

    /// Keys and PATs with a realistic expiry mix.
    fn credentials(&mut self, user_id: &str) {
        let (org_id, user_created) = {
            let user = &self.estate.users[user_id];
            (user.org_id.clone(), user.meta.created)
        };
        let keys = match self.rng.random_range(0..100) {
            0..35 => 0,
            35..80 => 1,
            80..95 => 2,
            _ => 3,
        };
        let pats = match self.rng.random_range(0..100) {
            0..50 => 0,
            50..85 => 1,
            _ => 2,
        };
        for index in 0..keys + pats {
            let (created, expiration) = self.credential_dates(user_created);
            let id = self.estate.new_id();
            let meta = ObjectMeta::new(created);
            if index < keys {
                let key = MachineKey {
                    id: id.clone(),
                    user_id: user_id.to_string(),
                    org_id: org_id.clone(),
                    expiration,
                    public_key_pem: None,
                    meta,
                };
                self.estate.machine_keys.insert(id, key);
            } else {
                let scopes = vec!["openid".to_string()];
                let pat = PersonalAccessToken {
                    id: id.clone(),
                    user_id: user_id.to_string(),
                    org_id: org_id.clone(),
                    expiration,
                    scopes,
                    meta,
                };
                self.estate.personal_access_tokens.insert(id, pat);
            }
        }
    }

    fn credential_dates(&mut self, user_created: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
        let recent_start = user_created.max(self.days_ago(300));
        let old_possible = user_created < self.days_ago(370);
        let roll = self.rng.random_range(0..100);
        if old_possible && roll < 25 {
            let created = self.between(user_created, self.days_ago(366));
            let expiration = if self.chance(50) {
                NO_EXPIRY
            } else {
                self.between(self.now + Duration::days(20), self.now + Duration::days(300))
            };
            return (created, expiration);
        }
        let old_enough_to_expire = user_created < self.days_ago(61);
        match roll {
            25..33 => (self.between(recent_start, self.days_ago(1)), NO_EXPIRY),
            33..40 => (
                self.between(recent_start, self.days_ago(1)),
                self.between(self.now + Duration::days(1), self.now + Duration::days(12)),
            ),
            40..50 if old_enough_to_expire => {
                let created = self.between(recent_start, self.days_ago(60));
                (created, self.between(self.days_ago(50), self.days_ago(1)))
            }
            _ => (
                self.between(recent_start, self.days_ago(1)),
                self.between(self.now + Duration::days(20), self.now + Duration::days(365)),
            ),
        }
    }
}

fn trim_seconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}

/// `Stark Industries` -> `stark-industries`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for character in name.chars() {
        if character.is_ascii_alphanumeric() {
            out.push(character.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}
