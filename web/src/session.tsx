// Who is signed in. The session itself is the server's cookie (sealed with a key every node
// shares, so it survives the node that issued it); the portal only learns the user from
// GET /api/users/me and forgets it on sign-out or on any 401.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, onUnauthorized } from './api/client';
import type { UserResource } from './api/types';

interface Session {
  // undefined while the first GET /api/users/me is under way; null when nobody is signed in.
  user: UserResource | null | undefined;
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<UserResource | null | undefined>(undefined);

  useEffect(() => {
    let live = true;
    api
      .get<UserResource>('/api/users/me', { expectUnauthorized: true })
      .then((u) => live && setUser(u))
      .catch(() => live && setUser(null));
    const off = onUnauthorized(() => setUser(null));
    return () => {
      live = false;
      off();
    };
  }, []);

  const signIn = useCallback(async (username: string, password: string) => {
    // UsingSecureConnection: behind TLS offload the node sees HTTP, yet the cookies must be Secure.
    const body = {
      Username: username,
      Password: password,
      RememberMe: false,
      State: { UsingSecureConnection: window.location.protocol === 'https:' },
    };
    const signedIn = await api.post<UserResource | undefined>('/api/users/login', body, { expectUnauthorized: true });
    const me = signedIn?.Id ? signedIn : await api.get<UserResource>('/api/users/me', { expectUnauthorized: true });
    setUser(me);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api.post('/api/users/logout', {}, { expectUnauthorized: true });
    } catch (e) {
      // A session already gone is signed out; anything else is worth showing.
      if (!(e instanceof ApiError && e.status === 401)) throw e;
    }
    setUser(null);
  }, []);

  const value = useMemo(() => ({ user, signIn, signOut }), [user, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
