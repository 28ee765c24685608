-- Server tasks (DESIGN.md §3.2), their artifacts, and the scheduled jobs that run without a leader.
CREATE TABLE server_tasks (
  id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL UNIQUE,
  space_id TEXT,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  arguments TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL,
  queue_time BIGINT NOT NULL,
  queue_time_expiry BIGINT,
  start_time BIGINT,
  completed_time BIGINT,
  last_updated_time BIGINT,
  server_node TEXT,
  claim_epoch BIGINT NOT NULL DEFAULT 0,
  concurrency_tag TEXT,
  error_message TEXT,
  has_warnings_or_errors BOOLEAN NOT NULL DEFAULT FALSE,
  idempotent BOOLEAN NOT NULL DEFAULT FALSE,
  work_started BOOLEAN NOT NULL DEFAULT FALSE,
  rerun_of TEXT,
  created_by TEXT,
  logs_purged BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX server_tasks_queued ON server_tasks (queue_time, seq) WHERE state = 'Queued';
CREATE INDEX server_tasks_running ON server_tasks (server_node) WHERE state IN ('Executing', 'Cancelling');
CREATE INDEX server_tasks_completed ON server_tasks (completed_time) WHERE completed_time IS NOT NULL;
-- One Executing task per concurrency tag (e.g. one deployment per project and environment), as a
-- database guarantee rather than a check that two nodes could race past.
CREATE UNIQUE INDEX server_tasks_concurrency ON server_tasks (concurrency_tag)
  WHERE concurrency_tag IS NOT NULL AND state IN ('Executing', 'Cancelling');

CREATE TABLE artifacts (
  id TEXT PRIMARY KEY,
  space_id TEXT,
  server_task_id TEXT NOT NULL,
  filename TEXT NOT NULL,
  size BIGINT NOT NULL,
  created BIGINT NOT NULL
);
CREATE INDEX artifacts_task ON artifacts (server_task_id);

CREATE TABLE scheduled_jobs (
  name TEXT PRIMARY KEY,
  next_run BIGINT NOT NULL,
  last_run BIGINT,
  last_node TEXT
);
