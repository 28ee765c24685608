-- 0018: commit markers and enqueue keys, so that a write whose reply was lost (the connection
-- dropped after PostgreSQL had carried it out: a failover, a network cut) is not applied twice
-- when it is retried (docs/high-availability.md, "Lost replies").
--
-- Every InTransaction that wrote something inserts a random id (one per attempt) here in the round trip that
-- commits it. After a lost COMMIT reply the next attempt claims the id (fenced = TRUE) on another
-- connection: a row already there with fenced = FALSE means the transaction committed; otherwise
-- the claim makes the lost attempt's own insert fail should its COMMIT still arrive. Rows older
-- than an hour are swept (created_at, the database clock); no index on created_at, so that the
-- hot-path insert maintains one index only: the sweep scans at most an hour of markers, once a
-- minute per node.
CREATE TABLE commit_markers (
  id UUID PRIMARY KEY,  -- UUID, not TEXT: its index insert costs about half as much
  created_at BIGINT NOT NULL,
  fenced BOOLEAN NOT NULL DEFAULT FALSE
);

-- TaskQueue::Enqueue is one autocommit INSERT; its client-made key lets a retry after a lost
-- reply find the row the first attempt inserted (ON CONFLICT ... DO UPDATE ... RETURNING).
ALTER TABLE server_tasks ADD COLUMN enqueue_key TEXT;
CREATE UNIQUE INDEX server_tasks_enqueue_key ON server_tasks (enqueue_key)
  WHERE enqueue_key IS NOT NULL;
