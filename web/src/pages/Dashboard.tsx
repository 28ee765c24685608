// Projects × environments, each cell the latest deployment's version and state. The dashboard
// answers with an ETag, so polling an unchanged one costs a 304.
//
// At size (1,000 projects × 10 environments) the grid is windowed: only the rows in view are in
// the DOM (components/useWindow.ts), the table says how many rows it has (aria-rowcount, and
// aria-rowindex on each row), and a filter box finds a project by name. Rows are memoised, so a
// poll that changes one cell re-renders one row.
import { memo, useDeferredValue, useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { Page, ErrorMessage } from '../components/Page';
import { usePoll } from '../api/poll';
import { useWindow } from '../components/useWindow';
import type { DashboardItem, DashboardResource, NamedResource } from '../api/types';

const POLL_MS = 2000;
const ROW_HEIGHT = 36; // px; .dashboard-grid tbody tr in styles.css

const Row = memo(function Row({
  project,
  index,
  environments,
  cells,
}: {
  project: NamedResource;
  index: number;
  environments: NamedResource[];
  cells: (DashboardItem | undefined)[];
}) {
  return (
    <tr aria-rowindex={index + 2}>
      <th scope="row">
        <Link to={`/projects/${project.Id}`}>{project.Name}</Link>
      </th>
      {environments.map((env, i) => {
        const item = cells[i];
        return (
          <td key={env.Id} className={item ? `state state-${item.State.toLowerCase()}` : 'state'}>
            {item ? (
              <Link to={`/tasks/${item.TaskId}`}>
                <span className="version">{item.ReleaseVersion}</span>{' '}
                <span className="state-name">{item.State}</span>
              </Link>
            ) : (
              <span className="visually-hidden">Not deployed</span>
            )}
          </td>
        );
      })}
    </tr>
  );
}, sameRow);

// A row re-renders only when its project or one of its cells changed.
function sameRow(
  a: { project: NamedResource; index: number; environments: NamedResource[]; cells: (DashboardItem | undefined)[] },
  b: typeof a,
) {
  if (a.project !== b.project || a.index !== b.index || a.environments !== b.environments) return false;
  return a.cells.length === b.cells.length && a.cells.every((c, i) => c === b.cells[i]);
}

export function Dashboard() {
  const { data, error } = usePoll<DashboardResource>('/api/dashboard', POLL_MS);
  const [filter, setFilter] = useState('');
  const deferredFilter = useDeferredValue(filter);

  // Each project's cells in environment order; items keep their identity across polls only when
  // unchanged, so a new poll builds new objects just for the cells whose JSON changed.
  const rows = useMemo(() => {
    if (!data) return new Map<string, (DashboardItem | undefined)[]>();
    const envIndex = new Map(data.Environments.map((e, i) => [e.Id, i]));
    const out = new Map<string, (DashboardItem | undefined)[]>();
    for (const p of data.Projects) out.set(p.Id, new Array(data.Environments.length).fill(undefined));
    for (const item of data.Items) {
      const i = envIndex.get(item.EnvironmentId);
      const row = out.get(item.ProjectId);
      if (row && i !== undefined) row[i] = item;
    }
    return out;
  }, [data]);
  const cellsOf = useStableCells(rows);

  const projects = useMemo(() => {
    const all = data?.Projects ?? [];
    const f = deferredFilter.trim().toLowerCase();
    return f ? all.filter((p) => p.Name.toLowerCase().includes(f)) : all;
  }, [data, deferredFilter]);
  const win = useWindow(projects.length, ROW_HEIGHT);
  const total = data?.Projects.length ?? 0;

  return (
    <Page title="Dashboard">
      <ErrorMessage error={error} />
      {!data && !error && <p role="status">Loading…</p>}
      {data && total === 0 && <p>No projects yet. Create one under Projects.</p>}
      {data && total > 0 && (
        <>
          <div className="toolbar">
            <label htmlFor="dashboard-filter">Filter projects</label>
            <input
              id="dashboard-filter"
              type="search"
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
              placeholder="Project name"
            />
            <span className="muted" role="status">
              {projects.length === total ? `${total} projects` : `${projects.length} of ${total} projects`}
            </span>
          </div>
          <div className="table-wrap dashboard-scroll" ref={win.scroller}>
            <table className="grid dashboard-grid" aria-rowcount={projects.length + 1}>
              <caption className="visually-hidden">Latest deployment of each project to each environment</caption>
              <thead>
                <tr aria-rowindex={1}>
                  <th scope="col">Project</th>
                  {data.Environments.map((env) => (
                    <th scope="col" key={env.Id}>
                      {env.Name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {win.before > 0 && <tr aria-hidden="true" className="spacer" style={{ height: win.before }} />}
                {projects.slice(win.first, win.last).map((p, k) => (
                  <Row
                    key={p.Id}
                    project={p}
                    index={win.first + k}
                    environments={data.Environments}
                    cells={cellsOf(p.Id)}
                  />
                ))}
                {win.after > 0 && <tr aria-hidden="true" className="spacer" style={{ height: win.after }} />}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Page>
  );
}

// Keeps a cell object from the previous poll when its content did not change, so memoised rows
// see the same object and skip rendering.
function useStableCells(rows: Map<string, (DashboardItem | undefined)[]>) {
  const previous = useMemo(() => new Map<string, DashboardItem>(), []);
  return useMemo(() => {
    const stable = new Map<string, (DashboardItem | undefined)[]>();
    const seen = new Map<string, DashboardItem>();
    for (const [projectId, cells] of rows) {
      const kept = cells.map((c) => {
        if (!c) return undefined;
        const key = `${c.ProjectId}/${c.EnvironmentId}`;
        const old = previous.get(key);
        const same = old && old.TaskId === c.TaskId && old.State === c.State && old.ReleaseVersion === c.ReleaseVersion;
        const item = same ? old : c;
        seen.set(key, item);
        return item;
      });
      stable.set(projectId, kept);
    }
    previous.clear();
    for (const [k, v] of seen) previous.set(k, v);
    return (projectId: string) => stable.get(projectId) ?? [];
  }, [rows, previous]);
}
