// A task: its header (state, duration, the deployment's project and release), the step/target
// tree (/details, every second while it runs), the live log (LogView, followed by byte offset),
// its artifacts, "Cancel" while it runs, and its pending interruptions answered in place.
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, messageOf } from '../../api/client';
import { usePoll } from '../../api/poll';
import { ErrorMessage, Page } from '../../components/Page';
import { formatTime, isFinal, spanBetween, stateClass } from './format';
import { Interruptions } from './Interruptions';
import { LogView } from './LogView';
import { useLogFollower } from './useLogFollower';
import type {
  ActivityLog,
  ArtifactResource,
  DeploymentResource,
  InterruptionResource,
  Paged,
  TaskDetails,
  TaskResource,
} from './types';
import './tasks.css';

interface DeploymentInfo {
  deployment: DeploymentResource;
  projectName?: string;
  environmentName?: string;
  version?: string;
}

function useDeployment(deploymentId: string | undefined): DeploymentInfo | undefined {
  const [info, setInfo] = useState<DeploymentInfo>();
  useEffect(() => {
    if (!deploymentId) return;
    let stopped = false;
    void (async () => {
      try {
        const d = await api.get<DeploymentResource>(`/api/deployments/${encodeURIComponent(deploymentId)}`);
        if (stopped) return;
        setInfo({ deployment: d });
        const [project, release, environment] = await Promise.all([
          api.get<{ Name: string }>(`/api/projects/${encodeURIComponent(d.ProjectId)}`).catch(() => undefined),
          api.get<{ Version: string }>(`/api/releases/${encodeURIComponent(d.ReleaseId)}`).catch(() => undefined),
          api.get<{ Name: string }>(`/api/environments/${encodeURIComponent(d.EnvironmentId)}`).catch(() => undefined),
        ]);
        if (stopped) return;
        setInfo({ deployment: d, projectName: project?.Name, version: release?.Version, environmentName: environment?.Name });
      } catch {
        // the header shows the task without its deployment's links
      }
    })();
    return () => {
      stopped = true;
    };
  }, [deploymentId]);
  return info;
}

function Activity({ a, now }: { a: ActivityLog; now: number }) {
  const span = a.Started ? spanBetween(a.Started, a.Ended ?? (a.Status === 'Running' ? null : a.Started), now) : '';
  return (
    <li>
      <span className={`activity-status activity-${a.Status.toLowerCase()}`}>{a.Status}</span>
      <span className="activity-name">{a.Name}</span>
      {span && <span className="activity-duration">{span}</span>}
      {a.Children.length > 0 && (
        <ul>
          {a.Children.map((c) => (
            <Activity key={c.Id} a={c} now={now} />
          ))}
        </ul>
      )}
    </li>
  );
}

function Header({ task, deployment, now }: { task: TaskResource; deployment?: DeploymentInfo; now: number }) {
  const d = deployment?.deployment;
  return (
    <dl className="task-summary">
      <dt>State</dt>
      <dd className={stateClass(task.State)}>
        <span className="state-name" data-testid="task-state">
          {task.State}
        </span>
        {task.HasWarningsOrErrors && ' (with warnings or errors)'}
      </dd>
      <dt>Duration</dt>
      <dd>{task.StartTime ? spanBetween(task.StartTime, task.CompletedTime, now) : 'Not started'}</dd>
      <dt>Queued</dt>
      <dd>{formatTime(task.QueueTime)}</dd>
      {task.StartTime && (
        <>
          <dt>Started</dt>
          <dd>{formatTime(task.StartTime)}</dd>
        </>
      )}
      {task.CompletedTime && (
        <>
          <dt>Completed</dt>
          <dd>{formatTime(task.CompletedTime)}</dd>
        </>
      )}
      <dt>Node</dt>
      <dd>{task.ServerNode ?? '—'}</dd>
      <dt>Kind</dt>
      <dd>{task.Name}</dd>
      {d && (
        <>
          <dt>Project</dt>
          <dd>
            <Link to={`/projects/${encodeURIComponent(d.ProjectId)}`}>{deployment?.projectName ?? d.ProjectId}</Link>
          </dd>
          <dt>Release</dt>
          <dd>
            {deployment?.version ? (
              <Link to={`/projects/${encodeURIComponent(d.ProjectId)}/releases/${encodeURIComponent(deployment.version)}`}>
                {deployment.version}
              </Link>
            ) : (
              d.ReleaseId
            )}
          </dd>
          <dt>Environment</dt>
          <dd>{deployment?.environmentName ?? d.EnvironmentId}</dd>
        </>
      )}
      {task.ErrorMessage && (
        <>
          <dt>Error</dt>
          <dd>{task.ErrorMessage}</dd>
        </>
      )}
    </dl>
  );
}

