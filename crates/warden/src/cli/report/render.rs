//! The report's formats: stable JSON (an interface for CI, documented in the README), tables, Markdown and CSV.

use serde_json::{Value, json};
use warden_core::governance::Suppression;
use warden_core::inventory::{Credential, GrantAccess, ManagerAccess, ServiceAccount};
use warden_core::model::MembershipScope;
use warden_core::posture::Severity;

use crate::app::report::{Report, ReportedFinding};
use crate::cli::health::provider_json;
use crate::cli::{table, time_text};
use crate::govern::notify::subject_json;

fn finding_json(reported: &ReportedFinding) -> Value {
    let finding = &reported.finding;
    json!({
        "rule": finding.rule,
        "severity": finding.severity.as_str(),
        "environment": finding.environment.as_str(),
        "subject": subject_json(&finding.subject),
        "message": finding.message,
        "evidence": finding.evidence.iter().map(|(fact, value)| json!({"fact": fact, "value": value})).collect::<Vec<_>>(),
        "remediation": finding.remediation,
        "first_seen": reported.first_seen.map(time_text),
    })
}

fn suppression_json(suppression: &Suppression) -> Value {
    json!({
        "id": suppression.id,
        "reason": suppression.reason,
        "by": suppression.created_by,
        "at": time_text(suppression.created_at),
        "expires_at": suppression.expires_at.map(time_text),
    })
}

pub(in crate::cli) fn scope_text(scope: &MembershipScope) -> String {
    match scope {
        MembershipScope::Instance => "instance".to_owned(),
        MembershipScope::Org(org_id) => format!("org {org_id}"),
        MembershipScope::Project { project_id, .. } => format!("project {project_id}"),
        MembershipScope::ProjectGrant { project_grant_id, .. } => format!("project grant {project_grant_id}"),
    }
}

fn scope_json(scope: &MembershipScope) -> Value {
    match scope {
        MembershipScope::Instance => json!({"type": "instance"}),
        MembershipScope::Org(org_id) => json!({"type": "org", "org_id": org_id.as_str()}),
        MembershipScope::Project { org_id, project_id } => {
            json!({"type": "project", "org_id": org_id.as_str(), "project_id": project_id.as_str()})
        }
        MembershipScope::ProjectGrant { org_id, project_id, project_grant_id } => json!({
            "type": "project_grant",
            "org_id": org_id.as_str(),
            "project_id": project_id.as_str(),
            "project_grant_id": project_grant_id.as_str(),
        }),
    }
}

pub(in crate::cli) fn grant_json(grant: &GrantAccess) -> Value {
    json!({
        "user_grant_id": grant.user_grant_id.as_str(),
        "project_id": grant.project_id.as_str(),
        "project_name": grant.project_name,
        "grant_org_id": grant.grant_org_id.as_str(),
        "project_grant_id": grant.project_grant_id.as_ref().map(|id| id.as_str()),
        "role_keys": grant.role_keys.iter().map(|key| key.as_str()).collect::<Vec<_>>(),
        "state": grant.state.as_str(),
    })
}

pub(in crate::cli) fn membership_json(membership: &ManagerAccess) -> Value {
    json!({
        "scope": scope_json(&membership.scope),
        "project_name": membership.project_name,
        "roles": membership.roles,
    })
}

pub(in crate::cli) fn credential_json(credential: &Credential) -> Value {
    json!({
        "kind": credential.kind.as_str(),
        "id": credential.id,
        "created_at": credential.created_at.map(time_text),
        "expires_at": credential.expires_at.map(time_text),
        "age_days": credential.age_days,
        "expired": credential.expired,
    })
}

/// Every manager role the account holds, at any scope, once each.
fn manager_roles(account: &ServiceAccount) -> Vec<&str> {
    let mut roles: Vec<&str> =
        account.memberships.iter().flat_map(|membership| membership.roles.iter().map(String::as_str)).collect();
    roles.sort_unstable();
    roles.dedup();
    roles
}

fn count_credentials(account: &ServiceAccount, kind: warden_core::inventory::CredentialKind) -> usize {
    account.credentials.iter().filter(|credential| credential.kind == kind).count()
}

