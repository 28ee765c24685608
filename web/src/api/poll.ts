// usePoll: a resource kept fresh by polling with If-None-Match, so an unchanged resource costs
// a 304 without a body. Polling pauses while the tab is hidden and resumes at once when it is
// shown again; a failed poll keeps the last good data and reports the error.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, request, apiErrorOf } from './client';

export interface Polled<T> {
  data?: T;
  error?: ApiError;
  // When the data was last confirmed current (a 200 or a 304).
  confirmedAt?: number;
  refresh: () => void;
}

// A poll that has not been answered within this time (a node that hung rather than died: a dead
// node's connection fails at once and HAProxy retries the GET on another) is given up and sent
// again, so a hung node stalls a live page for seconds, not for the balancer's server timeout.
const POLL_TIMEOUT_MS = 5000;

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
      const mine = controller;
      let hung = false;
      const watchdog = setTimeout(() => {
        hung = true;
        mine.abort();
      }, POLL_TIMEOUT_MS);
      try {
        const r = await request<T>('GET', path, { etag: etag.current, signal: controller.signal });
        clearTimeout(watchdog);
        if (stopped) return;
        etag.current = r.etag;
        setState((s) =>
          r.notModified
            ? { ...s, error: undefined, confirmedAt: Date.now() }
            : { data: r.data, error: undefined, confirmedAt: Date.now() },
        );
      } catch (e) {
        clearTimeout(watchdog);
        if (stopped) return;
        if (e instanceof DOMException && e.name === 'AbortError') {
          if (!hung) return; // replaced by a newer poll
          setState((s) => ({ ...s, error: new ApiError(0, 'The server did not answer in time; trying again.') }));
        } else {
          setState((s) => ({ ...s, error: apiErrorOf(e) }));
        }
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
