-- 0012: the deployment engine's durable state (docs/engine.md).
--
-- deployment_units: one row per unit of work of a Deploy or RunbookRun task: one action of one step
-- on one target (or on the built-in worker). Written only by the task's current owner, fenced on
-- its claim epoch (tasks::AddLeaseHeld), so that a node that lost the task writes nothing more.
-- `unit_key` is "<step number>/<action id>/<machine id or 'worker'>"; `ordinal` is the unit's
-- place in plan order (the /details tree and /raw follow it). `outputs` is a JSON array of
-- {Name, Value | SealedValue, IsSensitive}; sensitive values are sealed with the master key.
CREATE TABLE deployment_units (
  task_id TEXT NOT NULL,
  unit_key TEXT NOT NULL,
  ordinal BIGINT NOT NULL,
  step_number BIGINT NOT NULL,
  step_name TEXT NOT NULL,
  action_id TEXT NOT NULL,
  action_name TEXT NOT NULL,
  machine_id TEXT NOT NULL DEFAULT '',
  machine_name TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  attempt BIGINT NOT NULL DEFAULT 1,
  node TEXT,
  claim_epoch BIGINT NOT NULL DEFAULT 0,
  started BIGINT,
  ended BIGINT,
  error TEXT,
  outputs TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (task_id, unit_key)
);

-- interruptions: manual interventions and guided-failure prompts (reference §2.15). Created by
-- the task's owner in the statement that parks the task; answered through any node. `unit_key`
-- names the unit it is about (its CorrelationId). `result` holds the submitted form values.
CREATE TABLE interruptions (
  id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL UNIQUE,
  space_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  unit_key TEXT NOT NULL,
  attempt BIGINT NOT NULL DEFAULT 1,
  type TEXT NOT NULL,
  title TEXT NOT NULL,
  json TEXT NOT NULL DEFAULT '{}',
  is_pending BOOLEAN NOT NULL DEFAULT TRUE,
  responsible_user_id TEXT,
  created BIGINT NOT NULL,
  submitted_by TEXT,
  submitted BIGINT,
  result TEXT
);
CREATE INDEX interruptions_task ON interruptions (task_id);
CREATE UNIQUE INDEX interruptions_unit ON interruptions (task_id, unit_key, attempt, type);

-- A task waiting for an interruption is Queued with `parked` set: no node may claim it (it holds
-- no worker and no thread) until the answer clears the flag, and it still holds its concurrency
-- tag, so no other deployment of the project to the environment starts meanwhile.
ALTER TABLE server_tasks ADD COLUMN parked BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX server_tasks_parked ON server_tasks (concurrency_tag) WHERE parked;
