//! The HTTP control API under `/__sim/` (mirrors [`Control`](super::Control) for the binary).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Json, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::control::Control;
use super::{Fault, FaultKind, Shared};
use crate::estate::{Estate, EstateError, NO_EXPIRY};

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/faults", post(add_fault).delete(clear_faults))
        .route("/requests", get(requests).delete(reset_requests))
        .route("/anomalies", get(anomalies))
        .route("/counts", get(counts))
        .route("/latency", post(set_latency))
        .route("/pats", post(register_pat))
        .route("/mutations", post(mutations))
        .route("/now", post(set_now))
        .route("/service-account", get(service_account))
}

fn control(shared: Arc<Shared>) -> Control {
    Control { shared }
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
enum FaultKindBody {
    Status(u16),
    LatencyMillis(u64),
    Hang,
    TruncatedBody,
    RateLimited {
        #[serde(rename = "retryAfterSeconds", default)]
        retry_after_seconds: u64,
    },
}

/// `{"route","orgId"?,"kind":{"status":503}|{"latencyMillis":N}|"hang"|"truncatedBody"|{"rateLimited":{"retryAfterSeconds":N}},"skip"?,"times"?}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FaultBody {
    route: String,
    #[serde(default)]
    org_id: Option<String>,
    kind: FaultKindBody,
    #[serde(default)]
    skip: u32,
    #[serde(default)]
    times: Option<u32>,
}

async fn add_fault(State(shared): State<Arc<Shared>>, body: Result<Json<FaultBody>, JsonRejection>) -> Response {
    let body = match body {
        Ok(Json(body)) => body,
        Err(rejection) => return bad_request(&rejection.body_text()),
    };
    let kind = match body.kind {
        FaultKindBody::Status(status) => FaultKind::Status(status),
        FaultKindBody::LatencyMillis(millis) => FaultKind::Latency(Duration::from_millis(millis)),
        FaultKindBody::Hang => FaultKind::Hang,
        FaultKindBody::TruncatedBody => FaultKind::TruncatedBody,
        FaultKindBody::RateLimited { retry_after_seconds } => FaultKind::RateLimited { retry_after_seconds },
    };
    control(shared).add_fault(Fault {
        route: body.route,
        org_id: body.org_id,
        kind,
        skip: body.skip,
        times: body.times,
    });
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    control(shared).clear_faults();
    StatusCode::NO_CONTENT
}

async fn requests(State(shared): State<Arc<Shared>>) -> Response {
    let control = control(shared);
    Json(json!({"total": control.total_requests(), "counts": control.request_counts()})).into_response()
}

async fn reset_requests(State(shared): State<Arc<Shared>>) -> StatusCode {
    control(shared).reset_request_counts();
    StatusCode::NO_CONTENT
}

async fn anomalies(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({"anomalies": control(shared).seeded_anomalies()})).into_response()
}

async fn counts(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!(control(shared).counts())).into_response()
}

async fn service_account(State(shared): State<Arc<Shared>>) -> Response {
    let key: serde_json::Value = serde_json::from_str(&control(shared).service_account_key_json()).unwrap_or_default();
    Json(key).into_response()
}

#[derive(Debug, Deserialize)]
struct LatencyBody {
    millis: u64,
}

