-- A user's `groups` (read with every user) name each group's displayName. Each membership row now carries it, so
-- that read is one index scan of scim_group_member instead of a join to scim_group per user; a group's writes keep
-- it current (a rename rewrites the group's membership rows).
ALTER TABLE scim_group_member ADD COLUMN group_display_name TEXT NOT NULL DEFAULT '';
UPDATE scim_group_member SET group_display_name = (
    SELECT g.display_name FROM scim_group AS g
    WHERE g.environment = scim_group_member.environment AND g.org_id = scim_group_member.org_id
      AND g.id = scim_group_member.group_id
);
