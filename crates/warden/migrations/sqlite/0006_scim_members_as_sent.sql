-- Group members are kept exactly as the client sent them: `value` need not be a user of the tenant (RFC 7643 leaves
-- the reference to the client; conformance suites add ids the server does not know), and the client's `display` and
-- `type` are kept. Rows stay keyed by the group's tenant, and a member is resolved only against users of that
-- tenant, so nothing crosses tenants. Deleting a user still removes its memberships (done by the store).
-- SQLite cannot drop a foreign key: the table is rebuilt.
CREATE TABLE scim_group_member_0006 (
    environment TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    display     TEXT,
    member_type TEXT,
    PRIMARY KEY (environment, org_id, group_id, member_id),
    FOREIGN KEY (environment, org_id, group_id) REFERENCES scim_group (environment, org_id, id) ON DELETE CASCADE
);
INSERT INTO scim_group_member_0006 (environment, org_id, group_id, member_id)
    SELECT environment, org_id, group_id, member_id FROM scim_group_member;
DROP TABLE scim_group_member;
ALTER TABLE scim_group_member_0006 RENAME TO scim_group_member;
CREATE INDEX scim_group_member_member ON scim_group_member (environment, org_id, member_id);
