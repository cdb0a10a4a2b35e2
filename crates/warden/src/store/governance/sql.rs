//! The SQL of [`GovernanceStore`]. The decisions are `warden_core::governance`'s; this module only stores them.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use time::OffsetDateTime;
use warden_core::governance::{
    Alert, AlertAction, AlertEvent, AlertPlan, AlertStatus, FindingsDelta, Suppression, TrackedFinding, dedupe_key,
    next_status,
};
use warden_core::id::{EnvironmentName, SyncRunId};
use warden_core::posture::Finding;
use warden_core::trend::TrendPoint;

use crate::store::governance::rows::{
    ALERT_COLUMNS, FINDING_COLUMNS, NOTIFICATION_COLUMNS, SUPPRESSION_COLUMNS, decode_alert, decode_alert_event,
    decode_audit_event, decode_finding, decode_notification, decode_suppression, decode_trend_point, finding_key, text,
    time,
};
use crate::store::sql::{Dialect, On, SqlValue, execute, fetch_all, fetch_one, fetch_optional, statement};
use crate::store::sql_store::SqlStore;
use crate::store::{
    AuditEvent, DeliveryAttempt, DeliveryStatus, Error, GovernanceStore, NewNotification, Notification, WARDEN_OPERATOR,
};

impl<D: Dialect> SqlStore<D> {
    async fn audit(
        connection: &mut D::Connection,
        operator: &str,
        action: &str,
        target: &str,
        details: serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let mut builder = statement::<D>(
            "INSERT INTO audit_event (at, operator, action, target, details) VALUES (?, ?, ?, ?, ?)",
            vec![time(now), text(operator), text(action), text(target), text(details.to_string())],
        );
        execute(connection, &mut builder).await?;
        Ok(())
    }

    async fn alert_event(connection: &mut D::Connection, event: &AlertEvent) -> Result<(), Error> {
        let mut builder = statement::<D>(
            "INSERT INTO alert_event (alert_id, at, operator, action, from_status, to_status, note) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                SqlValue::Integer(event.alert_id),
                time(event.at),
                text(event.operator.as_str()),
                text(event.action.as_str()),
                SqlValue::NullableText(event.from_status.as_ref().map(|status| status.as_str().to_owned())),
                text(event.to_status.as_str()),
                SqlValue::NullableText(event.note.clone()),
            ],
        );
        execute(connection, &mut builder).await?;
        Ok(())
    }

    async fn fetch_alert(on: impl Into<On<'_, D>>, id: i64) -> Result<Alert, Error> {
        let mut builder =
            statement::<D>(&format!("SELECT {ALERT_COLUMNS} FROM alert WHERE id = ?"), vec![SqlValue::Integer(id)]);
        fetch_optional(on, &mut builder, "alert", decode_alert).await?.ok_or(Error::UnknownAlert(id))
    }

    async fn fetch_suppression(on: impl Into<On<'_, D>>, id: i64) -> Result<Suppression, Error> {
        let mut builder = statement::<D>(
            &format!("SELECT {SUPPRESSION_COLUMNS} FROM suppression WHERE id = ?"),
            vec![SqlValue::Integer(id)],
        );
        fetch_optional(on, &mut builder, "suppression", decode_suppression).await?.ok_or(Error::UnknownSuppression(id))
    }
}

