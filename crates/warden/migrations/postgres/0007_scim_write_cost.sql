-- Every SCIM write updates each index of its table. `primary_email_lower` and its index were never read (`emails
-- eq` goes through scim_user_email, which holds every address): both go, and each user write touches one index
-- less.
DROP INDEX scim_user_primary_email;
ALTER TABLE scim_user DROP COLUMN primary_email_lower;
