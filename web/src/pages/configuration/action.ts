// One user action at a time (a form's submit, a button): while it runs `busy` is true, and its
// failure is kept as the API's message (and field problems) for ErrorMessage.
import { useCallback, useState } from 'react';
import { apiErrorOf, type ApiError } from '../../api/client';


export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  // Runs `work`; true when it succeeded.
  const run = useCallback(async (work: () => Promise<void>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      return true;
    } catch (e) {
      setError(apiErrorOf(e));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}
