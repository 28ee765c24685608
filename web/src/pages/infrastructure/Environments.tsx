// Environments in their promotion order: create, edit, delete (confirmed), and reorder with
// "Move up"/"Move down" (PUT /api/environments/sortorder with the whole new order, as Octopus's
// portal does). Failures show the API's own message.
import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { Page, ErrorMessage } from '../../components/Page';
import { usePoll } from '../../api/poll';
import { api, ApiError, apiErrorOf } from '../../api/client';
import { ConfirmDelete } from './common';
import type { EnvironmentResource } from './types';
import './infrastructure.css';

const POLL_MS = 5000;


function CreateForm({ onCreated }: { onCreated: (env: EnvironmentResource) => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const env = await api.post<EnvironmentResource>('/api/environments', { Name: name, Description: description });
      setName('');
      setDescription('');
      onCreated(env);
    } catch (err) {
      setError(apiErrorOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="infra-form" onSubmit={submit} aria-labelledby="create-env-title">
      <h2 id="create-env-title">Create environment</h2>
      <label htmlFor="env-name">Name</label>
      <input id="env-name" value={name} onChange={(e) => setName(e.target.value)} required autoComplete="off" />
      <label htmlFor="env-description">Description</label>
      <input id="env-description" value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" />
      <ErrorMessage error={error} />
      <div className="buttons">
        <button type="submit" className="primary" disabled={busy}>
          Create environment
        </button>
      </div>
    </form>
  );
}

function EditRow({ env, onDone }: { env: EnvironmentResource; onDone: (saved: boolean) => void }) {
  const [name, setName] = useState(env.Name);
  const [description, setDescription] = useState(env.Description ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.put(`/api/environments/${encodeURIComponent(env.Id)}`, { ...env, Name: name, Description: description });
      onDone(true);
    } catch (err) {
      setError(apiErrorOf(err));
      setBusy(false);
    }
  };
  return (
    <td colSpan={3}>
      <form className="infra-form" onSubmit={save} aria-label={`Edit environment ${env.Name}`}>
        <label htmlFor={`edit-name-${env.Id}`}>New name</label>
        <input id={`edit-name-${env.Id}`} value={name} onChange={(e) => setName(e.target.value)} required autoComplete="off" />
        <label htmlFor={`edit-description-${env.Id}`}>New description</label>
        <input
          id={`edit-description-${env.Id}`}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          autoComplete="off"
        />
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
    </td>
  );
}

export function Environments() {
  const { data, error, refresh } = usePoll<EnvironmentResource[]>('/api/environments/all', POLL_MS);
  // The order just saved, shown until the next poll confirms it.
  const [pendingOrder, setPendingOrder] = useState<string[]>();
  const [actionError, setActionError] = useState<ApiError>();
  const [editing, setEditing] = useState<string>();
  const [deleting, setDeleting] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string>();

  // Once the server's list shows the saved order, it is the list's own again.
  useEffect(() => {
    if (!data || !pendingOrder) return;
    const polled = [...data].sort((a, b) => a.SortOrder - b.SortOrder).map((e) => e.Id);
    if (polled.join('\n') === pendingOrder.join('\n')) setPendingOrder(undefined);
  }, [data, pendingOrder]);

  let envs = [...(data ?? [])].sort((a, b) => a.SortOrder - b.SortOrder);
  if (pendingOrder) {
    const byId = new Map(envs.map((e) => [e.Id, e]));
    const ordered = pendingOrder.map((id) => byId.get(id)).filter((e): e is EnvironmentResource => !!e);
    envs = [...ordered, ...envs.filter((e) => !pendingOrder.includes(e.Id))];
  }

  const move = async (index: number, delta: number) => {
    const ids = envs.map((e) => e.Id);
    const to = index + delta;
    if (to < 0 || to >= ids.length) return;
    [ids[index], ids[to]] = [ids[to], ids[index]];
    setBusy(true);
    setActionError(undefined);
    setPendingOrder(ids);
    try {
      const saved = await api.put<string[]>('/api/environments/sortorder', ids);
      setPendingOrder(Array.isArray(saved) ? saved : ids);
      setNotice(`Moved ${envs[index].Name} ${delta < 0 ? 'up' : 'down'}.`);
    } catch (err) {
      setPendingOrder(undefined);
      setActionError(apiErrorOf(err));
    } finally {
      setBusy(false);
      refresh();
    }
  };

  const remove = async (env: EnvironmentResource) => {
    setBusy(true);
    setActionError(undefined);
    try {
      await api.del(`/api/environments/${encodeURIComponent(env.Id)}`);
      setNotice(`Deleted ${env.Name}.`);
      setDeleting(undefined);
      setPendingOrder((o) => o?.filter((id) => id !== env.Id));
    } catch (err) {
      setActionError(apiErrorOf(err));
    } finally {
      setBusy(false);
      refresh();
    }
  };

  return (
    <Page title="Environments">
      <p>
        <Link to="/infrastructure">Infrastructure</Link> › Environments, in the order releases are promoted
        through them.
      </p>
      <CreateForm
        onCreated={(env) => {
          setNotice(`Created ${env.Name}.`);
          setPendingOrder(undefined);
          refresh();
        }}
      />
      <p role="status" className="muted">
        {notice}
      </p>
      <ErrorMessage error={actionError} />
      <ErrorMessage error={error} />
      {!data && !error && <p role="status">Loading…</p>}
      {data && envs.length === 0 && <p>No environments yet.</p>}
      {envs.length > 0 && (
        <div className="table-wrap">
          <table className="list" aria-label="Environments">
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {envs.map((env, i) => (
                <tr key={env.Id} data-environment={env.Name}>
                  <td>{i + 1}</td>
                  {editing === env.Id ? (
                    <EditRow
                      env={env}
                      onDone={(saved) => {
                        setEditing(undefined);
                        if (saved) {
                          setNotice('Environment saved.');
                          refresh();
                        }
                      }}
                    />
                  ) : (
                    <>
                      <th scope="row">{env.Name}</th>
                      <td className="wrap">{env.Description}</td>
                      <td className="actions">
                        {deleting === env.Id ? (
                          <ConfirmDelete
                            question={`Delete the environment ${env.Name}?`}
                            busy={busy}
                            onConfirm={() => remove(env)}
                            onCancel={() => setDeleting(undefined)}
                          />
                        ) : (
                          <>
                            <button
                              type="button"
                              aria-label={`Move ${env.Name} up`}
                              disabled={busy || i === 0}
                              onClick={() => move(i, -1)}
                            >
                              Move up
                            </button>
                            <button
                              type="button"
                              aria-label={`Move ${env.Name} down`}
                              disabled={busy || i === envs.length - 1}
                              onClick={() => move(i, 1)}
                            >
                              Move down
                            </button>
                            <button type="button" aria-label={`Edit ${env.Name}`} onClick={() => setEditing(env.Id)}>
                              Edit
                            </button>
                            <button type="button" aria-label={`Delete ${env.Name}`} onClick={() => setDeleting(env.Id)}>
                              Delete
                            </button>
                          </>
                        )}
                      </td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
