import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import type { ReactNode } from 'react';
import { SessionProvider, useSession } from './session';
import { Layout } from './components/Layout';
import { SignIn } from './pages/SignIn';
import { Dashboard } from './pages/Dashboard';
import { Nodes } from './pages/Nodes';
import { Configuration } from './pages/Configuration';
import { ComingSoon, NotFound } from './pages/Placeholders';

function RequireSignIn({ children }: { children: ReactNode }) {
  const { user } = useSession();
  const location = useLocation();
  if (user === undefined) {
    return <p className="loading" role="status">Loading…</p>;
  }
  if (user === null) {
    const back = location.pathname + location.search;
    const to = back === '/' ? '/sign-in' : `/sign-in?returnUrl=${encodeURIComponent(back)}`;
    return <Navigate to={to} replace />;
  }
  return <>{children}</>;
}

export function App() {
  return (
    <SessionProvider>
      <BrowserRouter basename="/app">
        <Routes>
          <Route path="/sign-in" element={<SignIn />} />
          <Route
            element={
              <RequireSignIn>
                <Layout />
              </RequireSignIn>
            }
          >
            <Route index element={<Dashboard />} />
            <Route path="projects/*" element={<ComingSoon title="Projects" />} />
            <Route path="tasks/*" element={<ComingSoon title="Tasks" />} />
            <Route path="infrastructure/*" element={<ComingSoon title="Infrastructure" />} />
            <Route path="library/*" element={<ComingSoon title="Library" />} />
            <Route path="configuration" element={<Configuration />} />
            <Route path="configuration/nodes" element={<Nodes />} />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  );
}
