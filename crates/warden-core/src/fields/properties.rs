//! Round trips, one per kind: an arbitrary object, its recorded fields, and the object rebuilt from them (with its
//! key and organization, as a change holds them) are the same object, as far as the fields record it; and the rebuilt
//! object records the same fields again.
//!
//! Not recorded, so left out of the comparison: `changed_at` (a rebuilt object has none); `created_at` where it is
//! not a field (it comes from the later object, or is `None` without one); the order of list fields (recorded
//! sorted). The generators stay inside what the text can hold (`crate::fields`): list items without `,`, setting
//! keys without `=` or `;`, setting values without `;`, UTF-8 metadata; the properties after the kinds' own cover
//! what happens outside it.

use std::collections::BTreeMap;
use std::fmt::Debug;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use time::{OffsetDateTime, UtcOffset};

use crate::fields::encoding::{Encoding, Settings};
use crate::fields::{Described, RecordedFields};
use crate::id::{
    ApplicationId, IdpId, MachineKeyId, MetadataKey, OrgId, PatId, ProjectGrantId, ProjectId, RoleKey, UserGrantId,
    UserId,
};
use crate::model::{
    AccessTokenType, Application, ApplicationKind, ApplicationState, GrantState, HumanProfile, IdentityProvider,
    IdpOwner, IdpState, KeyType, MachineKey, MachineProfile, Membership, MembershipScope, Observed, Org, OrgState,
    PersonalAccessToken, Project, ProjectGrant, ProjectRole, ProjectState, ProviderType, User, UserGrant, UserKind,
    UserMetadata, UserState,
};

/// Checks both properties for `object`: rebuilt without a later object it is `expected`; rebuilt with itself as the
/// later object (a modification that changed nothing) it is `expected` with the later object's `created_at`,
/// `expected_with_later`; and either records the fields it was rebuilt from.
fn round_trip<T: Described + Debug + PartialEq>(
    object: &T,
    expected: &T,
    expected_with_later: &T,
) -> Result<(), TestCaseError> {
    let fields = object.fields();
    let recorded: RecordedFields = fields.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect();
    let key = object.key();
    for (later, expected) in [(None, expected), (Some(object), expected_with_later)] {
        let rebuilt = T::rebuild(&key, object.scope_org(), &recorded, later)
            .map_err(|error| TestCaseError::fail(format!("{key}: {error}")))?;
        prop_assert_eq!(&rebuilt, expected);
        prop_assert_eq!(rebuilt.key(), key.clone());
        prop_assert_eq!(rebuilt.scope_org(), object.scope_org());
        prop_assert_eq!(rebuilt.fields(), fields.clone());
    }
    Ok(())
}

fn sorted<T: Ord>(mut list: Vec<T>) -> Vec<T> {
    list.sort();
    list
}

/// An id, or a part of a composite key other than the last (no `/`); never `,` either, so it can be a list item.
fn key_part() -> impl Strategy<Value = String> {
    "[^/,\\pC]{1,12}"
}

/// The last part of a composite key, which may contain `/`.
fn last_key_part() -> impl Strategy<Value = String> {
    "[^\\pC]{1,12}"
}

fn org_id() -> impl Strategy<Value = OrgId> {
    key_part().prop_map(|id| OrgId::parse(id).unwrap())
}

fn project_id() -> impl Strategy<Value = ProjectId> {
    key_part().prop_map(|id| ProjectId::parse(id).unwrap())
}

fn user_id() -> impl Strategy<Value = UserId> {
    key_part().prop_map(|id| UserId::parse(id).unwrap())
}

fn project_grant_id() -> impl Strategy<Value = ProjectGrantId> {
    key_part().prop_map(|id| ProjectGrantId::parse(id).unwrap())
}

fn role_keys() -> impl Strategy<Value = Vec<RoleKey>> {
    vec(key_part().prop_map(|key| RoleKey::parse(key).unwrap()), 0..4)
}

/// Free text items of a list (scopes, manager roles): anything but `,`, not empty.
fn list_items() -> impl Strategy<Value = Vec<String>> {
    vec("[^,]{1,8}", 0..4)
}

/// A known word of a vocabulary or any other text (kept as `Unknown`).
fn vocabulary<E: Clone + Debug + 'static>(known: &'static [E], from_text: fn(&str) -> E) -> BoxedStrategy<E> {
    prop_oneof![select(known), any::<String>().prop_map(move |text| from_text(&text))].boxed()
}

