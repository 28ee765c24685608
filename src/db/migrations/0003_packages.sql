-- The built-in package repository (issue 4): one row per stored package version. The primary key
-- is what decides a race between two nodes receiving the same id and version: exactly one insert
-- wins. id_key and version_key are the lower-cased id and normalized version (NuGet ids and
-- pre-release labels are case-insensitive; "1.0" and "1.0.0.0" normalize to "1.0.0").
CREATE TABLE packages (
  space_id TEXT NOT NULL,
  package_id TEXT NOT NULL,
  id_key TEXT NOT NULL,
  version TEXT NOT NULL,
  version_key TEXT NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  summary TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  release_notes TEXT NOT NULL DEFAULT '',
  authors TEXT NOT NULL DEFAULT '',
  file_name TEXT NOT NULL,
  file_extension TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha1 TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  published BIGINT NOT NULL,
  PRIMARY KEY (space_id, id_key, version_key)
);
