import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import type { ReactNode } from 'react';
import { SessionProvider, useSession } from './session';
import { Layout } from './components/Layout';
import { SignIn } from './pages/SignIn';
import { Dashboard } from './pages/Dashboard';
import { Nodes } from './pages/Nodes';
import { Configuration } from './pages/Configuration';
import { NotFound } from './pages/Placeholders';
import { TasksList } from './pages/tasks/TasksList';
import { TaskPage } from './pages/tasks/TaskPage';
import { ProjectsList } from './pages/projects/ProjectsList';
import { ProjectLayout } from './pages/projects/ProjectLayout';
import { ProjectOverview } from './pages/projects/ProjectOverview';
import { ProcessEditor } from './pages/projects/ProcessEditor';
import { Variables } from './pages/projects/Variables';
import { Channels } from './pages/projects/Channels';
import { Runbooks } from './pages/projects/Runbooks';
import { RunbookPage } from './pages/projects/RunbookPage';
import { CreateRelease } from './pages/projects/CreateRelease';
import { ReleasePage } from './pages/projects/ReleasePage';
import { Infrastructure } from './pages/infrastructure/Infrastructure';
import { Environments } from './pages/infrastructure/Environments';
import { Machines } from './pages/infrastructure/Machines';
import { MachinePage } from './pages/infrastructure/MachinePage';
import { AddAgent } from './pages/infrastructure/AddAgent';
import { Library } from './pages/library/Library';
import { Users } from './pages/configuration/Users';
import { UserPage } from './pages/configuration/UserPage';
import { Events } from './pages/configuration/Events';

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
            <Route path="projects" element={<ProjectsList />} />
            <Route path="projects/:projectId" element={<ProjectLayout />}>
              <Route index element={<ProjectOverview />} />
              <Route path="process" element={<ProcessEditor />} />
              <Route path="variables" element={<Variables />} />
              <Route path="channels" element={<Channels />} />
              <Route path="runbooks" element={<Runbooks />} />
              <Route path="runbooks/:runbookId" element={<RunbookPage />} />
              <Route path="releases/new" element={<CreateRelease />} />
              <Route path="releases/:version" element={<ReleasePage />} />
            </Route>
            <Route path="tasks" element={<TasksList />} />
            <Route path="tasks/:taskId" element={<TaskPage />} />
            <Route path="infrastructure" element={<Infrastructure />} />
            <Route path="infrastructure/environments" element={<Environments />} />
            <Route path="infrastructure/machines" element={<Machines />} />
            <Route path="infrastructure/machines/new-agent" element={<AddAgent />} />
            <Route path="infrastructure/machines/:machineId" element={<MachinePage />} />
            <Route path="library" element={<Library />} />
            <Route path="configuration/users" element={<Users />} />
            <Route path="configuration/users/:userId" element={<UserPage />} />
            <Route path="configuration/events" element={<Events />} />
            <Route path="configuration" element={<Configuration />} />
            <Route path="configuration/nodes" element={<Nodes />} />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  );
}