#[async_trait]
impl<D: Dialect> GovernanceStore for SqlStore<D> {
    async fn record_findings(
        &self,
        environment: &EnvironmentName,
        findings: &[Finding],
        now: OffsetDateTime,
    ) -> Result<FindingsDelta, Error> {
        let mut transaction = self.pool.begin().await?;
        let mut builder = statement::<D>(
            &format!("SELECT {FINDING_COLUMNS} FROM finding WHERE environment = ?"),
            vec![text(environment.as_str())],
        );
        let stored: BTreeMap<(String, String, String), TrackedFinding> =
            fetch_all(&mut *transaction, &mut builder, "finding", decode_finding)
                .await?
                .into_iter()
                .map(|tracked| (finding_key(&tracked.finding), tracked))
                .collect();
        let mut delta = FindingsDelta::default();
        let mut seen = BTreeSet::new();
        for finding in findings {
            let key = finding_key(finding);
            if !seen.insert(key.clone()) {
                continue;
            }
            let evidence = serde_json::to_string(&finding.evidence).unwrap_or_else(|_| "[]".to_owned());
            let description = vec![
                text(finding.subject.name.as_str()),
                SqlValue::NullableText(finding.subject.org_id.as_ref().map(ToString::to_string)),
                text(finding.severity.as_str()),
                text(finding.message.as_str()),
                text(evidence),
                text(finding.remediation),
            ];
            let (first_seen, opened) = match stored.get(&key) {
                Some(tracked) if tracked.resolved_at.is_none() => (tracked.first_seen, false),
                _ => (now, true),
            };
            let mut values = vec![text(environment.as_str()), text(key.0), text(key.1), text(key.2)];
            values.extend(description);
            values.extend([time(first_seen), time(now)]);
            let mut builder = statement::<D>(
                &format!(
                    "INSERT INTO finding ({FINDING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) \
                     ON CONFLICT (environment, rule, subject_kind, subject_id) DO UPDATE SET \
                     subject_name = excluded.subject_name, org_id = excluded.org_id, severity = excluded.severity, \
                     message = excluded.message, evidence = excluded.evidence, remediation = excluded.remediation, \
                     first_seen = excluded.first_seen, last_seen = excluded.last_seen, resolved_at = NULL"
                ),
                values,
            );
            execute(&mut *transaction, &mut builder).await?;
            if opened {
                delta.opened.push(TrackedFinding {
                    finding: finding.clone(),
                    first_seen: now,
                    last_seen: now,
                    resolved_at: None,
                });
            }
        }
        for (key, tracked) in stored {
            if tracked.resolved_at.is_some() || seen.contains(&key) {
                continue;
            }
            let mut builder = statement::<D>(
                "UPDATE finding SET resolved_at = ? \
                 WHERE environment = ? AND rule = ? AND subject_kind = ? AND subject_id = ?",
                vec![time(now), text(environment.as_str()), text(key.0), text(key.1), text(key.2)],
            );
            execute(&mut *transaction, &mut builder).await?;
            delta.resolved.push(TrackedFinding { resolved_at: Some(now), ..tracked });
        }
        transaction.commit().await?;
        Ok(delta)
    }

    async fn list_findings(
        &self,
        environment: Option<&EnvironmentName>,
        include_resolved: bool,
    ) -> Result<Vec<TrackedFinding>, Error> {
        let mut sql = format!("SELECT {FINDING_COLUMNS} FROM finding WHERE 1 = 1");
        let mut values = Vec::new();
        if let Some(environment) = environment {
            sql.push_str(" AND environment = ?");
            values.push(text(environment.as_str()));
        }
        if !include_resolved {
            sql.push_str(" AND resolved_at IS NULL");
        }
        let mut builder = statement::<D>(&sql, values);
        let mut findings = fetch_all(&self.pool, &mut builder, "finding", decode_finding).await?;
        findings.sort_by(|a, b| {
            b.finding
                .severity
                .cmp(&a.finding.severity)
                .then_with(|| a.finding.rule.cmp(b.finding.rule))
                .then_with(|| a.finding.environment.cmp(&b.finding.environment))
                .then_with(|| a.finding.subject.cmp(&b.finding.subject))
        });
        Ok(findings)
    }

