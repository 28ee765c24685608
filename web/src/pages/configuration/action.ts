// One user action at a time (a form's submit, a button): while it runs `busy` is true, and its
// failure is kept as the API's message (and field problems) for ErrorMessage.
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, messageOf } from '../../api/client';

export type Problem = { message: string; details?: string[] };

export function problemOf(e: unknown): Problem {
  return e instanceof ApiError ? { message: e.message, details: e.details } : { message: messageOf(e) };
}

export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Problem>();
  // Runs `work`; true when it succeeded.
  const run = useCallback(async (work: () => Promise<void>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      return true;
    } catch (e) {
      setError(problemOf(e));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}

// GET `path` when the component mounts (and when `path` changes); `reload` fetches it again.
// `data` is set by the caller too (a save answers the new resource).
export function useResource<T>(path: string) {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Problem>();
  const reload = useCallback(async () => {
    try {
      setData(await api.get<T>(path));
      setError(undefined);
    } catch (e) {
      setError(problemOf(e));
    }
  }, [path]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, setData, error, reload };
}
