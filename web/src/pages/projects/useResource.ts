// A one-shot GET hook for the resources the project pages read (the project itself comes from
// ProjectLayout through useProject()).
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../../api/client';

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
