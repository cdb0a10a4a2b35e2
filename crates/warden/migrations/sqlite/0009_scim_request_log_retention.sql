-- Rows older than `[scim] request_log_retention` are deleted oldest first, in batches: find them by time.
CREATE INDEX scim_request_log_at ON scim_request_log (at);
