// Configuration → Nodes: the page an operator watches during a rolling upgrade. Polled every
// second; "last seen" is counted from the node's own heartbeat time, re-rendered each second.
import { useEffect, useState } from 'react';
import { Page, ErrorMessage } from '../components/Page';
import { usePoll } from '../api/poll';
import { api, messageOf } from '../api/client';
import type { NodesSummary, ServerNode } from '../api/types';

const POLL_MS = 1000;

function status(n: ServerNode): string {
  if (n.IsOffline) return 'Offline';
  if (n.IsInMaintenanceMode) return 'Drained';
  return 'Running';
}

function ago(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'never';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 2) return 'just now';
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return new Date(t).toLocaleString();
}

export function Nodes() {
  const { data, error, refresh } = usePoll<NodesSummary>('/api/octopusservernodes/summary', POLL_MS);
  const [now, setNow] = useState(Date.now());
  const [actionError, setActionError] = useState<string>();
  const [pending, setPending] = useState<string>();

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

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
