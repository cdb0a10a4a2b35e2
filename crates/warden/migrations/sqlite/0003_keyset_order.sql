-- Keys compare in byte order so the sync can walk a kind a keyset page at a time on the primary key's index:
-- SQLite's default (binary) collation already does; PostgreSQL's columns change to COLLATE "C" in its 0003.
SELECT 1;
