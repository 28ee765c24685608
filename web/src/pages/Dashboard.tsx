// Projects × environments, each cell the latest deployment's version and state. The dashboard
// answers with an ETag, so polling an unchanged one costs a 304.
import { Page, ErrorMessage } from '../components/Page';
import { usePoll } from '../api/poll';
import type { DashboardItem, DashboardResource } from '../api/types';

const POLL_MS = 2000;

export function Dashboard() {
  const { data, error } = usePoll<DashboardResource>('/api/dashboard', POLL_MS);
  const cells = new Map<string, DashboardItem>();
  for (const item of data?.Items ?? []) cells.set(`${item.ProjectId}/${item.EnvironmentId}`, item);

  return (
    <Page title="Dashboard">
      <ErrorMessage error={error} />
      {!data && !error && <p role="status">Loading…</p>}
      {data && data.Projects.length === 0 && <p>No projects yet. Create one under Projects.</p>}
      {data && data.Projects.length > 0 && (
        <div className="table-wrap">
          <table className="grid">
            <caption className="visually-hidden">Latest deployment of each project to each environment</caption>
            <thead>
              <tr>
                <th scope="col">Project</th>
                {data.Environments.map((env) => (
                  <th scope="col" key={env.Id}>
                    {env.Name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.Projects.map((p) => (
                <tr key={p.Id}>
                  <th scope="row">{p.Name}</th>
                  {data.Environments.map((env) => {
                    const item = cells.get(`${p.Id}/${env.Id}`);
                    return (
                      <td key={env.Id} className={item ? `state state-${item.State.toLowerCase()}` : 'state'}>
                        {item ? (
                          <>
                            <span className="version">{item.ReleaseVersion}</span>{' '}
                            <span className="state-name">{item.State}</span>
                          </>
                        ) : (
                          <span className="visually-hidden">Not deployed</span>
                        )}
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
