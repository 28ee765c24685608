-- 0014: what lets a node rebuild only the dashboard cells that changed (docs/architecture.md,
-- "The dashboard").
-- dashboard_latest.change_version: the value of the space's counter (dashboard_changes.version)
-- that the commit writing the cell raised, stamped by the same trigger that raises it (the
-- dialect files). The counter is raised one transaction at a time (its row stays locked until the
-- commit), so once a reader sees the counter at V every cell stamped at V or below is committed and
-- visible: a node holding the dashboard at V0 reads only the cells with change_version > V0.
-- dashboard_changes.layout_version: the counter's value at the last change the cells alone cannot
-- say: a project, project group, environment or lifecycle written, or a cell deleted. While it is
-- at most V0 the projects, groups and environments a node built at V0 are still exact.
ALTER TABLE dashboard_latest ADD COLUMN change_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dashboard_changes ADD COLUMN layout_version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX dashboard_latest_change ON dashboard_latest (space_id, change_version);
