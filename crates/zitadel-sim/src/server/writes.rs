//! Write routes (Management v1 and User v2); every change goes through the estate's mutation helpers, which append
//! the ZITADEL events with the caller as editor.

use serde_json::{Value, json};

use super::context::{Ctx, USER_DELETE, USER_GRANT_DELETE, USER_GRANT_WRITE, USER_WRITE};
use super::render::{add_details, change_details};
use crate::error::ApiError;
use crate::estate::{Gender, NewHumanUser, UserKind, UserState};
use crate::json::{Obj, get_bool, get_bytes, get_enum, get_list, get_object, get_str, get_strings};

const GENDERS: &[&str] = &["GENDER_UNSPECIFIED", "GENDER_FEMALE", "GENDER_MALE", "GENDER_DIVERSE"];

fn gender(number: usize) -> Gender {
    match number {
        1 => Gender::Female,
        2 => Gender::Male,
        3 => Gender::Diverse,
        _ => Gender::Unspecified,
    }
}

fn empty() -> Value {
    Value::Object(serde_json::Map::new())
}

/// Reads the v1 AddHumanUser / ImportHumanUser body.
fn v1_new_human(body: &Value) -> Result<NewHumanUser, ApiError> {
    let fallback = empty();
    let profile = get_object(body, "profile")?.unwrap_or(&fallback);
    let email = get_object(body, "email")?.unwrap_or(&fallback);
    let phone = get_object(body, "phone")?.unwrap_or(&fallback);
    let mut new = NewHumanUser::new(
        &get_str(body, "userName")?,
        &get_str(profile, "firstName")?,
        &get_str(profile, "lastName")?,
        &get_str(email, "email")?,
    );
    new.nick_name = get_str(profile, "nickName")?;
    let display_name = get_str(profile, "displayName")?;
    if !display_name.is_empty() {
        new.display_name = display_name;
    }
    new.preferred_language = get_str(profile, "preferredLanguage")?;
    new.gender = gender(get_enum(profile, "gender", GENDERS)?);
    new.email_verified = get_bool(email, "isEmailVerified")?;
    new.phone = get_str(phone, "phone")?;
    new.phone_verified = get_bool(phone, "isPhoneVerified")?;
    Ok(new)
}

/// `POST /management/v1/users/human`.
pub(crate) fn add_human_user(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_WRITE)?;
    let mut new = v1_new_human(ctx.body)?;
    let has_password = !get_str(ctx.body, "initialPassword")?.is_empty();
    new.state = if has_password && new.email_verified { UserState::Active } else { UserState::Initial };
    let user_id = ctx.estate.add_human_user(&ctx.editor(), &org_id, new)?;
    Ok(json!({"userId": user_id, "details": add_details(ctx.estate, &org_id)}))
}

/// `POST /management/v1/users/human/_import`.
pub(crate) fn import_human_user(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_WRITE)?;
    let mut new = v1_new_human(ctx.body)?;
    let hashed =
        get_object(ctx.body, "hashedPassword")?.map(|hashed| get_str(hashed, "value")).transpose()?.unwrap_or_default();
    let has_credential =
        !get_str(ctx.body, "password")?.is_empty() || !hashed.is_empty() || !get_list(ctx.body, "idps")?.is_empty();
    new.state = if has_credential && new.email_verified { UserState::Active } else { UserState::Initial };
    let user_id = ctx.estate.add_human_user(&ctx.editor(), &org_id, new)?;
    Ok(json!({"userId": user_id, "details": add_details(ctx.estate, &org_id)}))
}

/// The user `user_id` if it belongs to `org_id` (else NotFound, like ZITADEL's resource-owner check).
fn user_in_org(ctx: &Ctx<'_>, user_id: &str, org_id: &str) -> Result<(), ApiError> {
    match ctx.estate.user(user_id) {
        Some(user) if user.org_id == org_id => Ok(()),
        _ => Err(ApiError::user_not_found()),
    }
}

/// `PUT /management/v1/users/{user_id}/profile`.
pub(crate) fn update_profile(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_WRITE)?;
    let user_id = ctx.param(0);
    user_in_org(ctx, &user_id, &org_id)?;
    let body = ctx.body;
    let (first, last, display) =
        (get_str(body, "firstName")?, get_str(body, "lastName")?, get_str(body, "displayName")?);
    let (nick, language, gender_number) =
        (get_str(body, "nickName")?, get_str(body, "preferredLanguage")?, get_enum(body, "gender", GENDERS)?);
    ctx.estate.set_user_profile(&ctx.editor(), &user_id, &first, &last, &display)?;
    if let Some(UserKind::Human(human)) = ctx.estate.users.get_mut(&user_id).map(|user| &mut user.kind) {
        human.nick_name = nick;
        human.preferred_language = language;
        human.gender = gender(gender_number);
    }
    Ok(json!({"details": change_details(ctx.estate, &org_id)}))
}

