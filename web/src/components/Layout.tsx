// The signed-in frame: a skip link, the main navigation (plain links: Tab reaches each, Enter
// follows it, the current area is marked aria-current), the user's sign-out, and the page.
import { useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router-dom';
import { useSession } from '../session';
import { messageOf } from '../api/client';

export const AREAS = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/projects', label: 'Projects' },
  { to: '/tasks', label: 'Tasks' },
  { to: '/infrastructure', label: 'Infrastructure' },
  { to: '/library', label: 'Library' },
  { to: '/configuration', label: 'Configuration' },
];

export function Layout() {
  const { user, signOut } = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<string>();

  const onSignOut = async () => {
    setError(undefined);
    try {
      await signOut();
      navigate('/sign-in', { replace: true });
    } catch (e) {
      setError(messageOf(e));
    }
  };

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Cuttle</span>
        <nav aria-label="Main">
          <ul>
            {AREAS.map((a) => (
              <li key={a.to}>
                <NavLink to={a.to} end={a.end}>
                  {a.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="user">
          <span className="username">{user?.DisplayName || user?.Username}</span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
