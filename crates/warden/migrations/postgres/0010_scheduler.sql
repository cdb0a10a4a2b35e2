-- Leases: one process at a time runs each job (a sync of one environment, retention) across every process that
-- shares this database. A holder renews its lease while the job runs; another holder takes over an expired one.
CREATE TABLE lease (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL,
    renewed_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

-- Which process ran (or is running) a sync: a run still `running` whose holder has no live lease was cut off.
ALTER TABLE sync_run ADD COLUMN holder TEXT;

-- Delivery claims a notification before sending it, so that two replicas never send the same one; a claim that
-- outlives its holder expires.
ALTER TABLE notification_delivery ADD COLUMN claimed_by TEXT;
ALTER TABLE notification_delivery ADD COLUMN claimed_until TIMESTAMPTZ;
