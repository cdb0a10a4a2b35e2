-- SCIM 2.0 provisioning: connections (one bearer token each, into one tenant = a ZITADEL org of an environment),
-- the users and groups SCIM clients push, group memberships, and a log of every authenticated request.

-- Only the SHA-256 of a token is stored. After a rotation the previous hash stays valid until previous_valid_until.
CREATE TABLE scim_connection (
    id                   TEXT PRIMARY KEY,
    environment          TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    org_id               TEXT NOT NULL,
    name                 TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    token_hash           BYTEA NOT NULL UNIQUE,
    previous_token_hash  BYTEA,
    previous_valid_until TIMESTAMPTZ,
    disabled_at          TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX scim_connection_previous_token ON scim_connection (previous_token_hash);

-- The lower-cased copies carry the case-insensitive lookups and userName's uniqueness per tenant.
CREATE TABLE scim_user (
    environment         TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    user_name           TEXT NOT NULL,
    user_name_lower     TEXT NOT NULL,
    external_id         TEXT,
    display_name        TEXT,
    display_name_lower  TEXT,
    active              BOOLEAN NOT NULL,
    primary_email_lower TEXT,
    resource            JSONB NOT NULL,
    version             BIGINT NOT NULL,
    created             TIMESTAMPTZ NOT NULL,
    last_modified       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (environment, org_id, id)
);
CREATE UNIQUE INDEX scim_user_user_name ON scim_user (environment, org_id, user_name_lower);
CREATE INDEX scim_user_external_id ON scim_user (environment, org_id, external_id);
CREATE INDEX scim_user_display_name ON scim_user (environment, org_id, display_name_lower);
CREATE INDEX scim_user_primary_email ON scim_user (environment, org_id, primary_email_lower);
CREATE INDEX scim_user_order ON scim_user (environment, org_id, created, id);

-- Every email address of a user, lower-cased: `emails eq "x"` matches any of them, not only the primary one.
CREATE TABLE scim_user_email (
    environment TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    value_lower TEXT NOT NULL,
    PRIMARY KEY (environment, org_id, user_id, value_lower),
    FOREIGN KEY (environment, org_id, user_id) REFERENCES scim_user (environment, org_id, id) ON DELETE CASCADE
);
CREATE INDEX scim_user_email_value ON scim_user_email (environment, org_id, value_lower);

-- A group's resource holds everything but its members, which live in scim_group_member.
CREATE TABLE scim_group (
    environment        TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    org_id             TEXT NOT NULL,
    id                 TEXT NOT NULL,
    display_name       TEXT NOT NULL,
    display_name_lower TEXT NOT NULL,
    external_id        TEXT,
    resource           JSONB NOT NULL,
    version            BIGINT NOT NULL,
    created            TIMESTAMPTZ NOT NULL,
    last_modified      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (environment, org_id, id)
);
CREATE INDEX scim_group_display_name ON scim_group (environment, org_id, display_name_lower);
CREATE INDEX scim_group_external_id ON scim_group (environment, org_id, external_id);
CREATE INDEX scim_group_order ON scim_group (environment, org_id, created, id);

-- A member is a user of the same tenant (the foreign key keeps tenants apart); deleting either side removes the row.
CREATE TABLE scim_group_member (
    environment TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    PRIMARY KEY (environment, org_id, group_id, member_id),
    FOREIGN KEY (environment, org_id, group_id) REFERENCES scim_group (environment, org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (environment, org_id, member_id) REFERENCES scim_user (environment, org_id, id) ON DELETE CASCADE
);
CREATE INDEX scim_group_member_member ON scim_group_member (environment, org_id, member_id);

-- One row per authenticated request: feeds connection health.
CREATE TABLE scim_request_log (
    id            BIGSERIAL PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES scim_connection (id) ON DELETE CASCADE,
    at            TIMESTAMPTZ NOT NULL,
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    status        BIGINT NOT NULL,
    latency_ms    BIGINT NOT NULL
);
CREATE INDEX scim_request_log_connection ON scim_request_log (connection_id, at);
