-- Projects and what is created with them (issue 10): channels, deployment/runbook processes,
-- variable sets, library variable sets. Each table holds the columns that are filtered, joined or
-- constrained on; the rest of the Octopus document is `json`, so unknown property-bag keys survive
-- a save. A process's and a variable set's `version` is the optimistic-concurrency counter: every
-- save is one `UPDATE ... WHERE version = <the version the client read>`, so two nodes saving the
-- same document at once cannot both win.
CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  name TEXT NOT NULL,
  slug TEXT NOT NULL,
  project_group_id TEXT NOT NULL,
  lifecycle_id TEXT NOT NULL,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX projects_name ON projects (space_id, lower(name));
CREATE UNIQUE INDEX projects_slug ON projects (space_id, slug);
CREATE INDEX projects_group ON projects (project_group_id);
CREATE INDEX projects_lifecycle ON projects (lifecycle_id);

CREATE TABLE channels (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  name TEXT NOT NULL,
  lifecycle_id TEXT,
  is_default BOOLEAN NOT NULL DEFAULT false,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX channels_name ON channels (project_id, lower(name));
-- At most one default channel per project, whatever two nodes do at once.
CREATE UNIQUE INDEX channels_default ON channels (project_id) WHERE is_default;
CREATE INDEX channels_space ON channels (space_id);

-- Deployment processes (owner: a project) and runbook processes (owner: a runbook): one shape.
CREATE TABLE processes (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  version BIGINT NOT NULL DEFAULT 0,
  last_snapshot_id TEXT,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX processes_owner ON processes (owner_id);

-- Variable sets of projects and of library variable sets. Sensitive values inside `json` are only
-- ever sealed (crypto::SecretBox), never plain.
CREATE TABLE variable_sets (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  version BIGINT NOT NULL DEFAULT 0,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX variable_sets_owner ON variable_sets (owner_id);

CREATE TABLE library_variable_sets (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  name TEXT NOT NULL,
  variable_set_id TEXT NOT NULL,
  content_type TEXT NOT NULL,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX library_variable_sets_name ON library_variable_sets (space_id, lower(name));

-- A project's IncludedLibraryVariableSetIds, in order.
CREATE TABLE project_library_variable_sets (
  project_id TEXT NOT NULL,
  library_variable_set_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (project_id, library_variable_set_id)
);
CREATE INDEX project_library_variable_sets_set
  ON project_library_variable_sets (library_variable_set_id);
