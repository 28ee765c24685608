-- The whole log of a task that finished before its log was first flushed to shared storage,
-- recorded with the task's result instead of as a file of its own (docs/design-notes.md, "Short
-- task logs live in the task row"). NULL when the log is in the task-log file.
ALTER TABLE server_tasks ADD COLUMN log_text TEXT;
