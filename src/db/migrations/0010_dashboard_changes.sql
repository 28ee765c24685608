-- 0010: what lets the dashboard answer without rebuilding itself.
-- projects.is_disabled: the dashboard lists every project's IsDisabled, which otherwise needs every
-- project's JSON document parsed on every request (kept equal to the document's IsDisabled by
-- repo/projects.cc).
-- dashboard_changes: one counter per space, raised by triggers (the dialect files) whenever a row
-- the dashboard shows changes: projects, project groups, environments, lifecycles and
-- dashboard_latest. The API caches the built dashboard under the counter's value and answers
-- If-None-Match with 304 while it is unchanged (docs/architecture.md, "The dashboard").
ALTER TABLE projects ADD COLUMN is_disabled BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE dashboard_changes (
  space_id TEXT PRIMARY KEY,
  version BIGINT NOT NULL
);
