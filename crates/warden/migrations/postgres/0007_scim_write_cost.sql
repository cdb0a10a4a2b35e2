-- What a SCIM write costs the database. Every user write updates each index of scim_user (all of them, unless no
-- indexed column changes). `primary_email_lower` and its index were never read (`emails eq` goes through
-- scim_user_email, which holds every address): both go. Users are matched on userName and externalId (Okta, Entra
-- ID), never on displayName, so its index goes too (a displayName filter still runs in SQL, over the tenant's
-- users). A PATCH that changes neither userName nor externalId (a rename, a deactivation) then changes no indexed
-- column and, with room left on the page, is a heap-only update that writes no index entry.
DROP INDEX scim_user_primary_email;
ALTER TABLE scim_user DROP COLUMN primary_email_lower;
DROP INDEX scim_user_display_name;
ALTER TABLE scim_user SET (fillfactor = 80);
-- A resource is stored as the JSON text warden wrote and reads back whole: as JSONB, PostgreSQL parsed it on every
-- write and printed it again on every read, and no statement looks inside it.
ALTER TABLE scim_user ALTER COLUMN resource TYPE TEXT USING resource::text;
ALTER TABLE scim_group ALTER COLUMN resource TYPE TEXT USING resource::text;
