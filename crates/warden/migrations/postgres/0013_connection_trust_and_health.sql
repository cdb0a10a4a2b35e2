-- Per connection: whether it also accepts bearer tokens that the environment's ZITADEL vouches for (the PAT or
-- client-credentials token of a service user with a user-manager role in the org, as ZITADEL's own SCIM server
-- takes), and within how long a request is expected (NULL: no expectation), below which the connection is stalled.
ALTER TABLE scim_connection ADD COLUMN zitadel_tokens BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE scim_connection ADD COLUMN expect_activity_within_seconds BIGINT;
