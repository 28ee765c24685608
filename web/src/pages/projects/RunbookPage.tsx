// One runbook (issue 13): its process (the shared process editor on the runbook's process),
// publishing a snapshot, and running the published snapshot in an environment, which opens the
// run's task.
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { Page, ErrorMessage } from '../../components/Page';
import { api, ApiError, apiErrorOf } from '../../api/client';
import { ProcessEditor } from './ProcessEditor';
import { useProject } from './context';
import { useResource } from '../../api/resource';
import type { Named, RunbookResource, RunbookRunAnswer, RunbookSnapshotResource } from './releaseTypes';
import './releases.css';

const SCOPE_CHOICES: { value: string; label: string }[] = [
  { value: 'All', label: 'All environments' },
  { value: 'Specified', label: 'Only these environments' },
  { value: 'FromProjectLifecycles', label: 'The environments of the project’s lifecycle' },
];

// Name, description and the environments the runbook may run in (PUT /api/runbooks/{id}).
function RunbookSettings({ runbook, environments, onSaved }: { runbook: RunbookResource; environments: Named[]; onSaved: () => void }) {
  const [name, setName] = useState(runbook.Name);
  const [description, setDescription] = useState(runbook.Description ?? '');
  const [scope, setScope] = useState(runbook.EnvironmentScope || 'All');
  const [chosen, setChosen] = useState<string[]>(runbook.Environments ?? []);
  const [error, setError] = useState<ApiError>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      await api.put(`/api/runbooks/${encodeURIComponent(runbook.Id)}`, {
        ...runbook,
        Name: name,
        Description: description,
        EnvironmentScope: scope,
        Environments: scope === 'Specified' ? chosen : [],
      });
      setSaved(true);
      onSaved();
    } catch (err) {
      setError(apiErrorOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="rel-form" onSubmit={save} aria-labelledby="runbook-settings">
      <h2 id="runbook-settings">Settings</h2>
      <label htmlFor="runbook-name">Runbook name</label>
      <input id="runbook-name" value={name} required onChange={(e) => setName(e.target.value)} />
      <label htmlFor="runbook-description">Runbook description</label>
      <textarea id="runbook-description" value={description} onChange={(e) => setDescription(e.target.value)} />
      <fieldset>
        <legend>Runs in</legend>
        {SCOPE_CHOICES.map((c) => (
          <div className="check" key={c.value}>
            <input
              type="radio"
              id={`runbook-scope-${c.value}`}
              name="runbook-scope"
              value={c.value}
              checked={scope === c.value}
              onChange={() => setScope(c.value)}
            />
            <label htmlFor={`runbook-scope-${c.value}`}>{c.label}</label>
          </div>
        ))}
        {scope === 'Specified' &&
          environments.map((env) => (
            <div className="check" key={env.Id}>
              <input
                type="checkbox"
                id={`runbook-env-${env.Id}`}
                checked={chosen.includes(env.Id)}
                onChange={(e) => setChosen((c) => (e.target.checked ? [...c, env.Id] : c.filter((x) => x !== env.Id)))}
              />
              <label htmlFor={`runbook-env-${env.Id}`}>
                <span className="visually-hidden">Runs in </span>
                {env.Name}
              </label>
            </div>
          ))}
      </fieldset>
      <ErrorMessage error={error} />
      <div className="rel-actions">
        <button type="submit" disabled={busy}>
          Save settings
        </button>
        <span role="status" className="status">
          {saved ? 'Settings saved.' : ''}
        </span>
      </div>
    </form>
  );
}

export function RunbookPage() {
  const { project } = useProject();
  const projectId = project.Id;
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
      setPublishError(apiErrorOf(err));
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
      setRunError(apiErrorOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title={rb ? `Runbook ${rb.Name}` : 'Runbook'}>
      <div className="rel-page">
        <p>
          <Link to={`/projects/${encodeURIComponent(projectId)}/runbooks`}>All runbooks of {project.Name}</Link>
        </p>
        <ErrorMessage error={runbook.error ?? environments.error} />
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
              <h2 id="runbook-process">Runbook process</h2>
              <ProcessEditor processUrl={`/api/runbookProcesses/${encodeURIComponent(rb.RunbookProcessId)}`} />
            </section>
            <RunbookSettings key={rb.Id} runbook={rb} environments={environments.data ?? []} onSaved={runbook.reload} />
          </>
        )}
      </div>
    </Page>
  );
}
