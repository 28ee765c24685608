// A project's overview: its releases (newest first) × the environments, each cell the latest
// deployment of that release to that environment, its state linking to the deployment's task.
// Live: releases, deployments and the tasks' states are polled; the dashboard (with an ETag)
// gives the environments and marks what is current in each.
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, ApiError, apiErrorOf } from '../../api/client';
import { usePoll } from '../../api/poll';
import { ErrorMessage, Page } from '../../components/Page';
import type { DashboardResource } from '../../api/types';
import { useProject } from './context';
import type { DeploymentResource, ReleaseResource, ResourceCollection, TaskResource } from './types';
import './projects.css';

const POLL_MS = 2000;
const RELEASES = 20;

export function ProjectOverview() {
  const { project } = useProject();
  const id = encodeURIComponent(project.Id);
  const releases = usePoll<ResourceCollection<ReleaseResource>>(`/api/projects/${id}/releases?take=${RELEASES}`, POLL_MS);
  const deployments = usePoll<ResourceCollection<DeploymentResource>>(`/api/deployments?projects=${id}&take=200`, POLL_MS);
  const dashboard = usePoll<DashboardResource>(`/api/dashboard?projectId=${id}`, POLL_MS);

  // The latest deployment of each release to each environment (the list is newest first, but
  // Created decides).
  const latest = new Map<string, DeploymentResource>();
  for (const d of deployments.data?.Items ?? []) {
    const key = `${d.ReleaseId}/${d.EnvironmentId}`;
    const seen = latest.get(key);
    if (!seen || Date.parse(d.Created) > Date.parse(seen.Created)) latest.set(key, d);
  }
  const taskIds = [...new Set([...latest.values()].map((d) => d.TaskId))].sort();
  const tasks = useTasks(taskIds, deployments.confirmedAt);
  const stateOf = new Map<string, TaskResource>();
  for (const t of tasks.data ?? []) stateOf.set(t.Id, t);
  const current = new Set((dashboard.data?.Items ?? []).filter((i) => i.IsCurrent !== false).map((i) => i.TaskId));

  // Environments: the dashboard's, else those deployed to.
  const environments = dashboard.data?.Environments ?? [];
  const items = releases.data?.Items ?? [];
  const error = releases.error ?? deployments.error ?? dashboard.error ?? tasks.error;

  return (
    <Page title={project.Name}>
      {project.Description && <p className="project-description">{project.Description}</p>}
      <ErrorMessage error={error} />
      <h2 className="section-title">Releases</h2>
      {!releases.data && !releases.error && <p role="status">Loading…</p>}
      {releases.data && items.length === 0 && (
        <p>
          No releases yet. Define the <Link to={`/projects/${id}/process`}>deployment process</Link>, then{' '}
          <Link to={`/projects/${id}/releases/new`}>create a release</Link>.
        </p>
      )}
      {items.length > 0 && (
        <div className="table-wrap">
          <table className="grid releases-grid">
            <caption className="visually-hidden">Releases of {project.Name} and their deployments to each environment</caption>
            <thead>
              <tr>
                <th scope="col">Release</th>
                <th scope="col">Created</th>
                {environments.map((env) => (
                  <th scope="col" key={env.Id}>
                    {env.Name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.Id}>
                  <th scope="row">
                    <Link to={`/projects/${id}/releases/${encodeURIComponent(r.Version)}`} className="version">
                      {r.Version}
                    </Link>
                  </th>
                  <td>
                    <time dateTime={r.Assembled} title={r.Assembled}>
                      {new Date(r.Assembled).toLocaleString()}
                    </time>
                  </td>
                  {environments.map((env) => {
                    const d = latest.get(`${r.Id}/${env.Id}`);
                    if (!d) {
                      return (
                        <td key={env.Id} className="state">
                          <span className="visually-hidden">Not deployed</span>
                        </td>
                      );
                    }
                    const task = stateOf.get(d.TaskId);
                    const state = task?.State ?? 'Unknown';
                    return (
                      <td key={env.Id} className={`state state-${state.toLowerCase()}`}>
                        <Link to={`/tasks/${encodeURIComponent(d.TaskId)}`} className="state-name">
                          {state}
                        </Link>
                        {task?.HasPendingInterruptions && <span className="tag">Needs attention</span>}
                        {current.has(d.TaskId) && <span className="tag">Current</span>}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

// The tasks of the shown deployments (their states), fetched again whenever the deployments'
// poll confirms its data (every POLL_MS), so a running deployment's state follows live.
function useTasks(ids: string[], tick: number | undefined): { data?: TaskResource[]; error?: ApiError } {
  const [state, setState] = useState<{ data?: TaskResource[]; error?: ApiError }>({});
  const key = ids.join(',');
  useEffect(() => {
    if (!key) {
      setState({});
      return;
    }
    const controller = new AbortController();
    const path = `/api/tasks?ids=${key.split(',').map(encodeURIComponent).join(',')}`;
    api
      .get<ResourceCollection<TaskResource>>(path, { signal: controller.signal })
      .then((r) => setState({ data: r.Items }))
      .catch((e: unknown) => {
        if (e instanceof DOMException && e.name === 'AbortError') return;
        setState((s) => ({ ...s, error: apiErrorOf(e) }));
      });
    return () => controller.abort();
  }, [key, tick]);
  return state;
}