/// `PUT /management/v1/users/{user_id}/email`.
pub(crate) fn update_email(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_WRITE)?;
    let user_id = ctx.param(0);
    user_in_org(ctx, &user_id, &org_id)?;
    let (email, verified) = (get_str(ctx.body, "email")?, get_bool(ctx.body, "isEmailVerified")?);
    ctx.estate.set_user_email(&ctx.editor(), &user_id, &email, verified)?;
    Ok(json!({"details": change_details(ctx.estate, &org_id)}))
}

/// `POST /management/v1/users/{id}/_deactivate`.
pub(crate) fn deactivate_user(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_WRITE)?;
    let user_id = ctx.param(0);
    user_in_org(ctx, &user_id, &org_id)?;
    ctx.estate.deactivate_user(&ctx.editor(), &user_id)?;
    Ok(json!({"details": change_details(ctx.estate, &org_id)}))
}

/// `POST /management/v1/users/{id}/_reactivate`.
pub(crate) fn reactivate_user(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_WRITE)?;
    let user_id = ctx.param(0);
    user_in_org(ctx, &user_id, &org_id)?;
    ctx.estate.reactivate_user(&ctx.editor(), &user_id)?;
    Ok(json!({"details": change_details(ctx.estate, &org_id)}))
}

/// `DELETE /management/v1/users/{id}` (cascades).
pub(crate) fn remove_user(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_DELETE)?;
    let user_id = ctx.param(0);
    user_in_org(ctx, &user_id, &org_id)?;
    ctx.estate.remove_user(&ctx.editor(), &user_id)?;
    Ok(json!({"details": change_details(ctx.estate, &org_id)}))
}

/// `POST /management/v1/users/{user_id}/grants`: on an own project, or on a project granted to the context org.
pub(crate) fn add_user_grant(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_GRANT_WRITE)?;
    let user_id = ctx.param(0);
    let project_id = get_str(ctx.body, "projectId")?;
    let project_grant_id = get_str(ctx.body, "projectGrantId")?;
    let role_keys = get_strings(ctx.body, "roleKeys")?;
    if ctx.estate.user(&user_id).is_none() {
        return Err(ApiError::user_not_found());
    }
    let project_grant = if project_grant_id.is_empty() {
        match ctx.estate.project(&project_id) {
            Some(project) if project.org_id == org_id => None,
            _ => return Err(ApiError::not_found("PROJECT-Bm9sd", "Project not found")),
        }
    } else {
        Some(project_grant_id.as_str())
    };
    let grant_id =
        ctx.estate.add_user_grant(&ctx.editor(), &org_id, &user_id, &project_id, project_grant, role_keys)?;
    Ok(json!({"userGrantId": grant_id, "details": add_details(ctx.estate, &org_id)}))
}

fn grant_of(ctx: &Ctx<'_>, user_id: &str, grant_id: &str, org_id: &str) -> Result<(), ApiError> {
    match ctx.estate.user_grant(grant_id) {
        Some(grant) if grant.user_id == user_id && grant.org_id == org_id => Ok(()),
        _ => Err(ApiError::not_found("COMMAND-4M0fs", "User grant not found")),
    }
}

/// `PUT /management/v1/users/{user_id}/grants/{grant_id}` (replaces the role keys).
pub(crate) fn update_user_grant(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_GRANT_WRITE)?;
    let (user_id, grant_id) = (ctx.param(0), ctx.param(1));
    grant_of(ctx, &user_id, &grant_id, &org_id)?;
    let role_keys = get_strings(ctx.body, "roleKeys")?;
    ctx.estate.update_user_grant(&ctx.editor(), &grant_id, role_keys)?;
    Ok(json!({"details": change_details(ctx.estate, &org_id)}))
}

/// `DELETE /management/v1/users/{user_id}/grants/{grant_id}`.
pub(crate) fn remove_user_grant(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_GRANT_DELETE)?;
    let (user_id, grant_id) = (ctx.param(0), ctx.param(1));
    grant_of(ctx, &user_id, &grant_id, &org_id)?;
    ctx.estate.remove_user_grant(&ctx.editor(), &grant_id)?;
    Ok(json!({"details": change_details(ctx.estate, &org_id)}))
}

/// `POST /management/v1/users/{id}/metadata/{key}` (`{"value": base64}`).
pub(crate) fn set_user_metadata(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let org_id = ctx.context_org(USER_WRITE)?;
    let (user_id, key) = (ctx.param(0), ctx.param(1));
    user_in_org(ctx, &user_id, &org_id)?;
    let value = get_bytes(ctx.body, "value")?;
    ctx.estate.set_user_metadata(&ctx.editor(), &user_id, &key, &value)?;
    Ok(json!({"details": change_details(ctx.estate, &org_id)}))
}

fn details_v2(ctx: &Ctx<'_>, owner: &str) -> Value {
    Obj::new()
        .int64("sequence", ctx.estate.processed_sequence())
        .time("changeDate", ctx.estate.now())
        .string("resourceOwner", owner)
        .build()
}

