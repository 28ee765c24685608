// The project a page under /projects/:projectId works on, loaded once by ProjectLayout and handed
// to its child pages (Overview, Process, Variables, Channels, Runbooks, Releases). `refresh`
// reloads it after a page changed it (a renamed project, a new lifecycle).
import { createContext, useContext } from 'react';
import type { ProjectResource } from './types';

export interface ProjectContextValue {
  project: ProjectResource;
  refresh: () => void;
}

export const ProjectContext = createContext<ProjectContextValue | undefined>(undefined);

// The current project. Only pages rendered inside ProjectLayout's <Outlet/> may call it.
export function useProject(): ProjectContextValue {
  const value = useContext(ProjectContext);
  if (!value) throw new Error('useProject() is used outside a project page (ProjectLayout).');
  return value;
}
