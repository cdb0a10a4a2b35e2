//! How provider-health records map onto `provider_probe` and `provider_status`: columns, bound values, decoding.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use warden_core::health::{
    Certificate, CertificateUse, Check, HealthStatus, KeySummary, ProbeResult, StatusChange, Target, TargetId,
    TargetKind,
};
use warden_core::id::{EnvironmentName, IdpId, OrgId};
use warden_core::model::{IdpOwner, ProviderType};

use crate::store::Error;
use crate::store::sql::{RowView, SqlValue};

pub(super) const TARGET_COLUMNS: &str = "environment, target_kind, target_id, target_name, target_type, owner_org_id";
pub(super) const PROBE_COLUMNS: &str = "environment, target_kind, target_id, target_name, target_type, owner_org_id, probed_at, \
                             succeeded, latency_ms, checks, certificates, keys_usable, keys_unusable";
/// Values of one `provider_probe` row (the columns of [`PROBE_COLUMNS`]).
pub(super) const PROBE_VALUES: usize = 13;
pub(super) const STATUS_COLUMNS: &str = "environment, target_kind, target_id, target_name, target_type, owner_org_id, at, \
                              from_status, to_status, reasons";

const ZITADEL_KIND: &str = "zitadel";
const PROVIDER_KIND: &str = "identity_provider";

/// A check as stored in `provider_probe.checks`.
#[derive(Serialize, Deserialize)]
struct StoredCheck {
    name: String,
    ok: bool,
    detail: String,
    latency_ms: Option<u64>,
}

/// A certificate as stored in `provider_probe.certificates`.
#[derive(Serialize, Deserialize)]
struct StoredCertificate {
    usage: String,
    source: String,
    subject: String,
    fingerprint: String,
    #[serde(with = "time::serde::rfc3339")]
    not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
}

pub(super) fn text(value: impl Into<String>) -> SqlValue {
    SqlValue::text(value)
}

fn milliseconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// `(target_kind, target_id)` of a target id.
pub(super) fn target_columns(id: &TargetId) -> (&'static str, String) {
    match id {
        TargetId::Zitadel => (ZITADEL_KIND, TargetId::ZITADEL_TEXT.to_owned()),
        TargetId::IdentityProvider(id) => (PROVIDER_KIND, id.to_string()),
    }
}

/// The six target columns' values, in [`TARGET_COLUMNS`] order.
pub(super) fn target_values(target: &Target) -> Vec<SqlValue> {
    let (kind, id) = target_columns(&target.id());
    let owner = match &target.kind {
        TargetKind::IdentityProvider { owner: IdpOwner::Org(org_id), .. } => Some(org_id.to_string()),
        _ => None,
    };
    vec![
        text(target.environment.as_str()),
        text(kind),
        text(id),
        text(target.name.as_str()),
        text(target.type_name()),
        SqlValue::NullableText(owner),
    ]
}

pub(super) fn decode_target(view: &RowView<'_>) -> Result<Target, Error> {
    let name = view.text("environment")?;
    let environment = EnvironmentName::parse(name).map_err(|error| view.corrupt("environment", &error))?;
    let kind = match view.text("target_kind")?.as_str() {
        ZITADEL_KIND => TargetKind::Zitadel,
        PROVIDER_KIND => TargetKind::IdentityProvider {
            id: view.id::<IdpId>("target_id")?,
            provider_type: ProviderType::from_text(&view.text("target_type")?),
            owner: view.optional_id::<OrgId>("owner_org_id")?.map_or(IdpOwner::Instance, IdpOwner::Org),
        },
        other => return Err(view.corrupt("target_kind", &format!("unknown target kind {other}"))),
    };
    Ok(Target { environment, name: view.text("target_name")?, kind })
}

pub(super) fn decode_probe(view: &RowView<'_>) -> Result<ProbeResult, Error> {
    let checks: Vec<StoredCheck> = json_text(view, "checks")?;
    let certificates: Vec<StoredCertificate> = json_text(view, "certificates")?;
    let count = |column: &str| -> Result<Option<u32>, Error> {
        Ok(view.optional_integer(column)?.map(|value| u32::try_from(value).unwrap_or(0)))
    };
    let keys = match (count("keys_usable")?, count("keys_unusable")?) {
        (Some(usable), Some(unusable)) => Some(KeySummary { usable, unusable }),
        _ => None,
    };
    Ok(ProbeResult {
        target: decode_target(view)?,
        probed_at: view.required_time("probed_at")?,
        checks: checks
            .into_iter()
            .map(|check| Check {
                name: check.name,
                ok: check.ok,
                detail: check.detail,
                latency: check.latency_ms.map(Duration::from_millis),
            })
            .collect(),
        certificates: certificates
            .into_iter()
            .map(|certificate| {
                Ok(Certificate {
                    usage: CertificateUse::parse(&certificate.usage)
                        .ok_or_else(|| view.corrupt("certificates", &format!("unknown use {}", certificate.usage)))?,
                    source: certificate.source,
                    subject: certificate.subject,
                    fingerprint: certificate.fingerprint,
                    not_before: certificate.not_before,
                    not_after: certificate.not_after,
                })
            })
            .collect::<Result<_, Error>>()?,
        keys,
    })
}

pub(super) fn probe_values(probe: &ProbeResult) -> Vec<SqlValue> {
    let checks: Vec<StoredCheck> = probe
        .checks
        .iter()
        .map(|check| StoredCheck {
            name: check.name.clone(),
            ok: check.ok,
            detail: check.detail.clone(),
            latency_ms: check.latency.map(|latency| u64::try_from(latency.as_millis()).unwrap_or(u64::MAX)),
        })
        .collect();
    let certificates: Vec<StoredCertificate> = probe
        .certificates
        .iter()
        .map(|certificate| StoredCertificate {
            usage: certificate.usage.as_str().to_owned(),
            source: certificate.source.clone(),
            subject: certificate.subject.clone(),
            fingerprint: certificate.fingerprint.clone(),
            not_before: certificate.not_before,
            not_after: certificate.not_after,
        })
        .collect();
    let mut values = target_values(&probe.target);
    values.extend([
        SqlValue::Time(Some(probe.probed_at)),
        SqlValue::Boolean(probe.succeeded()),
        SqlValue::NullableInteger(probe.latency().map(milliseconds)),
        text(serde_json::to_string(&checks).unwrap_or_else(|_| "[]".to_owned())),
        text(serde_json::to_string(&certificates).unwrap_or_else(|_| "[]".to_owned())),
        SqlValue::NullableInteger(probe.keys.map(|keys| i64::from(keys.usable))),
        SqlValue::NullableInteger(probe.keys.map(|keys| i64::from(keys.unusable))),
    ]);
    values
}

pub(super) fn status(view: &RowView<'_>, column: &str) -> Result<HealthStatus, Error> {
    let text = view.text(column)?;
    HealthStatus::parse(&text).ok_or_else(|| view.corrupt(column, &format!("unknown status {text}")))
}

pub(super) fn decode_status_change(view: &RowView<'_>) -> Result<StatusChange, Error> {
    Ok(StatusChange {
        target: decode_target(view)?,
        from: status(view, "from_status")?,
        to: status(view, "to_status")?,
        at: view.required_time("at")?,
        reasons: json_text(view, "reasons")?,
    })
}

/// A JSON text column decoded as `T` (stored as text on both dialects, like findings' evidence).
fn json_text<T: serde::de::DeserializeOwned>(view: &RowView<'_>, column: &str) -> Result<T, Error> {
    serde_json::from_str(&view.text(column)?).map_err(|error| view.corrupt(column, &error))
}
