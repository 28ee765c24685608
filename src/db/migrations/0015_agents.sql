-- 0015: cuttle-agent (issue 12, docs/agent.md).
--
-- agents: the key of a polling deployment target. One row per machine whose communication style
-- is TentacleActive; deleting the machine deletes it (that is revocation: every later request of
-- the agent is refused). `public_key` is the standard base64 of the 32-byte Ed25519 key.
-- `last_seen_at` is the database time of its last authenticated request, written by the node that
-- served it in batches (at most a few seconds late).
CREATE TABLE agents (
  machine_id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  registered_at BIGINT NOT NULL,
  last_seen_at BIGINT,
  last_seen_node TEXT,
  version TEXT,
  facts TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX agents_public_key ON agents (public_key);

-- agent_commands: one unit of work for one agent (a script or package action of a deployment, or
-- a health probe). Created by the task that needs it (deploy::AgentTarget, the Health kind);
-- handed out by whichever node holds the agent's poll; written by the agent through any node,
-- fenced on `epoch`. `envelope` and `result` are sealed with the master key (they hold sensitive
-- values). (task_id, unit_key, attempt) names the deployment unit's run, so the node that adopts
-- a deployment finds the command its predecessor created instead of creating a second one.
-- `delivered_seq` is the owner's: chunks 0..delivered_seq are in the task log.
CREATE TABLE agent_commands (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  machine_id TEXT NOT NULL,
  task_id TEXT,
  unit_key TEXT,
  attempt BIGINT NOT NULL DEFAULT 1,
  kind TEXT NOT NULL,
  envelope TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'queued',
  epoch BIGINT NOT NULL DEFAULT 0,
  delivery_count BIGINT NOT NULL DEFAULT 0,
  offer_expires_at BIGINT,
  lease_expires_at BIGINT,
  cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
  created_at BIGINT NOT NULL,
  claimed_at BIGINT,
  finished_at BIGINT,
  result TEXT,
  late_result TEXT,
  last_seq BIGINT,
  delivered_seq BIGINT NOT NULL DEFAULT -1,
  error TEXT
);
CREATE UNIQUE INDEX agent_commands_unit ON agent_commands (task_id, unit_key, attempt);
CREATE INDEX agent_commands_pending ON agent_commands (machine_id, created_at)
  WHERE state IN ('queued', 'offered');
CREATE INDEX agent_commands_active ON agent_commands (machine_id)
  WHERE state = 'running';

-- agent_command_output: log chunks, keyed by the agent's own sequence numbers, so a chunk sent
-- twice (through two nodes) is stored once. `data` is JSON lines (docs/agent.md, "Chunks").
CREATE TABLE agent_command_output (
  command_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  digest TEXT NOT NULL,
  data TEXT NOT NULL,
  received_node TEXT,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (command_id, seq)
);

-- agent_nonces: every authenticated agent request's nonce, kept past the signature's validity, so
-- a replayed request is refused on every node.
CREATE TABLE agent_nonces (
  machine_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (machine_id, nonce)
);
CREATE INDEX agent_nonces_expiry ON agent_nonces (expires_at);
