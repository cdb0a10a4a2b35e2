-- What warden records about its own observations: sync runs and the changes each found.

CREATE TABLE sync_run (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    environment TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,
    counts      TEXT NOT NULL,
    errors      TEXT NOT NULL,
    requests    INTEGER NOT NULL,
    retries     INTEGER NOT NULL
);
CREATE INDEX sync_run_environment ON sync_run (environment, started_at);

CREATE TABLE change (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    environment     TEXT NOT NULL REFERENCES environment (name) ON DELETE CASCADE,
    run_id          INTEGER NOT NULL REFERENCES sync_run (id) ON DELETE CASCADE,
    observed_at     TEXT NOT NULL,
    object_kind     TEXT NOT NULL,
    object_key      TEXT NOT NULL,
    org_id          TEXT,
    kind            TEXT NOT NULL,
    fields          TEXT NOT NULL,
    attribution     TEXT NOT NULL,
    actor_user_id   TEXT,
    actor_name      TEXT,
    occurred_at     TEXT
);
CREATE INDEX change_environment_observed ON change (environment, observed_at);
CREATE INDEX change_object ON change (environment, object_kind, object_key);
CREATE INDEX change_run ON change (run_id);
