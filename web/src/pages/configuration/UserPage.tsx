// A user (issue 13): details, password, sessions, deletion, and the user's API keys. A new API
// key is shown once, in the box that follows its creation, and is kept nowhere else: the API
// lists keys by purpose and dates only.
import { useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router-dom';
import { api } from '../../api/client';
import { ErrorMessage, Page } from '../../components/Page';
import { useSession } from '../../session';
import type { ApiKey, Collection, CreatedApiKey, User } from './types';
import { formatTime } from './types';
import { useAction } from './action';
import { useResource } from '../../api/resource';
import './configuration.css';

export function UserPage() {
  const { userId = '' } = useParams();
  const location = useLocation();
  const path = `/api/users/${encodeURIComponent(userId)}`;
  const { data: user, setData: setUser, error: loadError } = useResource<User>(path);

  const created = (location.state as { created?: boolean } | null)?.created;
  return (
    <Page title={user ? `User ${user.Username}` : 'User'}>
      <p>
        <Link to="/configuration/users">All users</Link>
      </p>
      <ErrorMessage error={loadError} />
      {!user && !loadError && <p role="status">Loading…</p>}
      {user && (
        <>
          {created && (
            <p className="status-note" role="status">
              User {user.Username} was created.
            </p>
          )}
          <Details user={user} path={path} onSaved={setUser} />
          {user.CanPasswordBeEdited && <ChangePassword user={user} path={path} />}
          <ApiKeys user={user} path={path} />
          <Sessions user={user} path={path} />
          {!user.IsRequestor && <DeleteUser user={user} path={path} />}
        </>
      )}
    </Page>
  );
}

interface Part {
  user: User;
  path: string;
}

function Details({ user, path, onSaved }: Part & { onSaved: (u: User) => void }) {
  const [displayName, setDisplayName] = useState(user.DisplayName);
  const [email, setEmail] = useState(user.EmailAddress);
  const [active, setActive] = useState(user.IsActive);
  const { busy, error, run } = useAction();
  const [saved, setSaved] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    setSaved(
      await run(async () => {
        onSaved(await api.put<User>(path, { DisplayName: displayName, EmailAddress: email, IsActive: active }));
      }),
    );
  };

  return (
    <section className="config-section" aria-labelledby="user-details-title">
      <h2 id="user-details-title">Details</h2>
      <p className="muted">
        Username <strong>{user.Username}</strong> · {user.IsService ? 'Service account' : 'User'} · Id {user.Id}
      </p>
      <form className="config-form" onSubmit={submit} noValidate>
        <label htmlFor="user-display-name">Display name</label>
        <input id="user-display-name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} autoComplete="off" />
        <label htmlFor="user-email">Email</label>
        <input id="user-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" />
        <label className="check" htmlFor="user-active">
          <input id="user-active" type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} />
          Active
        </label>
        <ErrorMessage error={error} />
        {saved && (
          <p className="status-note" role="status">
            Saved.
          </p>
        )}
        <button type="submit" disabled={busy}>
          Save
        </button>
      </form>
    </section>
  );
}

function ChangePassword({ user, path }: Part) {
  const [oldPassword, setOldPassword] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const { busy, error, run } = useAction();
  const [done, setDone] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    setDone(
      await run(async () => {
        const body: Record<string, string> = { NewPassword: next, ConfirmPassword: confirm };
        if (user.IsRequestor) body.OldPassword = oldPassword;
        await api.post(`${path}/changepassword`, body);
        setOldPassword('');
        setNext('');
        setConfirm('');
      }),
    );
  };

  return (
    <section className="config-section" aria-labelledby="user-password-title">
      <h2 id="user-password-title">Password</h2>
      <form className="config-form" onSubmit={submit} noValidate>
        {user.IsRequestor && (
          <>
            <label htmlFor="user-old-password">Current password</label>
            <input id="user-old-password" type="password" value={oldPassword} onChange={(e) => setOldPassword(e.target.value)} autoComplete="current-password" />
          </>
        )}
        <label htmlFor="user-new-password">New password</label>
        <input id="user-new-password" type="password" value={next} onChange={(e) => setNext(e.target.value)} autoComplete="new-password" />
        <label htmlFor="user-confirm-password">Confirm new password</label>
        <input id="user-confirm-password" type="password" value={confirm} onChange={(e) => setConfirm(e.target.value)} autoComplete="new-password" />
        <ErrorMessage error={error} />
        {done && (
          <p className="status-note" role="status">
            The password was changed. The user's other sessions have ended.
          </p>
        )}
        <button type="submit" disabled={busy}>
          Change password
        </button>
      </form>
    </section>
  );
}

