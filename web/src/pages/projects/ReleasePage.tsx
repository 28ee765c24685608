// One release (issue 13): its details and packages, the lifecycle's phases, its deployments
// with their states (live), and "Deploy to <environment>" buttons for exactly the environments
// the lifecycle allows now (the deployment template's PromoteTo). Deploying opens the task.
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { Page, ErrorMessage } from '../../components/Page';
import { api, ApiError, apiErrorOf } from '../../api/client';
import { usePoll } from '../../api/poll';
import { useProject } from './context';
import { useResource } from '../../api/resource';
import type {
  ChannelResource,
  Collection,
  DeploymentResource,
  DeploymentTemplateResource,
  Named,
  ProcessResource,
  ProgressionResource,
  ProjectResource,
  ReleaseResource,
} from './releaseTypes';
import './releases.css';

const POLL_MS = 2000;

function when(iso?: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function ReleaseBody({ project, release }: { project: ProjectResource; release: ReleaseResource }) {
  const navigate = useNavigate();
  const rid = encodeURIComponent(release.Id);
  const deployments = usePoll<Collection<DeploymentResource>>(`/api/releases/${rid}/deployments?take=100`, POLL_MS);
  const progression = usePoll<ProgressionResource>(`/api/releases/${rid}/progression`, POLL_MS);
  const template = usePoll<DeploymentTemplateResource>(`/api/releases/${rid}/deployments/template`, POLL_MS);
  const environments = useResource<Named[]>('/api/environments/all');
  const channel = useResource<ChannelResource>(`/api/channels/${encodeURIComponent(release.ChannelId)}`);
  const snapshot = useResource<ProcessResource>(
    release.ProjectDeploymentProcessSnapshotId
      ? `/api/deploymentprocesses/${encodeURIComponent(release.ProjectDeploymentProcessSnapshotId)}`
      : undefined,
  );
  const [deploying, setDeploying] = useState<string>();
  const [error, setError] = useState<ApiError>();

  const envName = (id: string) => environments.data?.find((e) => e.Id === id)?.Name ?? id;
  const states = new Map<string, string>();
  for (const phase of progression.data?.Phases ?? []) {
    for (const d of phase.Deployments) states.set(d.DeploymentId, d.State);
  }
  const packageIdOf = (action: string, reference?: string | null) => {
    for (const step of snapshot.data?.Steps ?? []) {
      for (const a of step.Actions ?? []) {
        if (a.Name !== action) continue;
        const p = (a.Packages ?? []).find((x) => (x.Name ?? '') === (reference ?? ''));
        if (p) return p.PackageId;
      }
    }
    return '';
  };

  const deploy = async (env: Named) => {
    setDeploying(env.Id);
    setError(undefined);
    try {
      const d = await api.post<DeploymentResource>('/api/deployments', { ReleaseId: release.Id, EnvironmentId: env.Id });
      navigate(`/tasks/${encodeURIComponent(d.TaskId)}`);
    } catch (err) {
      setError(apiErrorOf(err));
      setDeploying(undefined);
      template.refresh();
    }
  };

  const promoteTo = template.data?.PromoteTo ?? [];

  return (
    <>
      <dl className="rel-details">
        <dt>Project</dt>
        <dd>
          <Link to={`/projects/${encodeURIComponent(project.Id)}`}>{project.Name}</Link>
        </dd>
        <dt>Channel</dt>
        <dd>{channel.data?.Name ?? release.ChannelId}</dd>
        <dt>Created</dt>
        <dd>{when(release.Assembled)}</dd>
      </dl>
      {release.ReleaseNotes && (
        <>
          <h2>Release notes</h2>
          <p className="rel-notes">{release.ReleaseNotes}</p>
        </>
      )}

      <section aria-labelledby="release-deploy">
        <h2 id="release-deploy">Deploy</h2>
        <ErrorMessage error={template.error ?? error} />
        {template.data && promoteTo.length === 0 && <p>The lifecycle allows no deployment of this release now.</p>}
        <div className="rel-deploy">
          {promoteTo.map((env) => (
            <button
              type="button"
              className="primary"
              key={env.Id}
              disabled={deploying !== undefined}
              onClick={() => void deploy(env)}
            >
              Deploy to {env.Name}
            </button>
          ))}
        </div>
        {template.data?.IsDeploymentProcessModified && (
          <p className="hint muted">The deployment process has changed since this release was created; it deploys its own snapshot.</p>
        )}
      </section>

      {progression.data && progression.data.Phases.length > 0 && (
        <section aria-labelledby="release-lifecycle">
          <h2 id="release-lifecycle">Lifecycle</h2>
          <ol className="rel-phases">
            {progression.data.Phases.map((phase) => (
              <li key={phase.Id} className={`phase-${phase.Progress.toLowerCase()}`}>
                <strong>{phase.Name}</strong> <span className="muted">{phase.Progress}</span>
                <div>{phase.EnvironmentIds.map(envName).join(', ')}</div>
              </li>
            ))}
          </ol>
        </section>
      )}

      <section aria-labelledby="release-deployments">
        <h2 id="release-deployments">Deployments</h2>
        <ErrorMessage error={deployments.error ?? progression.error} />
        {deployments.data && deployments.data.Items.length === 0 && <p>Not deployed yet.</p>}
        {deployments.data && deployments.data.Items.length > 0 && (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Deployments of this release</caption>
              <thead>
                <tr>
                  <th scope="col">Environment</th>
                  <th scope="col">State</th>
                  <th scope="col">Created</th>
                  <th scope="col">Task</th>
                </tr>
              </thead>
              <tbody>
                {deployments.data.Items.map((d) => {
                  const state = states.get(d.Id) ?? '';
                  return (
                    <tr key={d.Id} className={`state state-${state.toLowerCase()}`}>
                      <th scope="row">{envName(d.EnvironmentId)}</th>
                      <td>
                        <span className="state-name">{state || '…'}</span>
                      </td>
                      <td>{when(d.Created)}</td>
                      <td>
                        <Link to={`/tasks/${encodeURIComponent(d.TaskId)}`}>{d.TaskId}</Link>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="release-packages">
        <h2 id="release-packages">Packages</h2>
        {release.SelectedPackages.length === 0 ? (
          <p>This release has no packages.</p>
        ) : (
          <div className="table-wrap">
            <table aria-labelledby="release-packages">
              <thead>
                <tr>
                  <th scope="col">Step</th>
                  <th scope="col">Package</th>
                  <th scope="col">Version</th>
                </tr>
              </thead>
              <tbody>
                {release.SelectedPackages.map((p) => (
                  <tr key={`${p.ActionName}/${p.PackageReferenceName ?? ''}`}>
                    <th scope="row">
                      {p.ActionName}
                      {p.PackageReferenceName ? <span className="muted"> ({p.PackageReferenceName})</span> : null}
                    </th>
                    <td>{packageIdOf(p.ActionName, p.PackageReferenceName)}</td>
                    <td className="version">{p.Version}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

export function ReleasePage() {
  const { project } = useProject();
  const projectId = project.Id;
  const version = useParams().version ?? '';
  const release = useResource<ReleaseResource>(
    version
      ? `/api/projects/${encodeURIComponent(projectId)}/releases/${encodeURIComponent(version)}`
      : undefined,
  );
  return (
    <Page title={`Release ${version}`}>
      <div className="rel-page">
        <ErrorMessage error={release.error} />
        {!release.data && !release.error && <p role="status">Loading…</p>}
        {release.data && <ReleaseBody project={project} release={release.data} />}
      </div>
    </Page>
  );
}
