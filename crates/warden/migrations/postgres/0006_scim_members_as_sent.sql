-- Group members are kept exactly as the client sent them: `value` need not be a user of the tenant (RFC 7643 leaves
-- the reference to the client; conformance suites add ids the server does not know), and the client's `display` and
-- `type` are kept. Rows stay keyed by the group's tenant, and a member is resolved only against users of that
-- tenant, so nothing crosses tenants. Deleting a user still removes its memberships (done by the store).
ALTER TABLE scim_group_member DROP CONSTRAINT scim_group_member_environment_org_id_member_id_fkey;
ALTER TABLE scim_group_member ADD COLUMN display TEXT;
ALTER TABLE scim_group_member ADD COLUMN member_type TEXT;