function ApiKeys({ user, path }: Part) {
  const [purpose, setPurpose] = useState('');
  const [expires, setExpires] = useState('');
  const creating = useAction();
  // The new key: in this component's state only, gone once dismissed or the page is left.
  const [created, setCreated] = useState<CreatedApiKey>();
  const [copied, setCopied] = useState<string>();
  const revoking = useAction();
  const [revokingId, setRevokingId] = useState<string>();

  const { data: page, error: loadError, reload: load } = useResource<Collection<ApiKey>>(`${path}/apikeys?take=1000`);
  const keys = page?.Items;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setCopied(undefined);
    void creating.run(async () => {
      const body: Record<string, string> = { Purpose: purpose };
      // A date means the end of that day, local time.
      if (expires) body.Expires = new Date(`${expires}T23:59:59`).toISOString();
      setCreated(await api.post<CreatedApiKey>(`${path}/apikeys`, body));
      setPurpose('');
      setExpires('');
      await load();
    });
  };

  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.ApiKey);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser did not allow copying: select the key and copy it.');
    }
  };

  const revoke = async (k: ApiKey) => {
    setRevokingId(k.Id);
    await revoking.run(async () => {
      await api.del(`${path}/apikeys/${encodeURIComponent(k.Id)}`);
      if (created?.Id === k.Id) setCreated(undefined);
      await load();
    });
    setRevokingId(undefined);
  };

  return (
    <section className="config-section" aria-labelledby="user-keys-title">
      <h2 id="user-keys-title">API keys</h2>
      {created && (
        <div className="new-key" role="region" aria-labelledby="new-key-title">
          <h3 id="new-key-title">New API key</h3>
          <p>
            <strong>Copy this key now: it is shown only once and cannot be shown again.</strong> Whoever has it acts as{' '}
            {user.Username}.
          </p>
          <label htmlFor="new-api-key" className="visually-hidden">
            New API key value
          </label>
          <input id="new-api-key" readOnly value={created.ApiKey} onFocus={(e) => e.target.select()} />
          <div className="button-row">
            <button type="button" onClick={copy}>
              Copy API key
            </button>
            <button type="button" onClick={() => setCreated(undefined)}>
              I have copied it
            </button>
            {copied && <span role="status">{copied}</span>}
          </div>
        </div>
      )}
      <ErrorMessage error={loadError} />
      <ErrorMessage error={revoking.error} />
      {keys && keys.length === 0 && <p className="muted">No API keys.</p>}
      {keys && keys.length > 0 && (
        <div className="table-wrap">
          <table className="list">
            <caption className="visually-hidden">API keys of {user.Username}</caption>
            <thead>
              <tr>
                <th scope="col">Purpose</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Revoke</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.Id} data-key={k.Id}>
                  <th scope="row">{k.Purpose || <span className="muted">(no purpose)</span>}</th>
                  <td>{formatTime(k.Created)}</td>
                  <td>{k.Expires ? formatTime(k.Expires) : 'Never'}</td>
                  <td>
                    <button
                      type="button"
                      onClick={() => revoke(k)}
                      disabled={revokingId === k.Id}
                      aria-label={`Revoke API key ${k.Purpose || k.Id}`}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>Create an API key</h3>
      <form className="config-form" onSubmit={submit} noValidate>
        <label htmlFor="new-key-purpose">Purpose</label>
        <input id="new-key-purpose" value={purpose} onChange={(e) => setPurpose(e.target.value)} autoComplete="off" />
        <label htmlFor="new-key-expires">Expires (optional)</label>
        <input id="new-key-expires" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
        <ErrorMessage error={creating.error} />
        <button type="submit" disabled={creating.busy}>
          Create API key
        </button>
      </form>
    </section>
  );
}

function Sessions({ user, path }: Part) {
  const { signOut } = useSession();
  const { busy, error, run } = useAction();
  const [done, setDone] = useState(false);

  const revoke = async () => {
    const ok = await run(async () => {
      await api.put(`${path}/revokesessions`, {});
    });
    setDone(ok);
    // One's own sessions included: this browser is signed out too.
    if (ok && user.IsRequestor) await signOut().catch(() => undefined);
  };

  return (
    <section className="config-section" aria-labelledby="user-sessions-title">
      <h2 id="user-sessions-title">Sessions</h2>
      <p className="muted">Signs {user.Username} out on every browser{user.IsRequestor ? ', this one included' : ''}. API keys keep working.</p>
      <ErrorMessage error={error} />
      {done && (
        <p className="status-note" role="status">
          Every session of {user.Username} has ended.
        </p>
      )}
      <button type="button" onClick={revoke} disabled={busy}>
        Revoke sessions
      </button>
    </section>
  );
}

function DeleteUser({ user, path }: Part) {
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);
  const { busy, error, run } = useAction();

  const remove = () =>
    run(async () => {
      await api.del(path);
      navigate('/configuration/users');
    });

  return (
    <section className="config-section" aria-labelledby="user-delete-title">
      <h2 id="user-delete-title">Delete</h2>
      <ErrorMessage error={error} />
      {!confirming ? (
        <button type="button" onClick={() => setConfirming(true)}>
          Delete user
        </button>
      ) : (
        <div className="confirm-box" role="group" aria-labelledby="user-delete-question">
          <p id="user-delete-question">
            Delete user {user.Username}? Its API keys stop working. This cannot be undone.
          </p>
          <div className="button-row">
            <button type="button" onClick={remove} disabled={busy} autoFocus>
              Yes, delete {user.Username}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