export function TaskPage() {
  const { taskId = '' } = useParams();
  const id = encodeURIComponent(taskId);
  const follow = useLogFollower(taskId);
  const [running, setRunning] = useState(true);
  const details = usePoll<TaskDetails>(`/api/tasks/${id}/details?tail=0`, running ? 1000 : 30000);
  const interruptions = usePoll<Paged<InterruptionResource>>(
    `/api/interruptions?regarding=${id}&pendingOnly=true&take=30`,
    running ? 1000 : 30000,
  );
  const artifacts = usePoll<Paged<ArtifactResource>>(`/api/artifacts?regarding=${id}&take=100`, running ? 3000 : 30000);
  const [showVerbose, setShowVerbose] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [actionError, setActionError] = useState<string>();
  const [now, setNow] = useState(Date.now());

  const task = details.data?.Task;
  const finished = task ? task.IsCompleted : isFinal(follow.state);
  useEffect(() => setRunning(!finished), [finished]);
  useEffect(() => {
    if (finished) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [finished]);
  // The log saw the task finish before the details poll did: look again now.
  const refreshDetails = details.refresh;
  useEffect(() => {
    if (isFinal(follow.state)) refreshDetails();
  }, [follow.state, refreshDetails]);

  const deploymentId = typeof task?.Arguments?.DeploymentId === 'string' ? task.Arguments.DeploymentId : undefined;
  const deployment = useDeployment(deploymentId);

  const cancel = async () => {
    setCancelling(true);
    setActionError(undefined);
    try {
      await api.post(`/api/tasks/${id}/cancel`);
      details.refresh();
    } catch (e) {
      setActionError(messageOf(e));
    } finally {
      setCancelling(false);
    }
  };

  // A failed read while the page has what it needs (a node died; HAProxy sends the next request
  // to another): a small status, not an alert, while every part retries on its own.
  const reconnecting = follow.reconnecting || (details.data !== undefined && details.error !== undefined);
  const problem = (follow.reconnecting ? follow.problem : details.error?.message) ?? '';
  const root = details.data?.ActivityLogs?.[0];
  const steps = root ? (root.Children.length > 0 ? root.Children : [root]) : [];
  const verboseId = 'show-verbose';

  return (
    <Page
      title={task?.Description || (details.error ? 'Task' : 'Task…')}
      actions={
        task && !task.IsCompleted ? (
          <button type="button" onClick={() => void cancel()} disabled={cancelling || task.State === 'Cancelling'}>
            Cancel
          </button>
        ) : undefined
      }
    >
      <p>
        <Link to="/tasks">All tasks</Link>
      </p>
      <ErrorMessage error={actionError} />
      {!details.data && <ErrorMessage error={details.error} />}
      {!task && !details.error && <p role="status">Loading…</p>}
      {task && <Header task={task} deployment={deployment} now={now} />}

      {interruptions.data && !finished && (
        <Interruptions
          items={interruptions.data.Items}
          onAnswered={() => {
            interruptions.refresh();
            details.refresh();
          }}
        />
      )}

      {steps.length > 0 && (
        <section className="task-section" aria-labelledby="task-steps">
          <h2 id="task-steps">Steps</h2>
          <ul className="activity-tree" aria-labelledby="task-steps">
            {steps.map((a) => (
              <Activity key={a.Id} a={a} now={now} />
            ))}
          </ul>
        </section>
      )}

      <section className="task-section" aria-labelledby="task-log">
        <h2 id="task-log">Task log</h2>
        <div className="log-toolbar">
          <span>
            <input id={verboseId} type="checkbox" checked={showVerbose} onChange={(e) => setShowVerbose(e.target.checked)} />{' '}
            <label htmlFor={verboseId}>Show verbose</label>
          </span>
          <span>
            {follow.store.count.toLocaleString()} lines
            {follow.size > 0 && follow.store.offset < follow.size && ` (loading ${Math.floor((100 * follow.store.offset) / follow.size)}%)`}
          </span>
          <span role="status" aria-label="Log connection" className="log-reconnecting">
            {reconnecting ? `Reconnecting… ${problem}` : ''}
          </span>
        </div>
        <LogView follow={follow} showVerbose={showVerbose} />
      </section>

      <section className="task-section" aria-labelledby="task-artifacts">
        <h2 id="task-artifacts">Artifacts</h2>
        <ErrorMessage error={artifacts.error} />
        {artifacts.data && artifacts.data.Items.length === 0 && <p>No artifacts.</p>}
        {artifacts.data && artifacts.data.Items.length > 0 && (
          <ul>
            {artifacts.data.Items.map((a) => (
              <li key={a.Id}>
                <a href={`/api/artifacts/${encodeURIComponent(a.Id)}/content`} download={a.Filename}>
                  {a.Filename}
                </a>
                {a.Size !== undefined && ` (${a.Size.toLocaleString()} bytes)`}
              </li>
            ))}
          </ul>
        )}
      </section>
    </Page>
  );
}
