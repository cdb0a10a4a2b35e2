-- Incremental sync: each run records whether it read everything or only what ZITADEL's events named, why, and
-- (for a run that ended ok) the creation date of the newest event it accounts for, with the basis (scope settings
-- and warden's reading of ZITADEL) under which that position holds. Earlier runs were all full.
ALTER TABLE sync_run ADD COLUMN mode TEXT NOT NULL DEFAULT 'full';
ALTER TABLE sync_run ADD COLUMN mode_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_run ADD COLUMN event_position TIMESTAMPTZ;
ALTER TABLE sync_run ADD COLUMN basis TEXT;
CREATE INDEX sync_run_environment_status ON sync_run (environment, status, started_at);
