-- Environments and the state observed in each of them. Every observed table is keyed by (environment, id), where
-- id is the object's stable key (warden_core::model::Observed::key).

CREATE TABLE environment (
    name                  TEXT PRIMARY KEY,
    url                   TEXT NOT NULL,
    credential_reference  TEXT NOT NULL,
    orgs                  JSONB NOT NULL,
    sync_interval_seconds BIGINT NOT NULL,
    api                   TEXT NOT NULL,
    labels                JSONB NOT NULL
);

CREATE TABLE org (
    environment    TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    id             TEXT NOT NULL,
    name           TEXT NOT NULL,
    state          TEXT NOT NULL,
    primary_domain TEXT NOT NULL,
    created_at     TIMESTAMPTZ,
    changed_at     TIMESTAMPTZ,
    PRIMARY KEY (environment, id)
);

CREATE TABLE project (
    environment       TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    id                TEXT NOT NULL,
    org_id            TEXT NOT NULL,
    name              TEXT NOT NULL,
    state             TEXT NOT NULL,
    role_assertion    BOOLEAN NOT NULL,
    role_check        BOOLEAN NOT NULL,
    has_project_check BOOLEAN NOT NULL,
    created_at        TIMESTAMPTZ,
    changed_at        TIMESTAMPTZ,
    PRIMARY KEY (environment, id)
);
CREATE INDEX project_org ON project (environment, org_id);

CREATE TABLE project_role (
    environment  TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    role_key     TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role_group   TEXT NOT NULL,
    created_at   TIMESTAMPTZ,
    changed_at   TIMESTAMPTZ,
    PRIMARY KEY (environment, id)
);
CREATE INDEX project_role_project ON project_role (environment, project_id);

-- "user" is reserved in PostgreSQL.
CREATE TABLE zitadel_user (
    environment          TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    id                   TEXT NOT NULL,
    org_id               TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    username             TEXT NOT NULL,
    preferred_login_name TEXT NOT NULL,
    state                TEXT NOT NULL,
    display_name         TEXT NOT NULL,
    given_name           TEXT,
    family_name          TEXT,
    nick_name            TEXT,
    preferred_language   TEXT,
    email                TEXT,
    email_verified       BOOLEAN,
    phone                TEXT,
    phone_verified       BOOLEAN,
    description          TEXT,
    has_secret           BOOLEAN,
    access_token_type    TEXT,
    created_at           TIMESTAMPTZ,
    changed_at           TIMESTAMPTZ,
    PRIMARY KEY (environment, id)
);
CREATE INDEX zitadel_user_org ON zitadel_user (environment, org_id);
CREATE INDEX zitadel_user_kind ON zitadel_user (environment, kind);

CREATE TABLE machine_key (
    environment TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    key_type    TEXT NOT NULL,
    created_at  TIMESTAMPTZ,
    expires_at  TIMESTAMPTZ,
    PRIMARY KEY (environment, id)
);
CREATE INDEX machine_key_user ON machine_key (environment, user_id);

CREATE TABLE personal_access_token (
    environment TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    scopes      JSONB NOT NULL,
    created_at  TIMESTAMPTZ,
    expires_at  TIMESTAMPTZ,
    PRIMARY KEY (environment, id)
);
CREATE INDEX personal_access_token_user ON personal_access_token (environment, user_id);

CREATE TABLE user_grant (
    environment      TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    org_id           TEXT NOT NULL,
    project_id       TEXT NOT NULL,
    project_grant_id TEXT,
    role_keys        JSONB NOT NULL,
    state            TEXT NOT NULL,
    created_at       TIMESTAMPTZ,
    changed_at       TIMESTAMPTZ,
    PRIMARY KEY (environment, id)
);
CREATE INDEX user_grant_user ON user_grant (environment, user_id);
CREATE INDEX user_grant_project ON user_grant (environment, project_id);

CREATE TABLE membership (
    environment      TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    scope            TEXT NOT NULL,
    org_id           TEXT,
    project_id       TEXT,
    project_grant_id TEXT,
    roles            JSONB NOT NULL,
    created_at       TIMESTAMPTZ,
    changed_at       TIMESTAMPTZ,
    PRIMARY KEY (environment, id)
);
CREATE INDEX membership_user ON membership (environment, user_id);

CREATE TABLE project_grant (
    environment    TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    id             TEXT NOT NULL,
    project_id     TEXT NOT NULL,
    org_id         TEXT NOT NULL,
    granted_org_id TEXT NOT NULL,
    role_keys      JSONB NOT NULL,
    state          TEXT NOT NULL,
    created_at     TIMESTAMPTZ,
    changed_at     TIMESTAMPTZ,
    PRIMARY KEY (environment, id)
);
CREATE INDEX project_grant_project ON project_grant (environment, project_id);

CREATE TABLE application (
    environment TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    name        TEXT NOT NULL,
    state       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    client_id   TEXT,
    auth_method TEXT,
    settings    JSONB NOT NULL,
    created_at  TIMESTAMPTZ,
    changed_at  TIMESTAMPTZ,
    PRIMARY KEY (environment, id)
);
CREATE INDEX application_project ON application (environment, project_id);

CREATE TABLE identity_provider (
    environment   TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    owner_org_id  TEXT,
    name          TEXT NOT NULL,
    state         TEXT NOT NULL,
    provider_type TEXT NOT NULL,
    config        JSONB NOT NULL,
    created_at    TIMESTAMPTZ,
    changed_at    TIMESTAMPTZ,
    PRIMARY KEY (environment, id)
);

CREATE TABLE user_metadata (
    environment  TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    metadata_key TEXT NOT NULL,
    value        BYTEA NOT NULL,
    created_at   TIMESTAMPTZ,
    changed_at   TIMESTAMPTZ,
    PRIMARY KEY (environment, id)
);
CREATE INDEX user_metadata_user ON user_metadata (environment, user_id);
