// Configuration → Nodes: the page an operator watches during a rolling upgrade. Polled every
// second; "last seen" is counted from the node's own heartbeat time, re-rendered each second.
import { useState } from 'react';
import { Page, ErrorMessage } from '../components/Page';
import { ago, useNow } from '../components/time';
import { usePoll } from '../api/poll';
import { api, messageOf } from '../api/client';
import type { NodesSummary, ServerNode } from '../api/types';

const POLL_MS = 1000;

function status(n: ServerNode): string {
  if (n.IsOffline) return 'Offline';
  if (n.IsInMaintenanceMode) return 'Drained';
  return 'Running';
}

export function Nodes() {
  const { data, error, refresh } = usePoll<NodesSummary>('/api/octopusservernodes/summary', POLL_MS);
  const now = useNow();
  const [actionError, setActionError] = useState<string>();
  const [pending, setPending] = useState<string>();

  const setDrain = async (n: ServerNode, drain: boolean) => {
    setPending(n.Id);
    setActionError(undefined);
    try {
      await api.put(`/api/octopusservernodes/${encodeURIComponent(n.Id)}`, { IsInMaintenanceMode: drain });
      refresh();
    } catch (e) {
      setActionError(messageOf(e));
    } finally {
      setPending(undefined);
    }
  };

  const nodes = [...(data?.Nodes ?? [])].sort((a, b) => a.Name.localeCompare(b.Name));
  return (
    <Page title="Nodes">
      <ErrorMessage error={actionError} />
      <ErrorMessage error={error} />
      {!data && !error && <p role="status">Loading…</p>}
      {data && (
        <div className="table-wrap">
          <table className="list">
            <caption className="visually-hidden">Server nodes</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Last seen</th>
                <th scope="col">Tasks</th>
                <th scope="col">Task cap</th>
                <th scope="col">Version</th>
                <th scope="col">Drain</th>
              </tr>
            </thead>
            <tbody>
              {nodes.map((n) => (
                <tr key={n.Id} data-node={n.Name}>
                  <th scope="row">{n.Name}</th>
                  <td className={`node-status node-${status(n).toLowerCase()}`}>{status(n)}</td>
                  <td>
                    <time dateTime={n.LastSeen} title={n.LastSeen}>
                      {ago(n.LastSeen, now)}
                    </time>
                  </td>
                  <td>{n.RunningTaskCount}</td>
                  <td>{n.MaxConcurrentTasks}</td>
                  <td>{n.Version}</td>
                  <td>
                    <button
                      type="button"
                      role="switch"
                      aria-checked={n.IsInMaintenanceMode}
                      aria-label={`Drain ${n.Name}`}
                      disabled={pending === n.Id}
                      onClick={() => setDrain(n, !n.IsInMaintenanceMode)}
                      className="switch"
                    >
                      {n.IsInMaintenanceMode ? 'On' : 'Off'}
                    </button>
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