/// Times RFC 3339 expresses (years 1 to 9999, any offset in whole minutes, to the nanosecond), and whole seconds
/// anywhere in the range the `time` crate holds (Unix seconds outside RFC 3339's years).
fn time() -> impl Strategy<Value = Option<OffsetDateTime>> {
    const DAY: i64 = 86_400;
    const YEAR_1: i64 = -62_135_596_800;
    const YEAR_10000: i64 = 253_402_300_800;
    let expressible = (YEAR_1 + DAY..YEAR_10000 - DAY, 0..1_000_000_000u32, -1439..=1439i32).prop_map(
        |(seconds, nanosecond, offset_minutes)| {
            OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .replace_nanosecond(nanosecond)
                .unwrap()
                .to_offset(UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap())
        },
    );
    let whole_seconds = (OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT).unix_timestamp()..YEAR_10000)
        .prop_map(|seconds| OffsetDateTime::from_unix_timestamp(seconds).unwrap());
    option::of(prop_oneof![expressible, whole_seconds])
}

fn settings() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map("[^=;]{0,6}", "[^;]{0,10}", 0..4)
}

fn org() -> impl Strategy<Value = Org> {
    (org_id(), any::<String>(), vocabulary(OrgState::KNOWN, OrgState::from_text), any::<String>(), time(), time())
        .prop_map(|(id, name, state, primary_domain, created_at, changed_at)| Org {
            id,
            name,
            state,
            primary_domain,
            created_at,
            changed_at,
        })
}

fn project() -> impl Strategy<Value = Project> {
    (
        (project_id(), org_id(), any::<String>(), vocabulary(ProjectState::KNOWN, ProjectState::from_text)),
        (any::<bool>(), any::<bool>(), any::<bool>(), time(), time()),
    )
        .prop_map(
            |((id, org_id, name, state), (role_assertion, role_check, has_project_check, created_at, changed_at))| {
                Project {
                    id,
                    org_id,
                    name,
                    state,
                    role_assertion,
                    role_check,
                    has_project_check,
                    created_at,
                    changed_at,
                }
            },
        )
}

fn project_role() -> impl Strategy<Value = ProjectRole> {
    (project_id(), org_id(), last_key_part(), any::<String>(), any::<String>(), time(), time()).prop_map(
        |(project_id, org_id, key, display_name, group, created_at, changed_at)| ProjectRole {
            project_id,
            org_id,
            key: RoleKey::parse(key).unwrap(),
            display_name,
            group,
            created_at,
            changed_at,
        },
    )
}

fn human_profile() -> impl Strategy<Value = HumanProfile> {
    (
        (any::<String>(), any::<String>(), any::<String>(), any::<String>(), any::<String>()),
        (any::<String>(), any::<bool>(), any::<String>(), any::<bool>()),
    )
        .prop_map(
            |(
                (given_name, family_name, display_name, nick_name, preferred_language),
                (email, email_verified, phone, phone_verified),
            )| HumanProfile {
                given_name,
                family_name,
                display_name,
                nick_name,
                preferred_language,
                email,
                email_verified,
                phone,
                phone_verified,
            },
        )
}

fn machine_profile() -> impl Strategy<Value = MachineProfile> {
    (any::<String>(), any::<String>(), any::<bool>(), vocabulary(AccessTokenType::KNOWN, AccessTokenType::from_text))
        .prop_map(|(name, description, has_secret, access_token_type)| MachineProfile {
            name,
            description,
            has_secret,
            access_token_type,
        })
}

fn user() -> impl Strategy<Value = User> {
    let kind = prop_oneof![human_profile().prop_map(UserKind::Human), machine_profile().prop_map(UserKind::Machine)];
    (
        (user_id(), org_id(), any::<String>(), any::<String>()),
        (vocabulary(UserState::KNOWN, UserState::from_text), kind, time(), time()),
    )
        .prop_map(|((id, org_id, username, preferred_login_name), (state, kind, created_at, changed_at))| User {
            id,
            org_id,
            username,
            preferred_login_name,
            state,
            kind,
            created_at,
            changed_at,
        })
}

fn machine_key() -> impl Strategy<Value = MachineKey> {
    (key_part(), user_id(), org_id(), vocabulary(KeyType::KNOWN, KeyType::from_text), time(), time()).prop_map(
        |(id, user_id, org_id, key_type, created_at, expires_at)| MachineKey {
            id: MachineKeyId::parse(id).unwrap(),
            user_id,
            org_id,
            key_type,
            created_at,
            expires_at,
        },
    )
}

