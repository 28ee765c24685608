-- agent_command_artifacts: the artifacts an agent uploaded for a command, by the agent's own
-- number, so a resend of the same file (same SHA-256) is recognised and a different file at the
-- same number refused (docs/agent.md, "PUT /commands/{id}/artifacts/{n}").
CREATE TABLE agent_command_artifacts (
  command_id TEXT NOT NULL,
  n BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  artifact_id TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (command_id, n)
);
