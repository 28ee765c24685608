-- The built-in feed pages its lists in SQL (issue 10), so the database must order versions by
-- SemVer precedence: version_order is feed::Version::SortKey(), whose byte order (SQLite's BINARY
-- collation) is precedence. Rows stored before this migration get theirs when a node starts
-- (PackageStore backfills the empty ones).
ALTER TABLE packages ADD COLUMN version_order TEXT NOT NULL DEFAULT '';
CREATE INDEX packages_by_version_order ON packages (space_id, id_key, version_order);
