-- Provisioning into ZITADEL: what a connection does with the users and groups it receives, the mappings from SCIM
-- groups to ZITADEL project roles, the durable outbox of ZITADEL operations, and what warden created in ZITADEL.

-- Whether a connection's writes flow on into ZITADEL, and what a SCIM DELETE of a user does there.
ALTER TABLE scim_connection ADD COLUMN provisioning BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE scim_connection ADD COLUMN delete_policy TEXT NOT NULL DEFAULT 'deactivate';

-- A SCIM group (by displayName, compared case-insensitively, or by externalId) of a connection's tenant grants these
-- role keys of a project of the tenant's org.
CREATE TABLE group_role_mapping (
    id                 TEXT PRIMARY KEY,
    connection_id      TEXT NOT NULL REFERENCES scim_connection (id) ON DELETE CASCADE,
    environment        TEXT NOT NULL,
    org_id             TEXT NOT NULL,
    group_display_name TEXT,
    group_name_lower   TEXT,
    group_external_id  TEXT,
    project_id         TEXT NOT NULL,
    role_keys          JSONB NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX group_role_mapping_tenant ON group_role_mapping (environment, org_id);

-- ZITADEL operations waiting to be applied, committed with the SCIM write they follow. A row is deleted once
-- applied; one that failed too often (or for good) is parked until an operator retries or discards it. The
-- operations of one SCIM user are applied in id order.
CREATE TABLE provisioning_outbox (
    id              BIGSERIAL PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES scim_connection (id) ON DELETE CASCADE,
    environment     TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    scim_user_id    TEXT NOT NULL,
    operation       TEXT NOT NULL,
    payload         JSONB NOT NULL,
    enqueued_at     TIMESTAMPTZ NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    parked_at       TIMESTAMPTZ,
    claimed_by      TEXT,
    claimed_until   TIMESTAMPTZ
);
CREATE INDEX provisioning_outbox_subject ON provisioning_outbox (environment, org_id, scim_user_id, id);
CREATE INDEX provisioning_outbox_due ON provisioning_outbox (next_attempt_at, id);
CREATE INDEX provisioning_outbox_connection ON provisioning_outbox (connection_id, id);

-- The ZITADEL user a SCIM user became (created by warden, or found with the same userName and linked), and the
-- user as warden last wrote it (to send only what changed).
CREATE TABLE provisioned_user (
    environment     TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    scim_user_id    TEXT NOT NULL,
    zitadel_user_id TEXT NOT NULL,
    linked          BOOLEAN NOT NULL,
    applied         JSONB NOT NULL,
    provisioned_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (environment, org_id, scim_user_id)
);
CREATE INDEX provisioned_user_zitadel ON provisioned_user (environment, org_id, zitadel_user_id);

-- The user grants warden manages: only these are ever changed or removed. A row without a grant id is a grant
-- being added (so that a retry after a lost answer adopts it instead of taking it for someone else's).
CREATE TABLE provisioned_grant (
    environment     TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    zitadel_user_id TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    grant_id        TEXT,
    role_keys       JSONB NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (environment, org_id, zitadel_user_id, project_id)
);

-- Per connection: operations applied, and when ZITADEL last accepted one.
CREATE TABLE provisioning_progress (
    connection_id   TEXT PRIMARY KEY REFERENCES scim_connection (id) ON DELETE CASCADE,
    applied         BIGINT NOT NULL,
    last_applied_at TIMESTAMPTZ
);
