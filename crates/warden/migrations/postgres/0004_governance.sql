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
    first_seen    TIMESTAMPTZ NOT NULL,
    last_seen     TIMESTAMPTZ NOT NULL,
    resolved_at   TIMESTAMPTZ,
    PRIMARY KEY (environment, rule, subject_kind, subject_id)
);
CREATE INDEX finding_open ON finding (environment, resolved_at);

-- A finding an operator has accepted: by rule, optionally only for one subject or one environment, until it expires.
CREATE TABLE suppression (
    id            BIGSERIAL PRIMARY KEY,
    environment   TEXT REFERENCES environment (name) ON DELETE CASCADE,
    rule          TEXT NOT NULL,
    subject_id    TEXT,
    reason        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ,
    lifted_by     TEXT,
    lifted_at     TIMESTAMPTZ
);

-- Counts per environment and organisation at each sync (org_id '' is the whole environment).
CREATE TABLE trend_point (
    environment   TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    run_id        BIGINT NOT NULL REFERENCES sync_run (id) ON DELETE CASCADE,
    at            TIMESTAMPTZ NOT NULL,
    org_id        TEXT NOT NULL,
    machine_users BIGINT NOT NULL,
    human_users   BIGINT NOT NULL,
    user_grants   BIGINT NOT NULL,
    findings      BIGINT NOT NULL,
    PRIMARY KEY (environment, run_id, org_id)
);
CREATE INDEX trend_point_at ON trend_point (environment, org_id, at);

-- Alerts: opened by findings of configured severities (and health events), deduplicated by rule and subject while
-- not resolved; every transition is an alert_event with the operator.
CREATE TABLE alert (
    id            BIGSERIAL PRIMARY KEY,
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
    opened_at     TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    resolved_at   TIMESTAMPTZ,
    resolution    TEXT
);
CREATE UNIQUE INDEX alert_active ON alert (dedupe_key) WHERE status <> 'resolved';
CREATE INDEX alert_status ON alert (status, opened_at);

CREATE TABLE alert_event (
    id            BIGSERIAL PRIMARY KEY,
    alert_id      BIGINT NOT NULL REFERENCES alert (id) ON DELETE CASCADE,
    at            TIMESTAMPTZ NOT NULL,
    operator      TEXT NOT NULL,
    action        TEXT NOT NULL,
    from_status   TEXT,
    to_status     TEXT NOT NULL,
    note          TEXT
);
CREATE INDEX alert_event_alert ON alert_event (alert_id, at);

-- Webhook notifications: an outbox, delivered after the sync with retries and backoff; every attempt is logged.
CREATE TABLE notification_delivery (
    id              BIGSERIAL PRIMARY KEY,
    alert_id        BIGINT NOT NULL REFERENCES alert (id) ON DELETE CASCADE,
    webhook         TEXT NOT NULL,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ
);
CREATE INDEX notification_delivery_due ON notification_delivery (status, next_attempt_at);

CREATE TABLE audit_event (
    id            BIGSERIAL PRIMARY KEY,
    at            TIMESTAMPTZ NOT NULL,
    operator      TEXT NOT NULL,
    action        TEXT NOT NULL,
    target        TEXT NOT NULL,
    details       TEXT NOT NULL
);
CREATE INDEX audit_event_at ON audit_event (at);