fn personal_access_token() -> impl Strategy<Value = PersonalAccessToken> {
    (key_part(), user_id(), org_id(), list_items(), time(), time()).prop_map(
        |(id, user_id, org_id, scopes, created_at, expires_at)| PersonalAccessToken {
            id: PatId::parse(id).unwrap(),
            user_id,
            org_id,
            scopes,
            created_at,
            expires_at,
        },
    )
}

fn user_grant() -> impl Strategy<Value = UserGrant> {
    (
        (key_part(), user_id(), org_id(), project_id(), option::of(project_grant_id())),
        (role_keys(), vocabulary(GrantState::KNOWN, GrantState::from_text), time(), time()),
    )
        .prop_map(
            |((id, user_id, org_id, project_id, project_grant_id), (role_keys, state, created_at, changed_at))| {
                UserGrant {
                    id: UserGrantId::parse(id).unwrap(),
                    user_id,
                    org_id,
                    project_id,
                    project_grant_id,
                    role_keys,
                    state,
                    created_at,
                    changed_at,
                }
            },
        )
}

fn membership() -> impl Strategy<Value = Membership> {
    let scope = prop_oneof![
        Just(MembershipScope::Instance),
        org_id().prop_map(MembershipScope::Org),
        (org_id(), project_id()).prop_map(|(org_id, project_id)| MembershipScope::Project { org_id, project_id }),
        (org_id(), project_id(), project_grant_id()).prop_map(|(org_id, project_id, project_grant_id)| {
            MembershipScope::ProjectGrant { org_id, project_id, project_grant_id }
        }),
    ];
    (last_key_part(), scope, list_items(), time(), time()).prop_map(
        |(user_id, scope, roles, created_at, changed_at)| Membership {
            user_id: UserId::parse(user_id).unwrap(),
            scope,
            roles,
            created_at,
            changed_at,
        },
    )
}

fn project_grant() -> impl Strategy<Value = ProjectGrant> {
    (
        (project_grant_id(), project_id(), org_id(), org_id()),
        (role_keys(), vocabulary(GrantState::KNOWN, GrantState::from_text), time(), time()),
    )
        .prop_map(|((id, project_id, org_id, granted_org_id), (role_keys, state, created_at, changed_at))| {
            ProjectGrant { id, project_id, org_id, granted_org_id, role_keys, state, created_at, changed_at }
        })
}

fn application() -> impl Strategy<Value = Application> {
    (
        (key_part(), project_id(), org_id(), any::<String>()),
        (
            vocabulary(ApplicationState::KNOWN, ApplicationState::from_text),
            vocabulary(ApplicationKind::KNOWN, ApplicationKind::from_text),
            option::of(any::<String>()),
            option::of(any::<String>()),
        ),
        (settings(), time(), time()),
    )
        .prop_map(
            |(
                (id, project_id, org_id, name),
                (state, kind, client_id, auth_method),
                (settings, created_at, changed_at),
            )| {
                Application {
                    id: ApplicationId::parse(id).unwrap(),
                    project_id,
                    org_id,
                    name,
                    state,
                    kind,
                    client_id,
                    auth_method,
                    settings,
                    created_at,
                    changed_at,
                }
            },
        )
}

fn identity_provider() -> impl Strategy<Value = IdentityProvider> {
    let owner = prop_oneof![Just(IdpOwner::Instance), org_id().prop_map(IdpOwner::Org)];
    (
        (key_part(), owner, any::<String>(), vocabulary(IdpState::KNOWN, IdpState::from_text)),
        (vocabulary(ProviderType::KNOWN, ProviderType::from_text), settings(), time(), time()),
    )
        .prop_map(|((id, owner, name, state), (provider_type, config, created_at, changed_at))| IdentityProvider {
            id: IdpId::parse(id).unwrap(),
            owner,
            name,
            state,
            provider_type,
            config,
            created_at,
            changed_at,
        })
}

