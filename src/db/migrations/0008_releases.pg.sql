-- 0008 (after 0008_releases.sql): the dashboard trigger, in PostgreSQL's form.
-- A Deploy task's state and times, copied into its dashboard cell whenever they change.
CREATE FUNCTION dashboard_latest_follow_task() RETURNS trigger AS $$
BEGIN
  UPDATE dashboard_latest SET state = NEW.state, queue_time = NEW.queue_time, start_time = NEW.start_time,
    completed_time = NEW.completed_time, error_message = NEW.error_message,
    has_warnings_or_errors = NEW.has_warnings_or_errors
  WHERE task_id = NEW.id;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER server_tasks_dashboard_latest
  AFTER UPDATE OF state, queue_time, start_time, completed_time, error_message,
    has_warnings_or_errors ON server_tasks
  FOR EACH ROW WHEN (NEW.name = 'Deploy') EXECUTE FUNCTION dashboard_latest_follow_task();
