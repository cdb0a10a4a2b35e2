-- Governance: findings with their lifecycle, suppressions, trend points, alerts and their notifications, the
-- audit log of what operators did.

-- One row per rule and subject: open while the condition holds (last_seen moves on each evaluation), resolved when it
-- clears; a condition that comes back opens it again with a new first_seen.
CREATE TABLE finding (
    environment   TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    rule          TEXT NOT NULL,
    subject_kind  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    subject_name  TEXT NOT NULL,
    org_id        TEXT,
    severity      TEXT NOT NULL,
    message       TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    remediation   TEXT NOT NULL,
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    resolved_at   TEXT,
    PRIMARY KEY (environment, rule, subject_kind, subject_id)
);
CREATE INDEX finding_open ON finding (environment, resolved_at);

-- A finding an operator has accepted: by rule, optionally only for one subject or one environment, until it expires.
CREATE TABLE suppression (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    environment   TEXT REFERENCES environment (name) ON DELETE CASCADE,
    rule          TEXT NOT NULL,
    subject_id    TEXT,
    reason        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    lifted_by     TEXT,
    lifted_at     TEXT
);

-- Counts per environment and organisation at each sync (org_id '' is the whole environment).
CREATE TABLE trend_point (
    environment   TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    run_id        INTEGER NOT NULL REFERENCES sync_run (id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    machine_users INTEGER NOT NULL,
    human_users   INTEGER NOT NULL,
    user_grants   INTEGER NOT NULL,
    findings      INTEGER NOT NULL,
    PRIMARY KEY (environment, run_id, org_id)
);
CREATE INDEX trend_point_at ON trend_point (environment, org_id, at);

-- Alerts: opened by findings of configured severities (and health events), deduplicated by rule and subject while
-- not resolved; every transition is an alert_event with the operator.
CREATE TABLE alert (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key    TEXT NOT NULL,
    environment   TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    rule          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    subject_kind  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    subject_name  TEXT NOT NULL,
    org_id        TEXT,
    message       TEXT NOT NULL,
    status        TEXT NOT NULL,
    opened_at     TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    resolved_at   TEXT,
    resolution    TEXT
);
CREATE UNIQUE INDEX alert_active ON alert (dedupe_key) WHERE status <> 'resolved';
CREATE INDEX alert_status ON alert (status, opened_at);

CREATE TABLE alert_event (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id      INTEGER NOT NULL REFERENCES alert (id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    operator      TEXT NOT NULL,
    action        TEXT NOT NULL,
    from_status   TEXT,
    to_status     TEXT NOT NULL,
    note          TEXT
);
CREATE INDEX alert_event_alert ON alert_event (alert_id, at);

-- Webhook notifications: an outbox, delivered after the sync with retries and backoff; every attempt is logged.
CREATE TABLE notification_delivery (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id        INTEGER NOT NULL REFERENCES alert (id) ON DELETE CASCADE,
    webhook         TEXT NOT NULL,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX notification_delivery_due ON notification_delivery (status, next_attempt_at);

CREATE TABLE audit_event (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    operator      TEXT NOT NULL,
    action        TEXT NOT NULL,
    target        TEXT NOT NULL,
    details       TEXT NOT NULL
);
CREATE INDEX audit_event_at ON audit_event (at);
