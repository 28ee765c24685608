-- The infrastructure model (issue 10): environments, lifecycles, project groups, machine policies
-- and deployment targets. Each aggregate is a row with the columns that are filtered, joined or
-- constrained on, and `json` for the rest of its Octopus document (unknown keys included). The
-- environments a lifecycle or a machine names, and a machine's roles, are rows of child tables, so
-- "which lifecycles use this environment" and the machine filters are index lookups, and no list
-- is ever matched with LIKE.
-- Space names are unique ignoring case, as the API checks; the index settles two concurrent creates.
CREATE UNIQUE INDEX spaces_lower_name ON spaces (lower(name));

CREATE TABLE environments (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  name TEXT NOT NULL,
  sort_order INTEGER NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  use_guided_failure BOOLEAN NOT NULL DEFAULT FALSE,
  allow_dynamic_infrastructure BOOLEAN NOT NULL DEFAULT FALSE,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX environments_space_name ON environments (space_id, lower(name));
CREATE INDEX environments_space_order ON environments (space_id, sort_order);

CREATE TABLE lifecycles (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  name TEXT NOT NULL,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX lifecycles_space_name ON lifecycles (space_id, lower(name));

-- Every environment a lifecycle's phases name (automatic or optional).
CREATE TABLE lifecycle_environments (
  lifecycle_id TEXT NOT NULL,
  environment_id TEXT NOT NULL,
  PRIMARY KEY (lifecycle_id, environment_id)
);
CREATE INDEX lifecycle_environments_environment ON lifecycle_environments (environment_id);

CREATE TABLE project_groups (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  name TEXT NOT NULL,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX project_groups_space_name ON project_groups (space_id, lower(name));

CREATE TABLE machine_policies (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  name TEXT NOT NULL,
  is_default BOOLEAN NOT NULL DEFAULT FALSE,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX machine_policies_space_name ON machine_policies (space_id, lower(name));

CREATE TABLE machines (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  name TEXT NOT NULL,
  is_disabled BOOLEAN NOT NULL DEFAULT FALSE,
  health_status TEXT NOT NULL DEFAULT 'Unknown',
  machine_policy_id TEXT NOT NULL,
  communication_style TEXT NOT NULL,
  thumbprint TEXT,
  json TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX machines_space_name ON machines (space_id, lower(name));
CREATE INDEX machines_thumbprint ON machines (thumbprint) WHERE thumbprint IS NOT NULL;

CREATE TABLE machine_environments (
  machine_id TEXT NOT NULL,
  environment_id TEXT NOT NULL,
  PRIMARY KEY (machine_id, environment_id)
);
CREATE INDEX machine_environments_environment ON machine_environments (environment_id);

CREATE TABLE machine_roles (
  machine_id TEXT NOT NULL,
  role TEXT NOT NULL,
  PRIMARY KEY (machine_id, role)
);
CREATE INDEX machine_roles_role ON machine_roles (role);

-- A database made before this migration already has the Default space: give it what every space
-- gets when it is created (repo::CreateSpaceDefaults), with the same fixed ids Bootstrap gives a
-- new database. A new database has no space yet; Bootstrap seeds it.
INSERT INTO lifecycles (id, space_id, name)
  SELECT 'Lifecycles-1', 'Spaces-1', 'Default Lifecycle' WHERE EXISTS (SELECT 1 FROM spaces WHERE id = 'Spaces-1');
INSERT INTO project_groups (id, space_id, name, json)
  SELECT 'ProjectGroups-1', 'Spaces-1', 'Default Project Group', '{}' WHERE EXISTS (SELECT 1 FROM spaces WHERE id = 'Spaces-1');
INSERT INTO machine_policies (id, space_id, name, is_default)
  SELECT 'MachinePolicies-1', 'Spaces-1', 'Default Machine Policy', TRUE WHERE EXISTS (SELECT 1 FROM spaces WHERE id = 'Spaces-1');
INSERT INTO id_sequences (name, value)
  SELECT s.name, 1 FROM (SELECT 'Lifecycles' AS name UNION ALL SELECT 'ProjectGroups' UNION ALL SELECT 'MachinePolicies') s
  WHERE EXISTS (SELECT 1 FROM spaces WHERE id = 'Spaces-1')
  ON CONFLICT (name) DO NOTHING;
