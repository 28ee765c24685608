// The project of the route (`projects/:projectId`), read with GET /api/projects/{id}, and a
// one-shot GET hook for the other resources the project pages read. (Until the project frame's
// context is merged, each page loads its project itself.)
import { useCallback, useEffect, useState } from 'react';
import { useParams } from 'react-router-dom';
import { api, ApiError } from '../../api/client';
import type { ProjectResource } from './releaseTypes';

export interface Loaded<T> {
  data?: T;
  error?: ApiError;
  reload: () => void;
}

// GETs `path` (nothing while it is undefined) and again on reload(); the last answer wins.
export function useResource<T>(path: string | undefined): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; path?: string }>({});
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (!path) return;
    const controller = new AbortController();
    api
      .get<T>(path, { signal: controller.signal })
      .then((data) => setState({ data, path }))
      .catch((e: unknown) => {
        if (e instanceof DOMException && e.name === 'AbortError') return;
        setState((s) => ({ ...s, error: e instanceof ApiError ? e : new ApiError(0, String(e)) }));
      });
    return () => controller.abort();
  }, [path, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  // Data read for another path is not this path's.
  const data = state.path === path ? state.data : undefined;
  return { data, error: state.error, reload };
}

export function useProjectById(): Loaded<ProjectResource> & { projectId: string } {
  const projectId = useParams().projectId ?? '';
  const loaded = useResource<ProjectResource>(projectId ? `/api/projects/${encodeURIComponent(projectId)}` : undefined);
  return { ...loaded, projectId };
}
