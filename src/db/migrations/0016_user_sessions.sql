-- Users sign in (issue 13): an Argon2id password hash per user, the failed sign-ins counted in
-- the database so a lockout holds on every node, and the sessions the sealed cookies name, so a
-- sign-out ends a session on every node.

-- crypto_pwhash_str output ("$argon2id$v=19$..."); NULL: the user has no password (service
-- accounts, users made before this migration other than the admin).
ALTER TABLE users ADD COLUMN password_hash TEXT;
-- Failed sign-ins in a row, each within the lockout window of the one before (auth/sessions.cc).
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_failed_login BIGINT;
-- While now_ms() < locked_until, sign-in is refused, whatever the password.
ALTER TABLE users ADD COLUMN locked_until BIGINT;

-- User names are unique whatever their case (sign-in looks them up case-insensitively).
CREATE UNIQUE INDEX users_username_lower ON users (LOWER(username));

-- One row per signed-in browser. The cookie carries the session id sealed under a key derived
-- from the master key; the row holds only the SHA-256 of that id, so a copy of the database
-- opens no session.
CREATE TABLE user_sessions (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX user_sessions_user_id ON user_sessions (user_id);
