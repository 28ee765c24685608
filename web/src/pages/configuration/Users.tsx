// Users (issue 13): every user, a form that creates one, and a link to each user's page.
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { api } from '../../api/client';
import { ErrorMessage, Page } from '../../components/Page';
import type { User } from './types';
import { useAction } from './action';
import { useResource } from '../../api/resource';
import './configuration.css';

export function Users() {
  const { data: users, error: loadError } = useResource<User[]>('/api/users/all');

  const sorted = [...(users ?? [])].sort((a, b) => a.Username.localeCompare(b.Username));
  return (
    <Page title="Users">
      <ErrorMessage error={loadError} />
      {!users && !loadError && <p role="status">Loading…</p>}
      {users && (
        <div className="table-wrap">
          <table className="list">
            <caption className="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Display name</th>
                <th scope="col">Email</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((u) => (
                <tr key={u.Id} data-user={u.Username}>
                  <th scope="row">
                    <Link to={`/configuration/users/${encodeURIComponent(u.Id)}`}>{u.Username}</Link>
                  </th>
                  <td>{u.DisplayName}</td>
                  <td>{u.EmailAddress}</td>
                  <td>{u.IsService ? 'Service account' : 'User'}</td>
                  <td>{u.IsActive ? 'Active' : 'Inactive'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <CreateUser />
    </Page>
  );
}

function CreateUser() {
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [isService, setIsService] = useState(false);
  const { busy, error, run } = useAction();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const body: Record<string, unknown> = {
        Username: username,
        DisplayName: displayName,
        EmailAddress: email,
        IsService: isService,
        IsActive: true,
      };
      if (!isService && password !== '') body.Password = password;
      const created = await api.post<User>('/api/users', body);
      navigate(`/configuration/users/${encodeURIComponent(created.Id)}`, { state: { created: true } });
    });
  };

  return (
    <section className="config-section" aria-labelledby="create-user-title">
      <h2 id="create-user-title">Create user</h2>
      <form className="config-form" onSubmit={submit} noValidate>
        <label htmlFor="new-user-username">Username</label>
        <input id="new-user-username" value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="off" />
        <label htmlFor="new-user-display-name">Display name</label>
        <input id="new-user-display-name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} autoComplete="off" />
        <label htmlFor="new-user-email">Email</label>
        <input id="new-user-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" />
        <label className="check" htmlFor="new-user-service">
          <input id="new-user-service" type="checkbox" checked={isService} onChange={(e) => setIsService(e.target.checked)} />
          Is service account
        </label>
        <label htmlFor="new-user-password">Password</label>
        <input
          id="new-user-password"
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          disabled={isService}
          autoComplete="new-password"
          aria-describedby="new-user-password-note"
        />
        <span id="new-user-password-note" className="muted">
          {isService ? 'A service account signs in with API keys only.' : 'The user signs in with this password.'}
        </span>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          Create user
        </button>
      </form>
    </section>
  );
}