/// `POST /v2/users/human`: starts ACTIVE; org from `organization.orgId|orgDomain`, else the caller's org.
pub(crate) fn v2_add_human_user(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let body = ctx.body;
    let fallback = empty();
    let organization = get_object(body, "organization")?.unwrap_or(&fallback);
    let (org_id_field, org_domain) = (get_str(organization, "orgId")?, get_str(organization, "orgDomain")?);
    let org_id = if !org_id_field.is_empty() {
        org_id_field
    } else if !org_domain.is_empty() {
        let found = ctx.estate.orgs().find(|org| org.primary_domain == org_domain).map(|org| org.id.clone());
        found.ok_or_else(|| ApiError::not_found("QUERY-iTTGJ", "Organisation not found"))?
    } else {
        ctx.caller.org_id.clone()
    };
    ctx.in_org(USER_WRITE, &org_id)?;
    let profile = get_object(body, "profile")?.unwrap_or(&fallback);
    let email = get_object(body, "email")?.unwrap_or(&fallback);
    let phone = get_object(body, "phone")?.unwrap_or(&fallback);
    let email_address = get_str(email, "email")?;
    let mut user_name = get_str(body, "username")?;
    if user_name.is_empty() {
        user_name.clone_from(&email_address);
    }
    let mut new = NewHumanUser::new(
        &user_name,
        &get_str(profile, "givenName")?,
        &get_str(profile, "familyName")?,
        &email_address,
    );
    new.user_id = Some(get_str(body, "userId")?).filter(|id| !id.is_empty());
    new.nick_name = get_str(profile, "nickName")?;
    let display_name = get_str(profile, "displayName")?;
    if !display_name.is_empty() {
        new.display_name = display_name;
    }
    new.preferred_language = get_str(profile, "preferredLanguage")?;
    new.gender = gender(get_enum(profile, "gender", GENDERS)?);
    new.email_verified = get_bool(email, "isVerified")?;
    new.phone = get_str(phone, "phone")?;
    new.phone_verified = get_bool(phone, "isVerified")?;
    new.state = UserState::Active;
    let return_code = get_object(email, "returnCode")?.is_some();
    let mut metadata = Vec::new();
    for entry in get_list(body, "metadata")? {
        metadata.push((get_str(entry, "key")?, get_bytes(entry, "value")?));
    }
    let editor = ctx.editor();
    let user_id = ctx.estate.add_human_user(&editor, &org_id, new)?;
    for (key, value) in metadata {
        ctx.estate.set_user_metadata(&editor, &user_id, &key, &value)?;
    }
    let mut out = Obj::new().string("userId", &user_id).value("details", details_v2(ctx, &org_id));
    if return_code {
        out = out.string("emailCode", "SIMCODE");
    }
    Ok(out.build())
}

fn v2_target(ctx: &Ctx<'_>, permission: &str) -> Result<(String, String), ApiError> {
    let user_id = ctx.param(0);
    let org_id = ctx.estate.user(&user_id).map(|user| user.org_id.clone()).ok_or_else(ApiError::user_not_found)?;
    ctx.in_org(permission, &org_id)?;
    Ok((user_id, org_id))
}

/// `POST /v2/users/{user_id}/deactivate`.
pub(crate) fn v2_deactivate_user(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let (user_id, org_id) = v2_target(ctx, USER_WRITE)?;
    ctx.estate.deactivate_user(&ctx.editor(), &user_id)?;
    Ok(json!({"details": details_v2(ctx, &org_id)}))
}

/// `POST /v2/users/{user_id}/reactivate`.
pub(crate) fn v2_reactivate_user(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let (user_id, org_id) = v2_target(ctx, USER_WRITE)?;
    ctx.estate.reactivate_user(&ctx.editor(), &user_id)?;
    Ok(json!({"details": details_v2(ctx, &org_id)}))
}

/// `DELETE /v2/users/{user_id}`.
pub(crate) fn v2_delete_user(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let (user_id, org_id) = v2_target(ctx, USER_DELETE)?;
    ctx.estate.remove_user(&ctx.editor(), &user_id)?;
    Ok(json!({"details": details_v2(ctx, &org_id)}))
}

/// `POST /v2/users/{user_id}/metadata` (`{"metadata":[{key, value}]}`).
pub(crate) fn v2_set_user_metadata(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let (user_id, _) = v2_target(ctx, USER_WRITE)?;
    let mut entries = Vec::new();
    for entry in get_list(ctx.body, "metadata")? {
        entries.push((get_str(entry, "key")?, get_bytes(entry, "value")?));
    }
    if entries.is_empty() {
        return Err(ApiError::invalid_argument("META-2m00f", "Metadata is empty"));
    }
    let editor = ctx.editor();
    for (key, value) in entries {
        ctx.estate.set_user_metadata(&editor, &user_id, &key, &value)?;
    }
    Ok(Obj::new().time("setDate", ctx.estate.now()).build())
}
