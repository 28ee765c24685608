// One runbook (issue 13): its process (the shared process editor on the runbook's process),
// publishing a snapshot, and running the published snapshot in an environment, which opens the
// run's task.
import { useEffect, useState, type ComponentType, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { Page, ErrorMessage } from '../../components/Page';
import { api, ApiError } from '../../api/client';
import { ProcessEditor } from './ProcessEditor';
import { useProjectById, useResource } from './useProjectById';
import type { Named, RunbookResource, RunbookRunAnswer, RunbookSnapshotResource } from './releaseTypes';
import './releases.css';

// The process editor takes the process to edit (processUrl); typed here so this page builds
// against the editor's placeholder too.
const RunbookProcessEditor = ProcessEditor as unknown as ComponentType<{ processUrl?: string }>;

export function RunbookPage() {
  const { data: project, error: projectError, projectId } = useProjectById();
  const runbookId = useParams().runbookId ?? '';
  const runbook = useResource<RunbookResource>(runbookId ? `/api/runbooks/${encodeURIComponent(runbookId)}` : undefined);
  const snapshot = useResource<RunbookSnapshotResource>(
    runbook.data?.PublishedRunbookSnapshotId
      ? `/api/runbookSnapshots/${encodeURIComponent(runbook.data.PublishedRunbookSnapshotId)}`
      : undefined,
  );
  const environments = useResource<Named[]>('/api/environments/all');
  const navigate = useNavigate();
  const [notes, setNotes] = useState('');
  const [publishError, setPublishError] = useState<ApiError>();
  const [published, setPublished] = useState<string>();
  const [environmentId, setEnvironmentId] = useState('');
  const [runError, setRunError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const rb = runbook.data;
  // The environments the runbook may run in (its scope; the server checks it again).
  const allowed = (environments.data ?? []).filter(
    (e) => !rb || rb.EnvironmentScope !== 'Specified' || rb.Environments.includes(e.Id),
  );
  useEffect(() => {
    if (environmentId === '' && allowed.length > 0) setEnvironmentId(allowed[0].Id);
  }, [allowed, environmentId]);

  const publish = async (e: FormEvent) => {
    e.preventDefault();
    if (!rb) return;
    setBusy(true);
    setPublishError(undefined);
    setPublished(undefined);
    try {
      const s = await api.post<RunbookSnapshotResource>('/api/runbookSnapshots?publish=true', {
        ProjectId: rb.ProjectId,
        RunbookId: rb.Id,
        Notes: notes === '' ? null : notes,
        Publish: true,
      });
      setPublished(s.Name);
      setNotes('');
      runbook.reload();
    } catch (err) {
      setPublishError(err instanceof ApiError ? err : new ApiError(0, String(err)));
    } finally {
      setBusy(false);
    }
  };

  const run = async (e: FormEvent) => {
    e.preventDefault();
    if (!rb || !environmentId) return;
    setBusy(true);
    setRunError(undefined);
    try {
      const answer = await api.post<RunbookRunAnswer>('/api/runbook-runs/create/v1', {
        ProjectName: rb.ProjectId,
        RunbookName: rb.Id,
        EnvironmentNames: [environmentId],
      });
      const task = answer.RunbookRunServerTasks[0]?.ServerTaskId;
      if (task) navigate(`/tasks/${encodeURIComponent(task)}`);
    } catch (err) {
      setRunError(err instanceof ApiError ? err : new ApiError(0, String(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title={rb ? `Runbook ${rb.Name}` : 'Runbook'}>
      <div className="rel-page">
        <p>
          <Link to={`/projects/${encodeURIComponent(projectId)}/runbooks`}>All runbooks{project ? ` of ${project.Name}` : ''}</Link>
        </p>
        <ErrorMessage error={projectError ?? runbook.error ?? environments.error} />
        {!rb && !runbook.error && <p role="status">Loading…</p>}
        {rb && (
          <>
            {rb.Description && <p>{rb.Description}</p>}
            <section aria-labelledby="runbook-run">
              <h2 id="runbook-run">Run</h2>
              <p>
                {rb.PublishedRunbookSnapshotId
                  ? `Published snapshot: ${snapshot.data?.Name ?? rb.PublishedRunbookSnapshotId}`
                  : 'Not published yet: publish a snapshot to run this runbook.'}
              </p>
              <form className="rel-actions" onSubmit={run}>
                <label htmlFor="runbook-environment">Environment</label>
                <select id="runbook-environment" value={environmentId} onChange={(e) => setEnvironmentId(e.target.value)}>
                  {allowed.map((env) => (
                    <option key={env.Id} value={env.Id}>
                      {env.Name}
                    </option>
                  ))}
                </select>
                <button type="submit" className="primary" disabled={busy || !rb.PublishedRunbookSnapshotId || !environmentId}>
                  Run
                </button>
              </form>
              <ErrorMessage error={runError} />
            </section>
            <section aria-labelledby="runbook-publish">
              <h2 id="runbook-publish">Publish</h2>
              <form className="rel-form" onSubmit={publish}>
                <label htmlFor="snapshot-notes">Snapshot notes</label>
                <textarea id="snapshot-notes" value={notes} onChange={(e) => setNotes(e.target.value)} />
                <div className="rel-actions">
                  <button type="submit" disabled={busy}>
                    Publish snapshot
                  </button>
                  <span role="status" className="status">
                    {published ? `Published ${published}.` : ''}
                  </span>
                </div>
              </form>
              <ErrorMessage error={publishError} />
            </section>
            <section aria-labelledby="runbook-process">
              <h2 id="runbook-process">Process</h2>
              <RunbookProcessEditor processUrl={`/api/runbookProcesses/${encodeURIComponent(rb.RunbookProcessId)}`} />
            </section>
          </>
        )}
      </div>
    </Page>
  );
}
