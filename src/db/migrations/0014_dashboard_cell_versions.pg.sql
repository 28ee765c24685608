-- 0014 (after 0014_dashboard_cell_versions.sql), PostgreSQL's form. The trigger is still deferred
-- to commit (0010): a cell's stamp is the counter value its own commit took, under the counter
-- row's lock, so stamps follow commit order.
CREATE OR REPLACE FUNCTION dashboard_changed() RETURNS trigger AS $$
DECLARE
  space TEXT;
  raised BIGINT;
BEGIN
  IF TG_OP = 'DELETE' THEN space := OLD.space_id; ELSE space := NEW.space_id; END IF;
  IF TG_TABLE_NAME = 'dashboard_latest' AND TG_OP <> 'DELETE' THEN
    INSERT INTO dashboard_changes (space_id, version) VALUES (space, 1)
      ON CONFLICT (space_id) DO UPDATE SET version = dashboard_changes.version + 1
      RETURNING version INTO raised;
    -- Only change_version is set, which the trigger below does not watch.
    UPDATE dashboard_latest SET change_version = raised
      WHERE project_id = NEW.project_id AND environment_id = NEW.environment_id;
  ELSE
    INSERT INTO dashboard_changes (space_id, version, layout_version) VALUES (space, 1, 1)
      ON CONFLICT (space_id) DO UPDATE SET version = dashboard_changes.version + 1,
        layout_version = dashboard_changes.version + 1;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER dashboard_latest_dashboard_changed ON dashboard_latest;
CREATE CONSTRAINT TRIGGER dashboard_latest_dashboard_changed
  AFTER INSERT OR DELETE OR UPDATE OF project_id, environment_id, space_id, deployment_seq, deployment_id, release_id, release_version, channel_id, task_id, created, queue_time, start_time, completed_time, state, error_message, has_warnings_or_errors, has_pending_interruptions
  ON dashboard_latest DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dashboard_changed();
