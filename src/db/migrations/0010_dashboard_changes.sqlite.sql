-- 0010 (after 0010_dashboard_changes.sql), SQLite's form. SQLite has one writer at a time, so
-- the counter needs no care about lock order.
UPDATE projects SET is_disabled = 1 WHERE json_extract(json, '$.IsDisabled') = 1;

CREATE TRIGGER projects_dashboard_insert AFTER INSERT ON projects
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (NEW.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER projects_dashboard_update AFTER UPDATE ON projects
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (NEW.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER projects_dashboard_delete AFTER DELETE ON projects
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (OLD.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER project_groups_dashboard_insert AFTER INSERT ON project_groups
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (NEW.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER project_groups_dashboard_update AFTER UPDATE ON project_groups
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (NEW.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER project_groups_dashboard_delete AFTER DELETE ON project_groups
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (OLD.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER environments_dashboard_insert AFTER INSERT ON environments
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (NEW.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER environments_dashboard_update AFTER UPDATE ON environments
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (NEW.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER environments_dashboard_delete AFTER DELETE ON environments
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (OLD.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER lifecycles_dashboard_insert AFTER INSERT ON lifecycles
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (NEW.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER lifecycles_dashboard_update AFTER UPDATE ON lifecycles
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (NEW.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER lifecycles_dashboard_delete AFTER DELETE ON lifecycles
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (OLD.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER dashboard_latest_dashboard_insert AFTER INSERT ON dashboard_latest
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (NEW.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER dashboard_latest_dashboard_update AFTER UPDATE ON dashboard_latest
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (NEW.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER dashboard_latest_dashboard_delete AFTER DELETE ON dashboard_latest
BEGIN
  INSERT INTO dashboard_changes (space_id, version) VALUES (OLD.space_id, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = version + 1;
END;