async fn set_latency(State(shared): State<Arc<Shared>>, body: Result<Json<LatencyBody>, JsonRejection>) -> Response {
    match body {
        Ok(Json(body)) => {
            control(shared).set_latency(Duration::from_millis(body.millis));
            StatusCode::NO_CONTENT.into_response()
        }
        Err(rejection) => bad_request(&rejection.body_text()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatBody {
    token: String,
    user_id: String,
}

async fn register_pat(State(shared): State<Arc<Shared>>, body: Result<Json<PatBody>, JsonRejection>) -> Response {
    match body {
        Ok(Json(body)) => {
            control(shared).register_pat(body.token, &body.user_id);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(rejection) => bad_request(&rejection.body_text()),
    }
}

#[derive(Debug, Deserialize)]
struct NowBody {
    now: String,
}

async fn set_now(State(shared): State<Arc<Shared>>, body: Result<Json<NowBody>, JsonRejection>) -> Response {
    let body = match body {
        Ok(Json(body)) => body,
        Err(rejection) => return bad_request(&rejection.body_text()),
    };
    match OffsetDateTime::parse(&body.now, &Rfc3339) {
        Ok(now) => {
            control(shared).set_now(now);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => bad_request(&format!("now: {error}")),
    }
}

/// One mutation of `POST /__sim/mutations` (`{"op":"addMachineUser",...}`).
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", rename_all_fields = "camelCase")]
enum MutationOp {
    AddMachineUser {
        #[serde(default)]
        org_id: Option<String>,
        user_name: String,
        #[serde(default)]
        name: String,
        #[serde(default)]
        description: String,
    },
    RemoveProjectRole {
        project_id: String,
        key: String,
    },
    SetUserEmail {
        user_id: String,
        email: String,
        #[serde(default)]
        verified: bool,
    },
    AddMachineKey {
        user_id: String,
        #[serde(default)]
        expiration: Option<String>,
        #[serde(default)]
        expires_in_days: Option<i64>,
    },
    DeactivateUser {
        user_id: String,
    },
    RemoveProject {
        project_id: String,
    },
    AdvanceClock {
        seconds: i64,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MutationRequest {
    #[serde(default)]
    editor_id: Option<String>,
    ops: Vec<MutationOp>,
}

/// Either a bare list of ops (editor = the `warden` user) or `{"editorId", "ops"}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum MutationBody {
    Ops(Vec<MutationOp>),
    Request(MutationRequest),
}

fn apply(estate: &mut Estate, editor: &str, op: MutationOp) -> Result<String, String> {
    let failed = |error: EstateError| error.to_string();
    match op {
        MutationOp::AddMachineUser { org_id, user_name, name, description } => {
            let org_id = org_id.unwrap_or_else(|| estate.platform_org_id().to_string());
            let name = if name.is_empty() { user_name.clone() } else { name };
            estate.add_machine_user(editor, &org_id, &user_name, &name, &description).map_err(failed)
        }
        MutationOp::RemoveProjectRole { project_id, key } => {
            estate.remove_project_role(editor, &project_id, &key).map(|()| key).map_err(failed)
        }
        MutationOp::SetUserEmail { user_id, email, verified } => {
            estate.set_user_email(editor, &user_id, &email, verified).map(|()| user_id).map_err(failed)
        }
        MutationOp::AddMachineKey { user_id, expiration, expires_in_days } => {
            let expiration = match (expiration, expires_in_days) {
                (Some(text), _) => {
                    OffsetDateTime::parse(&text, &Rfc3339).map_err(|error| format!("expiration: {error}"))?
                }
                (None, Some(days)) => estate.now() + time::Duration::days(days),
                (None, None) => NO_EXPIRY,
            };
            estate.add_machine_key(editor, &user_id, expiration).map_err(failed)
        }
        MutationOp::DeactivateUser { user_id } => {
            estate.deactivate_user(editor, &user_id).map(|()| user_id).map_err(failed)
        }
        MutationOp::RemoveProject { project_id } => {
            estate.remove_project(editor, &project_id).map(|()| project_id).map_err(failed)
        }
        MutationOp::AdvanceClock { seconds } => {
            estate.advance(time::Duration::seconds(seconds));
            Ok(crate::json::format_timestamp(estate.now()))
        }
    }
}

async fn mutations(State(shared): State<Arc<Shared>>, body: Result<Json<MutationBody>, JsonRejection>) -> Response {
    let body = match body {
        Ok(Json(body)) => body,
        Err(rejection) => return bad_request(&rejection.body_text()),
    };
    let (editor, ops) = match body {
        MutationBody::Ops(ops) => (None, ops),
        MutationBody::Request(request) => (request.editor_id, request.ops),
    };
    let results = control(shared).with_estate(|estate| {
        let editor = editor.unwrap_or_else(|| estate.warden_user_id().to_string());
        ops.into_iter()
            .map(|op| match apply(estate, &editor, op) {
                Ok(id) => json!({"ok": true, "id": id}),
                Err(error) => json!({"ok": false, "error": error}),
            })
            .collect::<Vec<_>>()
    });
    Json(json!({"results": results})).into_response()
}
