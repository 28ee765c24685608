-- The audit log (issue 10): every create, modify and delete writes one event in the same
-- transaction as the change. The documents an event relates to are rows of their own, so the
-- "regarding" filter is an index lookup.
CREATE TABLE events (
  seq BIGINT NOT NULL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  space_id TEXT,
  category TEXT NOT NULL,
  message TEXT NOT NULL,
  user_id TEXT NOT NULL,
  username TEXT NOT NULL,
  occurred BIGINT NOT NULL,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_occurred ON events (occurred);
CREATE INDEX events_user ON events (user_id, seq);
CREATE INDEX events_category ON events (category, seq);

CREATE TABLE event_documents (
  event_seq BIGINT NOT NULL,
  document_id TEXT NOT NULL,
  PRIMARY KEY (document_id, event_seq)
);
