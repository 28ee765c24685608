// useResource: a resource read once (and again on reload()), for pages that are not live; live
// pages poll with usePoll. The project pages and the configuration pages share it.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, apiErrorOf } from './client';

export interface Loaded<T> {
  data?: T;
  error?: ApiError;
  // Fetches it again; resolves once the answer (or its error) is in.
  reload: () => Promise<void>;
  // Sets the data without a fetch (a save that answered the new resource).
  setData: (data: T) => void;
}

// GETs `path` (nothing while it is undefined), again when it changes and on reload(); only the
// latest call's answer is kept, and data read for another path is never shown for this one.
export function useResource<T>(path: string | undefined): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; path?: string }>({});
  const latest = useRef(0);
  const reload = useCallback(async () => {
    if (!path) return;
    const call = ++latest.current;
    try {
      const data = await api.get<T>(path);
      if (call === latest.current) setState({ data, path });
    } catch (e) {
      if (call !== latest.current) return;
      setState((s) => ({ ...s, error: apiErrorOf(e) }));
    }
  }, [path]);
  useEffect(() => {
    void reload();
  }, [reload]);
  const setData = useCallback((data: T) => setState({ data, path }), [path]);
  return { data: state.path === path ? state.data : undefined, error: state.error, reload, setData };
}
