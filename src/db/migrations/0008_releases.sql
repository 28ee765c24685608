-- Releases, deployments, the dashboard's latest deployment per project and
-- environment, and runbooks (issue 10). Columns are what is filtered, joined, ordered or
-- constrained on; the rest of each Octopus document is the json column. seq is the id's number,
-- so "newest first" is an index order.
CREATE TABLE releases (
  id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  space_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  version TEXT NOT NULL,
  version_key TEXT NOT NULL,
  assembled BIGINT NOT NULL,
  json TEXT NOT NULL DEFAULT '{}'
);
-- A version is unique per project, whatever its case: the index decides a race between nodes.
CREATE UNIQUE INDEX releases_project_version ON releases (project_id, version_key);
CREATE INDEX releases_space ON releases (space_id, seq);
CREATE INDEX releases_project ON releases (project_id, seq);
CREATE INDEX releases_channel ON releases (channel_id, seq);

-- A release's frozen process and variable sets are rows of `processes` (kind DeploymentSnapshot)
-- and `variable_sets` (owned by the release), so they read where the live documents do.

CREATE TABLE deployments (
  id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  space_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  environment_id TEXT NOT NULL,
  release_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  tenant_id TEXT,
  task_id TEXT NOT NULL,
  created BIGINT NOT NULL,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX deployments_space ON deployments (space_id, seq);
CREATE INDEX deployments_project_environment ON deployments (project_id, environment_id, seq);
CREATE INDEX deployments_environment ON deployments (environment_id, seq);
CREATE INDEX deployments_release ON deployments (release_id, seq);
CREATE INDEX deployments_task ON deployments (task_id);

-- The dashboard's cells: the newest deployment of each project in each environment, with what the
-- dashboard shows of it (release version, the task's state and times) copied in, so that the
-- dashboard reads one row per cell and joins nothing. A cell is written in the transaction that
-- creates or deletes a deployment; the task's columns follow the task through the trigger below.
CREATE TABLE dashboard_latest (
  project_id TEXT NOT NULL,
  environment_id TEXT NOT NULL,
  space_id TEXT NOT NULL,
  deployment_seq BIGINT NOT NULL,
  deployment_id TEXT NOT NULL,
  release_id TEXT NOT NULL,
  release_version TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  created BIGINT NOT NULL,
  queue_time BIGINT NOT NULL,
  start_time BIGINT,
  completed_time BIGINT,
  state TEXT NOT NULL,
  error_message TEXT,
  has_warnings_or_errors BOOLEAN NOT NULL DEFAULT FALSE,
  PRIMARY KEY (project_id, environment_id)
);
CREATE INDEX dashboard_latest_space ON dashboard_latest (space_id);
CREATE INDEX dashboard_latest_task ON dashboard_latest (task_id);
CREATE INDEX dashboard_latest_release ON dashboard_latest (release_id);

CREATE TABLE runbooks (
  id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  space_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  process_id TEXT NOT NULL,
  published_snapshot_id TEXT,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX runbooks_project_name ON runbooks (project_id, name_key);
CREATE INDEX runbooks_space ON runbooks (space_id, seq);

CREATE TABLE runbook_snapshots (
  id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  space_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  runbook_id TEXT NOT NULL,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX runbook_snapshots_name ON runbook_snapshots (runbook_id, name_key);
CREATE INDEX runbook_snapshots_space ON runbook_snapshots (space_id, seq);

CREATE TABLE runbook_runs (
  id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  space_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  runbook_id TEXT NOT NULL,
  snapshot_id TEXT NOT NULL,
  environment_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  created BIGINT NOT NULL,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX runbook_runs_space ON runbook_runs (space_id, seq);
CREATE INDEX runbook_runs_runbook ON runbook_runs (runbook_id, seq);
