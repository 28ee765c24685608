// Configuration → Nodes: the page an operator watches during a rolling upgrade. Polled every
// second; "last seen" is counted from the node's own heartbeat time, re-rendered each second.
import { useState, type FormEvent } from 'react';
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

  const update = async (n: ServerNode, change: Partial<ServerNode>) => {
    setPending(n.Id);
    setActionError(undefined);
    try {
      await api.put(`/api/octopusservernodes/${encodeURIComponent(n.Id)}`, change);
      refresh();
      return true;
    } catch (e) {
      setActionError(messageOf(e));
      return false;
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
                  <td>
                    <TaskCap
                      node={n}
                      busy={pending === n.Id}
                      onSet={(cap) => update(n, { MaxConcurrentTasks: cap as number })}
                    />
                  </td>
                  <td>{n.Version}</td>
                  <td>
                    <button
                      type="button"
                      role="switch"
                      aria-checked={n.IsInMaintenanceMode}
                      aria-label={`Drain ${n.Name}`}
                      disabled={pending === n.Id}
                      onClick={() => update(n, { IsInMaintenanceMode: !n.IsInMaintenanceMode })}
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

// The node's task cap, shown as it is and changed in place: the field keeps what the operator
// typed until it is set (a poll does not overwrite it), and the API's refusal is shown above.
function TaskCap({
  node,
  busy,
  onSet,
}: {
  node: ServerNode;
  busy: boolean;
  onSet: (cap: number | string) => Promise<boolean>;
}) {
  const [draft, setDraft] = useState<string>();
  const value = draft ?? String(node.MaxConcurrentTasks);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (draft === undefined) return;
    // Sent as typed when it is not a number, so the API's own message says what it expects.
    const n = Number(draft);
    if (await onSet(draft.trim() !== '' && Number.isFinite(n) ? n : draft)) setDraft(undefined);
  };
  return (
    <form className="inline-form" onSubmit={submit} noValidate>
      <input
        type="number"
        min={0}
        max={1000}
        step={1}
        required
        aria-label={`Task cap of ${node.Name}`}
        value={value}
        onChange={(e) => setDraft(e.target.value)}
      />
      <button type="submit" disabled={busy || draft === undefined} aria-label={`Set the task cap of ${node.Name}`}>
        Set
      </button>
    </form>
  );
}
