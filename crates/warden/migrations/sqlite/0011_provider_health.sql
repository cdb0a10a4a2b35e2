-- SQLite: times are fixed-width RFC 3339 text (their order is time order), booleans integers.
-- Provider health: every probe of a target (ZITADEL itself, or an identity provider ZITADEL federates) with what it
-- checked, and the history of each target's status (a row per change). A target is (environment, target_kind,
-- target_id): target_kind 'zitadel' (target_id 'zitadel') or 'identity_provider' (target_id is ZITADEL's IdP id).

CREATE TABLE provider_probe (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    environment    TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    target_kind    TEXT NOT NULL,
    target_id      TEXT NOT NULL,
    target_name    TEXT NOT NULL,
    -- 'zitadel', or the provider's type ('oidc', 'saml', ...).
    target_type    TEXT NOT NULL,
    -- The owning organization of an org-level provider; NULL for the instance's and for ZITADEL itself.
    owner_org_id   TEXT,
    probed_at      TEXT NOT NULL,
    succeeded      INTEGER NOT NULL,
    -- The slowest exchange of the probe.
    latency_ms     INTEGER,
    -- JSON: [{"name", "ok", "detail", "latency_ms"}] in the order the checks ran.
    checks         TEXT NOT NULL,
    -- JSON: [{"usage", "source", "subject", "fingerprint", "not_before", "not_after"}].
    certificates   TEXT NOT NULL,
    keys_usable    INTEGER,
    keys_unusable  INTEGER
);
CREATE INDEX provider_probe_target ON provider_probe (environment, target_kind, target_id, probed_at);
CREATE INDEX provider_probe_at ON provider_probe (probed_at);

CREATE TABLE provider_status (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    environment    TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    target_kind    TEXT NOT NULL,
    target_id      TEXT NOT NULL,
    target_name    TEXT NOT NULL,
    target_type    TEXT NOT NULL,
    owner_org_id   TEXT,
    at             TEXT NOT NULL,
    from_status    TEXT NOT NULL,
    to_status      TEXT NOT NULL,
    -- JSON: the new status's reasons, one line each.
    reasons        TEXT NOT NULL
);
CREATE INDEX provider_status_target ON provider_status (environment, target_kind, target_id, at);
