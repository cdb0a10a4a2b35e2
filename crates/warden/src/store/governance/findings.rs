//! Findings and their lifecycle: first and last seen, resolved when an evaluation no longer finds them.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Pool;
use time::OffsetDateTime;
use warden_core::governance::{FindingsDelta, TrackedFinding};
use warden_core::id::EnvironmentName;
use warden_core::posture::Finding;

use crate::store::Error;
use crate::store::governance::rows::{FINDING_COLUMNS, decode_finding, finding_key, text, time};
use crate::store::sql::{Dialect, SqlValue, begin_write, execute, fetch_all, statement};

pub(super) async fn record<D: Dialect>(
    pool: &Pool<D>,
    environment: &EnvironmentName,
    findings: &[Finding],
    now: OffsetDateTime,
) -> Result<FindingsDelta, Error> {
    let mut transaction = begin_write(pool).await?;
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

pub(super) async fn list<D: Dialect>(
    pool: &Pool<D>,
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
    let mut findings = fetch_all(pool, &mut builder, "finding", decode_finding).await?;
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
