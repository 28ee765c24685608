// Deployment targets, live: name, environments, roles, health (status and what the last check
// said), endpoint kind and the agent's last contact. Filters by environment, role and health live
// in the URL (?environment=&role=&health=) so a filtered view can be linked. "Check health" starts
// a Health task over the shown targets and opens it.
import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { Page, ErrorMessage } from '../../components/Page';
import { usePoll } from '../../api/poll';
import { messageOf } from '../../api/client';
import { endpointKind, healthLabel, LastContact, useNow } from './common';
import { startHealthCheck } from './health';
import { HEALTH_STATUSES, type EnvironmentResource, type MachineResource } from './types';
import './infrastructure.css';

const POLL_MS = 3000;

export function Machines() {
  const machines = usePoll<MachineResource[]>('/api/machines/all', POLL_MS);
  const envs = usePoll<EnvironmentResource[]>('/api/environments/all', 10000);
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const now = useNow();
  const [checkError, setCheckError] = useState<string>();
  const [checking, setChecking] = useState(false);

  const environment = params.get('environment') ?? '';
  const role = params.get('role') ?? '';
  const health = params.get('health') ?? '';
  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  const envList = [...(envs.data ?? [])].sort((a, b) => a.SortOrder - b.SortOrder);
  const envName = new Map(envList.map((e) => [e.Id, e.Name]));
  const all = [...(machines.data ?? [])].sort((a, b) => a.Name.localeCompare(b.Name));
  const roles = [...new Set(all.flatMap((m) => m.Roles))].sort((a, b) => a.localeCompare(b));
  const shown = all.filter(
    (m) =>
      (!environment || m.EnvironmentIds.includes(environment)) &&
      (!role || m.Roles.some((r) => r.toLowerCase() === role.toLowerCase())) &&
      (!health || m.HealthStatus === health),
  );
  const filtered = environment !== '' || role !== '' || health !== '';

  const checkHealth = async () => {
    setChecking(true);
    setCheckError(undefined);
    try {
      const task = await startHealthCheck(
        filtered
          ? { machineIds: shown.map((m) => m.Id), description: `Check health of ${shown.length} deployment target(s)` }
          : { description: 'Check health of all deployment targets' },
      );
      navigate(`/tasks/${encodeURIComponent(task.Id)}`);
    } catch (e) {
      setCheckError(messageOf(e));
      setChecking(false);
    }
  };

  return (
    <Page
      title="Deployment targets"
      actions={
        <>
          <Link to="/infrastructure/machines/new-agent">Add an agent</Link>
          <button type="button" onClick={checkHealth} disabled={checking || (filtered && shown.length === 0)}>
            Check health
          </button>
        </>
      }
    >
      <p>
        <Link to="/infrastructure">Infrastructure</Link> › Deployment targets
      </p>
      <div className="filters" role="search" aria-label="Filter deployment targets">
        <label>
          <span id="filter-environment-label">Environment</span>
          <select aria-labelledby="filter-environment-label" value={environment} onChange={(e) => setFilter('environment', e.target.value)}>
            <option value="">All environments</option>
            {envList.map((e) => (
              <option key={e.Id} value={e.Id}>
                {e.Name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span id="filter-role-label">Role</span>
          <select aria-labelledby="filter-role-label" value={role} onChange={(e) => setFilter('role', e.target.value)}>
            <option value="">All roles</option>
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span id="filter-health-label">Health</span>
          <select aria-labelledby="filter-health-label" value={health} onChange={(e) => setFilter('health', e.target.value)}>
            <option value="">Any health</option>
            {HEALTH_STATUSES.map((s) => (
              <option key={s} value={s}>
                {healthLabel(s)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorMessage error={checkError} />
      <ErrorMessage error={machines.error} />
      {!machines.data && !machines.error && <p role="status">Loading…</p>}
      {machines.data && all.length === 0 && (
        <p>
          No deployment targets yet. <Link to="/infrastructure/machines/new-agent">Add an agent</Link> to make a machine one.
        </p>
      )}
      {machines.data && all.length > 0 && shown.length === 0 && <p>No deployment target matches these filters.</p>}
      {shown.length > 0 && (
        <div className="table-wrap">
          <table className="list" aria-label="Deployment targets">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Environments</th>
                <th scope="col">Roles</th>
                <th scope="col">Health</th>
                <th scope="col">Endpoint</th>
                <th scope="col">Last contact</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((m) => (
                <tr key={m.Id} data-machine={m.Name}>
                  <th scope="row">
                    <Link to={`/infrastructure/machines/${encodeURIComponent(m.Id)}`}>{m.Name}</Link>
                    {m.IsDisabled && <span className="muted"> (disabled)</span>}
                  </th>
                  <td className="wrap">{m.EnvironmentIds.map((id) => envName.get(id) ?? id).join(', ')}</td>
                  <td className="wrap">
                    {m.Roles.map((r) => (
                      <span className="tag" key={r}>
                        {r}
                      </span>
                    ))}
                  </td>
                  <td>
                    <span className={`health-${m.HealthStatus.toLowerCase()}`}>{healthLabel(m.HealthStatus)}</span>
                    <span className="summary">{m.StatusSummary}</span>
                  </td>
                  <td>{endpointKind(m)}</td>
                  <td>
                    <LastContact iso={m.LastContact} now={now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