fn user_metadata(value: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = UserMetadata> {
    (user_id(), org_id(), last_key_part(), value, time(), time()).prop_map(
        |(user_id, org_id, key, value, created_at, changed_at)| UserMetadata {
            user_id,
            org_id,
            key: MetadataKey::parse(key).unwrap(),
            value,
            created_at,
            changed_at,
        },
    )
}

proptest! {
    #[test]
    fn orgs_round_trip(org in org()) {
        let with_later = Org { changed_at: None, ..org.clone() };
        round_trip(&org, &Org { created_at: None, ..with_later.clone() }, &with_later)?;
    }

    #[test]
    fn projects_round_trip(project in project()) {
        let with_later = Project { changed_at: None, ..project.clone() };
        round_trip(&project, &Project { created_at: None, ..with_later.clone() }, &with_later)?;
    }

    #[test]
    fn project_roles_round_trip(role in project_role()) {
        let with_later = ProjectRole { changed_at: None, ..role.clone() };
        round_trip(&role, &ProjectRole { created_at: None, ..with_later.clone() }, &with_later)?;
    }

    #[test]
    fn human_and_machine_users_round_trip(user in user()) {
        let with_later = User { changed_at: None, ..user.clone() };
        round_trip(&user, &User { created_at: None, ..with_later.clone() }, &with_later)?;
    }

    /// Keys and tokens record their creation; they have no `changed_at`.
    #[test]
    fn machine_keys_round_trip(key in machine_key()) {
        round_trip(&key, &key, &key)?;
    }

    #[test]
    fn personal_access_tokens_round_trip(token in personal_access_token()) {
        let expected = PersonalAccessToken { scopes: sorted(token.scopes.clone()), ..token.clone() };
        round_trip(&token, &expected, &expected)?;
    }

    #[test]
    fn user_grants_round_trip(grant in user_grant()) {
        let with_later = UserGrant { role_keys: sorted(grant.role_keys.clone()), changed_at: None, ..grant.clone() };
        round_trip(&grant, &UserGrant { created_at: None, ..with_later.clone() }, &with_later)?;
    }

    #[test]
    fn memberships_round_trip(membership in membership()) {
        let with_later = Membership { roles: sorted(membership.roles.clone()), changed_at: None, ..membership.clone() };
        round_trip(&membership, &Membership { created_at: None, ..with_later.clone() }, &with_later)?;
    }

    #[test]
    fn project_grants_round_trip(grant in project_grant()) {
        let with_later =
            ProjectGrant { role_keys: sorted(grant.role_keys.clone()), changed_at: None, ..grant.clone() };
        round_trip(&grant, &ProjectGrant { created_at: None, ..with_later.clone() }, &with_later)?;
    }

    #[test]
    fn applications_round_trip(application in application()) {
        let with_later = Application { changed_at: None, ..application.clone() };
        round_trip(&application, &Application { created_at: None, ..with_later.clone() }, &with_later)?;
    }

    #[test]
    fn identity_providers_round_trip(provider in identity_provider()) {
        let with_later = IdentityProvider { changed_at: None, ..provider.clone() };
        round_trip(&provider, &IdentityProvider { created_at: None, ..with_later.clone() }, &with_later)?;
    }

    #[test]
    fn user_metadata_round_trips(metadata in user_metadata(any::<String>().prop_map(String::into_bytes))) {
        let with_later = UserMetadata { changed_at: None, ..metadata.clone() };
        round_trip(&metadata, &UserMetadata { created_at: None, ..with_later.clone() }, &with_later)?;
    }

    /// Bytes that are not UTF-8 are recorded with U+FFFD in their place: the bytes are lost, the recorded text is not.
    #[test]
    fn metadata_that_is_not_utf8_records_the_same_text_again(metadata in user_metadata(vec(any::<u8>(), 0..12))) {
        let fields = metadata.fields();
        let recorded: RecordedFields = fields.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect();
        let rebuilt = UserMetadata::rebuild(&Observed::key(&metadata), metadata.scope_org(), &recorded, None).unwrap();
        prop_assert_eq!(rebuilt.fields(), fields);
        prop_assert_eq!(rebuilt.value == metadata.value, std::str::from_utf8(&metadata.value).is_ok());
    }

    /// A setting value may contain `; ` and `=`: the settings read back may split differently, but render the same.
    #[test]
    fn any_settings_text_reads_back_to_itself(
        settings in btree_map(
            prop_oneof!["[a-c ]{0,3}", "[^=;]{0,6}"],
            prop_oneof!["[a-c=; ]{0,12}", any::<String>()],
            0..5,
        ),
    ) {
        let text = Settings::render(&settings);
        let read = Settings::parse(text.as_deref()).unwrap();
        prop_assert_eq!(Settings::render(&read), text);
    }
}
