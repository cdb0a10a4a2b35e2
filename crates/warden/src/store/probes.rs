//! Provider health records: every probe of a target (ZITADEL itself or an identity provider) and each target's
//! status history. The judging is `warden_core::health`'s; this module only stores what it is given.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sqlx::QueryBuilder;
use time::OffsetDateTime;
use warden_core::health::{
    Certificate, CertificateUse, Check, HealthStatus, KeySummary, ProbeResult, StatusChange, Target, TargetId,
    TargetKey, TargetKind,
};
use warden_core::id::{EnvironmentName, IdpId, OrgId};
use warden_core::model::{IdpOwner, ProviderType};

use crate::store::Error;
use crate::store::sql::{Dialect, RowView, SqlStore, SqlValue};

/// Probe results and status changes of provider health.
#[async_trait]
pub trait ProbeStore: Send + Sync {
    /// Appends probe results in one transaction.
    async fn record_probes(&self, probes: &[ProbeResult]) -> Result<(), Error>;
    /// The newest `per_target` probes of every target of an environment: per target (in target order) newest
    /// first. What `warden_core::health::evaluate_all` reads, with `per_target` its window.
    async fn latest_probes(&self, environment: &EnvironmentName, per_target: u32) -> Result<Vec<ProbeResult>, Error>;
    /// One target's probes, newest first, at most `limit`.
    async fn probe_history(&self, target: &TargetKey, limit: u32) -> Result<Vec<ProbeResult>, Error>;
    /// Deletes the probes made before `before` (the status history stays); returns how many.
    async fn prune_probes(&self, before: OffsetDateTime) -> Result<u64, Error>;

    /// Appends status changes in one transaction.
    async fn record_status_changes(&self, changes: &[StatusChange]) -> Result<(), Error>;
    /// Every target's current status (the last change recorded for it), for `warden_core::health::status_change`.
    async fn current_statuses(&self, environment: &EnvironmentName)
    -> Result<BTreeMap<TargetKey, HealthStatus>, Error>;
    /// Status changes of an environment (of one target, if given), newest first, at most `limit`.
    async fn status_history(
        &self,
        environment: &EnvironmentName,
        target: Option<&TargetId>,
        limit: u32,
    ) -> Result<Vec<StatusChange>, Error>;
}

const TARGET_COLUMNS: &str = "environment, target_kind, target_id, target_name, target_type, owner_org_id";
const PROBE_COLUMNS: &str = "environment, target_kind, target_id, target_name, target_type, owner_org_id, probed_at, \
                             succeeded, latency_ms, checks, certificates, keys_usable, keys_unusable";
/// Values of one `provider_probe` row (the columns of [`PROBE_COLUMNS`]).
const PROBE_VALUES: usize = 13;
const STATUS_COLUMNS: &str = "environment, target_kind, target_id, target_name, target_type, owner_org_id, at, \
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

/// A statement from SQL with `?` placeholders and the values for them, in order.
fn statement<D: Dialect>(sql: &str, values: Vec<SqlValue>) -> QueryBuilder<D> {
    let mut parts = sql.split('?');
    let mut builder = QueryBuilder::<D>::new(parts.next().unwrap_or_default());
    debug_assert_eq!(sql.matches('?').count(), values.len(), "{sql}");
    for (value, part) in values.into_iter().zip(parts) {
        D::bind(&mut builder, value);
        builder.push(part);
    }
    builder
}

fn text(value: impl Into<String>) -> SqlValue {
    SqlValue::text(value)
}

fn milliseconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// `(target_kind, target_id)` of a target id.
fn target_columns(id: &TargetId) -> (&'static str, String) {
    match id {
        TargetId::Zitadel => (ZITADEL_KIND, TargetId::ZITADEL_TEXT.to_owned()),
        TargetId::IdentityProvider(id) => (PROVIDER_KIND, id.to_string()),
    }
}

