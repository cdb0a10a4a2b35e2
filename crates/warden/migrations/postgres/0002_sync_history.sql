-- What warden records about its own observations: sync runs and the changes each found.

CREATE TABLE sync_run (
    id          BIGSERIAL PRIMARY KEY,
    environment TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status      TEXT NOT NULL,
    counts      JSONB NOT NULL,
    errors      JSONB NOT NULL,
    requests    BIGINT NOT NULL,
    retries     BIGINT NOT NULL
);
CREATE INDEX sync_run_environment ON sync_run (environment, started_at);

CREATE TABLE change (
    id              BIGSERIAL PRIMARY KEY,
    environment     TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    run_id          BIGINT NOT NULL REFERENCES sync_run (id) ON DELETE CASCADE,
    observed_at     TIMESTAMPTZ NOT NULL,
    object_kind     TEXT NOT NULL,
    object_key      TEXT NOT NULL,
    org_id          TEXT,
    kind            TEXT NOT NULL,
    fields          JSONB NOT NULL,
    attribution     TEXT NOT NULL,
    actor_user_id   TEXT,
    actor_name      TEXT,
    occurred_at     TIMESTAMPTZ
);
CREATE INDEX change_environment_observed ON change (environment, observed_at);
CREATE INDEX change_object ON change (environment, object_kind, object_key);
CREATE INDEX change_run ON change (run_id);
