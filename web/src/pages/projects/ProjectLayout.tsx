// A project's frame: its name, the tabs of its pages (plain links; the current one is marked
// aria-current="page" by NavLink) and a "Create release" link. The project is loaded here once
// and handed to the child pages through ProjectContext (useProject()).
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, NavLink, Outlet, useParams } from 'react-router-dom';
import { api, ApiError, apiErrorOf } from '../../api/client';
import { ErrorMessage } from '../../components/Page';
import { ProjectContext, type ProjectContextValue } from './context';
import type { ProjectResource } from './types';
import './projects.css';

const TABS = [
  { to: '', label: 'Overview', end: true },
  { to: 'process', label: 'Process' },
  { to: 'variables', label: 'Variables' },
  { to: 'channels', label: 'Channels' },
  { to: 'runbooks', label: 'Runbooks' },
];

export function ProjectLayout() {
  const { projectId = '' } = useParams();
  const [project, setProject] = useState<ProjectResource>();
  const [error, setError] = useState<ApiError>();
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setError(undefined);
    api
      .get<ProjectResource>(`/api/projects/${encodeURIComponent(projectId)}`, { signal: controller.signal })
      .then((p) => setProject(p))
      .catch((e: unknown) => {
        if (e instanceof DOMException && e.name === 'AbortError') return;
        setError(apiErrorOf(e));
      });
    return () => controller.abort();
  }, [projectId, generation]);

  const refresh = useCallback(() => setGeneration((g) => g + 1), []);
  // A project from another route (navigating between projects) is not this one.
  const current = project && project.Id.toLowerCase() === projectId.toLowerCase() ? project : undefined;
  const value = useMemo<ProjectContextValue | undefined>(
    () => (current ? { project: current, refresh } : undefined),
    [current, refresh],
  );

  if (!value) {
    return (
      <div className="project">
        <p className="breadcrumb">
          <Link to="/projects">Projects</Link>
        </p>
        <ErrorMessage error={error} />
        {!error && <p role="status">Loading…</p>}
      </div>
    );
  }

  const base = `/projects/${encodeURIComponent(value.project.Id)}`;
  return (
    <ProjectContext.Provider value={value}>
      <div className="project">
        <div className="project-head">
          <p className="breadcrumb">
            <Link to="/projects">Projects</Link> <span aria-hidden="true">/</span>{' '}
            <span className="project-name">{value.project.Name}</span>
          </p>
          <Link className="button-link primary" to={`${base}/releases/new`}>
            Create release
          </Link>
        </div>
        <nav className="project-tabs" aria-label={`Project ${value.project.Name}`}>
          <ul>
            {TABS.map((t) => (
              <li key={t.label}>
                <NavLink to={t.to ? `${base}/${t.to}` : base} end={t.end}>
                  {t.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <ErrorMessage error={error} />
        <Outlet />
      </div>
    </ProjectContext.Provider>
  );
}