/// The six target columns' values, in [`TARGET_COLUMNS`] order.
fn target_values(target: &Target) -> Vec<SqlValue> {
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

fn decode_target(view: &RowView<'_>) -> Result<Target, Error> {
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

fn decode_probe(view: &RowView<'_>) -> Result<ProbeResult, Error> {
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

fn probe_values(probe: &ProbeResult) -> Vec<SqlValue> {
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

fn status(view: &RowView<'_>, column: &str) -> Result<HealthStatus, Error> {
    let text = view.text(column)?;
    HealthStatus::parse(&text).ok_or_else(|| view.corrupt(column, &format!("unknown status {text}")))
}

fn decode_status_change(view: &RowView<'_>) -> Result<StatusChange, Error> {
    Ok(StatusChange {
        target: decode_target(view)?,
        from: status(view, "from_status")?,
        to: status(view, "to_status")?,
        at: view.required_time("at")?,
        reasons: json_text(view, "reasons")?,
    })
}

/// The environment of the first row of a write, for a foreign-key violation's error.
fn unknown_environment(environment: Option<&EnvironmentName>) -> impl Fn(sqlx::Error) -> Error + '_ {
    move |error| match (&error, environment) {
        (sqlx::Error::Database(database), Some(environment)) if database.is_foreign_key_violation() => {
            Error::UnknownEnvironment(environment.clone())
        }
        _ => Error::Database(error),
    }
}

/// A JSON text column decoded as `T` (stored as text on both dialects, like findings' evidence).
fn json_text<T: serde::de::DeserializeOwned>(view: &RowView<'_>, column: &str) -> Result<T, Error> {
    serde_json::from_str(&view.text(column)?).map_err(|error| view.corrupt(column, &error))
}

#[async_trait]
impl<D: Dialect> ProbeStore for SqlStore<D> {
    async fn record_probes(&self, probes: &[ProbeResult]) -> Result<(), Error> {
        if probes.is_empty() {
            return Ok(());
        }
        let mut transaction = self.pool.begin().await?;
        // 13 values a row: a few hundred rows a statement stay below either dialect's parameter limit.
        let row = format!("({})", vec!["?"; PROBE_VALUES].join(", "));
        for chunk in probes.chunks((D::MAX_PARAMETERS / PROBE_VALUES).clamp(1, 500)) {
            let sql = format!(
                "INSERT INTO provider_probe ({PROBE_COLUMNS}) VALUES {}",
                vec![row.as_str(); chunk.len()].join(", ")
            );
            let values = chunk.iter().flat_map(probe_values).collect();
            let mut builder = statement::<D>(&sql, values);
            D::execute(&mut transaction, &mut builder)
                .await
                .map_err(unknown_environment(chunk.first().map(|probe| &probe.target.environment)))?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn latest_probes(&self, environment: &EnvironmentName, per_target: u32) -> Result<Vec<ProbeResult>, Error> {
        let mut builder = statement::<D>(
            &format!(
                "SELECT {PROBE_COLUMNS} FROM (\
                   SELECT {PROBE_COLUMNS}, id, ROW_NUMBER() OVER (\
                     PARTITION BY target_kind, target_id ORDER BY probed_at DESC, id DESC) AS position \
                   FROM provider_probe WHERE environment = ?) AS ranked \
                 WHERE position <= ? \
                 ORDER BY target_kind DESC, target_id{order}, probed_at DESC, id DESC",
                order = D::BINARY_ORDER
            ),
            vec![text(environment.as_str()), SqlValue::Integer(i64::from(per_target))],
        );
        let mut connection = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut connection, &mut builder).await?;
        rows.iter().map(|row| decode_probe(&RowView { table: "provider_probe", row })).collect()
    }

    async fn probe_history(&self, target: &TargetKey, limit: u32) -> Result<Vec<ProbeResult>, Error> {
        let (kind, id) = target_columns(&target.id);
        let mut builder = statement::<D>(
            &format!(
                "SELECT {PROBE_COLUMNS} FROM provider_probe \
                 WHERE environment = ? AND target_kind = ? AND target_id = ? \
                 ORDER BY probed_at DESC, id DESC LIMIT ?"
            ),
            vec![text(target.environment.as_str()), text(kind), text(id), SqlValue::Integer(i64::from(limit))],
        );
        let mut connection = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut connection, &mut builder).await?;
        rows.iter().map(|row| decode_probe(&RowView { table: "provider_probe", row })).collect()
    }

    async fn prune_probes(&self, before: OffsetDateTime) -> Result<u64, Error> {
        let mut builder =
            statement::<D>("DELETE FROM provider_probe WHERE probed_at < ?", vec![SqlValue::Time(Some(before))]);
        let mut connection = self.pool.acquire().await?;
        Ok(D::execute(&mut connection, &mut builder).await?)
    }

    async fn record_status_changes(&self, changes: &[StatusChange]) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        for change in changes {
            let mut values = target_values(&change.target);
            values.extend([
                SqlValue::Time(Some(change.at)),
                text(change.from.as_str()),
                text(change.to.as_str()),
                text(serde_json::to_string(&change.reasons).unwrap_or_else(|_| "[]".to_owned())),
            ]);
            let mut builder = statement::<D>(
                &format!("INSERT INTO provider_status ({STATUS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                values,
            );
            D::execute(&mut transaction, &mut builder)
                .await
                .map_err(unknown_environment(Some(&change.target.environment)))?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn current_statuses(
        &self,
        environment: &EnvironmentName,
    ) -> Result<BTreeMap<TargetKey, HealthStatus>, Error> {
        let mut builder = statement::<D>(
            &format!(
                "SELECT {TARGET_COLUMNS}, to_status FROM (\
                   SELECT {TARGET_COLUMNS}, to_status, ROW_NUMBER() OVER (\
                     PARTITION BY target_kind, target_id ORDER BY at DESC, id DESC) AS position \
                   FROM provider_status WHERE environment = ?) AS ranked \
                 WHERE position = 1"
            ),
            vec![text(environment.as_str())],
        );
        let mut connection = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut connection, &mut builder).await?;
        let mut statuses = BTreeMap::new();
        for row in &rows {
            let view = RowView { table: "provider_status", row };
            statuses.insert(decode_target(&view)?.key(), status(&view, "to_status")?);
        }
        Ok(statuses)
    }

    async fn status_history(
        &self,
        environment: &EnvironmentName,
        target: Option<&TargetId>,
        limit: u32,
    ) -> Result<Vec<StatusChange>, Error> {
        let mut sql = format!("SELECT {STATUS_COLUMNS} FROM provider_status WHERE environment = ?");
        let mut values = vec![text(environment.as_str())];
        if let Some(target) = target {
            let (kind, id) = target_columns(target);
            sql.push_str(" AND target_kind = ? AND target_id = ?");
            values.extend([text(kind), text(id)]);
        }
        sql.push_str(" ORDER BY at DESC, id DESC LIMIT ?");
        values.push(SqlValue::Integer(i64::from(limit)));
        let mut builder = statement::<D>(&sql, values);
        let mut connection = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut connection, &mut builder).await?;
        rows.iter().map(|row| decode_status_change(&RowView { table: "provider_status", row })).collect()
    }
}
