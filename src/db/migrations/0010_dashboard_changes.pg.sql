-- 0010 (after 0010_dashboard_changes.sql), PostgreSQL's form.
UPDATE projects SET is_disabled = TRUE WHERE (json::jsonb ->> 'IsDisabled') = 'true';

CREATE FUNCTION dashboard_changed() RETURNS trigger AS $$
DECLARE
  space TEXT;
BEGIN
  IF TG_OP = 'DELETE' THEN space := OLD.space_id; ELSE space := NEW.space_id; END IF;
  INSERT INTO dashboard_changes (space_id, version) VALUES (space, 1)
    ON CONFLICT (space_id) DO UPDATE SET version = dashboard_changes.version + 1;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- Deferred to commit: the counter row is then the last lock a transaction takes, after every row
-- it changed, so two writers can never wait on each other through it (a task's state change and a
-- reaper's bulk update of the same tasks would otherwise lock in opposite orders).
CREATE CONSTRAINT TRIGGER projects_dashboard_changed AFTER INSERT OR UPDATE OR DELETE ON projects
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dashboard_changed();
CREATE CONSTRAINT TRIGGER project_groups_dashboard_changed AFTER INSERT OR UPDATE OR DELETE ON project_groups
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dashboard_changed();
CREATE CONSTRAINT TRIGGER environments_dashboard_changed AFTER INSERT OR UPDATE OR DELETE ON environments
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dashboard_changed();
CREATE CONSTRAINT TRIGGER lifecycles_dashboard_changed AFTER INSERT OR UPDATE OR DELETE ON lifecycles
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dashboard_changed();
CREATE CONSTRAINT TRIGGER dashboard_latest_dashboard_changed AFTER INSERT OR UPDATE OR DELETE ON dashboard_latest
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dashboard_changed();
