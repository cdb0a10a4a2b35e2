-- Every SCIM user write updates each index of scim_user. `primary_email_lower` and its index were never read
-- (`emails eq` goes through scim_user_email, which holds every address): both go. Users are matched on userName and
-- externalId (Okta, Entra ID), never on displayName, so its index goes too (a displayName filter still runs in
-- SQL, over the tenant's users). PostgreSQL's twin also leaves room on each page for heap-only updates.
DROP INDEX scim_user_primary_email;
ALTER TABLE scim_user DROP COLUMN primary_email_lower;
DROP INDEX scim_user_display_name;
