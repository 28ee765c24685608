-- 0014 (after 0014_dashboard_cell_versions.sql), SQLite's form: the 0010 triggers again, the
-- layout ones now also setting layout_version, the cell ones stamping the cell they wrote.
DROP TRIGGER projects_dashboard_insert;
CREATE TRIGGER projects_dashboard_insert AFTER INSERT ON projects
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (NEW.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
DROP TRIGGER projects_dashboard_update;
CREATE TRIGGER projects_dashboard_update AFTER UPDATE ON projects
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (NEW.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
DROP TRIGGER projects_dashboard_delete;
CREATE TRIGGER projects_dashboard_delete AFTER DELETE ON projects
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (OLD.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
DROP TRIGGER project_groups_dashboard_insert;
CREATE TRIGGER project_groups_dashboard_insert AFTER INSERT ON project_groups
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (NEW.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
DROP TRIGGER project_groups_dashboard_update;
CREATE TRIGGER project_groups_dashboard_update AFTER UPDATE ON project_groups
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (NEW.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
DROP TRIGGER project_groups_dashboard_delete;
CREATE TRIGGER project_groups_dashboard_delete AFTER DELETE ON project_groups
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (OLD.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
DROP TRIGGER environments_dashboard_insert;
CREATE TRIGGER environments_dashboard_insert AFTER INSERT ON environments
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (NEW.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
DROP TRIGGER environments_dashboard_update;
CREATE TRIGGER environments_dashboard_update AFTER UPDATE ON environments
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (NEW.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
DROP TRIGGER environments_dashboard_delete;
CREATE TRIGGER environments_dashboard_delete AFTER DELETE ON environments
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (OLD.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
DROP TRIGGER lifecycles_dashboard_insert;
CREATE TRIGGER lifecycles_dashboard_insert AFTER INSERT ON lifecycles
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (NEW.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
DROP TRIGGER lifecycles_dashboard_update;
CREATE TRIGGER lifecycles_dashboard_update AFTER UPDATE ON lifecycles
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (NEW.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
DROP TRIGGER lifecycles_dashboard_delete;
CREATE TRIGGER lifecycles_dashboard_delete AFTER DELETE ON lifecycles
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (OLD.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
DROP TRIGGER dashboard_latest_dashboard_insert;
CREATE TRIGGER dashboard_latest_dashboard_insert AFTER INSERT
  ON dashboard_latest
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (NEW.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
  UPDATE dashboard_latest SET change_version =
      (SELECT version FROM dashboard_changes WHERE space_id = NEW.space_id)
    WHERE project_id = NEW.project_id AND environment_id = NEW.environment_id;
END;
DROP TRIGGER dashboard_latest_dashboard_update;
CREATE TRIGGER dashboard_latest_dashboard_update AFTER UPDATE OF project_id, environment_id, space_id, deployment_seq, deployment_id, release_id, release_version, channel_id, task_id, created, queue_time, start_time, completed_time, state, error_message, has_warnings_or_errors, has_pending_interruptions
  ON dashboard_latest
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (NEW.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
  UPDATE dashboard_latest SET change_version =
      (SELECT version FROM dashboard_changes WHERE space_id = NEW.space_id)
    WHERE project_id = NEW.project_id AND environment_id = NEW.environment_id;
END;
DROP TRIGGER dashboard_latest_dashboard_delete;
CREATE TRIGGER dashboard_latest_dashboard_delete AFTER DELETE ON dashboard_latest
BEGIN
  INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (OLD.space_id, 1, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1, layout_version = version + 1;
END;
