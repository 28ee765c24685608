// Sign in with a username and password. A failure shows the API's own message (wrong password,
// locked out...) in an alert, and focus returns to the password field for another try.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Navigate, useSearchParams } from 'react-router-dom';
import { useSession } from '../session';
import { messageOf } from '../api/client';

// Only a path inside the app: never an absolute URL a link could smuggle in (open redirect).
function safeReturnUrl(raw: string | null): string {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return '/';
  return raw;
}

export function SignIn() {
  const { user, signIn } = useSession();
  const [params] = useSearchParams();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const passwordRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Cuttle';
  }, []);

  if (user) return <Navigate to={safeReturnUrl(params.get('returnUrl'))} replace />;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(username, password);
    } catch (err) {
      setError(messageOf(err));
      setPassword('');
      passwordRef.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in" id="main">
      <form onSubmit={onSubmit} aria-labelledby="sign-in-title" noValidate>
        <h1 id="sign-in-title">Sign in to Cuttle</h1>
        {error && (
          <p className="error" role="alert" id="sign-in-error">
            {error}
          </p>
        )}
        <label htmlFor="username">Username</label>
        <input
          id="username"
          name="username"
          autoComplete="username"
          autoFocus
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          aria-describedby={error ? 'sign-in-error' : undefined}
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          ref={passwordRef}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-describedby={error ? 'sign-in-error' : undefined}
        />
        <button type="submit" className="primary" disabled={busy || user === undefined}>
          Sign in
        </button>
      </form>
    </main>
  );
}
