// Infrastructure: each environment with how many of its deployment targets are in each health
// status (Octopus's `environments/summary`), live; links to Environments and Deployment targets.
import { Link } from 'react-router-dom';
import { Page, ErrorMessage } from '../../components/Page';
import { usePoll } from '../../api/poll';
import { HEALTH_LABEL } from './common';
import { HEALTH_STATUSES, type EnvironmentSummaryCounts, type EnvironmentsSummaryResource } from './types';
import './infrastructure.css';

const POLL_MS = 3000;

function Counts({ c }: { c: EnvironmentSummaryCounts }) {
  return (
    <>
      <td>{c.TotalMachines}</td>
      {HEALTH_STATUSES.map((s) => (
        <td key={s} className={c.MachineHealthStatusSummaries[s] ? `health-${s.toLowerCase()}` : 'muted'}>
          {c.MachineHealthStatusSummaries[s] ?? 0}
        </td>
      ))}
      <td>{c.TotalDisabledMachines}</td>
      <td>{c.MachineEndpointSummaries.TentacleActive ?? 0}</td>
    </>
  );
}

export function Infrastructure() {
  const { data, error } = usePoll<EnvironmentsSummaryResource>('/api/environments/summary', POLL_MS);
  return (
    <Page title="Infrastructure">
      <ul className="cards">
        <li>
          <Link to="/infrastructure/environments">Environments</Link>
          <p>Where releases are deployed, in the order they are promoted: create, rename, reorder.</p>
        </li>
        <li>
          <Link to="/infrastructure/machines">Deployment targets</Link>
          <p>The machines deployments run on: their roles, health and last contact. Add an agent there.</p>
        </li>
      </ul>
      <h2>Health by environment</h2>
      <ErrorMessage error={error} />
      {!data && !error && <p role="status">Loading…</p>}
      {data && data.EnvironmentSummaries.length === 0 && (
        <p>
          No environments yet. <Link to="/infrastructure/environments">Create one</Link>.
        </p>
      )}
      {data && data.EnvironmentSummaries.length > 0 && (
        <div className="table-wrap">
          <table className="list">
            <caption className="visually-hidden">Deployment targets by environment and health</caption>
            <thead>
              <tr>
                <th scope="col">Environment</th>
                <th scope="col">Targets</th>
                {HEALTH_STATUSES.map((s) => (
                  <th scope="col" key={s}>
                    {HEALTH_LABEL[s]}
                  </th>
                ))}
                <th scope="col">Disabled</th>
                <th scope="col">Agents</th>
              </tr>
            </thead>
            <tbody>
              {data.EnvironmentSummaries.map((e) => (
                <tr key={e.Environment.Id}>
                  <th scope="row">
                    <Link to={`/infrastructure/machines?environment=${encodeURIComponent(e.Environment.Id)}`}>
                      {e.Environment.Name}
                    </Link>
                  </th>
                  <Counts c={e} />
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">All environments</th>
                <Counts c={data} />
              </tr>
            </tfoot>
          </table>
        </div>
      )}
    </Page>
  );
}
