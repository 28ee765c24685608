-- The node foundation: cluster settings, id sequences, nodes, spaces, users, API keys.

-- The database clock (milliseconds since the Unix epoch); all liveness arithmetic uses it.
CREATE OR REPLACE FUNCTION now_ms() RETURNS bigint LANGUAGE sql AS $$
  SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint
$$;

-- installation_id, the master key check value, ...
CREATE TABLE cluster_settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Octopus-style ids (ServerTasks-N): INSERT ... ON CONFLICT (name) DO UPDATE SET value =
-- id_sequences.value + 1 RETURNING value, starting at 1.
CREATE TABLE id_sequences (
  name TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);

CREATE TABLE server_nodes (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  max_concurrent_tasks INTEGER NOT NULL,
  is_in_maintenance_mode BOOLEAN NOT NULL DEFAULT false,
  last_seen BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  version TEXT NOT NULL,
  schema_version INTEGER NOT NULL DEFAULT 0,
  lease_epoch BIGINT NOT NULL DEFAULT 0,
  is_offline_marked BOOLEAN NOT NULL DEFAULT false,  -- set on clean shutdown
  last_modified_on BIGINT,
  last_modified_by TEXT
);

CREATE TABLE spaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  slug TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  is_default BOOLEAN NOT NULL,
  task_queue_stopped BOOLEAN NOT NULL DEFAULT false,
  json TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  email TEXT NOT NULL DEFAULT '',
  is_service BOOLEAN NOT NULL DEFAULT false,
  is_active BOOLEAN NOT NULL DEFAULT true,
  created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose TEXT NOT NULL DEFAULT '',
  key_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT
);
CREATE INDEX api_keys_user_id ON api_keys (user_id);
