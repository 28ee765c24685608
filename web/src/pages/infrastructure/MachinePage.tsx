// One deployment target: its details (live), editing its roles and environments, a health check,
// and delete — which for an agent revokes it (its next request is refused and it stops).
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { Page, ErrorMessage } from '../../components/Page';
import { usePoll } from '../../api/poll';
import { api, ApiError, messageOf, apiErrorOf } from '../../api/client';
import { ConfirmDelete, endpointKind, healthLabel, LastContact, splitRoles, useNow } from './common';
import { startHealthCheck } from './health';
import type { EnvironmentResource, MachineResource } from './types';
import './infrastructure.css';

const POLL_MS = 3000;


function EditForm({
  machine,
  environments,
  onDone,
}: {
  machine: MachineResource;
  environments: EnvironmentResource[];
  onDone: (saved: boolean) => void;
}) {
  const [envIds, setEnvIds] = useState<string[]>(machine.EnvironmentIds);
  const [roles, setRoles] = useState(machine.Roles.join(', '));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const toggle = (id: string, on: boolean) =>
    setEnvIds((ids) => (on ? [...ids.filter((x) => x !== id), id] : ids.filter((x) => x !== id)));
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.put(`/api/machines/${encodeURIComponent(machine.Id)}`, {
        EnvironmentIds: envIds,
        Roles: splitRoles(roles),
      });
      onDone(true);
    } catch (err) {
      setError(apiErrorOf(err));
      setBusy(false);
    }
  };
  return (
    <form className="infra-form" onSubmit={save} aria-labelledby="edit-machine-title">
      <h2 id="edit-machine-title">Edit roles and environments</h2>
      <fieldset>
        <legend>Environments</legend>
        {environments.map((env) => (
          <label key={env.Id}>
            <input
              type="checkbox"
              checked={envIds.includes(env.Id)}
              onChange={(e) => toggle(env.Id, e.target.checked)}
            />
            {env.Name}
          </label>
        ))}
      </fieldset>
      <label htmlFor="machine-roles">Roles</label>
      <input
        id="machine-roles"
        value={roles}
        onChange={(e) => setRoles(e.target.value)}
        aria-describedby="machine-roles-hint"
        autoComplete="off"
      />
      <p className="hint" id="machine-roles-hint">
        Separate roles with commas, e.g. web, api.
      </p>
      <ErrorMessage error={error} />
      <div className="buttons">
        <button type="submit" className="primary" disabled={busy}>
          Save
        </button>
        <button type="button" disabled={busy} onClick={() => onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function MachinePage() {
  const { machineId = '' } = useParams();
  const navigate = useNavigate();
  const now = useNow();
  const machine = usePoll<MachineResource>(`/api/machines/${encodeURIComponent(machineId)}`, POLL_MS);
  const envs = usePoll<EnvironmentResource[]>('/api/environments/all', 10000);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const m = machine.data;
  const envList = [...(envs.data ?? [])].sort((a, b) => a.SortOrder - b.SortOrder);
  const envName = new Map(envList.map((e) => [e.Id, e.Name]));
  const isAgent = m?.Endpoint?.CommunicationStyle === 'TentacleActive';

  const remove = async () => {
    if (!m) return;
    setBusy(true);
    setActionError(undefined);
    try {
      await api.del(`/api/machines/${encodeURIComponent(m.Id)}`);
      navigate('/infrastructure/machines');
    } catch (e) {
      setActionError(messageOf(e));
      setBusy(false);
    }
  };

  const checkHealth = async () => {
    if (!m) return;
    setBusy(true);
    setActionError(undefined);
    try {
      const task = await startHealthCheck({ machineIds: [m.Id], description: `Check health of ${m.Name}` });
      navigate(`/tasks/${encodeURIComponent(task.Id)}`);
    } catch (e) {
      setActionError(messageOf(e));
      setBusy(false);
    }
  };

  return (
    <Page title={m ? m.Name : 'Deployment target'}>
      <p>
        <Link to="/infrastructure">Infrastructure</Link> › <Link to="/infrastructure/machines">Deployment targets</Link>
      </p>
      <ErrorMessage error={machine.error} />
      <ErrorMessage error={actionError} />
      <p role="status" className="muted">
        {notice}
      </p>
      {!m && !machine.error && <p role="status">Loading…</p>}
      {m && (
        <>
          <dl className="details">
            <dt>Health</dt>
            <dd>
              <span className={`health-${m.HealthStatus.toLowerCase()}`}>{healthLabel(m.HealthStatus)}</span>
              {m.IsDisabled && ' (disabled)'}
            </dd>
            <dt>Status</dt>
            <dd>{m.StatusSummary}</dd>
            <dt>Last contact</dt>
            <dd>
              <LastContact iso={m.LastContact} now={now} />
            </dd>
            <dt>Environments</dt>
            <dd>{m.EnvironmentIds.map((id) => envName.get(id) ?? id).join(', ')}</dd>
            <dt>Roles</dt>
            <dd>
              {m.Roles.map((r) => (
                <span className="tag" key={r}>
                  {r}
                </span>
              ))}
            </dd>
            <dt>Endpoint</dt>
            <dd>{endpointKind(m)}</dd>
            {m.Endpoint?.Uri && (
              <>
                <dt>Address</dt>
                <dd>{m.Endpoint.Uri}</dd>
              </>
            )}
            {m.Endpoint?.Thumbprint && (
              <>
                <dt>Key thumbprint</dt>
                <dd>
                  <code>{m.Endpoint.Thumbprint}</code>
                </dd>
              </>
            )}
            <dt>Id</dt>
            <dd>{m.Id}</dd>
          </dl>
          {editing ? (
            <EditForm
              machine={m}
              environments={envList}
              onDone={(saved) => {
                setEditing(false);
                if (saved) {
                  setNotice('Deployment target saved.');
                  machine.refresh();
                }
              }}
            />
          ) : (
            <div className="filters">
              <button type="button" onClick={() => setEditing(true)} disabled={busy}>
                Edit roles and environments
              </button>
              <button type="button" onClick={checkHealth} disabled={busy}>
                Check health
              </button>
              {deleting ? (
                <ConfirmDelete
                  question={
                    isAgent
                      ? `Delete ${m.Name}? Its agent is revoked: its next request is refused and it stops.`
                      : `Delete ${m.Name}?`
                  }
                  busy={busy}
                  onConfirm={remove}
                  onCancel={() => setDeleting(false)}
                />
              ) : (
                <button type="button" onClick={() => setDeleting(true)} disabled={busy}>
                  Delete deployment target
                </button>
              )}
            </div>
          )}
        </>
      )}
    </Page>
  );
}