fn account_json(account: &ServiceAccount) -> Value {
    use warden_core::inventory::CredentialKind;
    json!({
        "environment": account.environment.as_str(),
        "id": account.id.as_str(),
        "username": account.username,
        "name": account.display_name,
        "org_id": account.org_id.as_str(),
        "org_name": account.org_name,
        "state": account.state.as_str(),
        "description": account.description,
        "created_at": account.created_at.map(time_text),
        "risk": {
            "score": account.risk.score,
            "factors": account.risk.factors.iter().map(|factor| json!({
                "id": factor.id,
                "points": factor.points,
                "detail": factor.detail,
            })).collect::<Vec<_>>(),
        },
        "machine_keys": count_credentials(account, CredentialKind::MachineKey),
        "personal_access_tokens": count_credentials(account, CredentialKind::PersonalAccessToken),
        "has_client_secret": account.has_client_secret,
        "credentials": account.credentials.iter().map(credential_json).collect::<Vec<_>>(),
        "user_grants": account.grants.len(),
        "grants": account.grants.iter().map(grant_json).collect::<Vec<_>>(),
        "manager_roles": manager_roles(account),
        "memberships": account.memberships.iter().map(membership_json).collect::<Vec<_>>(),
        "orgs_reached": account.orgs_reached.iter().map(|org| org.as_str()).collect::<Vec<_>>(),
        "project_grant_reach": account.project_grant_reach.iter().map(|reach| json!({
            "project_id": reach.project_id.as_str(),
            "project_name": reach.project_name,
            "granted_to": reach.granted_to.iter().map(|granted| json!({
                "org_id": granted.org_id.as_str(),
                "project_grant_id": granted.project_grant_id.as_str(),
                "role_keys": granted.role_keys.iter().map(|key| key.as_str()).collect::<Vec<_>>(),
                "state": granted.state.as_str(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The stable JSON of `warden report --format json` (an interface for CI; documented in the README).
pub(super) fn report_json(report: &Report) -> Value {
    json!({
        "environments": report.environments.iter().map(|environment| json!({
            "name": environment.name.as_str(),
            "human_users": environment.human_users,
            "machine_users": environment.machine_users,
            "last_sync": environment.last_run.as_ref().map(|run| json!({
                "run_id": run.id.0,
                "status": run.status.as_str(),
                "started_at": time_text(run.started_at),
                "finished_at": run.finished_at.map(time_text),
            })),
            "running": environment.running.iter().map(|run| json!({
                "run_id": run.id.0,
                "started_at": time_text(run.started_at),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "summary": {
            "findings": report.findings.len(),
            "high": report.count(Severity::High),
            "medium": report.count(Severity::Medium),
            "low": report.count(Severity::Low),
            "suppressed": report.suppressed.len(),
            "service_accounts": report.service_accounts.len(),
            "max_risk_score": report.service_accounts.iter().map(|account| account.risk.score).max().unwrap_or(0),
        },
        "findings": report.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "providers": report.providers.iter().map(provider_json).collect::<Vec<_>>(),
        "suppressed": report.suppressed.iter().map(|(reported, suppression)| {
            let mut value = finding_json(reported);
            value["suppression"] = suppression_json(suppression);
            value
        }).collect::<Vec<_>>(),
        "service_accounts": report.service_accounts.iter().map(account_json).collect::<Vec<_>>(),
    })
}

fn summary_line(report: &Report) -> String {
    let suppressed = match report.suppressed.len() {
        0 => String::new(),
        count => format!(", {count} suppressed"),
    };
    format!(
        "{} findings ({} high, {} medium, {} low{suppressed}) across {} service accounts",
        report.findings.len(),
        report.count(Severity::High),
        report.count(Severity::Medium),
        report.count(Severity::Low),
        report.service_accounts.len(),
    )
}

const PROVIDER_HEADER: [&str; 5] = ["environment", "provider", "type", "status", "certificate expires"];

fn provider_rows(report: &Report) -> Vec<Vec<String>> {
    report
        .providers
        .iter()
        .map(|provider| {
            vec![
                provider.target.environment.to_string(),
                provider.target.name.clone(),
                provider.target.type_name().to_owned(),
                provider.status.as_str().to_owned(),
                provider.certificate_expires_at().map(time_text).unwrap_or_default(),
            ]
        })
        .collect()
}

/// Per environment, the run the state comes from and any run still going.
fn runs_lines(report: &Report) -> String {
    let mut out = String::new();
    for environment in &report.environments {
        let last = match &environment.last_run {
            Some(run) => format!(
                "last sync: run {} {} at {}",
                run.id.0,
                run.status,
                time_text(run.finished_at.unwrap_or(run.started_at))
            ),
            None => "never synced".to_owned(),
        };
        let running: Vec<String> = environment
            .running
            .iter()
            .map(|run| format!("run {} running since {}", run.id.0, time_text(run.started_at)))
            .collect();
        let running = if running.is_empty() { String::new() } else { format!("; {}", running.join(", ")) };
        out.push_str(&format!("{}: {last}{running}\n", environment.name));
    }
    out
}

fn finding_rows(report: &Report) -> Vec<Vec<String>> {
    report
        .findings
        .iter()
        .map(|reported| {
            let finding = &reported.finding;
            vec![
                finding.severity.to_string(),
                finding.rule.to_owned(),
                finding.environment.to_string(),
                finding.subject.name.clone(),
                finding.message.clone(),
            ]
        })
        .collect()
}

fn account_rows(report: &Report) -> Vec<Vec<String>> {
    report
        .service_accounts
        .iter()
        .map(|account| {
            let oldest = account.credentials.iter().filter_map(|credential| credential.age_days).max();
            vec![
                account.risk.score.to_string(),
                account.environment.to_string(),
                account.username.clone(),
                account.state.to_string(),
                account.credentials.len().to_string(),
                oldest.map(|days| format!("{days} d")).unwrap_or_default(),
                account.grants.len().to_string(),
                manager_roles(account).join(","),
                account
                    .risk
                    .factors
                    .iter()
                    .max_by_key(|factor| factor.points)
                    .map(|factor| format!("{} (+{}): {}", factor.id, factor.points, factor.detail))
                    .unwrap_or_default(),
            ]
        })
        .collect()
}

const FINDING_HEADER: [&str; 5] = ["severity", "rule", "environment", "subject", "message"];
const ACCOUNT_HEADER: [&str; 9] = [
    "risk",
    "environment",
    "service account",
    "state",
    "credentials",
    "oldest",
    "grants",
    "manager roles",
    "top risk factor",
];

pub(super) fn report_table(report: &Report) -> String {
    let mut out = format!("{}\n{}\n", summary_line(report), runs_lines(report));
    out.push_str(&table::render(&FINDING_HEADER, &finding_rows(report)));
    out.push('\n');
    out.push_str(&table::render(&ACCOUNT_HEADER, &account_rows(report)));
    if !report.providers.is_empty() {
        out.push('\n');
        out.push_str(&table::render(&PROVIDER_HEADER, &provider_rows(report)));
    }
    if !report.suppressed.is_empty() {
        out.push_str(&format!(
            "\n{} suppressed findings are not shown (`warden findings` and --format json list them)\n",
            report.suppressed.len()
        ));
    }
    out
}

fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let escape = |cell: &str| cell.replace('|', "\\|").replace('\n', " ");
    let mut out = format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len()));
    for row in rows {
        out.push_str(&format!("| {} |\n", row.iter().map(|cell| escape(cell)).collect::<Vec<_>>().join(" | ")));
    }
    out
}

pub(super) fn report_markdown(report: &Report) -> String {
    format!(
        "# warden report\n\n{}\n\n{}\n## Findings\n\n{}\n## Service accounts\n\n{}\n## Identity providers\n\n{}",
        summary_line(report),
        runs_lines(report),
        markdown_table(&FINDING_HEADER, &finding_rows(report)),
        markdown_table(&ACCOUNT_HEADER, &account_rows(report)),
        markdown_table(&PROVIDER_HEADER, &provider_rows(report))
    )
}

/// RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled.
pub(in crate::cli) fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// The unsuppressed findings, one per line.
pub(super) fn findings_csv(report: &Report) -> String {
    let mut out = String::from("severity,rule,environment,subject_type,subject_id,subject_name,org_id,message\n");
    for reported in &report.findings {
        let finding = &reported.finding;
        let org = finding.subject.org_id.as_ref().map(ToString::to_string).unwrap_or_default();
        let fields = [
            finding.severity.as_str(),
            finding.rule,
            finding.environment.as_str(),
            finding.subject.kind.as_str(),
            &finding.subject.id,
            &finding.subject.name,
            &org,
            &finding.message,
        ];
        out.push_str(&fields.iter().map(|field| csv_field(field)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        let table = markdown_table(&["a", "b"], &[vec!["x|y".to_owned(), "1\n2".to_owned()]]);
        assert_eq!(table, "| a | b |\n|---|---|\n| x\\|y | 1 2 |\n");
    }
}
