-- Keys compare in byte order (as Rust orders strings) so the sync can walk a kind a keyset page at a time on the
-- primary key's index. SQLite's default collation is already binary.
ALTER TABLE org ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE project ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE project_role ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE zitadel_user ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE machine_key ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE personal_access_token ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE user_grant ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE membership ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE project_grant ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE application ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE identity_provider ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE user_metadata ALTER COLUMN id TYPE TEXT COLLATE "C";

