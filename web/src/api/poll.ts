// usePoll: a resource kept fresh by polling with If-None-Match, so an unchanged resource costs
// a 304 without a body. Polling pauses while the tab is hidden and resumes at once when it is
// shown again; a failed poll keeps the last good data and reports the error.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, request } from './client';

export interface Polled<T> {
  data?: T;
  error?: ApiError;
  // When the data was last confirmed current (a 200 or a 304).
  confirmedAt?: number;
  refresh: () => void;
}

export function usePoll<T>(path: string, intervalMs: number): Polled<T> {
  const [state, setState] = useState<Omit<Polled<T>, 'refresh'>>({});
  const etag = useRef<string | undefined>(undefined);
  const kick = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | undefined;
    etag.current = undefined;

    const poll = async () => {
      clearTimeout(timer);
      if (stopped) return;
      controller?.abort();
      controller = new AbortController();
      try {
        const r = await request<T>('GET', path, { etag: etag.current, signal: controller.signal });
        if (stopped) return;
        etag.current = r.etag;
        setState((s) =>
          r.notModified
            ? { ...s, error: undefined, confirmedAt: Date.now() }
            : { data: r.data, error: undefined, confirmedAt: Date.now() },
        );
      } catch (e) {
        if (stopped || (e instanceof DOMException && e.name === 'AbortError')) return;
        setState((s) => ({ ...s, error: e instanceof ApiError ? e : new ApiError(0, String(e)) }));
      }
      if (!stopped && !document.hidden) timer = setTimeout(poll, intervalMs);
    };
    const onVisibility = () => {
      if (!document.hidden) void poll();
    };
    kick.current = () => void poll();
    document.addEventListener('visibilitychange', onVisibility);
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [path, intervalMs]);

  const refresh = useCallback(() => kick.current(), []);
  return { ...state, refresh };
}
