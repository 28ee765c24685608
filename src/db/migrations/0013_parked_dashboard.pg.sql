-- 0013: a parked task (migration 0012) on the dashboard, in PostgreSQL's form.
-- A parked task is Queued in its row but shown Executing with a pending interruption (a deployment
-- waiting for a manual step or for failure guidance), so its cell follows `parked` too.
ALTER TABLE dashboard_latest ADD COLUMN has_pending_interruptions BOOLEAN NOT NULL DEFAULT FALSE;
CREATE OR REPLACE FUNCTION dashboard_latest_follow_task() RETURNS trigger AS $$
BEGIN
  UPDATE dashboard_latest SET
    state = CASE WHEN NEW.parked AND NEW.state = 'Queued' THEN 'Executing' ELSE NEW.state END,
    has_pending_interruptions = NEW.parked AND NEW.state = 'Queued',
    queue_time = NEW.queue_time, start_time = NEW.start_time,
    completed_time = NEW.completed_time, error_message = NEW.error_message,
    has_warnings_or_errors = NEW.has_warnings_or_errors
  WHERE task_id = NEW.id;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER server_tasks_dashboard_latest ON server_tasks;
CREATE TRIGGER server_tasks_dashboard_latest
  AFTER UPDATE OF state, parked, queue_time, start_time, completed_time, error_message,
    has_warnings_or_errors ON server_tasks
  FOR EACH ROW WHEN (NEW.name = 'Deploy') EXECUTE FUNCTION dashboard_latest_follow_task();