    async fn add_suppression(&self, suppression: &Suppression) -> Result<Suppression, Error> {
        let mut transaction = self.pool.begin().await?;
        let mut builder = statement::<D>(
            "INSERT INTO suppression (environment, rule, subject_id, reason, created_by, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            vec![
                SqlValue::NullableText(suppression.environment.as_ref().map(ToString::to_string)),
                text(suppression.rule.as_str()),
                SqlValue::NullableText(suppression.subject_id.clone()),
                text(suppression.reason.as_str()),
                text(suppression.created_by.as_str()),
                time(suppression.created_at),
                SqlValue::Time(suppression.expires_at),
            ],
        );
        let id = fetch_one(&mut *transaction, &mut builder, "suppression", |row| row.integer("id")).await.map_err(
            |error| match (&error, &suppression.environment) {
                (Error::Database(sqlx::Error::Database(database)), Some(environment))
                    if database.is_foreign_key_violation() =>
                {
                    Error::UnknownEnvironment(environment.clone())
                }
                _ => error,
            },
        )?;
        let details = serde_json::json!({
            "rule": suppression.rule,
            "environment": suppression.environment.as_ref().map(ToString::to_string),
            "subject_id": suppression.subject_id,
            "reason": suppression.reason,
            "expires_at": suppression.expires_at.map(|time| time.to_string()),
        });
        let target = format!("suppression/{id}");
        Self::audit(
            &mut transaction,
            &suppression.created_by,
            "suppression.add",
            &target,
            details,
            suppression.created_at,
        )
        .await?;
        transaction.commit().await?;
        Ok(Suppression { id, ..suppression.clone() })
    }

    async fn lift_suppression(&self, id: i64, operator: &str, now: OffsetDateTime) -> Result<Suppression, Error> {
        let mut transaction = self.pool.begin().await?;
        let before = Self::fetch_suppression(&mut *transaction, id).await?;
        if before.lifted_at.is_some() {
            return Ok(before);
        }
        let mut builder = statement::<D>(
            "UPDATE suppression SET lifted_by = ?, lifted_at = ? WHERE id = ?",
            vec![text(operator), time(now), SqlValue::Integer(id)],
        );
        execute(&mut *transaction, &mut builder).await?;
        let details = serde_json::json!({ "rule": before.rule, "reason": before.reason });
        Self::audit(&mut transaction, operator, "suppression.lift", &format!("suppression/{id}"), details, now).await?;
        transaction.commit().await?;
        Ok(Suppression { lifted_by: Some(operator.to_owned()), lifted_at: Some(now), ..before })
    }

    async fn list_suppressions(&self) -> Result<Vec<Suppression>, Error> {
        let mut builder =
            statement::<D>(&format!("SELECT {SUPPRESSION_COLUMNS} FROM suppression ORDER BY id DESC"), Vec::new());
        fetch_all(&self.pool, &mut builder, "suppression", decode_suppression).await
    }

    async fn insert_trend_points(&self, run: SyncRunId, points: &[TrendPoint]) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        for point in points {
            let mut builder = statement::<D>(
                "INSERT INTO trend_point (environment, run_id, at, org_id, machine_users, human_users, user_grants, \
                 findings) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    text(point.environment.as_str()),
                    SqlValue::Integer(run.0),
                    time(point.at),
                    text(point.org_id.as_ref().map(ToString::to_string).unwrap_or_default()),
                    SqlValue::Integer(i64::try_from(point.machine_users).unwrap_or(i64::MAX)),
                    SqlValue::Integer(i64::try_from(point.human_users).unwrap_or(i64::MAX)),
                    SqlValue::Integer(i64::try_from(point.user_grants).unwrap_or(i64::MAX)),
                    SqlValue::Integer(i64::try_from(point.findings).unwrap_or(i64::MAX)),
                ],
            );
            execute(&mut *transaction, &mut builder).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn list_trend_points(
        &self,
        environment: &EnvironmentName,
        since: Option<OffsetDateTime>,
    ) -> Result<Vec<TrendPoint>, Error> {
        let mut sql = "SELECT environment, at, org_id, machine_users, human_users, user_grants, findings \
                       FROM trend_point WHERE environment = ?"
            .to_owned();
        let mut values = vec![text(environment.as_str())];
        if let Some(since) = since {
            sql.push_str(" AND at >= ?");
            values.push(time(since));
        }
        sql.push_str(" ORDER BY at, org_id");
        let mut builder = statement::<D>(&sql, values);
        fetch_all(&self.pool, &mut builder, "trend_point", decode_trend_point).await
    }

    async fn apply_alert_plan(
        &self,
        environment: &EnvironmentName,
        plan: &AlertPlan,
        now: OffsetDateTime,
    ) -> Result<(Vec<Alert>, Vec<Alert>), Error> {
        let mut transaction = self.pool.begin().await?;
        let mut opened = Vec::new();
        for finding in &plan.open {
            let mut builder = statement::<D>(
                "INSERT INTO alert (dedupe_key, environment, rule, severity, subject_kind, subject_id, subject_name, \
                 org_id, message, status, opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (dedupe_key) WHERE status <> 'resolved' DO NOTHING RETURNING id",
                vec![
                    text(dedupe_key(finding)),
                    text(environment.as_str()),
                    text(finding.rule),
                    text(finding.severity.as_str()),
                    text(finding.subject.kind.as_str()),
                    text(finding.subject.id.as_str()),
                    text(finding.subject.name.as_str()),
                    SqlValue::NullableText(finding.subject.org_id.as_ref().map(ToString::to_string)),
                    text(finding.message.as_str()),
                    text(AlertStatus::Open.as_str()),
                    time(now),
                    time(now),
                ],
            );
            let opened_id = fetch_optional(&mut *transaction, &mut builder, "alert", |row| row.integer("id")).await?;
            let Some(id) = opened_id else { continue };
            let event = AlertEvent {
                alert_id: id,
                at: now,
                operator: WARDEN_OPERATOR.to_owned(),
                action: "opened".to_owned(),
                from_status: None,
                to_status: AlertStatus::Open,
                note: None,
            };
            Self::alert_event(&mut transaction, &event).await?;
            opened.push(Self::fetch_alert(&mut *transaction, id).await?);
        }
        let mut resolved = Vec::new();
        for (id, reason) in &plan.resolve {
            let before = Self::fetch_alert(&mut *transaction, *id).await?;
            if before.status == AlertStatus::Resolved {
                continue;
            }
            let mut builder = statement::<D>(
                "UPDATE alert SET status = ?, updated_at = ?, resolved_at = ?, resolution = ? WHERE id = ?",
                vec![
                    text(AlertStatus::Resolved.as_str()),
                    time(now),
                    time(now),
                    text(reason.as_str()),
                    SqlValue::Integer(*id),
                ],
            );
            execute(&mut *transaction, &mut builder).await?;
            let event = AlertEvent {
                alert_id: *id,
                at: now,
                operator: WARDEN_OPERATOR.to_owned(),
                action: "resolved".to_owned(),
                from_status: Some(before.status.clone()),
                to_status: AlertStatus::Resolved,
                note: Some(reason.clone()),
            };
            Self::alert_event(&mut transaction, &event).await?;
            resolved.push(Self::fetch_alert(&mut *transaction, *id).await?);
        }
        transaction.commit().await?;
        Ok((opened, resolved))
    }

    async fn list_alerts(&self, status: Option<&AlertStatus>) -> Result<Vec<Alert>, Error> {
        let mut builder = match status {
            Some(status) => statement::<D>(
                &format!("SELECT {ALERT_COLUMNS} FROM alert WHERE status = ? ORDER BY id DESC"),
                vec![text(status.as_str())],
            ),
            None => statement::<D>(
                &format!("SELECT {ALERT_COLUMNS} FROM alert WHERE status <> 'resolved' ORDER BY id DESC"),
                Vec::new(),
            ),
        };
        fetch_all(&self.pool, &mut builder, "alert", decode_alert).await
    }

    async fn get_alert(&self, id: i64) -> Result<Alert, Error> {
        Self::fetch_alert(&self.pool, id).await
    }

    async fn act_on_alert(
        &self,
        id: i64,
        action: &AlertAction,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<Alert, Error> {
        let mut transaction = self.pool.begin().await?;
        let before = Self::fetch_alert(&mut *transaction, id).await?;
        let after = next_status(&before.status, action).map_err(|error| Error::Refused(error.to_string()))?;
        let (note, resolution) = match action {
            AlertAction::Acknowledge => (None, None),
            AlertAction::Resolve { reason } => (Some(reason.clone()), Some(reason.clone())),
            AlertAction::Note { text } => (Some(text.clone()), None),
        };
        if after != before.status {
            let resolved_at = (after == AlertStatus::Resolved).then_some(now);
            let mut builder = statement::<D>(
                "UPDATE alert SET status = ?, updated_at = ?, resolved_at = ?, resolution = ? WHERE id = ?",
                vec![
                    text(after.as_str()),
                    time(now),
                    SqlValue::Time(resolved_at),
                    SqlValue::NullableText(resolution),
                    SqlValue::Integer(id),
                ],
            );
            execute(&mut *transaction, &mut builder).await?;
        }
        let event = AlertEvent {
            alert_id: id,
            at: now,
            operator: operator.to_owned(),
            action: action.name().to_owned(),
            from_status: Some(before.status.clone()),
            to_status: after.clone(),
            note: note.clone(),
        };
        Self::alert_event(&mut transaction, &event).await?;
        let details = serde_json::json!({ "from": before.status.as_str(), "to": after.as_str(), "note": note });
        Self::audit(
            &mut transaction,
            operator,
            &format!("alert.{}", action.name()),
            &format!("alert/{id}"),
            details,
            now,
        )
        .await?;
        let alert = Self::fetch_alert(&mut *transaction, id).await?;
        transaction.commit().await?;
        Ok(alert)
    }

    async fn alert_events(&self, id: i64) -> Result<Vec<AlertEvent>, Error> {
        let mut builder = statement::<D>(
            "SELECT alert_id, at, operator, action, from_status, to_status, note FROM alert_event \
             WHERE alert_id = ? ORDER BY at, id",
            vec![SqlValue::Integer(id)],
        );
        fetch_all(&self.pool, &mut builder, "alert_event", decode_alert_event).await
    }

    async fn enqueue_notifications(&self, notifications: &[NewNotification], now: OffsetDateTime) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        for notification in notifications {
            let mut builder = statement::<D>(
                "INSERT INTO notification_delivery (alert_id, webhook, event, payload, status, attempts, \
                 next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
                vec![
                    SqlValue::Integer(notification.alert_id),
                    text(notification.webhook.as_str()),
                    text(notification.event.as_str()),
                    text(notification.payload.as_str()),
                    text(DeliveryStatus::Pending.as_str()),
                    time(now),
                    time(now),
                ],
            );
            execute(&mut *transaction, &mut builder).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn due_notifications(&self, now: OffsetDateTime, limit: u32) -> Result<Vec<Notification>, Error> {
        let mut builder = statement::<D>(
            &format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM notification_delivery WHERE status = ? AND next_attempt_at <= ? \
                 ORDER BY next_attempt_at, id LIMIT ?"
            ),
            vec![text(DeliveryStatus::Pending.as_str()), time(now), SqlValue::Integer(i64::from(limit))],
        );
        fetch_all(&self.pool, &mut builder, "notification_delivery", decode_notification).await
    }

    async fn record_delivery(&self, id: i64, attempt: &DeliveryAttempt, now: OffsetDateTime) -> Result<(), Error> {
        let delivered_at = (attempt.status == DeliveryStatus::Delivered).then_some(now);
        let mut builder = statement::<D>(
            "UPDATE notification_delivery SET status = ?, attempts = attempts + 1, next_attempt_at = ?, \
             last_status = ?, last_error = ?, delivered_at = ? WHERE id = ?",
            vec![
                text(attempt.status.as_str()),
                time(attempt.next_attempt_at),
                match attempt.http_status {
                    Some(status) => SqlValue::Integer(i64::from(status)),
                    None => SqlValue::NullableInteger(None),
                },
                SqlValue::NullableText(attempt.error.clone()),
                SqlValue::Time(delivered_at),
                SqlValue::Integer(id),
            ],
        );
        execute(&self.pool, &mut builder).await?;
        Ok(())
    }

    async fn list_notifications(&self, alert: Option<i64>) -> Result<Vec<Notification>, Error> {
        let mut builder = match alert {
            Some(alert) => statement::<D>(
                &format!(
                    "SELECT {NOTIFICATION_COLUMNS} FROM notification_delivery WHERE alert_id = ? ORDER BY id DESC"
                ),
                vec![SqlValue::Integer(alert)],
            ),
            None => statement::<D>(
                &format!("SELECT {NOTIFICATION_COLUMNS} FROM notification_delivery ORDER BY id DESC"),
                Vec::new(),
            ),
        };
        fetch_all(&self.pool, &mut builder, "notification_delivery", decode_notification).await
    }

    async fn list_audit_events(&self, limit: u32) -> Result<Vec<AuditEvent>, Error> {
        let mut builder = statement::<D>(
            "SELECT at, operator, action, target, details FROM audit_event ORDER BY at DESC, id DESC LIMIT ?",
            vec![SqlValue::Integer(i64::from(limit))],
        );
        fetch_all(&self.pool, &mut builder, "audit_event", decode_audit_event).await
    }
}
